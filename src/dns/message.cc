#include "dns/message.h"

#include <cstring>

namespace trellis::dns {
namespace {

// Pointer hops allowed while reading one name. Backwards-only pointers already rule out loops;
// this bounds the work on long backwards chains.
constexpr int kMaxPointerHops = 64;

class Reader {
 public:
  explicit Reader(std::string_view wire) : wire_(wire) {}

  size_t pos() const { return pos_; }
  size_t remaining() const { return wire_.size() - pos_; }

  bool u8(uint8_t* out) {
    if (remaining() < 1) return false;
    *out = static_cast<uint8_t>(wire_[pos_++]);
    return true;
  }
  bool u16(uint16_t* out) {
    if (remaining() < 2) return false;
    *out = static_cast<uint16_t>((byteAt(pos_) << 8) | byteAt(pos_ + 1));
    pos_ += 2;
    return true;
  }
  bool u32(uint32_t* out) {
    uint16_t hi = 0, lo = 0;
    if (!u16(&hi) || !u16(&lo)) return false;
    *out = (static_cast<uint32_t>(hi) << 16) | lo;
    return true;
  }
  bool bytes(size_t n, std::string* out) {
    if (remaining() < n) return false;
    out->assign(wire_.substr(pos_, n));
    pos_ += n;
    return true;
  }

  // Reads a possibly compressed name starting at the cursor; the cursor ends after the name as
  // it appears in place (after the first pointer, if any).
  Status name(Name* out) {
    out->clear();
    size_t p = pos_;
    size_t end_in_place = 0;
    bool jumped = false;
    int hops = 0;
    size_t wire_len = 1;  // the root label
    while (true) {
      if (p >= wire_.size()) return invalidArgument("name runs past the end of the message");
      uint8_t len = byteAt(p);
      if ((len & 0xC0) == 0xC0) {
        if (p + 1 >= wire_.size()) return invalidArgument("truncated compression pointer");
        size_t target = (static_cast<size_t>(len & 0x3F) << 8) | byteAt(p + 1);
        if (target >= p) return invalidArgument("compression pointer does not point backwards");
        if (++hops > kMaxPointerHops) return invalidArgument("too many compression pointers");
        if (!jumped) end_in_place = p + 2;
        jumped = true;
        p = target;
        continue;
      }
      if ((len & 0xC0) != 0) return invalidArgument("unsupported label type");
      if (len == 0) {
        pos_ = jumped ? end_in_place : p + 1;
        return Status::ok();
      }
      wire_len += 1 + len;
      if (wire_len > kMaxName) return invalidArgument("name longer than 255 octets");
      if (p + 1 + len > wire_.size()) return invalidArgument("label runs past the end");
      out->emplace_back(wire_.substr(p + 1, len));
      p += 1 + len;
    }
  }

 private:
  uint8_t byteAt(size_t i) const { return static_cast<uint8_t>(wire_[i]); }
  std::string_view wire_;
  size_t pos_ = 0;
};

Status truncated(const char* what) { return invalidArgument(std::string("truncated ") + what); }

Status parseRData(Reader& r, uint16_t type, uint16_t rdlen, RData* out) {
  size_t start = r.pos();
  if (r.remaining() < rdlen) return truncated("rdata");
  Status s;
  switch (type) {
    case type::kA: {
      if (rdlen != 4) return invalidArgument("A rdata must be 4 bytes");
      Ipv4 a{};
      for (auto& b : a) r.u8(&b);
      *out = a;
      return Status::ok();
    }
    case type::kAaaa: {
      if (rdlen != 16) return invalidArgument("AAAA rdata must be 16 bytes");
      Ipv6 a{};
      for (auto& b : a) r.u8(&b);
      *out = a;
      return Status::ok();
    }
    case type::kSrv: {
      SrvData srv;
      if (!r.u16(&srv.priority) || !r.u16(&srv.weight) || !r.u16(&srv.port)) {
        return truncated("SRV");
      }
      if (!(s = r.name(&srv.target))) return s;
      *out = std::move(srv);
      break;
    }
    case type::kSoa: {
      SoaData soa;
      if (!(s = r.name(&soa.mname)) || !(s = r.name(&soa.rname))) return s;
      if (!r.u32(&soa.serial) || !r.u32(&soa.refresh) || !r.u32(&soa.retry) ||
          !r.u32(&soa.expire) || !r.u32(&soa.minimum)) {
        return truncated("SOA");
      }
      *out = std::move(soa);
      break;
    }
    case type::kCname:
    case type::kPtr:
    case type::kNs: {
      NameData n;
      if (!(s = r.name(&n.name))) return s;
      *out = std::move(n);
      break;
    }
    case type::kTxt: {
      TxtData txt;
      while (r.pos() < start + rdlen) {
        uint8_t len = 0;
        std::string str;
        r.u8(&len);
        if (r.pos() + len > start + rdlen || !r.bytes(len, &str)) return truncated("TXT");
        txt.push_back(std::move(str));
      }
      *out = std::move(txt);
      break;
    }
    default: {
      std::string raw;
      r.bytes(rdlen, &raw);
      *out = std::move(raw);
      return Status::ok();
    }
  }
  if (r.pos() != start + rdlen) return invalidArgument("rdata length mismatch");
  return Status::ok();
}

Status parseRecord(Reader& r, Record* rec) {
  Status s = r.name(&rec->name);
  if (!s) return s;
  uint16_t rdlen = 0;
  if (!r.u16(&rec->type) || !r.u16(&rec->cls) || !r.u32(&rec->ttl) || !r.u16(&rdlen)) {
    return truncated("resource record");
  }
  return parseRData(r, rec->type, rdlen, &rec->data);
}

class Writer {
 public:
  std::string out;

  void u8(uint8_t v) { out.push_back(static_cast<char>(v)); }
  void u16(uint16_t v) {
    u8(static_cast<uint8_t>(v >> 8));
    u8(static_cast<uint8_t>(v));
  }
  void u32(uint32_t v) {
    u16(static_cast<uint16_t>(v >> 16));
    u16(static_cast<uint16_t>(v));
  }
  void put16At(size_t at, uint16_t v) {
    out[at] = static_cast<char>(v >> 8);
    out[at + 1] = static_cast<char>(v);
  }

  // Compression: every name suffix written so far is remembered by a case-insensitive hash and
  // its offset; a hash hit is confirmed against the bytes already written. No allocation per
  // name (this runs for every record of every answer).
  void name(const Name& n, bool compress) {
    constexpr size_t kMaxLabels = 128;  // a valid name has at most 127
    const size_t k = n.size();
    uint64_t hashes[kMaxLabels];
    bool hashed = k <= kMaxLabels;
    if (hashed) {
      uint64_t acc = 0xcbf29ce484222325ull;
      for (size_t i = k; i-- > 0;) {
        acc = labelHash(n[i], acc);
        hashes[i] = acc;
      }
    }
    for (size_t i = 0; i < k; ++i) {
      if (hashed) {
        size_t slot = find(hashes[i], n, i);
        if (offsets_[slot] != 0) {
          if (compress) {
            u16(static_cast<uint16_t>(0xC000 | offsets_[slot]));
            return;
          }
        } else if (out.size() < 0x3FFF && used_ < kSlots * 3 / 4) {
          // Uncompressed names (SRV targets) may still be pointed at by later names.
          offsets_[slot] = static_cast<uint16_t>(out.size());
          hashes_[slot] = hashes[i];
          ++used_;
        }
      }
      size_t len = n[i].size() > kMaxLabel ? kMaxLabel : n[i].size();
      u8(static_cast<uint8_t>(len));
      out.append(n[i], 0, len);
    }
    u8(0);
  }

 private:
  // Open addressing; offset 0 (the header) marks an empty slot. When the table is 3/4 full,
  // further suffixes are simply not offered for compression.
  static constexpr size_t kSlots = 512;
  size_t find(uint64_t hash, const Name& n, size_t from) const {
    size_t slot = (hash ^ (hash >> 29)) & (kSlots - 1);
    while (offsets_[slot] != 0) {
      if (hashes_[slot] == hash && matchesAt(offsets_[slot], n, from)) return slot;
      slot = (slot + 1) & (kSlots - 1);
    }
    return slot;
  }
  // Eight bytes at a time; OR-ing 0x20 folds case (and merges a few punctuation pairs, which
  // only costs a rare extra comparison).
  static uint64_t labelHash(const std::string& label, uint64_t acc) {
    constexpr uint64_t kMul = 0x9E3779B97F4A7C15ull;
    acc = (acc ^ label.size()) * kMul;
    size_t i = 0;
    for (; i + 8 <= label.size(); i += 8) {
      uint64_t w;
      std::memcpy(&w, label.data() + i, 8);
      acc = ((acc ^ (w | 0x2020202020202020ull)) * kMul);
      acc ^= acc >> 32;
    }
    uint64_t tail = 0;  // shifted in: a short memcpy to the stack stalls store forwarding
    for (; i < label.size(); ++i) tail = (tail << 8) | static_cast<uint8_t>(label[i]);
    acc = (acc ^ (tail | 0x2020202020202020ull)) * kMul;
    return acc ^ (acc >> 29);
  }
  static char fold(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
  // Whether the name written at `offset` (following our own pointers) equals n[from..].
  bool matchesAt(size_t offset, const Name& n, size_t from) const {
    size_t p = offset;
    for (size_t i = from; i < n.size(); ++i) {
      auto len = static_cast<uint8_t>(out[p]);
      while ((len & 0xC0) == 0xC0) {
        p = (static_cast<size_t>(len & 0x3F) << 8) | static_cast<uint8_t>(out[p + 1]);
        len = static_cast<uint8_t>(out[p]);
      }
      if (len != n[i].size()) return false;
      for (size_t j = 0; j < len; ++j) {
        if (fold(out[p + 1 + j]) != fold(n[i][j])) return false;
      }
      p += 1 + len;
    }
    auto last = static_cast<uint8_t>(out[p]);
    if ((last & 0xC0) == 0xC0) {
      p = (static_cast<size_t>(last & 0x3F) << 8) | static_cast<uint8_t>(out[p + 1]);
      last = static_cast<uint8_t>(out[p]);
    }
    return last == 0;
  }
  std::array<uint16_t, kSlots> offsets_{};
  std::array<uint64_t, kSlots> hashes_;
  size_t used_ = 0;
};

void writeRData(Writer& w, const RData& data) {
  size_t len_at = w.out.size();
  w.u16(0);
  struct Visitor {
    Writer& w;
    void operator()(const RawData& raw) { w.out += raw; }
    void operator()(const Ipv4& a) { w.out.append(reinterpret_cast<const char*>(a.data()), 4); }
    void operator()(const Ipv6& a) { w.out.append(reinterpret_cast<const char*>(a.data()), 16); }
    void operator()(const SrvData& s) {
      w.u16(s.priority);
      w.u16(s.weight);
      w.u16(s.port);
      w.name(s.target, false);
    }
    void operator()(const TxtData& txt) {
      for (const auto& str : txt) {
        size_t n = str.size() > 255 ? 255 : str.size();
        w.u8(static_cast<uint8_t>(n));
        w.out.append(str, 0, n);
      }
    }
    void operator()(const SoaData& s) {
      w.name(s.mname, true);
      w.name(s.rname, true);
      w.u32(s.serial);
      w.u32(s.refresh);
      w.u32(s.retry);
      w.u32(s.expire);
      w.u32(s.minimum);
    }
    void operator()(const NameData& n) { w.name(n.name, true); }
  };
  std::visit(Visitor{w}, data);
  w.put16At(len_at, static_cast<uint16_t>(w.out.size() - len_at - 2));
}

void writeRecord(Writer& w, const Record& rec) {
  w.name(rec.name, true);
  w.u16(rec.type);
  w.u16(rec.cls);
  w.u32(rec.ttl);
  writeRData(w, rec.data);
}

}  // namespace

Result<Header> parseHeader(std::string_view wire) {
  if (wire.size() < 12) return invalidArgument("message shorter than a header");
  Reader r(wire);
  Header h;
  uint16_t flags = 0;
  r.u16(&h.id);
  r.u16(&flags);
  h.qr = flags & 0x8000;
  h.opcode = (flags >> 11) & 0xF;
  h.aa = flags & 0x0400;
  h.tc = flags & 0x0200;
  h.rd = flags & 0x0100;
  h.ra = flags & 0x0080;
  h.ad = flags & 0x0020;
  h.cd = flags & 0x0010;
  h.rcode = flags & 0xF;
  return h;
}

Result<Message> parse(std::string_view wire) {
  auto header = parseHeader(wire);
  if (!header) return header.status();
  Message m;
  m.header = *header;
  Reader r(wire);
  uint16_t skip = 0, qd = 0, an = 0, ns = 0, ar = 0;
  r.u16(&skip);
  r.u16(&skip);
  r.u16(&qd);
  r.u16(&an);
  r.u16(&ns);
  r.u16(&ar);
  // Each question takes at least 5 bytes and each record 11: reject impossible counts before
  // reserving anything.
  if (static_cast<size_t>(qd) * 5 + (static_cast<size_t>(an) + ns + ar) * 11 > r.remaining()) {
    return invalidArgument("section counts exceed the message size");
  }
  Status s;
  for (uint16_t i = 0; i < qd; ++i) {
    Question q;
    if (!(s = r.name(&q.name))) return s;
    if (!r.u16(&q.type) || !r.u16(&q.cls)) return truncated("question");
    m.questions.push_back(std::move(q));
  }
  auto section = [&](uint16_t count, std::vector<Record>* out, bool additional) -> Status {
    for (uint16_t i = 0; i < count; ++i) {
      Record rec;
      Status rs = parseRecord(r, &rec);
      if (!rs) return rs;
      if (rec.type == type::kOpt && additional) {
        if (m.edns) return invalidArgument("more than one OPT record");
        if (!rec.name.empty()) return invalidArgument("OPT record owner must be the root");
        Edns e;
        e.udp_size = rec.cls;
        e.ext_rcode = static_cast<uint8_t>(rec.ttl >> 24);
        e.version = static_cast<uint8_t>(rec.ttl >> 16);
        e.dnssec_ok = rec.ttl & 0x8000;
        e.options = std::get<RawData>(rec.data);
        m.edns = std::move(e);
        continue;
      }
      if (rec.type == type::kOpt)
        return invalidArgument("OPT record outside the additional section");
      out->push_back(std::move(rec));
    }
    return Status::ok();
  };
  if (!(s = section(an, &m.answers, false)) || !(s = section(ns, &m.authority, false)) ||
      !(s = section(ar, &m.additional, true))) {
    return s;
  }
  if (m.edns) m.header.rcode |= static_cast<uint16_t>(m.edns->ext_rcode) << 4;
  return m;
}

std::string encode(const Message& msg) {
  Writer w;
  w.out.reserve(1024);
  const Header& h = msg.header;
  uint16_t flags = (h.qr ? 0x8000 : 0) | ((h.opcode & 0xF) << 11) | (h.aa ? 0x0400 : 0) |
                   (h.tc ? 0x0200 : 0) | (h.rd ? 0x0100 : 0) | (h.ra ? 0x0080 : 0) |
                   (h.ad ? 0x0020 : 0) | (h.cd ? 0x0010 : 0) | (h.rcode & 0xF);
  w.u16(h.id);
  w.u16(flags);
  w.u16(static_cast<uint16_t>(msg.questions.size()));
  w.u16(static_cast<uint16_t>(msg.answers.size()));
  w.u16(static_cast<uint16_t>(msg.authority.size()));
  w.u16(static_cast<uint16_t>(msg.additional.size() + (msg.edns ? 1 : 0)));
  for (const auto& q : msg.questions) {
    w.name(q.name, true);
    w.u16(q.type);
    w.u16(q.cls);
  }
  for (const auto& rec : msg.answers) writeRecord(w, rec);
  for (const auto& rec : msg.authority) writeRecord(w, rec);
  for (const auto& rec : msg.additional) writeRecord(w, rec);
  if (msg.edns) {
    const Edns& e = *msg.edns;
    w.u8(0);
    w.u16(type::kOpt);
    w.u16(e.udp_size);
    uint8_t ext = static_cast<uint8_t>(h.rcode >> 4);
    w.u32((static_cast<uint32_t>(ext) << 24) | (static_cast<uint32_t>(e.version) << 16) |
          (e.dnssec_ok ? 0x8000u : 0u));
    w.u16(static_cast<uint16_t>(e.options.size()));
    w.out += e.options;
  }
  return std::move(w.out);
}

Name nameFromString(std::string_view dotted) {
  Name n;
  size_t start = 0;
  while (start < dotted.size()) {
    size_t dot = dotted.find('.', start);
    if (dot == std::string_view::npos) dot = dotted.size();
    if (dot > start) n.emplace_back(dotted.substr(start, dot - start));
    start = dot + 1;
  }
  return n;
}

std::string nameToString(const Name& name) {
  if (name.empty()) return ".";
  std::string s;
  for (const auto& l : name) {
    s += l;
    s += '.';
  }
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool nameEquals(const Name& a, const Name& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].size() != b[i].size() || lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace trellis::dns
