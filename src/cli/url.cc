#include "cli/url.h"

#include <algorithm>

namespace trellis::cli {
namespace {

bool isUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

std::string encode(std::string_view raw, bool keepSlash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(raw.size());
  for (unsigned char c : raw) {
    if (isUnreserved(c) || (keepSlash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

}  // namespace

std::string encodePath(std::string_view raw) { return encode(raw, true); }
std::string encodeComponent(std::string_view raw) { return encode(raw, false); }

std::string Query::encode() const {
  auto sorted = params_;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out;
  for (const auto& [name, value] : sorted) {
    if (!out.empty()) out.push_back('&');
    out += encodeComponent(name);
    if (!value.empty()) {
      out.push_back('=');
      out += encodeComponent(value);
    }
  }
  return out;
}

std::string buildTarget(std::string_view path, const Query& query) {
  std::string out(path);
  if (!query.empty()) {
    out.push_back('?');
    out += query.encode();
  }
  return out;
}

}  // namespace trellis::cli
