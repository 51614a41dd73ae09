#include "config/agent_config.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>

namespace trellis::config {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::seconds;

const std::string kFixtures = TRELLIS_CONFIG_FIXTURES;

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = fs::temp_directory_path() /
            ("trellis-config-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string write(const std::string& name, const std::string& text) const {
    fs::path p = path_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }
  std::string path() const { return path_.string(); }

 private:
  fs::path path_;
};

Result<AgentConfig> load(std::vector<std::string> args) {
  return loadAgentConfig(args, LoadOptions{"test-host"});
}

AgentConfig loadOk(std::vector<std::string> args) {
  auto r = load(std::move(args));
  EXPECT_TRUE(r.isOk()) << r.status().message();
  return r.isOk() ? r.value() : AgentConfig{};
}

TEST(AgentConfigTest, ConsulDefaults) {
  AgentConfig c = loadOk({"-data-dir", "/var/lib/trellis"});
  EXPECT_FALSE(c.dev);
  EXPECT_FALSE(c.server);
  EXPECT_EQ(c.datacenter, "dc1");
  EXPECT_EQ(c.node_name, "test-host");
  EXPECT_EQ(c.data_dir, "/var/lib/trellis");
  EXPECT_EQ(c.bind_addr, "0.0.0.0");
  EXPECT_EQ(c.client_addr, "127.0.0.1");
  EXPECT_EQ(c.ports.http, 8500);
  EXPECT_EQ(c.ports.https, -1);
  EXPECT_EQ(c.ports.dns, 8600);
  EXPECT_EQ(c.ports.grpc, -1);
  EXPECT_EQ(c.ports.grpc_tls, -1);
  EXPECT_EQ(c.ports.serf_lan, 8301);
  EXPECT_EQ(c.ports.serf_wan, 8302);
  EXPECT_EQ(c.ports.server, 8300);
  EXPECT_EQ(c.ports.sidecar_min_port, 21000);
  EXPECT_EQ(c.ports.sidecar_max_port, 21255);
  EXPECT_EQ(c.log_level, "info");
  EXPECT_TRUE(c.connect_enabled);
  EXPECT_EQ(c.domain, "consul.");
  EXPECT_EQ(c.default_query_time, seconds(300));
  EXPECT_EQ(c.max_query_time, seconds(600));
  EXPECT_EQ(c.kv_max_value_size, 524288u);
  EXPECT_EQ(c.txn_max_req_len, 524288u);
  EXPECT_FALSE(c.acl_enabled);
  EXPECT_EQ(c.acl_default_policy, "allow");
  EXPECT_FALSE(c.pretty_json);
  EXPECT_TRUE(c.warnings.empty());
}

TEST(AgentConfigTest, DevDefaults) {
  AgentConfig c = loadOk({"-dev"});
  EXPECT_TRUE(c.dev);
  EXPECT_TRUE(c.server);
  EXPECT_EQ(c.bind_addr, "127.0.0.1");
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.ports.grpc, 8502);
  EXPECT_TRUE(c.pretty_json);
  EXPECT_TRUE(c.ui);
  EXPECT_TRUE(c.data_dir.empty());
}

TEST(AgentConfigTest, DataDirRequiredOutsideDev) {
  EXPECT_EQ(load({}).status().message(), "data_dir is required (or use -dev)");
  EXPECT_EQ(load({"-server"}).status().message(), "data_dir is required (or use -dev)");
}

TEST(AgentConfigTest, UnknownFlag) {
  EXPECT_EQ(load({"-dev", "-x"}).status().message(), "unknown flag: -x");
}

TEST(AgentConfigTest, PrecedenceFilesThenHclThenFlags) {
  TempDir dir;
  std::string a = dir.write("a.hcl",
                            "datacenter = \"from-a\"\nnode_name = \"a\"\nlog_level = "
                            "\"warn\"\nports { http = 1000 }\n");
  std::string b = dir.write("b.json", R"({"node_name": "b", "ports": {"dns": 2000}})");
  AgentConfig c = loadOk({"-dev", "-config-file", a, "-config-file=" + b, "-hcl",
                          "log_level = \"trace\"\nports { http = 3000 }", "-http-port", "4000"});
  EXPECT_EQ(c.datacenter, "from-a");
  EXPECT_EQ(c.node_name, "b");      // later file wins
  EXPECT_EQ(c.log_level, "trace");  // -hcl beats files
  EXPECT_EQ(c.ports.http, 4000);    // flags beat -hcl
  EXPECT_EQ(c.ports.dns, 2000);     // objects merge across files
  EXPECT_EQ(c.ports.grpc, 8502);    // dev default kept
}

TEST(AgentConfigTest, ConfigDirLoadsJsonAndHclInLexicalOrder) {
  AgentConfig c = loadOk({"-dev", "-config-dir", kFixtures + "/conf.d"});
  EXPECT_EQ(c.datacenter, "east");
  EXPECT_EQ(c.log_level, "err");
  EXPECT_EQ(c.ports.http, 8501);
  EXPECT_EQ(c.node_meta, (std::map<std::string, std::string>{{"zone", "b"}}));
  EXPECT_EQ(c.merged["retry_join"], json({"10.0.0.1", "10.0.0.2"}));
  ASSERT_EQ(c.services.size(), 2u);
  EXPECT_EQ(c.services[0]["name"], "first");
  EXPECT_EQ(c.services[1]["name"], "second");
  // retry_join is accepted but not implemented: one warning per file that sets it.
  ASSERT_EQ(c.warnings.size(), 2u);
  EXPECT_EQ(c.warnings[0], kFixtures +
                               "/conf.d/01-base.json:4: config key \"retry_join\" is "
                               "accepted but not implemented yet; ignored");
}

TEST(AgentConfigTest, ServicesConcatenateAcrossFiles) {
  TempDir dir;
  std::string a = dir.write("a.hcl", "service { name = \"one\" }\nservice { name = \"two\" }\n");
  std::string b = dir.write("b.json", R"({"service": {"name": "three"},
    "checks": [{"id": "c1", "ttl": "30s"}]})");
  std::string c2 = dir.write("c.hcl", "check { id = \"c2\"\n ttl = \"5s\" }\n");
  AgentConfig c = loadOk({"-dev", "-config-file", a, "-config-file", b, "-config-file", c2});
  ASSERT_EQ(c.services.size(), 3u);
  EXPECT_EQ(c.services[2]["name"], "three");
  ASSERT_EQ(c.checks.size(), 2u);
  EXPECT_EQ(c.checks[1]["id"], "c2");
}

TEST(AgentConfigTest, EmptyFilesAreValid) {
  TempDir dir;
  std::string a = dir.write("a.json", "");
  std::string b = dir.write("b.hcl", "\n\n");
  std::string j = dir.write("c.json", "  \n");
  EXPECT_TRUE(load({"-dev", "-config-file", a, "-config-file", b, "-config-file", j}).isOk());
}

TEST(AgentConfigTest, FormatFromExtensionOrFlag) {
  TempDir dir;
  std::string f = dir.write("agent.conf", "datacenter = \"x1\"\n");
  EXPECT_EQ(load({"-dev", "-config-file", f}).status().message(),
            f + ": cannot tell the config format; use a .json or .hcl extension or "
                "-config-format");
  AgentConfig c = loadOk({"-dev", "-config-format=hcl", "-config-file", f});
  EXPECT_EQ(c.datacenter, "x1");
}

TEST(AgentConfigTest, ConfigFormatOverridesExtensionAndReadsWholeDirectory) {
  TempDir dir;
  dir.write("d/a.conf", "datacenter = \"from-conf\"\n");
  dir.write("d/b.json", "{\"node_name\": \"json-read-as-hcl\"}");
  AgentConfig c = loadOk({"-dev", "-config-format", "hcl", "-config-dir", dir.path() + "/d"});
  EXPECT_EQ(c.datacenter, "from-conf");
  EXPECT_EQ(c.node_name, "json-read-as-hcl");
  // Without the flag the .conf file is skipped.
  AgentConfig d = loadOk({"-dev", "-config-dir", dir.path() + "/d"});
  EXPECT_EQ(d.datacenter, "dc1");
}

TEST(AgentConfigTest, MissingPaths) {
  EXPECT_EQ(load({"-dev", "-config-file", "/nonexistent/a.hcl"}).status().message(),
            "/nonexistent/a.hcl: config file does not exist");
  EXPECT_EQ(load({"-dev", "-config-dir", "/nonexistent"}).status().message(),
            "/nonexistent: config directory does not exist");
}

TEST(AgentConfigTest, ErrorsNameFileLineAndKey) {
  TempDir dir;
  std::string bad = dir.write("bad.hcl", "datacenter = \"dc1\"\n\nports {\n  http = \"x\"\n}\n");
  EXPECT_EQ(load({"-dev", "-config-file", bad}).status().message(),
            bad + ":4: invalid value for \"ports.http\": expected an integer, got a string");
  std::string unknown = dir.write("u.json", "{\n  \"datacenter\": \"dc1\",\n  \"colour\": 1\n}");
  EXPECT_EQ(load({"-dev", "-config-file", unknown}).status().message(),
            unknown + ":3: unknown config key \"colour\"");
  std::string syntax = dir.write("s.json", "{\n  \"a\": 1,\n}\n");
  auto r = load({"-dev", "-config-file", syntax});
  EXPECT_EQ(r.status().message().rfind(syntax + ": line 3, column 1: ", 0), 0u)
      << r.status().message();
  std::string hcl = dir.write("h.hcl", "a = \n");
  EXPECT_EQ(load({"-dev", "-config-file", hcl}).status().message(),
            hcl + ": line 2, column 1: unexpected end of input, expected a value");
}

TEST(AgentConfigTest, HclSnippetAndFlagErrorsNameTheirSource) {
  EXPECT_EQ(load({"-dev", "-hcl", "nope = 1"}).status().message(),
            "-hcl #1:1: unknown config key \"nope\"");
  EXPECT_EQ(load({"-dev", "-http-port", "70000"}).status().message(),
            "command-line flags: invalid value for \"ports.http\": port must be between -1 and "
            "65535, got 70000");
}

TEST(AgentConfigTest, FlagsSetImplementedFields) {
  AgentConfig c = loadOk({"-data-dir=/d",
                          "-server",
                          "-bootstrap-expect=3",
                          "-node",
                          "n1",
                          "-node-id",
                          "ADF4238A-882B-9DDC-4A9D-5B6758E4159E",
                          "-datacenter",
                          "DC2",
                          "-bind",
                          "10.1.2.3",
                          "-client",
                          "0.0.0.0",
                          "-advertise",
                          "10.1.2.4",
                          "-https-port",
                          "8501",
                          "-dns-port",
                          "8653",
                          "-grpc-port",
                          "8502",
                          "-serf-lan-port",
                          "9301",
                          "-server-port",
                          "9300",
                          "-log-level",
                          "WARN",
                          "-log-json",
                          "-ui",
                          "-domain",
                          "mesh",
                          "-enable-script-checks"});
  EXPECT_TRUE(c.server);
  EXPECT_EQ(c.bootstrap_expect, 3);
  EXPECT_EQ(c.node_name, "n1");
  EXPECT_EQ(c.node_id, "adf4238a-882b-9ddc-4a9d-5b6758e4159e");
  EXPECT_EQ(c.datacenter, "dc2");
  EXPECT_EQ(c.bind_addr, "10.1.2.3");
  EXPECT_EQ(c.client_addr, "0.0.0.0");
  EXPECT_EQ(c.advertise_addr, "10.1.2.4");
  EXPECT_EQ(c.ports.https, 8501);
  EXPECT_EQ(c.ports.dns, 8653);
  EXPECT_EQ(c.ports.grpc, 8502);
  EXPECT_EQ(c.ports.serf_lan, 9301);
  EXPECT_EQ(c.ports.server, 9300);
  EXPECT_EQ(c.log_level, "warn");
  EXPECT_TRUE(c.log_json);
  EXPECT_TRUE(c.ui);
  EXPECT_EQ(c.domain, "mesh.");
  EXPECT_TRUE(c.enable_script_checks);
}

TEST(AgentConfigTest, EncryptFlagIsAcceptedWithWarning) {
  AgentConfig c = loadOk({"-dev", "-encrypt", "pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s="});
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_EQ(c.warnings[0],
            "command-line flags: config key \"encrypt\" is accepted but not "
            "implemented yet; ignored");
}

TEST(AgentConfigTest, CrossFieldChecks) {
  EXPECT_EQ(
      load({"-data-dir=/d", "-server", "-bootstrap", "-bootstrap-expect=3"}).status().message(),
      "'bootstrap_expect > 0' and 'bootstrap = true' are mutually exclusive");
  EXPECT_EQ(load({"-data-dir=/d", "-bootstrap-expect=3"}).status().message(),
            "'bootstrap' and 'bootstrap_expect' require 'server = true'");
  EXPECT_EQ(load({"-dev", "-bootstrap-expect=1"}).status().message(),
            "'bootstrap_expect > 0' is not allowed in -dev mode");
  EXPECT_FALSE(load({"-dev", "-hcl", "ports { sidecar_min_port = 30000 }"}).isOk());
  EXPECT_FALSE(load({"-dev", "-hcl", "default_query_time = \"20m\""}).isOk());
}

TEST(AgentConfigTest, DurationsLimitsAndAcl) {
  AgentConfig c = loadOk({"-dev", "-hcl",
                          "default_query_time = \"1m30s\"\nmax_query_time = \"15m\"\n"
                          "limits { kv_max_value_size = 1048576\n txn_max_req_len = 2048 }\n"
                          "acl { enabled = true\n default_policy = \"deny\" }\n"
                          "enable_local_script_checks = true\n"
                          "addresses { http = \"0.0.0.0\" }\n"
                          "node_meta { env = \"test\" }\n"});
  EXPECT_EQ(c.default_query_time, seconds(90));
  EXPECT_EQ(c.max_query_time, seconds(900));
  EXPECT_EQ(c.kv_max_value_size, 1048576u);
  EXPECT_EQ(c.txn_max_req_len, 2048u);
  EXPECT_TRUE(c.acl_enabled);
  EXPECT_EQ(c.acl_default_policy, "deny");
  EXPECT_TRUE(c.enable_local_script_checks);
  EXPECT_EQ(c.addresses.http, "0.0.0.0");
  EXPECT_TRUE(c.addresses.dns.empty());
  EXPECT_EQ(c.node_meta.at("env"), "test");
  EXPECT_TRUE(c.warnings.empty()) << c.warnings.front();
}

TEST(AgentConfigTest, RealisticConsulDevFileLoads) {
  std::string file = kFixtures + "/consul-dev.hcl";
  AgentConfig c = loadOk({"-dev", "-config-file", file});
  EXPECT_EQ(c.node_name, "consul-dev");
  EXPECT_EQ(c.log_level, "info");
  EXPECT_EQ(c.client_addr, "0.0.0.0");
  EXPECT_EQ(c.addresses.http, "0.0.0.0");
  EXPECT_EQ(c.ports.grpc, 8502);
  EXPECT_TRUE(c.ui);
  EXPECT_EQ(c.node_meta.at("rack"), "r1");
  ASSERT_EQ(c.services.size(), 2u);
  EXPECT_EQ(c.services[0]["name"], "web");
  EXPECT_EQ(c.services[0]["check"]["interval"], "10s");
  EXPECT_TRUE(c.services[0]["connect"]["sidecar_service"].is_object());
  EXPECT_EQ(c.services[1]["port"], 5432);
  ASSERT_EQ(c.merged["config_entries"]["bootstrap"].size(), 2u);
  EXPECT_EQ(c.merged["config_entries"]["bootstrap"][0]["config"]["protocol"], "http");
  EXPECT_EQ(c.merged["dns_config"]["only_passing"], true);
  std::vector<std::string> want_keys = {
      "acl.tokens.initial_management", "telemetry.prometheus_retention_time",
      "telemetry.disable_hostname", "config_entries.bootstrap"};  // dns_config.* is implemented
  ASSERT_EQ(c.warnings.size(), want_keys.size());
  for (size_t i = 0; i < want_keys.size(); ++i) {
    EXPECT_NE(c.warnings[i].find("\"" + want_keys[i] + "\""), std::string::npos) << c.warnings[i];
    EXPECT_EQ(c.warnings[i].rfind(file + ":", 0), 0u);
  }
}

TEST(AgentConfigTest, HarnessConfigsLoad) {
  AgentConfig h = loadOk({"-config-file", kFixtures + "/harness.hcl"});
  EXPECT_TRUE(h.server);
  EXPECT_TRUE(h.bootstrap);
  EXPECT_EQ(h.node_name, "harness");
  EXPECT_EQ(h.ports.grpc, 8502);
  EXPECT_EQ(h.ports.http, 18500);
  EXPECT_TRUE(h.connect_enabled);
  EXPECT_EQ(h.log_level, "debug");
  ASSERT_EQ(h.warnings.size(), 3u);
  EXPECT_EQ(h.warnings[0], kFixtures +
                               "/harness.hcl:18: config key \"performance."
                               "raft_multiplier\" is accepted but not implemented yet; "
                               "ignored");

  AgentConfig j = loadOk({"-config-file", kFixtures + "/harness.json"});
  EXPECT_EQ(j.node_name, "harness-json");
  EXPECT_EQ(j.ports.http, 18500);
  ASSERT_EQ(j.services.size(), 2u);
  EXPECT_EQ(j.services[0]["Name"], "api");  // keys kept as written for the API decoder
  EXPECT_EQ(j.services[1]["port"], 6379);
}

}  // namespace
}  // namespace trellis::config
