// GET /v1/agent/metrics: Consul's JSON summary ({Timestamp, Gauges, Points, Counters, Samples}) or,
// with ?format=prometheus, Prometheus text. The catalog gauges are read from the store; the xDS
// plane contributes its own through Context::extra_metrics.
#include <ctime>
#include <fmt/format.h>

#include <fstream>

#include "api/endpoints.h"
#include "api/respond.h"
#include "state/store.h"

namespace trellis::api {

namespace asio = boost::asio;

namespace {

double residentBytes() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) * 1024;
  }
  return 0;
}

std::vector<Context::MetricSample> collect(Context& ctx) {
  std::vector<Context::MetricSample> all = {
      {"trellis.catalog.nodes", double(ctx.store.nodes().size()), false},
      {"trellis.catalog.service_instances", double(ctx.store.services().size()), false},
      {"trellis.catalog.checks", double(ctx.store.checks().size()), false},
      {"trellis.session.active", double(ctx.store.sessions().size()), false},
      {"trellis.raft.last_index", double(ctx.store.lastIndex()), false},
      {"trellis.runtime.resident_bytes", residentBytes(), false},
      {"trellis.agent.uptime_seconds",
       std::chrono::duration<double>(std::chrono::steady_clock::now() - ctx.started).count(),
       false},
  };
  if (ctx.extra_metrics) {
    for (auto& m : ctx.extra_metrics()) all.push_back(std::move(m));
  }
  return all;
}

std::string promName(const std::string& dotted) {
  std::string out = dotted;
  for (char& c : out) {
    if (c == '.' || c == '-') c = '_';
  }
  return out;
}

}  // namespace

asio::awaitable<Response> agentMetrics(Context& ctx, Exchange& ex, std::string) {
  auto samples = collect(ctx);
  if (ex.request.param("format").value_or("") == "prometheus") {
    std::string text;
    for (const auto& m : samples) {
      std::string name = promName(m.name);
      text += "# TYPE " + name + (m.counter ? " counter\n" : " gauge\n");
      text += name + " " + fmt::format("{}", m.value) + "\n";
    }
    Response r = Response::text(200, std::move(text));
    r.set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    co_return r;
  }
  Json gauges = Json::array(), counters = Json::array();
  for (const auto& m : samples) {
    if (m.counter) {
      // Consul reports counters per interval; ours are totals since start, so Count = Sum = value.
      counters.push_back({{"Name", m.name}, {"Count", m.value}, {"Rate", 0}, {"Sum", m.value},
                          {"Min", m.value}, {"Max", m.value}, {"Mean", m.value}, {"Stddev", 0},
                          {"Labels", Json::object()}});
    } else {
      gauges.push_back({{"Name", m.name}, {"Value", m.value}, {"Labels", Json::object()}});
    }
  }
  std::time_t now = std::time(nullptr);
  char ts[32];
  std::strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S +0000 UTC", std::gmtime(&now));
  Json out;
  out["Timestamp"] = ts;
  out["Gauges"] = std::move(gauges);
  out["Points"] = Json::array();
  out["Counters"] = std::move(counters);
  out["Samples"] = Json::array();
  co_return jsonResponse(ctx, ex, out);
}

}  // namespace trellis::api
