#include "server/fsm.h"

#include <gtest/gtest.h>

namespace trellis::server {
namespace {

std::string kvCmd(const std::string& verb, const std::string& key, const std::string& value,
                  uint64_t index = 0) {
  pb::Command c;
  auto* op = c.mutable_kv();
  op->set_verb(verb);
  op->mutable_entry()->set_key(key);
  op->mutable_entry()->set_value(value);
  op->mutable_entry()->set_modify_index(index);
  return c.SerializeAsString();
}

TEST(Fsm, AppliesKvCommandsWithTheirIndex) {
  state::Store store;
  Fsm fsm(store);
  EXPECT_TRUE(std::any_cast<bool>(fsm.apply(3, kvCmd("set", "a", "1"))));
  EXPECT_EQ(store.kvGet("a")->modify_index(), 3u);
  EXPECT_FALSE(std::any_cast<bool>(fsm.apply(4, kvCmd("cas", "a", "2", 2))));
  EXPECT_TRUE(std::any_cast<bool>(fsm.apply(5, kvCmd("cas", "a", "2", 3))));
  EXPECT_EQ(store.kvGet("a")->value(), "2");
}

TEST(Fsm, RejectsGarbageWithoutCrashing) {
  state::Store store;
  Fsm fsm(store);
  auto r = fsm.apply(1, std::string("\xff\xff\xff", 3));
  ASSERT_NE(std::any_cast<Status>(&r), nullptr);
  EXPECT_FALSE(std::any_cast<Status>(r).isOk());
}

TEST(Fsm, TxnIsAllOrNothing) {
  state::Store store;
  Fsm fsm(store);
  fsm.apply(1, kvCmd("set", "x", "1"));
  pb::Command c;
  auto* a = c.mutable_txn()->add_ops()->mutable_kv();
  a->set_verb("set");
  a->mutable_entry()->set_key("y");
  auto* b = c.mutable_txn()->add_ops()->mutable_kv();
  b->set_verb("check-index");
  b->mutable_entry()->set_key("x");
  b->mutable_entry()->set_modify_index(99);
  auto out = std::any_cast<TxnOutcome>(fsm.apply(2, c.SerializeAsString()));
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_EQ(out.errors[0].op_index, 1);
  EXPECT_EQ(store.kvGet("y"), nullptr);
  b->mutable_entry()->set_modify_index(1);
  out = std::any_cast<TxnOutcome>(fsm.apply(3, c.SerializeAsString()));
  EXPECT_TRUE(out.errors.empty());
  EXPECT_NE(store.kvGet("y"), nullptr);
  EXPECT_EQ(out.results.size(), 2u);
}

TEST(Fsm, SnapshotRestoresState) {
  state::Store a;
  Fsm fa(a);
  fa.apply(1, kvCmd("set", "k", "v"));
  state::Store b;
  Fsm fb(b);
  ASSERT_TRUE(fb.restore(1, fa.snapshot()).isOk());
  EXPECT_EQ(b.kvGet("k")->value(), "v");
}

}  // namespace
}  // namespace trellis::server
