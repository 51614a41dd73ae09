// Writes the seed corpus of the xds_requests fuzz target (see its header for the input format).
// Usage: xds_requests_seed <dir>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "xds/server/delta_stream.h"
#include "xds/server/sotw_stream.h"

namespace {

using namespace trellis::xds;

class Seed {
 public:
  explicit Seed(bool sotw) { bytes_.push_back(sotw ? 1 : 0); }
  Seed& request(const google::protobuf::Message& m) {
    std::string body = m.SerializeAsString();
    bytes_ += '\0';
    bytes_ += static_cast<char>(body.size() & 0xff);
    bytes_ += static_cast<char>(body.size() >> 8);
    bytes_ += body;
    return *this;
  }
  Seed& raw(std::string junk) {
    bytes_ += '\0';
    bytes_ += static_cast<char>(junk.size() & 0xff);
    bytes_ += static_cast<char>(junk.size() >> 8);
    bytes_ += junk;
    return *this;
  }
  Seed& set(int which) {
    bytes_ += '\1';
    bytes_ += static_cast<char>(which);
    return *this;
  }
  // Drain; `answers` packs ACK (1) / NACK (2) / nothing (0) for the first three responses.
  Seed& drain(int answers) {
    bytes_ += static_cast<char>(2 | (answers << 2));
    return *this;
  }
  Seed& ackLast(bool ack) {
    bytes_ += static_cast<char>(ack ? 7 : 3);
    return *this;
  }
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

DeltaStream::Request delta(std::string_view type, std::vector<std::string> sub = {},
                           std::vector<std::string> unsub = {}) {
  DeltaStream::Request r;
  r.set_type_url(std::string(type));
  for (auto& n : sub) r.add_resource_names_subscribe(n);
  for (auto& n : unsub) r.add_resource_names_unsubscribe(n);
  return r;
}

SotwStream::Request sotw(std::string_view type, std::vector<std::string> names = {},
                         std::string nonce = "") {
  SotwStream::Request r;
  r.set_type_url(std::string(type));
  for (auto& n : names) r.add_resource_names(n);
  r.set_response_nonce(std::move(nonce));
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <dir>\n", argv[0]);
    return 2;
  }
  std::filesystem::path dir(argv[1]);
  std::filesystem::create_directories(dir);
  constexpr int kAckAll = 1 | (1 << 2) | (1 << 4);
  constexpr int kNackFirst = 2 | (1 << 2) | (1 << 4);
  auto first = delta(kClusterType);
  first.mutable_node()->set_id("web-sidecar");
  auto reconnect = delta(kClusterType);
  (*reconnect.mutable_initial_resource_versions())["a"] = "0000000000000000";
  (*reconnect.mutable_initial_resource_versions())["gone"] = "x";
  auto nack = delta(kClusterType);
  nack.set_response_nonce("1");
  nack.mutable_error_detail()->set_message("bad");
  auto sotw_nack = sotw(kClusterType, {}, "1");
  sotw_nack.mutable_error_detail()->set_code(3);

  const std::vector<std::pair<std::string, Seed>> seeds = {
      {"delta_wildcard_ack", Seed(false).request(first).set(0).drain(kAckAll).drain(kAckAll)},
      {"delta_named_eds",
       Seed(false).request(delta(kEndpointType, {"a", "zz"})).set(0).drain(kAckAll)},
      {"delta_lds_held", Seed(false)
                             .request(delta(kClusterType))
                             .request(delta(kListenerType))
                             .set(0)
                             .drain(0)
                             .ackLast(true)
                             .drain(kAckAll)},
      {"delta_update_remove",
       Seed(false).request(delta(kClusterType)).set(0).drain(kAckAll).set(1).drain(kAckAll)},
      {"delta_nack",
       Seed(false).request(delta(kClusterType)).set(0).drain(kNackFirst).set(1).drain(kAckAll)},
      {"delta_nack_by_nonce", Seed(false)
                                  .request(delta(kClusterType))
                                  .set(0)
                                  .drain(0)
                                  .request(nack)
                                  .set(0)
                                  .drain(kAckAll)},
      {"delta_reconnect", Seed(false).request(reconnect).set(0).drain(kAckAll)},
      {"delta_unsubscribe", Seed(false)
                                .request(delta(kEndpointType, {"a", "b"}))
                                .set(0)
                                .drain(kAckAll)
                                .request(delta(kEndpointType, {}, {"a"}))
                                .set(1)
                                .drain(kAckAll)},
      {"delta_star", Seed(false)
                         .request(delta(kRouteType, {"*"}))
                         .set(0)
                         .drain(kAckAll)
                         .request(delta(kRouteType, {}, {"*"}))
                         .drain(kAckAll)},
      {"delta_incomplete",
       Seed(false).request(delta(kClusterType)).set(2).drain(kAckAll).set(0).drain(kAckAll)},
      {"delta_unknown_type",
       Seed(false).request(delta("type.googleapis.com/foo")).set(0).drain(kAckAll)},
      {"delta_all_types", Seed(false)
                              .request(delta(kSecretType, {"s"}))
                              .request(delta(kClusterType))
                              .request(delta(kEndpointType, {"a"}))
                              .request(delta(kListenerType))
                              .request(delta(kRouteType, {"r"}))
                              .set(0)
                              .drain(kAckAll)
                              .drain(kAckAll)
                              .set(3)
                              .drain(kAckAll)},
      {"delta_junk", Seed(false).raw("\x0a\xff\xff\xff\x0f").set(0).drain(kAckAll)},
      {"sotw_wildcard_ack",
       Seed(true).request(sotw(kClusterType)).set(0).drain(kAckAll).set(1).drain(kAckAll)},
      {"sotw_named_eds", Seed(true)
                             .request(sotw(kEndpointType, {"a", "b"}))
                             .set(0)
                             .drain(kAckAll)
                             .request(sotw(kEndpointType, {"c"}))
                             .set(1)
                             .drain(kAckAll)},
      {"sotw_lds_by_name", Seed(true)
                               .request(sotw(kListenerType, {"l"}))
                               .request(sotw(kClusterType))
                               .set(0)
                               .drain(0)
                               .ackLast(true)
                               .drain(kAckAll)},
      {"sotw_nack", Seed(true)
                        .request(sotw(kClusterType))
                        .set(0)
                        .drain(0)
                        .request(sotw_nack)
                        .set(1)
                        .drain(kNackFirst)
                        .set(1)
                        .drain(kAckAll)},
      {"sotw_stale_nonce",
       Seed(true).request(sotw(kEndpointType, {"a"}, "999")).set(0).drain(kAckAll)},
      {"sotw_junk", Seed(true).raw(std::string("\x22\x05hello\x2a", 8)).set(0).drain(kAckAll)},
  };
  for (const auto& [name, seed] : seeds) {
    std::ofstream(dir / name, std::ios::binary) << seed.bytes();
  }
  std::printf("wrote %zu seeds to %s\n", seeds.size(), dir.c_str());
  return 0;
}
