#pragma once
// Response helpers shared by all endpoint files: JSON bodies (compact or ?pretty), Consul's error
// statuses and plain-text reasons, and the query metadata headers of read endpoints.

#include <optional>
#include <string>

#include "api/context.h"
#include "common/status.h"

namespace trellis::api {

int httpStatus(Code code);
Response errorResponse(const Status& s);
Response jsonResponse(const Context& ctx, const Exchange& ex, const Json& body, int status = 200);
Response emptyOk();
// Adds X-Consul-Index (never 0), KnownLeader, LastContact and Effective-Consistency.
void setQueryMeta(const Context& ctx, const Exchange& ex, Response& r, uint64_t index);

// Boolean query parameters: presence means true unless the value parses false (Go ParseBool).
Result<bool> boolParam(const http::Request& req, const std::string& name);

// Requires that the request body is small enough for a JSON command; 413 otherwise.
std::optional<Response> checkBodySize(const Exchange& ex, size_t max);

}  // namespace trellis::api
