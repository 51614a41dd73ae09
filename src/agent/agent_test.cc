// In-process agent tests: a real MemoryLog, FSM and store on an io_context the test drives.
#include "agent/agent.h"

#include <gtest/gtest.h>

#include <utility>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>

#include "consensus/memory_log.h"
#include "server/fsm.h"

namespace trellis::agent {
namespace {

namespace asio = boost::asio;

struct Fixture {
  asio::io_context io{1};
  state::Store store;
  server::Fsm fsm{store};
  consensus::MemoryLog log{[this](std::function<void()> fn) { asio::post(io, std::move(fn)); }};
  server::Writer writer{io, log};
  std::unique_ptr<Agent> agent;

  explicit Fixture(AgentOptions opts) {
    EXPECT_TRUE(log.open(fsm).isOk());
    agent = std::make_unique<Agent>(io, store, writer, std::move(opts), nullptr);
    EXPECT_TRUE(run(agent->start()).isOk());
  }

  template <typename T>
  T run(asio::awaitable<T> aw) {
    std::optional<T> out;
    asio::co_spawn(io, std::move(aw), [&](std::exception_ptr, T v) { out = std::move(v); });
    while (!out) io.run_one();
    return std::move(*out);
  }
};

AgentOptions fastOptions() {
  AgentOptions o;
  o.node_name = "n1";
  o.reap_interval = std::chrono::milliseconds(10);
  o.deregister_min = std::chrono::milliseconds(0);
  return o;
}

TEST(Agent, StartRegistersNodeAfterBarrierWithSerfHealth) {
  Fixture f(fastOptions());
  ASSERT_NE(f.store.node("n1"), nullptr);
  EXPECT_GE(f.store.node("n1")->modify_index(), 2u);
  EXPECT_EQ(f.store.check("n1", "serfHealth")->status(), "passing");
}

TEST(Agent, ReapsServiceCriticalForTooLong) {
  Fixture f(fastOptions());
  auto def = decodeService(
      model::InJson::parse(
          R"({"Name":"web","Check":{"TTL":"60s","DeregisterCriticalServiceAfter":"50ms"}})"),
      "n1");
  ASSERT_TRUE(def.isOk());
  ASSERT_TRUE(f.run(f.agent->addService(std::move(*def), false, false)).isOk());
  ASSERT_NE(f.store.service("n1", "web"), nullptr);
  f.io.run_for(std::chrono::milliseconds(300));
  EXPECT_EQ(f.store.service("n1", "web"), nullptr);
  EXPECT_EQ(f.agent->services().count("web"), 0u);
}

TEST(Agent, PassingServiceIsNotReaped) {
  Fixture f(fastOptions());
  auto def = decodeService(
      model::InJson::parse(R"({"Name":"web","Check":{"TTL":"60s","Status":"passing",
                              "DeregisterCriticalServiceAfter":"50ms"}})"),
      "n1");
  ASSERT_TRUE(f.run(f.agent->addService(std::move(*def), false, false)).isOk());
  f.io.run_for(std::chrono::milliseconds(200));
  EXPECT_NE(f.store.service("n1", "web"), nullptr);
}

TEST(Agent, TtlExpiryGoesCriticalInCatalog) {
  Fixture f(fastOptions());
  auto def = decodeCheck(model::InJson::parse(R"({"Name":"hb","TTL":"30ms","Status":"passing"})"),
                         "n1");
  ASSERT_TRUE(f.run(f.agent->addCheck(std::move(*def), false)).isOk());
  EXPECT_EQ(f.store.check("n1", "hb")->status(), "passing");
  f.io.run_for(std::chrono::milliseconds(150));
  EXPECT_EQ(f.store.check("n1", "hb")->status(), "critical");
  EXPECT_EQ(f.store.check("n1", "hb")->output(), "TTL expired");
}

TEST(Agent, ScriptChecksNeedToBeEnabled) {
  Fixture f(fastOptions());
  auto def = decodeCheck(
      model::InJson::parse(R"({"Name":"s","Args":["true"],"Interval":"1s"})"), "n1");
  Status s = f.run(f.agent->addCheck(std::move(*def), false));
  EXPECT_FALSE(s.isOk());
  EXPECT_NE(s.message().find("enable_script_checks"), std::string::npos);
}

}  // namespace
}  // namespace trellis::agent

namespace trellis::agent {
namespace {

TEST(Agent, AliasCheckMirrorsAliasedService) {
  Fixture f(fastOptions());
  auto db = decodeService(
      model::InJson::parse(R"({"Name":"db","Check":{"TTL":"60s","Status":"passing"}})"), "n1");
  ASSERT_TRUE(f.run(f.agent->addService(std::move(*db), false, false)).isOk());
  auto alias = decodeCheck(model::InJson::parse(R"({"Name":"db-alias","AliasService":"db"})"), "n1");
  ASSERT_TRUE(alias.isOk()) << alias.status().message();
  ASSERT_TRUE(f.run(f.agent->addCheck(std::move(*alias), false)).isOk());
  f.io.run_for(std::chrono::milliseconds(50));
  EXPECT_EQ(f.store.check("n1", "db-alias")->status(), "passing");
  ASSERT_TRUE(f.run(f.agent->updateTtl("service:db", "critical", "down")).isOk());
  f.io.run_for(std::chrono::milliseconds(50));
  EXPECT_EQ(f.store.check("n1", "db-alias")->status(), "critical");
  ASSERT_TRUE(f.run(f.agent->removeService("db")).isOk());
  f.io.run_for(std::chrono::milliseconds(50));
  EXPECT_EQ(f.store.check("n1", "db-alias")->status(), "critical");
  EXPECT_NE(f.store.check("n1", "db-alias")->output().find("could not be found"), std::string::npos);
}

ServiceDef mustDecode(const char* body) {
  auto d = decodeService(model::InJson::parse(body), "n1");
  EXPECT_TRUE(d.isOk()) << d.status().message();
  return std::move(*d);
}

constexpr const char* kWebWithSidecar =
    R"({"Name":"web","Port":8080,"Connect":{"SidecarService":{}}})";

TEST(AgentSidecar, RegistersParentThenSidecarAndReusesThePort) {
  Fixture f(fastOptions());
  ASSERT_TRUE(f.run(f.agent->addService(mustDecode(R"({"Name":"other","Port":21000})"), false,
                                        false)).isOk());
  ASSERT_TRUE(f.run(f.agent->addService(mustDecode(kWebWithSidecar), false, false)).isOk());
  const pb::Service* sc = f.store.service("n1", "web-sidecar-proxy");
  ASSERT_NE(sc, nullptr);
  EXPECT_EQ(sc->port(), 21001);
  EXPECT_EQ(sc->proxy().destination_service_id(), "web");
  EXPECT_NE(f.store.check("n1", "service:web-sidecar-proxy:1"), nullptr);
  EXPECT_FALSE(f.store.service("n1", "web")->connect_native());
  // Free 21000; re-registering keeps 21001 (what reload relies on).
  ASSERT_TRUE(f.run(f.agent->removeService("other")).isOk());
  ASSERT_TRUE(f.run(f.agent->addService(mustDecode(kWebWithSidecar), false, false)).isOk());
  EXPECT_EQ(f.store.service("n1", "web-sidecar-proxy")->port(), 21001);
}

TEST(AgentSidecar, DeregisteringTheParentRemovesTheSidecar) {
  Fixture f(fastOptions());
  ASSERT_TRUE(f.run(f.agent->addService(mustDecode(kWebWithSidecar), false, false)).isOk());
  ASSERT_EQ(f.agent->services().count("web-sidecar-proxy"), 1u);
  ASSERT_TRUE(f.run(f.agent->removeService("web")).isOk());
  EXPECT_EQ(f.agent->services().count("web-sidecar-proxy"), 0u);
  EXPECT_EQ(f.store.service("n1", "web-sidecar-proxy"), nullptr);
  EXPECT_EQ(f.store.check("n1", "service:web-sidecar-proxy:1"), nullptr);
}

TEST(AgentSidecar, NothingIsRegisteredWhenNoPortIsLeft) {
  AgentOptions o = fastOptions();
  o.sidecar_min_port = 21000;
  o.sidecar_max_port = 21000;
  Fixture f(o);
  ASSERT_TRUE(f.run(f.agent->addService(mustDecode(R"({"Name":"x","Port":21000})"), false,
                                        false)).isOk());
  Status s = f.run(f.agent->addService(mustDecode(kWebWithSidecar), false, false));
  EXPECT_FALSE(s.isOk());
  EXPECT_EQ(f.agent->services().count("web"), 0u);
  EXPECT_EQ(f.store.service("n1", "web"), nullptr);
}

}  // namespace
}  // namespace trellis::agent
