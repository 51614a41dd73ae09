#pragma once
// What every HTTP API handler can reach: the state store (read), the Writer (write), the local
// agent, and the agent's settings. Built once in src/bin; handlers run on the core loop.

#include <utility>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <deque>
#include <map>
#include <functional>
#include <string>
#include <unordered_map>

#include "agent/agent.h"
#include "http/types.h"
#include "intentions/intention_set.h"
#include "model/render.h"
#include "ca/types.h"
#include "server/ca_manager.h"
#include "server/session_timers.h"
#include "server/writer.h"
#include "state/store.h"

namespace trellis::api {

using model::Json;
using http::Exchange;
using http::Response;

struct ApiConfig {
  std::string datacenter = "dc1";
  std::string node_name;
  std::string version = TRELLIS_VERSION;
  std::string server_address = "127.0.0.1:8300";  // what /v1/status/leader reports
  bool pretty_default = false;                     // -dev pretty-prints everything
  bool dev = false;
  bool server = true;
  std::chrono::nanoseconds default_wait = std::chrono::minutes(5);
  std::chrono::nanoseconds max_wait = std::chrono::minutes(10);
  size_t kv_max_value_size = 512 * 1024;
  size_t txn_max_req_len = 512 * 1024;
  std::string acl_default_policy = "allow";
  int http_port = 8500;
  int dns_port = 8600;
  int grpc_port = -1;
  int serf_lan_port = 8301;
  int server_port = 8300;
  std::string bind_addr = "127.0.0.1";
};

// A user event (PUT /v1/event/fire) kept in the agent's ring buffer.
struct UserEvent {
  std::string id, name, payload, node_filter, service_filter, tag_filter;
  uint64_t ltime = 0;
};

// Rendered bodies of list reads, reused until the next write to the store. Many clients asking the
// same question (watchers woken together, service discovery polling) pay for one rendering.
struct ReadCache {
  struct Entry {
    uint64_t index;
    std::string body;
  };
  uint64_t store_index = 0;
  std::unordered_map<std::string, Entry> entries;
};

struct Context {
  boost::asio::io_context& io;
  state::Store& store;
  server::Writer& writer;
  agent::Agent& agent;
  server::SessionTimers& session_timers;
  ApiConfig config;
  std::function<void()> request_shutdown;  // /v1/agent/leave
  std::function<boost::asio::awaitable<Status>()> reload;  // /v1/agent/reload, SIGHUP
  std::deque<UserEvent> events;  // newest last, at most 256
  uint64_t event_ltime = 0;
  std::chrono::nanoseconds session_ttl_min = std::chrono::seconds(10);
  ReadCache read_cache;
  // Intentions snapshot, rebuilt when the config-entries table changes.
  std::shared_ptr<const intentions::IntentionSet> intention_set;
  uint64_t intention_set_index = ~uint64_t{0};
  // The Connect CA (server side) and the agent's leaf-certificate cache, by service name.
  server::CaManager* ca = nullptr;
  struct Leaf {
    ca::IssuedLeaf leaf;
    std::string private_key_pem;
    uint64_t index = 0;  // log index of its serial: CreateIndex/ModifyIndex and X-Consul-Index
    std::string root_id;
    std::chrono::steady_clock::time_point renew_at;
  };
  std::map<std::string, Leaf> leaves;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  // Metrics owned by other parts (the xDS plane), sampled by /v1/agent/metrics.
  struct MetricSample {
    std::string name;  // Consul style, dotted: trellis.xds.streams_active
    double value = 0;
    bool counter = false;  // gauges otherwise
  };
  std::function<std::vector<MetricSample>()> extra_metrics;
};

}  // namespace trellis::api
