// xds_convergence: how fast one health change reaches every sidecar watching it.
//
// Against a running agent (HTTP and gRPC ports given), it registers 5 upstream services (two proxy
// instances each, TTL-checked) and N sidecar proxies that all have those 5 upstreams, opens N delta
// ADS streams (one per sidecar, spread over several HTTP/2 connections), waits until every stream
// holds its endpoints, then fails one upstream instance's check and measures, per stream, the time
// until the new ClusterLoadAssignment arrived. It also reads the agent's CPU time and resident
// memory from /proc.
//
//   xds_convergence --http 127.0.0.1:8500 --grpc 127.0.0.1:8502 --agent-pid PID --streams 10000
//
// Prints one JSON object. Bounded: every wait has a deadline.

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "http/blocking_client.h"
#include "xds/resources.h"
#include "xds/server/testing/ads_client.h"

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;
using trellis::xds::testing::AdsTestClient;
using trellis::xds::testing::ClientOptions;
using trellis::xds::testing::DeltaClientStream;

constexpr int kUpstreams = 5;

trellis::http::Endpoint parseEndpoint(const std::string& s) {
  auto colon = s.rfind(':');
  return {s.substr(0, colon), uint16_t(std::stoi(s.substr(colon + 1)))};
}

json httpCall(const trellis::http::Endpoint& ep, const char* method, const std::string& path,
              const std::string& body = "") {
  auto r = trellis::http::request(ep, method, path, body, {});
  if (!r || r->status != 200) {
    std::cerr << method << " " << path << ": "
              << (r ? std::to_string(r->status) + " " + r->body : r.status().message()) << "\n";
    std::exit(1);
  }
  return json::parse(r->body, nullptr, false);
}

// utime+stime in seconds and VmRSS in KiB of a process.
double cpuSeconds(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(f, line);
  std::istringstream in(line.substr(line.rfind(')') + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(field);
  }
  return ticks / double(sysconf(_SC_CLK_TCK));
}

long rssKiB(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = size_t(p * double(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  std::string http_addr = "127.0.0.1:8500", grpc_addr = "127.0.0.1:8502";
  int pid = 0, streams = 1000, channels = 16, timeout_s = 60;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--http") http_addr = v;
    else if (a == "--grpc") grpc_addr = v;
    else if (a == "--agent-pid") pid = std::stoi(v);
    else if (a == "--streams") streams = std::stoi(v);
    else if (a == "--channels") channels = std::stoi(v);
    else if (a == "--timeout") timeout_s = std::stoi(v);
  }
  auto http = parseEndpoint(http_addr);
  const auto deadline_len = std::chrono::seconds(timeout_s);

  // Upstreams: up<k>, two proxy instances each with a passing TTL check.
  for (int k = 0; k < kUpstreams; ++k) {
    for (char inst : {'a', 'b'}) {
      std::string id = "up" + std::to_string(k) + "-" + inst + "-proxy";
      json reg = {{"ID", id},
                  {"Name", "up" + std::to_string(k) + "-sidecar-proxy"},
                  {"Kind", "connect-proxy"},
                  {"Address", "127.0.0.1"},
                  {"Port", 30000 + k * 2 + (inst == 'b')},
                  {"Proxy", {{"DestinationServiceName", "up" + std::to_string(k)}}},
                  {"Check", {{"CheckID", "chk-" + id}, {"TTL", "600s"}, {"Status", "passing"}}}};
      httpCall(http, "PUT", "/v1/agent/service/register", reg.dump());
    }
  }
  auto t_reg = Clock::now();
  for (int i = 0; i < streams; ++i) {
    json ups = json::array();
    for (int k = 0; k < kUpstreams; ++k) {
      ups.push_back({{"DestinationName", "up" + std::to_string(k)}, {"LocalBindPort", 9000 + k}});
    }
    json reg = {{"ID", "web-" + std::to_string(i) + "-proxy"},
                {"Name", "web-sidecar-proxy"},
                {"Kind", "connect-proxy"},
                {"Port", 21000},
                {"Proxy", {{"DestinationServiceName", "web"},
                           {"DestinationServiceID", "web-" + std::to_string(i)},
                           {"LocalServicePort", 8080},
                           {"Upstreams", ups}}}};
    httpCall(http, "PUT", "/v1/agent/service/register", reg.dump());
  }
  double register_s = std::chrono::duration<double>(Clock::now() - t_reg).count();
  std::string td = httpCall(http, "GET", "/v1/connect/ca/roots")["TrustDomain"];
  std::vector<std::string> clusters;
  for (int k = 0; k < kUpstreams; ++k) {
    clusters.push_back("up" + std::to_string(k) + ".default.dc1.internal." + td);
  }
  const std::string flipped = clusters[0];
  usleep(200 * 1000);  // let the agent settle after the registrations
  long rss_before = pid ? rssKiB(pid) : 0;

  // Streams.
  std::vector<std::atomic<int64_t>> initial(streams), updated(streams);
  for (auto& a : initial) a = 0;
  for (auto& a : updated) a = 0;
  std::atomic<int64_t> flip_at{0};
  std::atomic<int> have_initial{0}, have_update{0};
  AdsTestClient client(grpc_addr, channels);
  std::vector<std::unique_ptr<DeltaClientStream>> open;
  open.reserve(streams);
  auto t_open = Clock::now();
  for (int i = 0; i < streams; ++i) {
    ClientOptions o;
    o.node_id = "web-" + std::to_string(i) + "-proxy";
    o.record = false;
    o.subscribe = {{std::string(trellis::xds::kClusterType), {}},
                   {std::string(trellis::xds::kEndpointType), clusters},
                   {std::string(trellis::xds::kListenerType), {}}};
    open.push_back(client.openDelta(o, [&, i](const auto& resp, Clock::time_point at) {
      if (resp.type_url() != trellis::xds::kEndpointType) return;
      for (const auto& r : resp.resources()) {
        if (r.name() != flipped) continue;
        int64_t t = at.time_since_epoch().count();
        int64_t zero = 0;
        if (initial[i].compare_exchange_strong(zero, t)) ++have_initial;
        int64_t f = flip_at.load();
        zero = 0;
        if (f != 0 && t >= f && updated[i].compare_exchange_strong(zero, t)) ++have_update;
      }
    }));
  }
  auto deadline = Clock::now() + deadline_len;
  while (have_initial.load() < streams && Clock::now() < deadline) usleep(10 * 1000);
  double connect_s = std::chrono::duration<double>(Clock::now() - t_open).count();
  if (have_initial.load() < streams) {
    std::cerr << "only " << have_initial.load() << " of " << streams << " streams got endpoints\n";
    return 1;
  }
  usleep(500 * 1000);  // quiet period: ACKs land, pushes finish
  long rss_after = pid ? rssKiB(pid) : 0;
  double cpu_before = pid ? cpuSeconds(pid) : 0;

  // The flip.
  auto t0 = Clock::now();
  flip_at = t0.time_since_epoch().count();
  httpCall(http, "PUT", "/v1/agent/check/fail/chk-up0-a-proxy");
  deadline = Clock::now() + deadline_len;
  while (have_update.load() < streams && Clock::now() < deadline) usleep(1000);
  double cpu_after = pid ? cpuSeconds(pid) : 0;
  std::vector<double> ms;
  for (int i = 0; i < streams; ++i) {
    if (updated[i] != 0) ms.push_back(double(updated[i] - flip_at.load()) / 1e6);
  }
  json out = {{"streams", streams},
              {"channels", channels},
              {"register_seconds", register_s},
              {"initial_convergence_seconds", connect_s},
              {"updated", int(ms.size())},
              {"p50_ms", percentile(ms, 0.50)},
              {"p99_ms", percentile(ms, 0.99)},
              {"max_ms", ms.empty() ? 0 : *std::max_element(ms.begin(), ms.end())},
              {"agent_cpu_seconds", cpu_after - cpu_before},
              {"agent_rss_before_mib", double(rss_before) / 1024},
              {"agent_rss_after_mib", double(rss_after) / 1024},
              {"kib_per_stream", streams ? double(rss_after - rss_before) / streams : 0}};
  std::cout << out.dump() << std::endl;
  open.clear();
  return int(ms.size()) == streams ? 0 : 1;
}
