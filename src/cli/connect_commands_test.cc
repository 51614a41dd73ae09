// config, intention and connect ca commands against a fake agent: the exact requests, and the
// output and exit codes Consul's CLI gives for the agent's answers.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli/cli.h"
#include "cli/fake_agent.h"

namespace trellis::cli {
namespace {

using nlohmann::json;
using testing::FakeAgent;
using testing::ok;
using testing::runCli;
using testing::FakeResponse;
using testing::RecordedRequest;

std::string writeTemp(const std::string& name, const std::string& content) {
  std::string path = ::testing::TempDir() + "/cli_cx_" + std::to_string(::getpid()) + "_" + name;
  std::ofstream(path) << content;
  return path;
}

// A stand-in for the config module's HCL parser: `key = "value"` lines only.
Result<json> tinyHcl(std::string_view text) {
  json out = json::object();
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    auto trim = [](std::string s) {
      s.erase(0, s.find_first_not_of(" \t\""));
      s.erase(s.find_last_not_of(" \t\"") + 1);
      return s;
    };
    out[trim(line.substr(0, eq))] = trim(line.substr(eq + 1));
  }
  if (out.empty()) return invalidArgument("At 1:1: expected an item");
  return out;
}

class HclScope {
 public:
  HclScope() { setHclParser(tinyHcl); }
  ~HclScope() { setHclParser(nullptr); }
};

TEST(ConfigCommandTest, WriteHclFileSendsDecodedEntry) {
  HclScope hcl;
  std::string file = writeTemp("web.hcl", "Kind = \"service-defaults\"\nName = \"web\"\n"
                                          "protocol = \"http\"\n");
  FakeAgent agent([](const RecordedRequest&) { return ok("true"); });
  auto r = runCli({"config", "write", file}, agent);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Config entry written: service-defaults/web\n");
  auto reqs = agent.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "PUT");
  EXPECT_EQ(reqs[0].path, "/v1/config");
  EXPECT_EQ(reqs[0].query, "");
  EXPECT_EQ(json::parse(reqs[0].body),
            json::parse(R"({"Kind":"service-defaults","Name":"web","protocol":"http"})"));
  std::remove(file.c_str());
}

TEST(ConfigCommandTest, WriteJsonWithLowerCaseKeysAndCasFailure) {
  std::string file = writeTemp("p.json", R"({"kind":"proxy-defaults","name":"global"})");
  FakeAgent agent([](const RecordedRequest&) { return ok("false"); });
  auto r = runCli({"config", "write", "-cas", "-modify-index=12", file}, agent);
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "Config entry not updated: proxy-defaults/global\n");
  auto reqs = agent.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].query, "cas=12");
  EXPECT_EQ(json::parse(reqs[0].body)["kind"], "proxy-defaults");
  std::remove(file.c_str());
}

TEST(ConfigCommandTest, WriteRejectsBadInputBeforeCalling) {
  FakeAgent agent([](const RecordedRequest&) { return ok("true"); });
  EXPECT_EQ(runCli({"config", "write"}, agent).err,
            "Must provide exactly one positional argument to specify the config entry to write\n");
  auto missing = runCli({"config", "write", "/nonexistent/x.hcl"}, agent);
  EXPECT_EQ(missing.code, 1);
  EXPECT_EQ(missing.err,
            "Failed to load data: Failed to read file: open /nonexistent/x.hcl: no such file or "
            "directory\n");
  std::string noKind = writeTemp("nokind.json", R"({"Name":"web"})");
  EXPECT_EQ(runCli({"config", "write", noKind}, agent).err,
            "Failed to decode config entry input: Payload does not contain a kind/Kind key at the "
            "top level\n");
  std::string badKind = writeTemp("badkind.json", R"({"Kind":"frob","Name":"web"})");
  EXPECT_EQ(runCli({"config", "write", badKind}, agent).err,
            "Failed to decode config entry input: invalid config entry kind: frob\n");
  std::string hclFile = writeTemp("x.hcl", "Kind = \"mesh\"\n");
  setHclParser(nullptr);
  EXPECT_EQ(runCli({"config", "write", hclFile}, agent).err,
            "Failed to decode config entry input: Failed to decode config entry input: HCL "
            "support not linked\n");
  EXPECT_TRUE(agent.requests().empty());
  for (const auto& f : {noKind, badKind, hclFile}) std::remove(f.c_str());
}

TEST(ConfigCommandTest, WriteReportsAgentRejection) {
  std::string file = writeTemp("bad.json", R"({"Kind":"service-defaults","Name":"web","X":1})");
  FakeAgent agent([](const RecordedRequest&) {
    return FakeResponse{400, "Request decoding failed: invalid config key \"X\"", {}};
  });
  auto r = runCli({"config", "write", file}, agent);
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err,
            "Error writing config entry service-defaults/web: Unexpected response code: 400 "
            "(Request decoding failed: invalid config key \"X\")\n");
  std::remove(file.c_str());
}

TEST(ConfigCommandTest, ReadPrettyPrintsInAgentOrder) {
  FakeAgent agent([](const RecordedRequest& req) {
    if (req.path == "/v1/config/service-defaults/web") {
      return ok(R"({"Kind":"service-defaults","Name":"web","Protocol":"http","Meta":{"a":"<b>"},)"
                R"("CreateIndex":5,"ModifyIndex":6})");
    }
    return FakeResponse{404, "Config entry not found for \"service-defaults\" / \"nope\"", {}};
  });
  auto r = runCli({"config", "read", "-kind", "service-defaults", "-name", "web"}, agent);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "{\n    \"Kind\": \"service-defaults\",\n    \"Name\": \"web\",\n"
            "    \"Protocol\": \"http\",\n    \"Meta\": {\n        \"a\": \"\\u003cb\\u003e\"\n"
            "    },\n    \"CreateIndex\": 5,\n    \"ModifyIndex\": 6\n}\n");
  auto missing = runCli({"config", "read", "-kind=service-defaults", "-name=nope"}, agent);
  EXPECT_EQ(missing.code, 1);
  EXPECT_EQ(missing.err,
            "Error reading config entry \"service-defaults\" / \"nope\": Unexpected response code: "
            "404 (Config entry not found for \"service-defaults\" / \"nope\")\n");
  EXPECT_EQ(runCli({"config", "read", "-name=web"}, agent).err,
            "Must specify the -kind parameter\n");
  EXPECT_EQ(runCli({"config", "read", "-kind=mesh"}, agent).err,
            "Must specify the -name parameter\n");
  EXPECT_EQ(agent.requests().size(), 2u);
}

TEST(ConfigCommandTest, ListPrintsNames) {
  FakeAgent agent([](const RecordedRequest&) {
    return ok(R"([{"Kind":"service-defaults","Name":"api"},)"
              R"({"Kind":"service-defaults","Name":"web"}])");
  });
  auto r = runCli({"config", "list", "-kind", "service-defaults", "-filter", "Protocol == http"},
                  agent);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "api\nweb\n");
  auto reqs = agent.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "GET");
  EXPECT_EQ(reqs[0].path, "/v1/config/service-defaults");
  EXPECT_EQ(reqs[0].query, "filter=Protocol%20%3D%3D%20http");
  EXPECT_EQ(runCli({"config", "list"}, agent).err, "Must specify the -kind parameter\n");
}

TEST(ConfigCommandTest, DeleteByKindNameCasAndFile) {
  FakeAgent agent([](const RecordedRequest& req) {
    return ok(req.query.empty() ? "{}" : "false");
  });
  auto plain = runCli({"config", "delete", "-kind=service-defaults", "-name=web"}, agent);
  EXPECT_EQ(plain.code, 0) << plain.err;
  EXPECT_EQ(plain.out, "Config entry deleted: service-defaults/web\n");
  auto cas = runCli(
      {"config", "delete", "-kind=service-defaults", "-name=web", "-cas", "-modify-index=4"},
      agent);
  EXPECT_EQ(cas.code, 1);
  EXPECT_EQ(cas.err, "Config entry not deleted: service-defaults/web\n");
  std::string file = writeTemp("del.json", R"({"Kind":"mesh"})");
  auto byFile = runCli({"config", "delete", "-filename", file}, agent);
  EXPECT_EQ(byFile.code, 0) << byFile.err;
  EXPECT_EQ(byFile.out, "Config entry deleted: mesh/mesh\n");
  auto reqs = agent.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].method, "DELETE");
  EXPECT_EQ(reqs[0].path, "/v1/config/service-defaults/web");
  EXPECT_EQ(reqs[1].query, "cas=4");
  EXPECT_EQ(reqs[2].path, "/v1/config/mesh/mesh");
  std::remove(file.c_str());
}

TEST(ConfigCommandTest, DeleteValidatesFlagCombinations) {
  FakeAgent agent([](const RecordedRequest&) { return ok("{}"); });
  EXPECT_EQ(runCli({"config", "delete"}, agent).err,
            "Must specify the -kind or -filename parameter\n");
  EXPECT_EQ(runCli({"config", "delete", "-filename=f", "-kind=mesh"}, agent).err,
            "filename can't be used with kind or name\n");
  EXPECT_EQ(runCli({"config", "delete", "-kind=mesh"}, agent).err,
            "Must specify the -name parameter\n");
  EXPECT_EQ(runCli({"config", "delete", "-kind=a", "-name=b", "-cas"}, agent).err,
            "Must specify a -modify-index greater than 0 with -cas\n");
  EXPECT_EQ(runCli({"config", "delete", "-kind=a", "-name=b", "-modify-index=3"}, agent).err,
            "Cannot specify -modify-index without -cas\n");
  EXPECT_TRUE(agent.requests().empty());
}

const char* kWebDbDeny =
    R"({"ID":"","SourceNS":"default","SourceName":"web","DestinationNS":"default",)"
    R"("DestinationName":"db","SourceType":"consul","Action":"deny","Meta":{},"Precedence":9,)"
    R"("CreatedAt":"0001-01-01T00:00:00Z"})";

TEST(IntentionCommandTest, CreatePutsExactWhenAbsent) {
  FakeAgent agent([](const RecordedRequest& req) {
    if (req.method == "GET") return FakeResponse{404, "Intention not found", {}};
    return ok("true");
  });
  auto r = runCli({"intention", "create", "-deny", "-description", "no", "web", "db"}, agent);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Created: web => db (deny)\n");
  auto reqs = agent.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].method, "GET");
  EXPECT_EQ(reqs[0].path, "/v1/connect/intentions/exact");
  EXPECT_EQ(reqs[0].query, "destination=db&source=web");
  EXPECT_EQ(reqs[1].method, "PUT");
  EXPECT_EQ(reqs[1].target, "/v1/connect/intentions/exact?destination=db&source=web");
  EXPECT_EQ(json::parse(reqs[1].body),
            json::parse(R"({"SourceName":"web","DestinationName":"db","SourceType":"consul",)"
                        R"("Action":"deny","Description":"no"})"));
}

TEST(IntentionCommandTest, MetaGoesThroughTheLegacyApi) {
  bool exists = false;
  FakeAgent agent([&exists](const RecordedRequest& req) {
    if (req.method == "GET") {
      return exists ? ok(R"({"ID":"id-1","SourceName":"web","DestinationName":"db",)"
                         R"("Action":"allow"})")
                    : FakeResponse{404, "", {}};
    }
    return ok(req.method == "POST" ? R"({"ID":"id-1"})" : "true");
  });
  auto r = runCli({"intention", "create", "-meta", "owner=ops", "web", "db"}, agent);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Created: web => db (allow)\n");
  exists = true;
  auto rep = runCli({"intention", "create", "-replace", "-deny", "-meta", "a=b", "web", "db"},
                    agent);
  EXPECT_EQ(rep.code, 0) << rep.err;
  auto reqs = agent.requests();
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_EQ(reqs[1].method, "POST");
  EXPECT_EQ(reqs[1].target, "/v1/connect/intentions");
  EXPECT_EQ(json::parse(reqs[1].body),
            json::parse(R"({"SourceName":"web","DestinationName":"db","SourceType":"consul",)"
                        R"("Action":"allow","Meta":{"owner":"ops"}})"));
  EXPECT_EQ(reqs[3].method, "PUT");
  EXPECT_EQ(reqs[3].target, "/v1/connect/intentions/id-1");
  EXPECT_EQ(json::parse(reqs[3].body)["ID"], "id-1");
  EXPECT_EQ(json::parse(reqs[3].body)["Meta"], json::parse(R"({"a":"b"})"));
}

TEST(IntentionCommandTest, CreateExistingNeedsReplace) {
  FakeAgent agent([](const RecordedRequest& req) {
    if (req.method == "GET") return ok(kWebDbDeny);
    return ok("true");
  });
  auto dup = runCli({"intention", "create", "web", "db"}, agent);
  EXPECT_EQ(dup.code, 1);
  EXPECT_EQ(dup.out, "");
  EXPECT_EQ(dup.err,
            "Error creating intention \"web => db (allow)\": duplicate intention found: "
            "web => db (deny)\n");
  EXPECT_EQ(agent.requests().size(), 1u);
  // -replace overwrites, silently as Consul does.
  auto rep = runCli({"intention", "create", "-replace", "web", "db"}, agent);
  EXPECT_EQ(rep.code, 0) << rep.err;
  EXPECT_EQ(rep.out, "");
  auto reqs = agent.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[2].method, "PUT");
  EXPECT_EQ(json::parse(reqs[2].body)["Action"], "allow");
}

TEST(IntentionCommandTest, CreateValidatesArguments) {
  FakeAgent agent([](const RecordedRequest&) { return ok("true"); });
  EXPECT_EQ(runCli({"intention", "create", "-allow", "-deny", "a", "b"}, agent).err,
            "Only one of -allow or -deny may be specified.\n");
  EXPECT_EQ(runCli({"intention", "create", "a"}, agent).err,
            "Error: Must specify two arguments: source and destination\n");
  EXPECT_EQ(runCli({"intention", "create", "a/b/c/d", "b"}, agent).err,
            "Error: Invalid intention source: input can contain at most two '/'\n");
  EXPECT_TRUE(agent.requests().empty());
}

TEST(IntentionCommandTest, CreateFromFile) {
  std::string file = writeTemp("ixn.json", R"({"SourceName":"api","DestinationName":"db",)"
                                           R"("Action":"deny"})");
  std::string l7 = writeTemp("l7.json", R"({"SourceName":"a","DestinationName":"b",)"
                                        R"("Permissions":[{"Action":"allow"}]})");
  FakeAgent agent([](const RecordedRequest& req) {
    if (req.method == "GET") return FakeResponse{404, "", {}};
    return ok("true");
  });
  auto r = runCli({"intention", "create", "-file", file}, agent);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Created: api => db (deny)\n");
  EXPECT_EQ(agent.requests().at(1).query, "destination=db&source=api");
  auto rejected = runCli({"intention", "create", "-file", l7}, agent);
  EXPECT_EQ(rejected.code, 1);
  EXPECT_EQ(rejected.err, "Error: cannot create L7 intention from file \"" + l7 +
                              "\" using this CLI; use 'trellis config write' instead\n");
  std::remove(file.c_str());
  std::remove(l7.c_str());
}

TEST(IntentionCommandTest, GetByPairAndById) {
  FakeAgent agent([](const RecordedRequest& req) {
    if (req.path == "/v1/connect/intentions/exact") return ok(kWebDbDeny);
    return FakeResponse{404, "Intention not found", {}};
  });
  ::setenv("TZ", "UTC", 1);
  ::tzset();
  auto r = runCli({"intention", "get", "web", "db"}, agent);
  ::unsetenv("TZ");
  ::tzset();
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "Source:       web\nDestination:  db\nAction:       deny\n"
            "Created At:   Monday, 01-Jan-01 00:00:00 UTC\n");
  auto byId = runCli({"intention", "get", "abc-123"}, agent);
  EXPECT_EQ(byId.code, 1);
  EXPECT_EQ(byId.err, "Intention not found with ID \"abc-123\"\n");
  auto reqs = agent.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].query, "destination=db&source=web");
  EXPECT_EQ(reqs[1].path, "/v1/connect/intentions/abc-123");
  EXPECT_EQ(runCli({"intention", "get"}, agent).err,
            "command requires exactly 1 or 2 arguments\n");
}

TEST(IntentionCommandTest, GetMissingPair) {
  FakeAgent agent([](const RecordedRequest&) { return FakeResponse{404, "", {}}; });
  auto r = runCli({"intention", "get", "web", "db"}, agent);
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "Intention not found with source \"web\" and destination \"db\"\n");
}

TEST(IntentionCommandTest, DeleteByPairAndById) {
  FakeAgent agent([](const RecordedRequest&) { return ok("true"); });
  auto r = runCli({"intention", "delete", "web", "db"}, agent);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Intention deleted.\n");
  EXPECT_EQ(runCli({"intention", "delete", "some-id"}, agent).code, 0);
  auto reqs = agent.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].method, "DELETE");
  EXPECT_EQ(reqs[0].target, "/v1/connect/intentions/exact?destination=db&source=web");
  EXPECT_EQ(reqs[1].method, "DELETE");
  EXPECT_EQ(reqs[1].path, "/v1/connect/intentions/some-id");
}

TEST(IntentionCommandTest, CheckExitCodes) {
  bool allowed = false;
  FakeAgent agent([&allowed](const RecordedRequest&) {
    return ok(allowed ? R"({"Allowed":true})" : R"({"Allowed":false})");
  });
  auto denied = runCli({"intention", "check", "web", "db"}, agent);
  EXPECT_EQ(denied.code, 1);
  EXPECT_EQ(denied.out, "Denied\n");
  allowed = true;
  auto yes = runCli({"intention", "check", "web", "db"}, agent);
  EXPECT_EQ(yes.code, 0);
  EXPECT_EQ(yes.out, "Allowed\n");
  auto reqs = agent.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].path, "/v1/connect/intentions/check");
  EXPECT_EQ(reqs[0].query, "destination=db&source=web&source-type=consul");
  auto usage = runCli({"intention", "check", "web"}, agent);
  EXPECT_EQ(usage.code, 2);
  EXPECT_EQ(usage.err, "Error: command requires exactly two arguments: src and dst\n");
  EXPECT_EQ(runCli({"intention", "check", "-bogus", "a", "b"}, agent).code, 2);
}

TEST(IntentionCommandTest, CheckErrorExitsTwo) {
  FakeAgent agent([](const RecordedRequest&) { return FakeResponse{500, "boom", {}}; });
  auto r = runCli({"intention", "check", "web", "db"}, agent);
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "Error checking the connection: Unexpected response code: 500 (boom)\n");
}

TEST(IntentionCommandTest, MatchPrintsIntentionsInOrder) {
  FakeAgent agent([](const RecordedRequest&) {
    return ok(std::string(R"({"db":[)") + kWebDbDeny +
              R"(,{"SourceName":"*","DestinationName":"db","Action":"allow"}]})");
  });
  auto r = runCli({"intention", "match", "db"}, agent);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "web => db (deny)\n* => db (allow)\n");
  runCli({"intention", "match", "-source", "web"}, agent);
  auto reqs = agent.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].path, "/v1/connect/intentions/match");
  EXPECT_EQ(reqs[0].query, "by=destination&name=db");
  EXPECT_EQ(reqs[1].query, "by=source&name=web");
  EXPECT_EQ(runCli({"intention", "match", "-source", "-destination", "x"}, agent).err,
            "Error: only one of -source or -destination may be specified\n");
}

TEST(IntentionCommandTest, ListTableAndEmpty) {
  bool empty = false;
  FakeAgent agent([&empty](const RecordedRequest&) {
    return ok(empty ? "[]" : std::string("[") + kWebDbDeny + "]");
  });
  auto r = runCli({"intention", "list"}, agent);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "ID  Source  Action  Destination  Precedence\n"
            "    web     deny    db           9\n");
  EXPECT_EQ(agent.requests().at(0).path, "/v1/connect/intentions");
  empty = true;
  auto none = runCli({"intention", "list"}, agent);
  EXPECT_EQ(none.code, 2);
  EXPECT_EQ(none.err, "There are no intentions.\n");
}

TEST(ConnectCaCommandTest, GetConfigPrintsGoStruct) {
  FakeAgent agent([](const RecordedRequest&) {
    return ok(R"({"Provider":"consul","Config":{"RotationPeriod":"2160h","LeafCertTTL":"72h"},)"
              R"("State":null,"ForceWithoutCrossSigning":false,"CreateIndex":5,"ModifyIndex":6})");
  });
  auto r = runCli({"connect", "ca", "get-config"}, agent);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "{\n\t\"Provider\": \"consul\",\n\t\"Config\": {\n\t\t\"LeafCertTTL\": \"72h\",\n"
            "\t\t\"RotationPeriod\": \"2160h\"\n\t},\n\t\"State\": null,\n"
            "\t\"ForceWithoutCrossSigning\": false,\n\t\"CreateIndex\": 5,\n"
            "\t\"ModifyIndex\": 6\n}\n");
  EXPECT_EQ(agent.requests().at(0).path, "/v1/connect/ca/configuration");
}

TEST(ConnectCaCommandTest, SetConfigPutsFileWithForceFlag) {
  std::string file = writeTemp("ca.json", R"({"Provider":"consul","Config":{"LeafCertTTL":"24h"},)"
                                          R"("ForceWithoutCrossSigning":true})");
  FakeAgent agent([](const RecordedRequest&) { return ok(""); });
  auto r = runCli({"connect", "ca", "set-config", "-config-file", file}, agent);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Configuration updated!\n");
  auto reqs = agent.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "PUT");
  EXPECT_EQ(reqs[0].path, "/v1/connect/ca/configuration");
  EXPECT_EQ(reqs[0].body,
            R"({"Provider":"consul","Config":{"LeafCertTTL":"24h"},"State":null,)"
            R"("ForceWithoutCrossSigning":false,"CreateIndex":0,"ModifyIndex":0})");
  EXPECT_EQ(runCli({"connect", "ca", "set-config"}, agent).err,
            "The -config-file flag is required\n");
  EXPECT_EQ(runCli({"connect", "ca", "set-config", "-config-file=/nonexistent.json"}, agent).err,
            "Error reading config file: open /nonexistent.json: no such file or directory\n");
  std::remove(file.c_str());
}

TEST(ConnectCaCommandTest, SetConfigReportsAgentError) {
  std::string file = writeTemp("ca2.json", R"({"Provider":"vault"})");
  FakeAgent agent([](const RecordedRequest&) {
    return FakeResponse{400, "unknown CA provider \"vault\"", {}};
  });
  auto r = runCli({"connect", "ca", "set-config", "-config-file", file}, agent);
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err,
            "Error setting CA configuration: Unexpected response code: 400 (unknown CA provider "
            "\"vault\")\n");
  std::remove(file.c_str());
}

TEST(DispatchTest, NestedGroupsListTheirSubcommands) {
  std::ostringstream out, err;
  EXPECT_TRUE(isCommand("connect"));
  EXPECT_TRUE(isCommand("intention"));
  EXPECT_TRUE(isCommand("config"));
  EXPECT_EQ(run({"connect"}, {}, out, err), 1);
  EXPECT_NE(err.str().find("    ca"), std::string::npos);
  std::ostringstream err2;
  EXPECT_EQ(run({"connect", "ca"}, {}, out, err2), 1);
  EXPECT_NE(err2.str().find("    get-config"), std::string::npos);
  EXPECT_NE(err2.str().find("    set-config"), std::string::npos);
  std::ostringstream err3;
  EXPECT_EQ(run({"connect", "ca", "frob"}, {}, out, err3), 1);
  EXPECT_EQ(err3.str().rfind("Unknown subcommand: connect ca frob\n", 0), 0u);
}

}  // namespace
}  // namespace trellis::cli
