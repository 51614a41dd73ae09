#include "cli/format.h"

#include <arpa/inet.h>

#include <algorithm>
#include <map>
#include <regex>

namespace trellis::cli {
namespace {

using nlohmann::json;

size_t runeCount(std::string_view s) {
  return static_cast<size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string trimSpace(std::string_view s) {
  const char* ws = " \t\r\n\v\f";
  auto b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  return std::string(s.substr(b, s.find_last_not_of(ws) - b + 1));
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    auto pos = s.find(sep, start);
    out.emplace_back(s.substr(start, pos == std::string_view::npos ? pos : pos - start));
    if (pos == std::string_view::npos) return out;
    start = pos + 1;
  }
}

std::string str(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

uint64_t num(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_number_unsigned() ? it->get<uint64_t>() : 0;
}

std::map<std::string, std::string> stringMap(const json& obj, const char* key) {
  std::map<std::string, std::string> out;
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_object()) return out;
  for (const auto& [k, v] : it->items()) out[k] = v.is_string() ? v.get<std::string>() : v.dump();
  return out;
}

std::string joinKv(const std::map<std::string, std::string>& m, std::string_view joiner) {
  std::string out;
  for (const auto& [k, v] : m) {
    if (!out.empty()) out += joiner;
    out += k + "=" + v;
  }
  return out;
}

// net.TCPAddr.String(): IPv6 in brackets, an unparseable IP prints as empty.
std::string hostPort(const std::string& ip, uint64_t port) {
  unsigned char buf[16];
  char text[INET6_ADDRSTRLEN];
  std::string host;
  if (inet_pton(AF_INET, ip.c_str(), buf) == 1) {
    host = ip;
  } else if (inet_pton(AF_INET6, ip.c_str(), buf) == 1 &&
             inet_ntop(AF_INET6, buf, text, sizeof(text)) != nullptr) {
    static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::equal(kMapped, kMapped + 12, buf)) {
      inet_ntop(AF_INET, buf + 12, text, sizeof(text));
      host = text;
    } else {
      host = std::string("[") + text + "]";
    }
  }
  return host + ":" + std::to_string(port);
}

std::string memberStatus(uint64_t status) {
  static constexpr const char* kNames[] = {"none", "alive", "leaving", "left", "failed"};
  return status < 5 ? kNames[status] : "unknown";
}

struct Member {
  std::string name;
  std::string addr;
  std::string status;
  std::map<std::string, std::string> tags;
};

bool isDefaultPartition(const std::string& p) { return p.empty() || p == "default"; }

}  // namespace

std::string columnize(const std::vector<std::string>& rows) {
  std::vector<std::vector<std::string>> cells;
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    auto parts = split(row, '\x1f');
    for (size_t i = 0; i < parts.size(); ++i) {
      parts[i] = trimSpace(parts[i]);
      if (widths.size() <= i) widths.push_back(0);
      widths[i] = std::max(widths[i], runeCount(parts[i]));
    }
    cells.push_back(std::move(parts));
  }
  std::string out;
  for (const auto& row : cells) {
    for (size_t i = 0; i < row.size(); ++i) {
      out += row[i];
      if (i + 1 < row.size()) out += std::string(widths[i] - runeCount(row[i]) + 2, ' ');
    }
    out += '\n';
  }
  if (!out.empty()) out.pop_back();
  return out;
}

namespace {

struct TabState {
  std::vector<std::vector<std::string>> lines;  // the last cell of a line is not tab-terminated
  std::vector<size_t> widths;
  size_t minWidth;
  size_t padding;
  bool endsWithNewline;
  std::string out;

  void writeLines(size_t from, size_t to) {
    for (size_t i = from; i < to; ++i) {
      const auto& line = lines[i];
      for (size_t j = 0; j < line.size(); ++j) {
        out += line[j];
        if (j < widths.size() && j + 1 < line.size()) {
          out += std::string(widths[j] - std::min(widths[j], runeCount(line[j])), ' ');
        }
      }
      if (i + 1 < lines.size() || endsWithNewline) out += '\n';
    }
  }

  // Go's tabwriter.format: recursive over column blocks.
  void format(size_t line0, size_t line1) {
    size_t column = widths.size();
    for (size_t cur = line0; cur < line1; ++cur) {
      if (column + 1 >= lines[cur].size()) continue;
      writeLines(line0, cur);
      line0 = cur;
      size_t width = minWidth;
      for (; cur < line1; ++cur) {
        if (column + 1 >= lines[cur].size()) break;
        width = std::max(width, runeCount(lines[cur][column]) + padding);
      }
      widths.push_back(width);
      format(line0, cur);
      widths.pop_back();
      line0 = cur;
      if (cur >= line1) break;
    }
    writeLines(line0, line1);
  }
};

}  // namespace

std::string tabwrite(std::string_view text, size_t minWidth, size_t padding) {
  TabState st{{}, {}, minWidth, padding, !text.empty() && text.back() == '\n', {}};
  if (text.empty()) return {};
  auto rawLines = split(st.endsWithNewline ? text.substr(0, text.size() - 1) : text, '\n');
  // The layout recurses once per column; beyond a sane width, keep the tail as one cell so
  // that a value full of tabs cannot exhaust the stack.
  constexpr size_t kMaxColumns = 256;
  for (const auto& l : rawLines) {
    auto cells = split(l, '\t');
    if (cells.size() > kMaxColumns) {
      for (size_t i = kMaxColumns; i < cells.size(); ++i) cells[kMaxColumns - 1] += "\t" + cells[i];
      cells.resize(kMaxColumns);
    }
    st.lines.push_back(std::move(cells));
  }
  st.format(0, st.lines.size());
  return st.out;
}

Result<std::string> formatMembers(const json& members, bool detailed,
                                  std::string_view statusRegex) {
  if (!members.is_array()) return invalidArgument("unexpected members response (not an array)");
  std::regex re;
  try {
    re = std::regex(std::string(statusRegex));
  } catch (const std::regex_error& e) {
    return invalidArgument(std::string("Failed to compile status regexp: ") + e.what());
  }
  std::vector<Member> list;
  for (const auto& m : members) {
    if (!m.is_object()) continue;
    Member mem{str(m, "Name"), hostPort(str(m, "Addr"), num(m, "Port")),
               memberStatus(num(m, "Status")), stringMap(m, "Tags")};
    if (mem.tags["ap"].empty()) mem.tags["ap"] = "default";
    if (isDefaultPartition(mem.tags["ap"])) {
      // With no -segment filter, Consul shows servers as members of every segment.
      if (mem.tags["role"] == "consul") {
        mem.tags["segment"] = "<all>";
      } else if (mem.tags["segment"].empty()) {
        mem.tags["segment"] = "<default>";
      }
    } else {
      mem.tags["segment"] = "";
    }
    if (!std::regex_search(mem.status, re)) continue;
    list.push_back(std::move(mem));
  }
  if (list.empty()) return std::string();
  std::sort(list.begin(), list.end(), [](Member& a, Member& b) {
    bool as = a.tags["role"] == "consul", bs = b.tags["role"] == "consul";
    if (as != bs) return as;
    bool ad = isDefaultPartition(a.tags["ap"]), bd = isDefaultPartition(b.tags["ap"]);
    if (ad != bd) return ad;
    if (a.tags["segment"] != b.tags["segment"]) return a.tags["segment"] < b.tags["segment"];
    if (a.tags["ap"] != b.tags["ap"]) return a.tags["ap"] < b.tags["ap"];
    return a.name < b.name;
  });
  const char kSep = '\x1f';
  std::vector<std::string> rows;
  if (detailed) {
    rows.push_back(
        "Node\x1f"
        "Address\x1fStatus\x1fTags");
    for (auto& m : list) {
      rows.push_back(m.name + kSep + m.addr + kSep + m.status + kSep + joinKv(m.tags, ","));
    }
    return columnize(rows);
  }
  rows.push_back(
      "Node\x1f"
      "Address\x1fStatus\x1fType\x1f"
      "Build\x1fProtocol\x1f"
      "DC\x1f"
      "Partition\x1fSegment");
  for (auto& m : list) {
    std::string row = m.name + kSep + m.addr + kSep + m.status + kSep;
    const std::string& role = m.tags["role"];
    if (role != "consul" && role != "node") {
      rows.push_back(row + "unknown\x1f\x1f\x1f\x1f\x1f");
      continue;
    }
    std::string build = m.tags["build"];
    if (build.empty()) {
      build = "< 0.3";
    } else if (auto colon = build.find(':'); colon != std::string::npos) {
      build.resize(colon);
    }
    row += (role == "consul" ? "server" : "client") + std::string(1, kSep) + build + kSep +
           m.tags["vsn"] + kSep + m.tags["dc"] + kSep + m.tags["ap"] + kSep + m.tags["segment"];
    rows.push_back(std::move(row));
  }
  return columnize(rows);
}

Result<std::string> kvValue(const json& pair) {
  auto it = pair.find("Value");
  if (it == pair.end() || it->is_null()) return std::string();
  if (!it->is_string()) return invalidArgument("KV Value is not a base64 string");
  auto decoded = base64Decode(it->get<std::string>());
  if (!decoded) return invalidArgument("KV Value is not valid base64");
  return *decoded;
}

Result<std::string> formatKvDetailed(const json& pair, bool base64Value) {
  auto value = kvValue(pair);
  if (!value) return value.status();
  std::string session = str(pair, "Session");
  std::string text;
  text += "CreateIndex\t" + std::to_string(num(pair, "CreateIndex")) + "\n";
  text += "Flags\t" + std::to_string(num(pair, "Flags")) + "\n";
  text += "Key\t" + str(pair, "Key") + "\n";
  text += "LockIndex\t" + std::to_string(num(pair, "LockIndex")) + "\n";
  text += "ModifyIndex\t" + std::to_string(num(pair, "ModifyIndex")) + "\n";
  text += "Session\t" + (session.empty() ? std::string("-") : session) + "\n";
  text += "Value\t" + (base64Value ? base64Encode(*value) : *value);
  return tabwrite(text, 0, 6);
}

std::string formatNodes(const json& nodes, bool detailed) {
  std::vector<std::string> rows;
  const char kSep = '\x1f';
  rows.push_back(detailed ? "Node\x1fID\x1f"
                            "Address\x1f"
                            "DC\x1fTaggedAddresses\x1fMeta"
                          : "Node\x1fID\x1f"
                            "Address\x1f"
                            "DC");
  for (const auto& n : nodes) {
    if (!n.is_object()) continue;
    std::string id = str(n, "ID");
    std::string row = str(n, "Node") + kSep;
    if (detailed) {
      row += id + kSep + str(n, "Address") + kSep + str(n, "Datacenter") + kSep +
             joinKv(stringMap(n, "TaggedAddresses"), ", ") + kSep +
             joinKv(stringMap(n, "Meta"), ", ");
    } else {
      if (auto dash = id.find('-'); dash != std::string::npos && dash > 0) id.resize(dash);
      row += id + kSep + str(n, "Address") + kSep + str(n, "Datacenter");
    }
    rows.push_back(std::move(row));
  }
  return columnize(rows);
}

}  // namespace trellis::cli
