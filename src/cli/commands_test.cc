// Commands against a fake agent: the exact request each command sends, and its output and
// exit code for the answers Consul's agent gives.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli/cli.h"
#include "cli/fake_agent.h"
#include "cli/kv_lock.h"

namespace trellis::cli {
namespace {

using testing::FakeAgent;
using testing::ok;
using testing::runCli;
using testing::FakeResponse;
using testing::RecordedRequest;

std::string tempPath(const std::string& name) {
  return ::testing::TempDir() + "/cli_" + std::to_string(::getpid()) + "_" + name;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(KvCommandTest, PutSendsEncodedKeyFlagsAndBody) {
  FakeAgent agent([](const RecordedRequest&) { return ok("true"); });
  auto r = runCli({"kv", "put", "-flags=42", "foo/bar baz", "hello"}, agent,
                  {{"CONSUL_HTTP_TOKEN", "secret"}});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Success! Data written to: foo/bar baz\n");
  auto reqs = agent.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "PUT");
  EXPECT_EQ(reqs[0].path, "/v1/kv/foo/bar%20baz");
  EXPECT_EQ(reqs[0].query, "flags=42");
  EXPECT_EQ(reqs[0].body, "hello");
  EXPECT_EQ(reqs[0].headers["x-consul-token"], "secret");
}

TEST(KvCommandTest, PutFromFileAndCasFailure) {
  std::string file = tempPath("value");
  std::ofstream(file) << "from file";
  FakeAgent agent([](const RecordedRequest&) { return ok("false"); });
  auto r = runCli({"kv", "put", "-cas", "-modify-index=7", "k", "@" + file}, agent);
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "Error! Did not write to k: CAS failed\n");
  auto reqs = agent.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].query, "cas=7");
  EXPECT_EQ(reqs[0].body, "from file");
  std::remove(file.c_str());
}

TEST(KvCommandTest, PutValidatesBeforeCalling) {
  FakeAgent agent([](const RecordedRequest&) { return ok("true"); });
  EXPECT_EQ(runCli({"kv", "put", "-cas", "k", "v"}, agent).err,
            "Must specify -modify-index with -cas!\n");
  EXPECT_EQ(runCli({"kv", "put", "-acquire", "k"}, agent).err,
            "Error! Missing -session (required with -acquire and -release)\n");
  auto usage = runCli({"kv", "put", "-bogus", "k"}, agent);
  EXPECT_EQ(usage.code, 1);
  EXPECT_EQ(usage.err.rfind("flag provided but not defined: -bogus\n\nUsage: trellis kv put", 0),
            0u);
  EXPECT_TRUE(agent.requests().empty());
}

TEST(KvCommandTest, PutAcquireUsesSession) {
  FakeAgent agent([](const RecordedRequest&) { return ok("true"); });
  auto r = runCli({"kv", "put", "-acquire", "-session=abc", "lk", "x"}, agent);
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "Success! Lock acquired on: lk\n");
  EXPECT_EQ(agent.requests().at(0).query, "acquire=abc");
}

TEST(KvCommandTest, PutReportsServerErrors) {
  FakeAgent agent([](const RecordedRequest&) { return FakeResponse{500, "boom\n", {}}; });
  auto r = runCli({"kv", "put", "k", "v"}, agent);
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "Error! Failed writing data: Unexpected response code: 500 (boom)\n");
}

TEST(KvCommandTest, GetPrintsRawValueWithConsistencyFlags) {
  FakeAgent agent([](const RecordedRequest&) {
    return ok(R"([{"Key":"foo","Value":"aGVsbG8=","Flags":0,"CreateIndex":1,"ModifyIndex":2,)"
              R"("LockIndex":0}])",
              2);
  });
  auto r = runCli({"kv", "get", "-datacenter=dc2", "-stale", "/foo"}, agent);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "hello\n");
  auto reqs = agent.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "GET");
  EXPECT_EQ(reqs[0].path, "/v1/kv/foo");
  EXPECT_EQ(reqs[0].query, "dc=dc2&stale");
}

TEST(KvCommandTest, GetMissingKeyExitsOne) {
  FakeAgent agent([](const RecordedRequest&) { return FakeResponse{404, "", {}}; });
  auto r = runCli({"kv", "get", "nope"}, agent);
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "Error! No key exists at: nope\n");
  // -recurse and -keys treat a missing prefix as empty.
  EXPECT_EQ(runCli({"kv", "get", "-recurse", "nope"}, agent).code, 0);
}

TEST(KvCommandTest, GetRecurseDetailedAndKeys) {
  FakeAgent agent([](const RecordedRequest& req) {
    if (req.query.find("keys") != std::string::npos) return ok(R"(["a/","a/b"])");
    return ok(R"([{"Key":"a/1","Value":"b25l","Flags":3,"CreateIndex":5,"ModifyIndex":6,)"
              R"("LockIndex":1,"Session":"s1"},{"Key":"a/2","Value":null,"Flags":0,)"
              R"("CreateIndex":7,"ModifyIndex":7,"LockIndex":0}])");
  });
  auto plain = runCli({"kv", "get", "-recurse", "a"}, agent);
  EXPECT_EQ(plain.out, "a/1:one\na/2:\n");
  auto detailed = runCli({"kv", "get", "-recurse", "-detailed", "a"}, agent);
  EXPECT_EQ(detailed.out,
            "CreateIndex      5\nFlags            3\nKey              a/1\n"
            "LockIndex        1\nModifyIndex      6\nSession          s1\nValue            one\n"
            "\n"
            "CreateIndex      7\nFlags            0\nKey              a/2\n"
            "LockIndex        0\nModifyIndex      7\nSession          -\nValue            \n");
  auto keys = runCli({"kv", "get", "-keys", "a/"}, agent);
  EXPECT_EQ(keys.out, "a/\na/b\n");
  auto reqs = agent.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].target, "/v1/kv/a?recurse");
  EXPECT_EQ(reqs[2].target, "/v1/kv/a/?keys&separator=%2F");
}

TEST(KvCommandTest, DeleteKeyPrefixAndCas) {
  FakeAgent agent([](const RecordedRequest& req) {
    return ok(req.query.find("cas") != std::string::npos ? "false" : "true");
  });
  auto one = runCli({"kv", "delete", "foo"}, agent);
  EXPECT_EQ(one.code, 0);
  EXPECT_EQ(one.out, "Success! Deleted key: foo\n");
  auto prefix = runCli({"kv", "delete", "-recurse", "pre/"}, agent);
  EXPECT_EQ(prefix.out, "Success! Deleted keys with prefix: pre/\n");
  auto cas = runCli({"kv", "delete", "-cas", "-modify-index=3", "foo"}, agent);
  EXPECT_EQ(cas.code, 1);
  EXPECT_EQ(cas.err, "Error! Did not delete key foo: CAS failed\n");
  auto reqs = agent.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].method, "DELETE");
  EXPECT_EQ(reqs[0].target, "/v1/kv/foo");
  EXPECT_EQ(reqs[1].target, "/v1/kv/pre/?recurse");
  EXPECT_EQ(reqs[2].target, "/v1/kv/foo?cas=3");
}

TEST(ConnectionTest, RefusedConnectionIsReportedClearly) {
  std::ostringstream out, err;
  std::map<std::string, std::string> env{
      {"TRELLIS_HTTP_ADDR", "127.0.0.1:" + std::to_string(testing::closedPort())}};
  int code = run({"kv", "get", "k"}, env, out, err);
  EXPECT_EQ(code, 1);
  EXPECT_EQ(err.str().rfind("Error connecting to Trellis agent: ", 0), 0u) << err.str();
  EXPECT_NE(err.str().find("refused"), std::string::npos) << err.str();
  std::ostringstream out2, err2;
  EXPECT_EQ(run({"members", "-http-addr=unix:///tmp/x.sock"}, {}, out2, err2), 1);
  EXPECT_NE(err2.str().find("unix socket addresses are not supported"), std::string::npos);
}

TEST(ServicesCommandTest, RegisterFromFlags) {
  FakeAgent agent([](const RecordedRequest&) { return ok(""); });
  auto r = runCli({"services", "register", "-name=web", "-port", "8080", "-tag=a", "-tag=b",
                   "-meta", "env=prod"},
                  agent);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Registered service: web\n");
  auto reqs = agent.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "PUT");
  EXPECT_EQ(reqs[0].target, "/v1/agent/service/register");
  EXPECT_EQ(nlohmann::json::parse(reqs[0].body),
            nlohmann::json::parse(
                R"({"Name":"web","Port":8080,"Tags":["a","b"],"Meta":{"env":"prod"}})"));
}

TEST(ServicesCommandTest, RegisterFromFilePassesDefinitionThrough) {
  std::string file = tempPath("svc.json");
  std::ofstream(file) << R"({"services":[{"name":"db","port":5432,"check":{"tcp":"x:1",)"
                         R"("interval":"10s"}},{"Name":"cache","ID":"cache-1"}]})";
  FakeAgent agent([](const RecordedRequest&) { return ok(""); });
  auto r = runCli({"services", "register", file}, agent);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Registered service: db\nRegistered service: cache\n");
  auto reqs = agent.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(
      nlohmann::json::parse(reqs[0].body),
      nlohmann::json::parse(R"({"name":"db","port":5432,"check":{"tcp":"x:1","interval":"10s"}})"));
  auto dereg = runCli({"services", "deregister", file}, agent);
  EXPECT_EQ(dereg.out, "Deregistered service: db\nDeregistered service: cache-1\n");
  reqs = agent.requests();
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_EQ(reqs[2].target, "/v1/agent/service/deregister/db");
  EXPECT_EQ(reqs[3].target, "/v1/agent/service/deregister/cache-1");
  std::remove(file.c_str());
}

TEST(ServicesCommandTest, HclNeedsTheParserAndErrorsAreReported) {
  std::string file = tempPath("svc.hcl");
  std::ofstream(file) << "service { name = \"web\" }";
  FakeAgent agent([](const RecordedRequest&) {
    return FakeResponse{400, "Missing service name", {}};
  });
  setHclParser(nullptr);
  auto hcl = runCli({"services", "register", file}, agent);
  EXPECT_EQ(hcl.code, 1);
  EXPECT_EQ(hcl.err, "Error: HCL support not linked\n");
  setHclParser([](std::string_view) -> Result<nlohmann::json> {
    return nlohmann::json::parse(R"({"service":{"name":""}})");
  });
  auto bad = runCli({"services", "register", file}, agent);
  setHclParser(nullptr);
  EXPECT_EQ(bad.code, 1);
  EXPECT_EQ(bad.err,
            "Error registering service \"\": Unexpected response code: 400 (Missing service "
            "name)\n");
  EXPECT_EQ(runCli({"services", "deregister"}, agent).err,
            "Service deregistration requires at least one argument or -id.\n");
  std::remove(file.c_str());
}

TEST(MembersCommandTest, PrintsTableAndExitsTwoWhenEmpty) {
  FakeAgent agent([](const RecordedRequest& req) {
    if (req.query == "wan=1") return ok("[]");
    return ok(R"([{"Name":"s1","Addr":"127.0.0.1","Port":8301,"Status":1,)"
              R"("Tags":{"role":"consul","dc":"dc1","build":"0.1.0","vsn":"2"}}])");
  });
  auto r = runCli({"members"}, agent);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "Node  Address         Status  Type    Build  Protocol  DC   Partition  Segment\n"
            "s1    127.0.0.1:8301  alive   server  0.1.0  2         dc1  default    <all>\n");
  EXPECT_EQ(runCli({"members", "-wan"}, agent).code, 2);
}

TEST(CatalogCommandTest, ServicesWithTagsAndNodeMeta) {
  FakeAgent agent([](const RecordedRequest&) { return ok(R"({"consul":[],"web":["v2","v1"]})"); });
  auto r = runCli({"catalog", "services", "-tags", "-node-meta=rack=r1"}, agent);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "consul      \nweb         v1,v2\n");
  EXPECT_EQ(agent.requests().at(0).target, "/v1/catalog/services?node-meta=rack%3Ar1");
}

TEST(DispatchTest, KnowsItsCommands) {
  EXPECT_TRUE(isCommand("kv"));
  EXPECT_TRUE(isCommand("catalog"));
  EXPECT_TRUE(isCommand("lock"));
  EXPECT_FALSE(isCommand("agent"));
  EXPECT_FALSE(isCommand("version"));
  std::ostringstream out, err;
  EXPECT_EQ(run({"kv"}, {}, out, err), 1);
  EXPECT_NE(err.str().find("    get"), std::string::npos);
  EXPECT_EQ(run({"kv", "frobnicate"}, {}, out, err), 1);
}

// State of one lock key shared by the fake's handler threads.
struct FakeLockState {
  std::mutex mu;
  std::string holder;
  std::string otherHolderAfterAcquire;  // simulate losing the lock
  int getsAfterAcquire = 0;
};

FakeResponse lockHandler(FakeLockState& st, const RecordedRequest& req) {
  std::lock_guard<std::mutex> lock(st.mu);
  const std::string key = "/v1/kv/jobs/nightly/.lock";
  if (req.path == "/v1/session/create") return ok(R"({"ID":"sess-1"})");
  if (req.path == "/v1/session/renew/sess-1") return ok("[]");
  if (req.path == "/v1/session/destroy/sess-1") return ok("true");
  if (req.path == key && req.method == "PUT") {
    if (req.query.find("acquire=sess-1") != std::string::npos) st.holder = "sess-1";
    if (req.query.find("release=sess-1") != std::string::npos) st.holder.clear();
    return ok("true", 10);
  }
  if (req.path == key && req.method == "GET") {
    if (!st.holder.empty() && !st.otherHolderAfterAcquire.empty() && ++st.getsAfterAcquire > 1) {
      st.holder = st.otherHolderAfterAcquire;
    }
    std::string session = st.holder.empty() ? "" : R"(,"Session":")" + st.holder + "\"";
    // Unheld, the key exists with the lock flag (as after a release); the cleanup deletes it.
    if (st.holder.empty() && req.query.empty()) {
      return ok(R"([{"Key":"jobs/nightly/.lock","Flags":3304740253564472344,"Value":null,)"
                R"("CreateIndex":10,"ModifyIndex":11,"LockIndex":1}])",
                11);
    }
    if (st.holder.empty()) return FakeResponse{404, "", {{"X-Consul-Index", "9"}}};
    return ok(R"([{"Key":"jobs/nightly/.lock","Flags":3304740253564472344,"Value":null,)"
              R"("CreateIndex":10,"ModifyIndex":10,"LockIndex":1)" +
                  session + "}]",
              10);
  }
  if (req.path == key && req.method == "DELETE") return ok("true");
  return FakeResponse{404, "unexpected " + req.method + " " + req.target, {}};
}

TEST(LockCommandTest, RunsChildWhileHoldingAndReleases) {
  FakeLockState st;
  FakeAgent agent([&st](const RecordedRequest& req) { return lockHandler(st, req); });
  std::string marker = tempPath("lock_marker");
  auto r = runCli({"lock", "-name=nightly", "/jobs/nightly",
                   "echo held=$CONSUL_LOCK_HELD > " + marker + "; exit 3"},
                  agent);
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_EQ(readFile(marker), "held=true\n");
  std::remove(marker.c_str());

  auto reqs = agent.requests();
  auto find = [&](const std::string& method, const std::string& target) {
    for (const auto& q : reqs) {
      if (q.method == method && q.target == target) return &q;
    }
    return static_cast<const RecordedRequest*>(nullptr);
  };
  const auto* create = find("PUT", "/v1/session/create");
  ASSERT_NE(create, nullptr);
  EXPECT_EQ(nlohmann::json::parse(create->body),
            nlohmann::json::parse(R"({"Name":"nightly","TTL":"15s","Behavior":"release"})"));
  EXPECT_NE(find("PUT", "/v1/kv/jobs/nightly/.lock?acquire=sess-1&flags=3304740253564472344"),
            nullptr);
  EXPECT_NE(find("PUT", "/v1/kv/jobs/nightly/.lock?flags=3304740253564472344&release=sess-1"),
            nullptr);
  EXPECT_NE(find("DELETE", "/v1/kv/jobs/nightly/.lock?cas=11"), nullptr);
  EXPECT_NE(find("PUT", "/v1/session/destroy/sess-1"), nullptr);
  EXPECT_EQ(reqs.back().target, "/v1/session/destroy/sess-1");
}

TEST(LockCommandTest, KillsChildWhenLockIsLost) {
  FakeLockState st;
  st.otherHolderAfterAcquire = "someone-else";
  FakeAgent agent([&st](const RecordedRequest& req) { return lockHandler(st, req); });
  const auto start = std::chrono::steady_clock::now();
  auto r = runCli({"lock", "jobs/nightly", "sleep 30"}, agent);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("Lock lost"), std::string::npos) << r.err;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  for (const auto& q : agent.requests()) {
    EXPECT_EQ(q.target.find("release="), std::string::npos) << "released a lock it lost";
  }
}

TEST(LockCommandTest, RejectsSemaphores) {
  FakeAgent agent([](const RecordedRequest&) { return ok(""); });
  auto r = runCli({"lock", "-n=2", "p", "true"}, agent);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("not supported"), std::string::npos);
  EXPECT_TRUE(agent.requests().empty());
}

TEST(WatchCommandTest, PrintsOnceWithoutHandler) {
  FakeAgent agent(
      [](const RecordedRequest&) { return ok(R"([{"Key":"cfg","Value":"MQ==","Flags":0}])", 4); });
  auto r = runCli({"watch", "-type=key", "-key=cfg"}, agent);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "{\n    \"Flags\": 0,\n    \"Key\": \"cfg\",\n    \"Value\": \"MQ==\"\n}\n");
}

TEST(WatchCommandTest, RunsHandlerOnChangesAndResetsBackwardIndex) {
  std::mutex mu;
  int calls = 0;
  FakeAgent agent([&](const RecordedRequest&) {
    std::lock_guard<std::mutex> lock(mu);
    ++calls;
    if (calls == 1) return ok(R"([{"Key":"cfg","Value":"YQ=="}])", 5);
    if (calls == 2) return ok(R"([{"Key":"cfg","Value":"Yg=="}])", 3);  // index went back
    return ok(R"([{"Key":"cfg","Value":"Yw=="}])", 7);
  });
  std::string log = tempPath("watch_log");
  // The handler records its input and stops the watch (non-zero exit) on the third change.
  auto r = runCli(
      {"watch", "-type", "key", "-key", "cfg",
       "cat >> " + log + "; echo \" $CONSUL_INDEX\" >> " + log + "; test $CONSUL_INDEX -ne 7"},
      agent);
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "Error executing handler: exit status 1\n");
  EXPECT_EQ(readFile(log),
            "{\"Key\":\"cfg\",\"Value\":\"YQ==\"}\n 5\n"
            "{\"Key\":\"cfg\",\"Value\":\"Yg==\"}\n 3\n"
            "{\"Key\":\"cfg\",\"Value\":\"Yw==\"}\n 7\n");
  std::remove(log.c_str());
  auto reqs = agent.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].target, "/v1/kv/cfg");
  EXPECT_EQ(reqs[1].target, "/v1/kv/cfg?index=5");
  EXPECT_EQ(reqs[2].target, "/v1/kv/cfg");  // reset after the index went backwards
}

TEST(WatchCommandTest, ValidatesParameters) {
  FakeAgent agent([](const RecordedRequest&) { return ok("{}"); });
  EXPECT_EQ(runCli({"watch", "-type=key"}, agent).err, "Must specify a single key to watch\n");
  EXPECT_EQ(runCli({"watch", "-type=event"}, agent).err, "Unsupported watch type: event\n");
  EXPECT_EQ(runCli({"watch", "-type=checks", "-service=a", "-state=passing"}, agent).err,
            "Cannot specify service and state\n");
  auto r =
      runCli({"watch", "-type=service", "-service=web", "-tag=v1", "-passingonly=true"}, agent);
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(agent.requests().at(0).target, "/v1/health/service/web?passing=1&tag=v1");
}

}  // namespace
}  // namespace trellis::cli
