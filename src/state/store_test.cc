#include "state/store.h"

#include <gtest/gtest.h>

namespace trellis::state {
namespace {

pb::Node makeNode(const std::string& name) {
  pb::Node n;
  n.set_node(name);
  n.set_address("127.0.0.1");
  return n;
}

pb::KVEntry kv(const std::string& key, const std::string& value, const std::string& session = "") {
  pb::KVEntry e;
  e.set_key(key);
  e.set_value(value);
  e.set_has_value(true);
  e.set_session(session);
  return e;
}

TEST(Store, UnchangedNodeKeepsItsIndex) {
  Store s;
  ASSERT_TRUE(s.ensureNode(5, makeNode("n1")).isOk());
  ASSERT_TRUE(s.ensureNode(6, makeNode("n1")).isOk());
  EXPECT_EQ(s.node("n1")->modify_index(), 5u);
  EXPECT_EQ(s.tableIndex(kNodes), 5u);
  pb::Node changed = makeNode("n1");
  changed.set_address("10.0.0.1");
  ASSERT_TRUE(s.ensureNode(7, changed).isOk());
  EXPECT_EQ(s.node("n1")->create_index(), 5u);
  EXPECT_EQ(s.node("n1")->modify_index(), 7u);
}

TEST(Store, CheckNeedsItsServiceAndCarriesItsName) {
  Store s;
  ASSERT_TRUE(s.ensureNode(1, makeNode("n1")).isOk());
  pb::Check c;
  c.set_node("n1");
  c.set_check_id("service:web");
  c.set_service_id("web");
  EXPECT_FALSE(s.ensureCheck(2, c).isOk());
  pb::Service svc;
  svc.set_node("n1");
  svc.set_id("web");
  svc.set_service("web");
  svc.add_tags("v1");
  ASSERT_TRUE(s.ensureService(3, svc).isOk());
  ASSERT_TRUE(s.ensureCheck(4, c).isOk());
  EXPECT_EQ(s.check("n1", "service:web")->service_name(), "web");
  EXPECT_EQ(s.check("n1", "service:web")->status(), "critical");
  s.deleteService(5, "n1", "web");
  EXPECT_EQ(s.check("n1", "service:web"), nullptr);
  EXPECT_TRUE(s.servicesByName("web").empty());
}

TEST(Store, KvCasAndListIndexIncludesTombstones) {
  Store s;
  s.kvSet(10, kv("app/a", "1"));
  s.kvSet(11, kv("app/b", "2"));
  s.kvSet(12, kv("zzz", "3"));
  pb::KVEntry cas = kv("app/a", "x");
  cas.set_modify_index(9);
  EXPECT_FALSE(s.kvCas(13, cas));
  cas.set_modify_index(10);
  EXPECT_TRUE(s.kvCas(13, cas));
  EXPECT_EQ(s.kvGet("app/a")->value(), "x");
  EXPECT_EQ(s.kvGet("app/a")->create_index(), 10u);
  s.kvDelete(14, "app/b");
  uint64_t idx = 0;
  auto list = s.kvList("app/", &idx);
  EXPECT_EQ(list.size(), 1u);
  EXPECT_EQ(idx, 14u);
  EXPECT_EQ(s.kvKeyIndex("missing"), 14u);
  pb::KVEntry create_only = kv("app/a", "y");
  EXPECT_FALSE(s.kvCas(15, create_only));
}

TEST(Store, SessionInvalidationReleasesLocksWithDelay) {
  auto now = std::chrono::steady_clock::time_point{};
  Store s([&] { return now; });
  ASSERT_TRUE(s.ensureNode(1, makeNode("n1")).isOk());
  pb::Check serf;
  serf.set_node("n1");
  serf.set_check_id("serfHealth");
  serf.set_status("passing");
  ASSERT_TRUE(s.ensureCheck(2, serf).isOk());
  pb::Session sess;
  sess.set_id("s1");
  sess.set_node("n1");
  sess.add_node_checks("serfHealth");
  sess.set_behavior("release");
  sess.set_lock_delay_ns(15'000'000'000);
  ASSERT_TRUE(s.sessionCreate(3, sess).isOk());
  EXPECT_TRUE(s.kvLock(4, kv("lock", "held", "s1")));
  EXPECT_EQ(s.kvGet("lock")->lock_index(), 1u);
  EXPECT_FALSE(s.kvLock(5, kv("lock", "other", "s2")));
  serf.set_status("critical");
  ASSERT_TRUE(s.ensureCheck(6, serf).isOk());
  EXPECT_EQ(s.session("s1"), nullptr);
  EXPECT_EQ(s.kvGet("lock")->session(), "");
  EXPECT_EQ(s.kvGet("lock")->value(), "held");
  EXPECT_TRUE(s.kvLockDelayed("lock"));
  now += std::chrono::seconds(16);
  EXPECT_FALSE(s.kvLockDelayed("lock"));
}

TEST(Store, DeleteBehaviourRemovesHeldKeys) {
  Store s;
  ASSERT_TRUE(s.ensureNode(1, makeNode("n1")).isOk());
  pb::Session sess;
  sess.set_id("s1");
  sess.set_node("n1");
  sess.set_behavior("delete");
  ASSERT_TRUE(s.sessionCreate(2, sess).isOk());
  ASSERT_TRUE(s.kvLock(3, kv("a", "1", "s1")));
  EXPECT_TRUE(s.sessionDestroy(4, "s1"));
  EXPECT_EQ(s.kvGet("a"), nullptr);
}

TEST(Store, SnapshotRoundTrip) {
  Store s;
  ASSERT_TRUE(s.ensureNode(1, makeNode("n1")).isOk());
  s.kvSet(2, kv("a", "1"));
  s.kvDelete(3, "a");
  Store t;
  t.restore(s.snapshot());
  EXPECT_NE(t.node("n1"), nullptr);
  EXPECT_EQ(t.kvKeyIndex("a"), 3u);
  EXPECT_EQ(t.lastIndex(), 3u);
}

}  // namespace
}  // namespace trellis::state

namespace trellis::state {
namespace {

pb::ConfigEntry entry(const std::string& kind, const std::string& name, const std::string& json) {
  pb::ConfigEntry e;
  e.set_kind(kind);
  e.set_name(name);
  e.set_json(json);
  return e;
}

TEST(Store, ConfigEntriesWithCas) {
  Store s;
  uint64_t zero = 0;
  EXPECT_TRUE(s.configEntrySet(3, entry("service-defaults", "web", "{}"), &zero));
  EXPECT_FALSE(s.configEntrySet(4, entry("service-defaults", "web", "{}"), &zero));
  uint64_t stale = 2, current = 3;
  EXPECT_FALSE(s.configEntrySet(4, entry("service-defaults", "web", "{\"a\":1}"), &stale));
  EXPECT_TRUE(s.configEntrySet(5, entry("service-defaults", "web", "{\"a\":1}"), &current));
  EXPECT_EQ(s.configEntry("service-defaults", "web")->create_index(), 3u);
  EXPECT_EQ(s.configEntry("service-defaults", "web")->modify_index(), 5u);
  EXPECT_TRUE(s.configEntrySet(6, entry("service-defaults", "api", "{}")));
  EXPECT_TRUE(s.configEntrySet(7, entry("proxy-defaults", "global", "{}")));
  EXPECT_EQ(s.configEntries("service-defaults").size(), 2u);
  EXPECT_FALSE(s.configEntryDelete(8, "service-defaults", "web", &stale));
  EXPECT_TRUE(s.configEntryDelete(8, "service-defaults", "web"));
  EXPECT_TRUE(s.configEntryDelete(9, "service-defaults", "web"));
  EXPECT_FALSE(s.configEntryDelete(9, "service-defaults", "web", &current));
  Store t;
  t.restore(s.snapshot());
  EXPECT_EQ(t.configEntries("service-defaults").size(), 1u);
  EXPECT_NE(t.configEntry("proxy-defaults", "global"), nullptr);
}

}  // namespace
}  // namespace trellis::state
