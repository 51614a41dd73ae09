#pragma once
// Read-side query options (?index, ?wait, ?stale, ?consistent, ?filter) and the blocking-query
// loop: read, and if the caller already has this index, park until a watched topic fires, the
// wait (plus up to wait/16 of jitter) runs out, or the client hangs up; then read again.

#include <optional>
#include <string>
#include <vector>

#include "api/context.h"
#include "filter/expression.h"

namespace trellis::api {

struct QueryOptions {
  uint64_t index = 0;
  std::chrono::nanoseconds wait{0};
  std::optional<filter::Expression> filter;
};

// Parses the options; errors are Consul's 400 reasons ("Invalid wait time", "Invalid index",
// "Cannot specify ?stale with ?consistent, conflicting semantics.", a filter parse error).
Result<QueryOptions> parseQueryOptions(const Context& ctx, const http::Request& req);

// Keeps the elements of a JSON array (or the values of a JSON object) that match the filter.
void applyFilter(const QueryOptions& opts, Json& collection);

struct ReadResult {
  uint64_t index = 0;
  Response response;
};

// Runs a (possibly blocking) read. `read` is called on every wake and must register nothing; the
// `topics` say which writes wake this query. The final response gets the query-meta headers.
boost::asio::awaitable<Response> blockingRead(Context& ctx, Exchange& ex,
                                              const QueryOptions& opts,
                                              std::vector<std::string> topics,
                                              std::function<ReadResult()> read);

// A one-topic list (GCC 12 mis-compiles braced lists inside co_await expressions).
inline std::vector<std::string> oneTopic(std::string t) { return {std::move(t)}; }

// Convenience for the common case: JSON body, 200.
boost::asio::awaitable<Response> blockingJson(Context& ctx, Exchange& ex, const QueryOptions& opts,
                                              std::vector<std::string> topics,
                                              std::function<uint64_t(Json&)> read);

}  // namespace trellis::api
