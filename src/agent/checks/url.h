#pragma once
// The small slice of URL handling an HTTP check needs: absolute http(s) URLs and redirect
// targets resolved against them. Error messages follow Go's net/http where Consul shows them.

#include <string>
#include <string_view>

#include "common/status.h"

namespace trellis::agent::checks {

struct Url {
  bool tls = false;
  std::string host;       // without brackets
  std::string port;       // explicit or the scheme default
  std::string authority;  // host[:port] as written: the Host header
  std::string target;     // path?query, at least "/"
  std::string text;       // the whole URL, for messages
};

Result<Url> parseUrl(std::string_view text);
// Resolves a Location header value (absolute, scheme-relative, absolute-path or relative).
Result<Url> resolveLocation(const Url& base, std::string_view location);

}  // namespace trellis::agent::checks
