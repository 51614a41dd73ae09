#include "dns/answer.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "dns/lookup.h"

namespace trellis::dns {
namespace {

// Consul never sends more than this many answers over plain (non-EDNS) UDP, whatever
// udp_answer_limit says.
constexpr size_t kMaxUdpAnswerLimit = 8;
constexpr size_t kMaxTcpSize = 65535;

bool hasSuffix(const Name& name, const Name& suffix, Name* rest) {
  if (suffix.empty() || name.size() < suffix.size()) return false;
  size_t off = name.size() - suffix.size();
  for (size_t i = 0; i < suffix.size(); ++i) {
    if (name[off + i] != suffix[i]) return false;
  }
  rest->assign(name.begin(), name.begin() + static_cast<long>(off));
  return true;
}

// "4.3.2.1.in-addr.arpa" -> "1.2.3.4"; 32 nibbles under ip6.arpa -> canonical IPv6 text.
bool reverseAddress(const Name& lname, std::string* ip) {
  Name rest;
  if (hasSuffix(lname, {"in-addr", "arpa"}, &rest) && rest.size() == 4) {
    std::string out;
    for (size_t i = rest.size(); i-- > 0;) {
      if (rest[i].empty() || rest[i].size() > 3) return false;
      out += rest[i] + (i ? "." : "");
    }
    *ip = out;
    return true;
  }
  if (hasSuffix(lname, {"ip6", "arpa"}, &rest) && rest.size() == 32) {
    std::string out;
    for (size_t i = 32; i-- > 0;) {
      if (rest[i].size() != 1 || !std::isxdigit(static_cast<unsigned char>(rest[i][0]))) {
        return false;
      }
      out += rest[i];
      if (i % 4 == 0 && i) out += ':';
    }
    // Normalise through the parser so it matches catalog addresses written in short form.
    unsigned char buf[16];
    char text[64];
    if (inet_pton(AF_INET6, out.c_str(), buf) != 1) return false;
    if (!inet_ntop(AF_INET6, buf, text, sizeof(text))) return false;
    *ip = text;
    return true;
  }
  return false;
}

Message baseResponse(const Message& query, const DnsConfig& cfg) {
  Message r;
  r.header.id = query.header.id;
  r.header.qr = true;
  r.header.opcode = query.header.opcode;
  r.header.rd = query.header.rd;
  r.header.ra = !cfg.recursors.empty();
  r.questions = query.questions;
  if (query.edns) {
    Edns e;
    e.udp_size = std::max<uint16_t>(query.edns->udp_size, kMaxUdpPlain);
    r.edns = e;
  }
  return r;
}

// Keeps the additional records that still belong to a kept answer (SRV targets, node TXT).
void syncAdditional(Message& m) {
  std::set<std::string> names;
  for (const auto& rec : m.answers) {
    names.insert(lower(nameToString(rec.name)));
    if (const auto* srv = std::get_if<SrvData>(&rec.data)) {
      names.insert(lower(nameToString(srv->target)));
    }
  }
  std::erase_if(m.additional,
                [&](const Record& r) { return !names.count(lower(nameToString(r.name))); });
}

}  // namespace

Answer answer(const Message& query, const state::Store& store, const DnsConfig& cfg,
              const AnswerContext& ctx) {
  Answer a;
  a.response = baseResponse(query, cfg);
  Message& r = a.response;
  if (query.header.opcode != 0) {
    r.header.rcode = rcode::kNotImp;
    return a;
  }
  if (query.questions.size() != 1) {
    r.header.rcode = rcode::kFormErr;
    return a;
  }
  if (query.edns && query.edns->version != 0) {
    r.header.rcode = rcode::kBadVers;
    return a;
  }
  const Question& q = query.questions[0];
  if ((q.cls != kClassIn && q.cls != kClassAny) || q.type == type::kAxfr ||
      q.type == type::kIxfr) {
    r.header.rcode = rcode::kNotImp;
    return a;
  }
  if (q.type == type::kOpt) {
    r.header.rcode = rcode::kFormErr;
    return a;
  }
  Name lname;
  lname.reserve(q.name.size());
  for (const auto& l : q.name) lname.push_back(lower(l));
  Name rest;
  for (const Name* domain : {&cfg.domain, &cfg.alt_domain}) {
    if (!hasSuffix(lname, *domain, &rest)) continue;
    r.header.aa = true;
    internal::Lookup(store, cfg, ctx, q, *domain, r).inDomain(std::move(rest));
    return a;
  }
  std::string ip;
  if (reverseAddress(lname, &ip)) {
    internal::Lookup lookup(store, cfg, ctx, q, cfg.domain, r);
    if (lookup.reverse(ip)) {
      r.header.aa = true;
      return a;
    }
    if (cfg.recursors.empty()) {
      lookup.nxdomain();
      return a;
    }
  }
  if (!cfg.recursors.empty()) {
    a.action = Answer::Action::kForward;
    return a;
  }
  r.header.rcode = rcode::kRefused;
  return a;
}

std::string fitAndEncode(Message resp, const Message& query, const DnsConfig& cfg,
                         Transport transport) {
  size_t max_size = kMaxTcpSize;
  if (transport == Transport::kUdp) {
    max_size = std::max<size_t>(kMaxUdpPlain, query.edns ? query.edns->udp_size : 0);
  }
  const size_t total = resp.answers.size();
  if (transport == Transport::kUdp && !query.edns && cfg.udp_answer_limit > 0) {
    size_t limit = std::min(kMaxUdpAnswerLimit, cfg.udp_answer_limit);
    if (resp.answers.size() > limit) {
      resp.answers.resize(limit);
      syncAdditional(resp);
    }
  }
  std::string wire = encode(resp);
  if (wire.size() > max_size) {
    // Binary search the largest answer prefix that fits: sizes grow with the prefix.
    std::vector<Record> all = std::move(resp.answers);
    std::vector<Record> extra = std::move(resp.additional);
    size_t lo = 0, hi = all.size();
    while (lo < hi) {
      size_t mid = (lo + hi + 1) / 2;
      Message probe = resp;
      probe.answers.assign(all.begin(), all.begin() + static_cast<long>(mid));
      probe.additional = extra;
      syncAdditional(probe);
      if (encode(probe).size() <= max_size) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    resp.answers.assign(all.begin(), all.begin() + static_cast<long>(lo));
    resp.additional = std::move(extra);
    syncAdditional(resp);
    wire = encode(resp);
    if (wire.size() > max_size) {  // even the authority/additional do not fit: header only
      resp.answers.clear();
      resp.authority.clear();
      resp.additional.clear();
      resp.header.tc = true;
      return encode(resp);
    }
  }
  if (resp.answers.size() < total && cfg.enable_truncate && transport == Transport::kUdp) {
    resp.header.tc = true;
    wire = encode(resp);
  }
  return wire;
}

WireAnswer answerPacket(std::string_view packet, const state::Store& store, const DnsConfig& cfg,
                        const AnswerContext& ctx) {
  auto header = parseHeader(packet);
  if (!header || header->qr) return {Answer::Action::kDrop, ""};
  auto query = parse(packet);
  if (!query) {
    Message r;
    r.header.id = header->id;
    r.header.qr = true;
    r.header.opcode = header->opcode;
    r.header.rd = header->rd;
    r.header.rcode = rcode::kFormErr;
    return {Answer::Action::kReply, encode(r)};
  }
  Answer a = answer(*query, store, cfg, ctx);
  if (a.action != Answer::Action::kReply) return {a.action, ""};
  return {Answer::Action::kReply, fitAndEncode(std::move(a.response), *query, cfg, ctx.transport)};
}

}  // namespace trellis::dns
