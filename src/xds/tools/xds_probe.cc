// xds_probe: a small ADS client for end-to-end tests and debugging. It opens one delta (default)
// or state-of-the-world stream to an xDS server, subscribes to every cluster and listener (and
// to the endpoints of each EDS cluster it learns, and to the listeners named with --listener),
// ACKs everything, and prints one JSON line per response with the resources decoded.
//
//   xds_probe --addr 127.0.0.1:8502 --node web-sidecar-proxy [--sotw] [--listener NAME]...
//             [--responses N] [--timeout SECONDS]
//
// Exits 0 after N responses or at the timeout (bounded either way), 2 on bad usage, 1 when the
// stream ends with an error (its status is printed as {"error": ...}).

#include <google/protobuf/util/json_util.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <envoy/config/cluster/v3/cluster.pb.h>
#include <envoy/config/endpoint/v3/endpoint.pb.h>
#include <envoy/config/listener/v3/listener.pb.h>
#include <envoy/config/route/v3/route.pb.h>
#include <envoy/extensions/filters/http/rbac/v3/rbac.pb.h>
#include <envoy/extensions/filters/http/router/v3/router.pb.h>
#include <envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h>
#include <envoy/extensions/filters/network/rbac/v3/rbac.pb.h>
#include <envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h>
#include <envoy/extensions/transport_sockets/tls/v3/tls.pb.h>
#include <nlohmann/json.hpp>

#include "xds/resources.h"
#include "xds/server/testing/ads_client.h"

namespace {

using nlohmann::json;
using trellis::xds::testing::AdsTestClient;
using trellis::xds::testing::ClientOptions;

// Nested typed_config Anys only print when their types are linked into this binary: naming them
// pulls their generated descriptors out of the static library.
bool linkNestedTypes() {
  std::vector<const google::protobuf::Descriptor*> linked;
  linked.push_back(envoy::config::listener::v3::Listener::descriptor());
  linked.push_back(envoy::config::route::v3::RouteConfiguration::descriptor());
  linked.push_back(envoy::config::endpoint::v3::ClusterLoadAssignment::descriptor());
  linked.push_back(envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy::descriptor());
  linked.push_back(envoy::extensions::filters::network::rbac::v3::RBAC::descriptor());
  linked.push_back(envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager::descriptor());
  linked.push_back(envoy::extensions::filters::http::router::v3::Router::descriptor());
  linked.push_back(envoy::extensions::filters::http::rbac::v3::RBAC::descriptor());
  linked.push_back(envoy::extensions::transport_sockets::tls::v3::DownstreamTlsContext::descriptor());
  linked.push_back(envoy::extensions::transport_sockets::tls::v3::UpstreamTlsContext::descriptor());
  for (const auto* d : linked) {
    if (d == nullptr) return false;
  }
  return true;
}

json anyToJson(const google::protobuf::Any& any) {
  std::string out;
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  auto st = google::protobuf::util::MessageToJsonString(any, &out, opts);
  if (!st.ok()) {
    return json{{"undecodable", any.type_url()}, {"why", std::string(st.message())}};
  }
  return json::parse(out, nullptr, false);
}

std::mutex out_mu;
void emit(const json& j) {
  std::lock_guard lock(out_mu);
  std::cout << j.dump() << std::endl;
}

int usage() {
  std::cerr << "usage: xds_probe --addr HOST:PORT --node ID [--sotw] [--listener NAME]... "
               "[--responses N] [--timeout SECONDS]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string addr, node;
  bool sotw = false;
  std::vector<std::string> listeners;
  size_t max_responses = 1000;
  int timeout_s = 30;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--addr") {
      addr = next();
    } else if (a == "--node") {
      node = next();
    } else if (a == "--sotw") {
      sotw = true;
    } else if (a == "--listener") {
      listeners.push_back(next());
    } else if (a == "--responses") {
      max_responses = std::stoul(next());
    } else if (a == "--timeout") {
      timeout_s = std::stoi(next());
    } else {
      return usage();
    }
  }
  if (addr.empty() || node.empty()) return usage();
  if (!linkNestedTypes()) return 1;
  const std::string cds(trellis::xds::kClusterType), lds(trellis::xds::kListenerType),
      eds(trellis::xds::kEndpointType);

  AdsTestClient client(addr);
  ClientOptions opts;
  opts.node_id = node;
  opts.node_cluster = "probe";
  opts.subscribe = {{cds, {}}, {lds, listeners}};
  std::atomic<size_t> count{0};
  std::mutex mu;
  std::set<std::string> eds_names;
  std::function<void(const std::vector<std::string>&)> want_eds;
  std::vector<std::thread> helpers;  // guarded by mu; joined before the streams go away

  // Collects EDS cluster names from a CDS response so their endpoints are asked for too.
  auto edsNames = [](const auto& resources) {
    std::vector<std::string> names;
    for (const auto& r : resources) {
      const google::protobuf::Any& any = [&]() -> const google::protobuf::Any& {
        if constexpr (std::is_same_v<std::decay_t<decltype(r)>, google::protobuf::Any>) {
          return r;
        } else {
          return r.resource();
        }
      }();
      envoy::config::cluster::v3::Cluster c;
      if (any.UnpackTo(&c) && c.type() == envoy::config::cluster::v3::Cluster::EDS) {
        names.push_back(c.name());
      }
    }
    return names;
  };

  std::unique_ptr<trellis::xds::testing::DeltaClientStream> delta;
  std::unique_ptr<trellis::xds::testing::SotwClientStream> state;
  if (!sotw) {
    delta = client.openDelta(opts, [&](const auto& resp, auto) {
      json line{{"type", resp.type_url()}, {"nonce", resp.nonce()},
                {"system_version_info", resp.system_version_info()}};
      json res = json::array();
      for (const auto& r : resp.resources()) {
        res.push_back({{"name", r.name()}, {"version", r.version()},
                       {"resource", anyToJson(r.resource())}});
      }
      line["resources"] = std::move(res);
      line["removed"] = std::vector<std::string>(resp.removed_resources().begin(),
                                                 resp.removed_resources().end());
      emit(line);
      ++count;
      if (resp.type_url() == cds) {
        auto names = edsNames(resp.resources());
        std::lock_guard lock(mu);
        std::vector<std::string> fresh;
        for (auto& n : names) {
          if (eds_names.insert(n).second) fresh.push_back(n);
        }
        if (!fresh.empty() && want_eds) want_eds(fresh);
      }
    });
    want_eds = [&](const std::vector<std::string>& names) {
      // Called from the gRPC thread: subscribe on another thread to keep callbacks short.
      helpers.emplace_back([&delta, eds, names] { delta->subscribe(eds, names); });
    };
  } else {
    state = client.openSotw(opts, [&](const auto& resp, auto) {
      json line{{"type", resp.type_url()}, {"nonce", resp.nonce()},
                {"version_info", resp.version_info()}};
      json res = json::array();
      for (const auto& r : resp.resources()) res.push_back({{"resource", anyToJson(r)}});
      line["resources"] = std::move(res);
      emit(line);
      ++count;
      if (resp.type_url() == cds) {
        auto names = edsNames(resp.resources());
        std::lock_guard lock(mu);
        std::set<std::string> all(names.begin(), names.end());
        if (all != eds_names) {
          eds_names = all;
          std::vector<std::string> v(all.begin(), all.end());
          helpers.emplace_back([&state, eds, v] { state->request(eds, v); });
        }
      }
    });
  }

  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  int rc = 0;
  while (std::chrono::steady_clock::now() < deadline && count < max_responses) {
    auto done = delta ? delta->waitDone(std::chrono::milliseconds(50))
                      : state->waitDone(std::chrono::milliseconds(50));
    if (done) {
      emit(json{{"error", done->error_message()}, {"code", int(done->error_code())}});
      rc = done->ok() ? 0 : 1;
      break;
    }
  }
  {
    std::lock_guard lock(mu);
    for (auto& t : helpers) t.join();
  }
  delta.reset();
  state.reset();
  return rc;
}
