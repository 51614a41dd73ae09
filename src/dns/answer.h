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

#include "dns/config.h"
#include "dns/message.h"
#include "state/store.h"

namespace trellis::dns {

enum class Transport { kUdp, kTcp };

struct AnswerContext {
  Transport transport = Transport::kUdp;
  uint32_t now_unix = 0;  // SOA serial
  std::mt19937* rng = nullptr;  // shuffles answers; nullptr keeps catalog order
};

struct Answer {
  enum class Action {
    kReply,    // send `response`
    kForward,  // name outside our domains and recursors configured: forward the query bytes
    kDrop,     // say nothing (not a query, or too short to answer)
  };
  Action action = Action::kReply;
  Message response;
};

// Builds the full, untruncated response to a parsed query.
Answer answer(const Message& query, const state::Store& store, const DnsConfig& cfg,
              const AnswerContext& ctx);

struct WireAnswer {
  Answer::Action action = Answer::Action::kReply;
  std::string bytes;  // the encoded response for kReply
};

// Wire in, wire out: parses `packet` (FORMERR for a bad one that still has a header, silence
// for responses and runts), answers it, and trims the response to fit the transport as Consul
// does (UDP: 512 bytes or the EDNS0 size, at most udp_answer_limit answers without EDNS0; TCP:
// 64 KiB), setting TC only when dns_config.enable_truncate is on or nothing fits at all.
WireAnswer answerPacket(std::string_view packet, const state::Store& store, const DnsConfig& cfg,
                        const AnswerContext& ctx);

// Trims `resp` to the transport's limit and encodes it. Exposed for tests.
std::string fitAndEncode(Message resp, const Message& query, const DnsConfig& cfg,
                         Transport transport);

}  // namespace trellis::dns
