#pragma once
// DNS wire format (RFC 1035 section 4, EDNS0 OPT per RFC 6891): a parser that never trusts the
// packet and an encoder that compresses names. Pure functions, no I/O.
//
// Names are kept as label lists without the root label; comparisons elsewhere are
// case-insensitive. RDATA of the types the agent answers with (A, AAAA, SRV, TXT, SOA and the
// single-name types) is typed so the encoder can compress names inside it; anything else is kept
// as raw bytes.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"

namespace trellis::dns {

using Name = std::vector<std::string>;  // labels, no trailing empty label

namespace type {
inline constexpr uint16_t kA = 1;
inline constexpr uint16_t kNs = 2;
inline constexpr uint16_t kCname = 5;
inline constexpr uint16_t kSoa = 6;
inline constexpr uint16_t kPtr = 12;
inline constexpr uint16_t kMx = 15;
inline constexpr uint16_t kTxt = 16;
inline constexpr uint16_t kAaaa = 28;
inline constexpr uint16_t kSrv = 33;
inline constexpr uint16_t kOpt = 41;
inline constexpr uint16_t kIxfr = 251;
inline constexpr uint16_t kAxfr = 252;
inline constexpr uint16_t kAny = 255;
}  // namespace type

inline constexpr uint16_t kClassIn = 1;
inline constexpr uint16_t kClassAny = 255;

namespace rcode {
inline constexpr uint16_t kNoError = 0;
inline constexpr uint16_t kFormErr = 1;
inline constexpr uint16_t kServFail = 2;
inline constexpr uint16_t kNxDomain = 3;
inline constexpr uint16_t kNotImp = 4;
inline constexpr uint16_t kRefused = 5;
inline constexpr uint16_t kBadVers = 16;  // extended, needs EDNS
}  // namespace rcode

inline constexpr size_t kMaxLabel = 63;
inline constexpr size_t kMaxName = 255;  // wire length including length octets and root
inline constexpr size_t kMaxUdpPlain = 512;

struct SrvData {
  uint16_t priority = 0, weight = 0, port = 0;
  Name target;
};
struct SoaData {
  Name mname, rname;
  uint32_t serial = 0, refresh = 0, retry = 0, expire = 0, minimum = 0;
};
struct NameData {  // CNAME, PTR, NS
  Name name;
};
using Ipv4 = std::array<uint8_t, 4>;
using Ipv6 = std::array<uint8_t, 16>;
using TxtData = std::vector<std::string>;  // character-strings, each <= 255 bytes
using RawData = std::string;

using RData = std::variant<RawData, Ipv4, Ipv6, SrvData, TxtData, SoaData, NameData>;

struct Record {
  Name name;
  uint16_t type = 0;
  uint16_t cls = kClassIn;
  uint32_t ttl = 0;
  RData data;
};

struct Question {
  Name name;
  uint16_t type = 0;
  uint16_t cls = kClassIn;
};

struct Edns {
  uint16_t udp_size = 512;
  uint8_t ext_rcode = 0;  // upper 8 bits of the 12-bit rcode
  uint8_t version = 0;
  bool dnssec_ok = false;
  std::string options;  // raw option bytes, not interpreted
};

struct Header {
  uint16_t id = 0;
  bool qr = false;
  uint8_t opcode = 0;
  bool aa = false, tc = false, rd = false, ra = false, ad = false, cd = false;
  uint16_t rcode = 0;  // 12 bits when EDNS is present (upper bits travel in the OPT record)
};

struct Message {
  Header header;
  std::vector<Question> questions;
  std::vector<Record> answers;
  std::vector<Record> authority;
  std::vector<Record> additional;  // without the OPT record, which lives in `edns`
  std::optional<Edns> edns;
};

// Header fields only (first 12 bytes); fails on shorter input. Lets a server answer FORMERR with
// the right ID when the rest of the packet does not parse.
Result<Header> parseHeader(std::string_view wire);
// A whole message. Every length and pointer is checked; compression pointers must point backwards
// and are followed at most a bounded number of times.
Result<Message> parse(std::string_view wire);
// Encodes with name compression (never inside SRV RDATA, per RFC 2782).
std::string encode(const Message& msg);

// "web.service.consul." or "web.service.consul" -> labels. No escapes: the agent builds names
// from catalog data; labels that would be too long are kept and rejected by the caller.
Name nameFromString(std::string_view dotted);
std::string nameToString(const Name& name);     // with the trailing dot; "." for the root
bool nameEquals(const Name& a, const Name& b);  // ASCII case-insensitive
std::string lower(std::string_view s);

}  // namespace trellis::dns
