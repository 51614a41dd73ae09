#include "cli/connect_format.h"

#include <strings.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <vector>

#include "cli/format.h"

namespace trellis::cli {
namespace {

using nlohmann::json;

std::string str(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

void appendHex4(std::string& out, unsigned v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\u%04x", v);
  out += buf;
}

void appendGoJsonString(std::string& out, std::string_view s) {
  out += '"';
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      case '<': case '>': case '&': appendHex4(out, c); continue;
      default: break;
    }
    if (c < 0x20) {
      appendHex4(out, c);
    } else if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
               (static_cast<unsigned char>(s[i + 2]) == 0xA8 ||
                static_cast<unsigned char>(s[i + 2]) == 0xA9)) {
      appendHex4(out, static_cast<unsigned char>(s[i + 2]) == 0xA8 ? 0x2028 : 0x2029);
      i += 2;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
}

// Go prints a float64 without a fraction when it has none (below 1e21).
void appendNumber(std::string& out, const OrderedJson& v) {
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e21) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.0f", d);
      out += buf;
      return;
    }
  }
  out += v.dump();
}

void writeIndented(std::string& out, const OrderedJson& v, std::string_view indent, int depth) {
  auto newline = [&](int d) {
    out += '\n';
    for (int i = 0; i < d; ++i) out += indent;
  };
  if (v.is_object()) {
    if (v.empty()) {
      out += "{}";
      return;
    }
    out += '{';
    bool first = true;
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (!first) out += ',';
      first = false;
      newline(depth + 1);
      appendGoJsonString(out, it.key());
      out += ": ";
      writeIndented(out, it.value(), indent, depth + 1);
    }
    newline(depth);
    out += '}';
  } else if (v.is_array()) {
    if (v.empty()) {
      out += "[]";
      return;
    }
    out += '[';
    for (size_t i = 0; i < v.size(); ++i) {
      if (i > 0) out += ',';
      newline(depth + 1);
      writeIndented(out, v[i], indent, depth + 1);
    }
    newline(depth);
    out += ']';
  } else if (v.is_string()) {
    appendGoJsonString(out, v.get_ref<const std::string&>());
  } else if (v.is_number()) {
    appendNumber(out, v);
  } else {
    out += v.dump();  // true, false, null
  }
}

std::string partString(const std::string& ns, const std::string& name) {
  return !ns.empty() && ns != "default" ? ns + "/" + name : name;
}

std::string sourceString(const json& ixn) {
  return partString(str(ixn, "SourceNS"), str(ixn, "SourceName"));
}

std::string destinationString(const json& ixn) {
  return partString(str(ixn, "DestinationNS"), str(ixn, "DestinationName"));
}

bool digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

const char* goTypeName(const json& v) {
  if (v.is_string()) return "string";
  if (v.is_boolean()) return "bool";
  if (v.is_number()) return "number";
  if (v.is_array()) return "array";
  if (v.is_object()) return "object";
  return "null";
}

Status fieldTypeError(const json& v, const char* field, const char* goType) {
  return invalidArgument(std::string("json: cannot unmarshal ") + goTypeName(v) +
                         " into Go struct field CAConfig." + field + " of type " + goType);
}

}  // namespace

std::string goQuote(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

std::string goJsonIndent(const OrderedJson& v, std::string_view indent) {
  std::string out;
  writeIndented(out, v, indent, 0);
  return out;
}

std::string intentionString(const json& ixn) {
  std::string detail = str(ixn, "Action");
  auto perms = ixn.find("Permissions");
  if (perms != ixn.end() && perms->is_array() && !perms->empty()) {
    detail = perms->size() == 1 ? "1 permission" : std::to_string(perms->size()) + " permissions";
  }
  return sourceString(ixn) + " => " + destinationString(ixn) + " (" + detail + ")";
}

std::string formatIntentionDetail(const json& ixn) {
  std::vector<std::string> rows = {"Source:\x1f" + sourceString(ixn),
                                   "Destination:\x1f" + destinationString(ixn)};
  if (auto a = str(ixn, "Action"); !a.empty()) rows.push_back("Action:\x1f" + a);
  if (auto id = str(ixn, "ID"); !id.empty()) rows.push_back("ID:\x1f" + id);
  if (auto d = str(ixn, "Description"); !d.empty()) rows.push_back("Description:\x1f" + d);
  if (auto meta = ixn.find("Meta"); meta != ixn.end() && meta->is_object()) {
    std::map<std::string, std::string> sorted;
    for (const auto& [k, v] : meta->items()) sorted[k] = v.is_string() ? v.get<std::string>() : "";
    for (const auto& [k, v] : sorted) rows.push_back("Meta[" + k + "]:\x1f" + v);
  }
  auto created = parseRfc3339(str(ixn, "CreatedAt"));
  rows.push_back("Created At:\x1f" + formatRfc850Local(created ? *created : -62135596800));
  std::string out = columnize(rows);
  auto perms = ixn.find("Permissions");
  if (perms != ixn.end() && perms->is_array() && !perms->empty()) {
    out += "\nPermissions:\n" + goJsonIndent(OrderedJson::parse(perms->dump()), "  ");
  }
  return out;
}

std::string formatIntentionList(const json& ixns) {
  std::vector<std::string> rows = {"ID\x1fSource\x1f" "Action\x1f" "Destination\x1fPrecedence"};
  for (const auto& i : ixns) {
    if (!i.is_object()) continue;
    auto p = i.find("Precedence");
    int64_t precedence = p != i.end() && p->is_number_integer() ? p->get<int64_t>() : 0;
    rows.push_back(str(i, "ID") + "\x1f" + str(i, "SourceName") + "\x1f" + str(i, "Action") +
                   "\x1f" + str(i, "DestinationName") + "\x1f" + std::to_string(precedence));
  }
  return columnize(rows);
}

Result<std::time_t> parseRfc3339(std::string_view s) {
  std::tm tm{};
  int year, mon, day, hour, min, sec;
  if (!digits(s, 0, 4, &year) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2, &mon) ||
      s[7] != '-' || !digits(s, 8, 2, &day) || (s[10] != 'T' && s[10] != 't') ||
      !digits(s, 11, 2, &hour) || s[13] != ':' || !digits(s, 14, 2, &min) || s[16] != ':' ||
      !digits(s, 17, 2, &sec)) {
    return invalidArgument("not an RFC 3339 time: " + std::string(s));
  }
  size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
  }
  long offset = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z') && pos + 1 == s.size()) {
    offset = 0;
  } else if (pos + 6 == s.size() && (s[pos] == '+' || s[pos] == '-') && s[pos + 3] == ':') {
    int oh, om;
    if (!digits(s, pos + 1, 2, &oh) || !digits(s, pos + 4, 2, &om)) {
      return invalidArgument("not an RFC 3339 time: " + std::string(s));
    }
    offset = (oh * 3600L + om * 60L) * (s[pos] == '-' ? -1 : 1);
  } else {
    return invalidArgument("not an RFC 3339 time: " + std::string(s));
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  return static_cast<std::time_t>(timegm(&tm) - offset);
}

std::string formatRfc850Local(std::time_t t) {
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[96];
  size_t n = std::strftime(buf, sizeof buf, "%A, %d-%b-%y %H:%M:%S %Z", &tm);
  return std::string(buf, n);
}

Result<OrderedJson> asCaConfig(const json& in) {
  if (!in.is_object()) {
    return invalidArgument(std::string("json: cannot unmarshal ") + goTypeName(in) +
                           " into Go value of type api.CAConfig");
  }
  json provider = "", config = nullptr, state = nullptr, force = false, create = 0, modify = 0;
  auto is = [](const std::string& key, const char* name) {
    return ::strcasecmp(key.c_str(), name) == 0;
  };
  auto index = [&](const json& v, const char* field, json* out) -> Status {
    if (v.is_null()) return Status::ok();
    if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0)) {
      return fieldTypeError(v, field, "uint64");
    }
    *out = v.get<uint64_t>();
    return Status::ok();
  };
  for (const auto& [key, v] : in.items()) {
    if (is(key, "Provider")) {
      if (!v.is_string() && !v.is_null()) return fieldTypeError(v, "Provider", "string");
      if (v.is_string()) provider = v;
    } else if (is(key, "Config")) {
      if (!v.is_object() && !v.is_null()) {
        return fieldTypeError(v, "Config", "map[string]interface {}");
      }
      config = v;
    } else if (is(key, "State")) {
      if (!v.is_object() && !v.is_null()) return fieldTypeError(v, "State", "map[string]string");
      for (const auto& [sk, sv] : v.items()) {
        if (!sv.is_string()) return fieldTypeError(sv, "State", "string");
      }
      state = v;
    } else if (is(key, "ForceWithoutCrossSigning")) {
      if (!v.is_boolean() && !v.is_null()) {
        return fieldTypeError(v, "ForceWithoutCrossSigning", "bool");
      }
      if (v.is_boolean()) force = v;
    } else if (is(key, "CreateIndex")) {
      if (Status s = index(v, "CreateIndex", &create); !s) return s;
    } else if (is(key, "ModifyIndex")) {
      if (Status s = index(v, "ModifyIndex", &modify); !s) return s;
    }
  }
  // json (std::map) already sorts nested keys the way Go's map encoding does.
  OrderedJson out = OrderedJson::object();
  out["Provider"] = provider.get<std::string>();
  out["Config"] = OrderedJson::parse(config.dump());
  out["State"] = OrderedJson::parse(state.dump());
  out["ForceWithoutCrossSigning"] = force.get<bool>();
  out["CreateIndex"] = create.get<uint64_t>();
  out["ModifyIndex"] = modify.get<uint64_t>();
  return out;
}

}  // namespace trellis::cli
