#include "agent/checks/url.h"

#include <algorithm>
#include <cctype>

namespace trellis::agent::checks {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

Result<Url> parseUrl(std::string_view text) {
  size_t sep = text.find("://");
  if (sep == std::string_view::npos) {
    return invalidArgument("parse \"" + std::string(text) + "\": missing protocol scheme");
  }
  std::string scheme = lower(text.substr(0, sep));
  Url url;
  if (scheme == "https") {
    url.tls = true;
  } else if (scheme != "http") {
    return invalidArgument("unsupported protocol scheme \"" + scheme + "\"");
  }
  std::string_view rest = text.substr(sep + 3);
  size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  std::string_view tail = end == std::string_view::npos ? "" : rest.substr(end);
  tail = tail.substr(0, tail.find('#'));  // fragments never go on the wire
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority = authority.substr(at + 1);  // userinfo is not supported; drop it
  }
  if (authority.empty()) return invalidArgument("http: no Host in request URL");
  url.authority = std::string(authority);
  std::string_view host = authority;
  std::string_view port;
  if (host.front() == '[') {
    size_t close = host.find(']');
    if (close == std::string_view::npos) {
      return invalidArgument("parse \"" + std::string(text) + "\": missing ']' in host");
    }
    if (close + 1 < host.size()) {
      if (host[close + 1] != ':') {
        return invalidArgument("parse \"" + std::string(text) + "\": invalid port");
      }
      port = host.substr(close + 2);
    }
    host = host.substr(1, close - 1);
  } else if (size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    port = host.substr(colon + 1);
    host = host.substr(0, colon);
  }
  if (!std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); })) {
    return invalidArgument("parse \"" + std::string(text) +
                           "\": invalid port \":" + std::string(port) + "\" after host");
  }
  url.host = std::string(host);
  url.port = port.empty() ? (url.tls ? "443" : "80") : std::string(port);
  url.target = tail.empty() || tail.front() == '?' ? "/" + std::string(tail) : std::string(tail);
  url.text = std::string(text);
  return url;
}

Result<Url> resolveLocation(const Url& base, std::string_view location) {
  if (location.find("://") != std::string_view::npos) return parseUrl(location);
  std::string scheme = base.tls ? "https:" : "http:";
  if (location.substr(0, 2) == "//") return parseUrl(scheme + std::string(location));
  std::string prefix = scheme + "//" + base.authority;
  if (!location.empty() && location.front() == '/') {
    return parseUrl(prefix + std::string(location));
  }
  // Relative reference: replace the last path segment of the base (no dot-segment cleanup;
  // servers that redirect health checks use absolute paths in practice).
  std::string path = base.target.substr(0, base.target.find('?'));
  if (location.empty()) return parseUrl(prefix + base.target);
  if (location.front() == '?') return parseUrl(prefix + path + std::string(location));
  return parseUrl(prefix + path.substr(0, path.rfind('/') + 1) + std::string(location));
}

}  // namespace trellis::agent::checks
