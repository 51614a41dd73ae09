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

size_t maxSize(const Message& query, Transport transport) {
  if (transport == Transport::kTcp) return kMaxTcpSize;
  return std::max<size_t>(kMaxUdpPlain, query.edns ? query.edns->udp_size : 0);
}

// The answer count Consul allows over plain UDP (no EDNS0); 0 when unlimited.
size_t plainUdpLimit(const Message& query, const DnsConfig& cfg, Transport transport) {
  if (transport != Transport::kUdp || query.edns || cfg.udp_answer_limit == 0) return 0;
  return std::min(kMaxUdpAnswerLimit, cfg.udp_answer_limit);
}

std::string cacheKey(const Question& q) {
  std::string key;
  for (const auto& l : q.name) {
    key.push_back(static_cast<char>(l.size()));
    key += lower(l);
  }
  key.push_back(static_cast<char>(q.type >> 8));
  key.push_back(static_cast<char>(q.type));
  key.push_back(static_cast<char>(q.cls >> 8));
  key.push_back(static_cast<char>(q.cls));
  return key;
}

// Answers from a cached entry: shuffles its records in place, then encodes them borrowed into a
// response carrying this query's header, question and EDNS. Anything that needs trimming goes
// through fitAndEncode on a copy.
std::string fromCache(AnswerCache::Entry& e, const Message& query, const DnsConfig& cfg,
                      const AnswerContext& ctx) {
  Message& cached = e.response;
  if (e.shuffle && ctx.rng) std::shuffle(cached.answers.begin(), cached.answers.end(), *ctx.rng);
  Message resp = baseResponse(query, cfg);
  resp.header.aa = cached.header.aa;
  resp.header.rcode = cached.header.rcode;
  size_t limit = plainUdpLimit(query, cfg, ctx.transport);
  if (e.shuffle && query.questions[0].type != type::kSrv && cfg.a_record_limit > 0) {
    limit = limit == 0 ? cfg.a_record_limit : std::min(limit, cfg.a_record_limit);
  }
  std::string wire;
  if (limit == 0 || cached.answers.size() <= limit) {
    resp.answers.swap(cached.answers);
    resp.authority.swap(cached.authority);
    resp.additional.swap(cached.additional);
    wire = encode(resp);
    resp.answers.swap(cached.answers);
    resp.authority.swap(cached.authority);
    resp.additional.swap(cached.additional);
    if (wire.size() <= maxSize(query, ctx.transport)) return wire;
  }
  size_t keep = cfg.a_record_limit > 0 && e.shuffle && query.questions[0].type != type::kSrv
                    ? std::min(cfg.a_record_limit, cached.answers.size())
                    : cached.answers.size();
  resp.answers.assign(cached.answers.begin(), cached.answers.begin() + static_cast<long>(keep));
  resp.authority = cached.authority;
  resp.additional = cached.additional;
  if (keep < cached.answers.size()) syncAdditional(resp);
  return fitAndEncode(std::move(resp), query, cfg, ctx.transport);
}

}  // namespace

AnswerCache::Entry* AnswerCache::find(const std::string& key, uint64_t index) {
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.index != index) return nullptr;
  return &it->second;
}

AnswerCache::Entry& AnswerCache::put(std::string key, Entry entry) {
  if (entries_.size() >= kMaxEntries) entries_.clear();
  return entries_.insert_or_assign(std::move(key), std::move(entry)).first->second;
}

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
  if ((q.cls != kClassIn && q.cls != kClassAny) || q.type == type::kAxfr || q.type == type::kIxfr) {
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
    internal::Lookup lookup(store, cfg, ctx, q, *domain, r);
    lookup.inDomain(std::move(rest));
    a.per_instance = lookup.per_instance;
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
  const size_t max_size = maxSize(query, transport);
  const size_t total = resp.answers.size();
  if (size_t limit = plainUdpLimit(query, cfg, transport); limit > 0 && total > limit) {
    resp.answers.resize(limit);
    syncAdditional(resp);
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
                        const AnswerContext& ctx, AnswerCache* cache) {
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
  if (cache && query->questions.size() == 1) {
    std::string key = cacheKey(query->questions[0]);
    if (AnswerCache::Entry* e = cache->find(key, store.lastIndex())) {
      return {Answer::Action::kReply, fromCache(*e, *query, cfg, ctx)};
    }
    // Built in catalog order and without the record limit; both are applied per query. Only
    // positive answers are kept (negative ones carry a time-based SOA serial).
    AnswerContext raw = ctx;
    raw.rng = nullptr;
    raw.unlimited = true;
    Answer a = answer(*query, store, cfg, raw);
    const Message& r = a.response;
    if (a.action == Answer::Action::kReply && r.header.rcode == rcode::kNoError &&
        !r.answers.empty() && r.authority.empty()) {
      AnswerCache::Entry& e =
          cache->put(std::move(key), {store.lastIndex(), std::move(a.response), a.per_instance});
      return {Answer::Action::kReply, fromCache(e, *query, cfg, ctx)};
    }
    if (a.action != Answer::Action::kReply) return {a.action, ""};
    return {Answer::Action::kReply,
            fitAndEncode(std::move(a.response), *query, cfg, ctx.transport)};
  }
  Answer a = answer(*query, store, cfg, ctx);
  if (a.action != Answer::Action::kReply) return {a.action, ""};
  return {Answer::Action::kReply, fitAndEncode(std::move(a.response), *query, cfg, ctx.transport)};
}

}  // namespace trellis::dns
