// Arbitrary request sequences into the ADS stream logic (delta and state-of-the-world) against
// fixed resource sets, checking the protocol's invariants on every response.
//
// Input: byte 0 picks the protocol (even: delta, odd: SotW). Then up to kMaxSteps steps, each an
// opcode byte:
//   op % 4 == 0  a request: 2 bytes little-endian length, then that many bytes parsed as a
//                (Delta)DiscoveryRequest (unparseable bytes are skipped)
//   op % 4 == 1  a resource set: the next byte picks one of the fixed sets
//   op % 4 == 2  drain: up to 8 responses, each answered by ACK, NACK or nothing per 2 bits of op
//   op % 4 == 3  ACK (op & 4) or NACK the last response, by nonce
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "xds/server/delta_stream.h"
#include "xds/server/sotw_stream.h"
#include "xds/server/testing/sets.h"

namespace {

using namespace trellis::xds;

constexpr int kMaxSteps = 64;

const std::vector<ResourceSetPtr>& fixedSets() {
  static const std::vector<ResourceSetPtr> sets = [] {
    const std::string c(kClusterType), e(kEndpointType), l(kListenerType), r(kRouteType),
        s(kSecretType);
    std::vector<ResourceSetPtr> v;
    v.push_back(testing::makeSet(1, {{c, {{"a", "1"}, {"b", "2"}}},
                                     {e, {{"a", "1"}, {"b", "2"}}},
                                     {l, {{"l", "1"}}},
                                     {r, {{"r", "1"}}},
                                     {s, {{"s", "1"}}}}));
    v.push_back(testing::makeSet(2, {{c, {{"a", "1x"}, {"c", "3"}}},
                                     {e, {{"a", "1"}, {"c", "3"}}},
                                     {l, {{"l", "2"}, {"m", "1"}}}}));
    v.push_back(testing::makeSet(3, {{c, {{"a", "1"}}}}, /*complete=*/false));
    v.push_back(testing::makeSet(4, {}));
    return v;
  }();
  return sets;
}

[[noreturn]] void fail() { __builtin_trap(); }

void check(const DeltaStream::Response& r, const ResourceSet& set) {
  std::set<std::string> sent;
  auto type = set.by_type.find(r.type_url());
  for (const auto& res : r.resources()) {
    if (type == set.by_type.end()) fail();
    auto it = type->second.find(res.name());
    if (it == type->second.end() || it->second->version != res.version()) fail();
    if (res.resource().type_url() != r.type_url() || !sent.insert(res.name()).second) fail();
  }
  for (const auto& name : r.removed_resources()) {
    if (sent.contains(name)) fail();
  }
}

void check(const SotwStream::Response& r, const ResourceSet&) {
  for (const auto& any : r.resources()) {
    if (any.type_url() != r.type_url()) fail();
  }
}

template <class Stream>
void run(const uint8_t* data, size_t size) {
  XdsMetrics metrics;
  Stream stream(metrics, "fuzz");
  ResourceSetPtr current;  // the newest complete set handed over
  std::optional<typename Stream::Response> last;
  auto answer = [&](const typename Stream::Response& r, bool nack) {
    typename Stream::Request req;
    req.set_type_url(r.type_url());
    req.set_response_nonce(r.nonce());
    if (nack) req.mutable_error_detail()->set_message("fuzz");
    stream.onRequest(req);
  };
  size_t i = 1;
  for (int step = 0; step < kMaxSteps && i < size; ++step) {
    const uint8_t op = data[i++];
    switch (op % 4) {
      case 0: {
        if (i + 2 > size) return;
        size_t len = data[i] | (static_cast<size_t>(data[i + 1]) << 8);
        i += 2;
        len = std::min(len, size - i);
        typename Stream::Request req;
        if (req.ParseFromArray(data + i, static_cast<int>(len))) stream.onRequest(req);
        i += len;
        break;
      }
      case 1: {
        if (i >= size) return;
        const auto& set = fixedSets()[data[i++] % fixedSets().size()];
        stream.onResourceSet(set);
        if (set->complete) current = set;
        break;
      }
      case 2:
        for (int n = 0; n < 8; ++n) {
          auto r = stream.nextResponse();
          if (!r) break;
          if (!current) fail();  // nothing may be sent before a complete set
          check(*r, *current);
          const int how = (op >> (2 * (n % 3) + 2)) & 3;
          if (how == 1) answer(*r, false);
          if (how == 2) answer(*r, true);
          last = std::move(r);
        }
        break;
      default:
        if (last) answer(*last, (op & 4) == 0);
        break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool quiet = [] {
    spdlog::set_level(spdlog::level::off);  // NACK and unknown-type warnings on every input
    return true;
  }();
  (void)quiet;
  if (size == 0) return 0;
  if (data[0] % 2 == 0) {
    run<DeltaStream>(data, size);
  } else {
    run<SotwStream>(data, size);
  }
  return 0;
}
