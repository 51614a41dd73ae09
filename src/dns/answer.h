#pragma once
// The answer builder: (query, state store, DnsConfig) -> response. Pure: no I/O, no clock, no
// globals; time and randomness come in through AnswerContext so tests pin them.
//
// Called by the server on the core loop, which owns the store, so reads need no locks and a
// deregistration committed before the query is never answered.

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>

#include "dns/config.h"
#include "dns/message.h"
#include "state/store.h"

namespace trellis::dns {

enum class Transport { kUdp, kTcp };

struct AnswerContext {
  Transport transport = Transport::kUdp;
  uint32_t now_unix = 0;        // SOA serial
  std::mt19937* rng = nullptr;  // shuffles answers; nullptr keeps catalog order
  bool unlimited = false;       // ignore a_record_limit (the cache applies it per query)
};

struct Answer {
  enum class Action {
    kReply,    // send `response`
    kForward,  // name outside our domains and recursors configured: forward the query bytes
    kDrop,     // say nothing (not a query, or too short to answer)
  };
  Action action = Action::kReply;
  Message response;
  bool per_instance = false;  // one answer record per service instance (reorderable)
};

// Builds the full, untruncated response to a parsed query.
Answer answer(const Message& query, const state::Store& store, const DnsConfig& cfg,
              const AnswerContext& ctx);

// Built answers for repeated questions, reused while the store's last index is unchanged, so a
// hot name costs a shuffle and an encode instead of a catalog walk. Owned by one server, used on
// its thread; bounded (cleared when full).
class AnswerCache {
 public:
  struct Entry {
    uint64_t index = 0;
    Message response;      // unshuffled, no a_record_limit, header/question/EDNS filled per query
    bool shuffle = false;  // service-style answer: one record per instance
  };
  Entry* find(const std::string& key, uint64_t index);
  Entry& put(std::string key, Entry entry);

 private:
  static constexpr size_t kMaxEntries = 4096;
  std::unordered_map<std::string, Entry> entries_;
};

struct WireAnswer {
  Answer::Action action = Answer::Action::kReply;
  std::string bytes;  // the encoded response for kReply
};

// Wire in, wire out: parses `packet` (FORMERR for a bad one that still has a header, silence
// for responses and runts), answers it, and trims the response to fit the transport as Consul
// does (UDP: 512 bytes or the EDNS0 size, at most udp_answer_limit answers without EDNS0; TCP:
// 64 KiB), setting TC only when dns_config.enable_truncate is on or nothing fits at all.
WireAnswer answerPacket(std::string_view packet, const state::Store& store, const DnsConfig& cfg,
                        const AnswerContext& ctx, AnswerCache* cache = nullptr);

// Trims `resp` to the transport's limit and encodes it. Exposed for tests.
std::string fitAndEncode(Message resp, const Message& query, const DnsConfig& cfg,
                         Transport transport);

}  // namespace trellis::dns
