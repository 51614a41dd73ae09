#pragma once
// Building request targets for Consul's HTTP API: path segments that are user data (KV keys,
// service IDs) are percent-encoded, query parameters are encoded and sorted by name the way Go's
// url.Values.Encode does, so requests are byte-for-byte predictable.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trellis::cli {

// Percent-encodes everything but RFC 3986 unreserved characters and '/'. For KV keys, where '/'
// separates the key's own segments and must reach the server unchanged.
std::string encodePath(std::string_view raw);

// Percent-encodes everything but unreserved characters (so '/', '&', '=', '+' are encoded).
std::string encodeComponent(std::string_view raw);

// Query parameters in insertion order; an empty value is rendered as a bare name (`?recurse`).
class Query {
 public:
  Query& add(std::string name, std::string value = {}) {
    params_.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  bool empty() const { return params_.empty(); }
  // "a=1&b&c=x%2Fy", sorted by name (stable for repeated names), without the leading '?'.
  std::string encode() const;

 private:
  std::vector<std::pair<std::string, std::string>> params_;
};

// path + "?" + query (or just path when the query is empty).
std::string buildTarget(std::string_view path, const Query& query);

}  // namespace trellis::cli
