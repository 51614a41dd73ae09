#include "api/respond.h"

namespace trellis::api {

int httpStatus(Code code) {
  switch (code) {
    case Code::kOk: return 200;
    case Code::kInvalidArgument: return 400;
    case Code::kNotFound: return 404;
    case Code::kConflict: return 409;
    case Code::kTooLarge: return 413;
    case Code::kPermissionDenied: return 403;
    case Code::kRateLimited: return 429;
    case Code::kUnavailable:
    case Code::kInternal: return 500;
  }
  return 500;
}

Response errorResponse(const Status& s) { return Response::text(httpStatus(s.code()), s.message()); }

Response jsonResponse(const Context& ctx, const Exchange& ex, const Json& body, int status) {
  Response r;
  r.status = status;
  bool pretty = ctx.config.pretty_default || ex.request.has("pretty");
  r.body = pretty ? body.dump(4, ' ', false, Json::error_handler_t::replace) + "\n"
                  : body.dump(-1, ' ', false, Json::error_handler_t::replace);
  r.set("Content-Type", "application/json");
  return r;
}

Response emptyOk() {
  Response r;
  r.status = 200;
  return r;
}

void setQueryMeta(const Context& ctx, const Exchange& ex, Response& r, uint64_t index) {
  r.set("X-Consul-Index", std::to_string(index == 0 ? 1 : index));
  r.set("X-Consul-KnownLeader", ctx.writer.log().knownLeader() ? "true" : "false");
  r.set("X-Consul-LastContact", "0");
  const char* mode = ex.request.has("stale")        ? "stale"
                     : ex.request.has("consistent") ? "consistent"
                                                     : "leader";
  r.set("X-Consul-Effective-Consistency", mode);
}

Result<bool> boolParam(const http::Request& req, const std::string& name) {
  auto v = req.param(name);
  if (!v) return false;
  if (v->empty()) return true;
  const std::string& s = *v;
  if (s == "1" || s == "t" || s == "T" || s == "true" || s == "TRUE" || s == "True") return true;
  if (s == "0" || s == "f" || s == "F" || s == "false" || s == "FALSE" || s == "False") {
    return false;
  }
  return invalidArgument("Invalid value for ?" + name);
}

std::optional<Response> checkBodySize(const Exchange& ex, size_t max) {
  if (ex.request.body.size() <= max) return std::nullopt;
  return Response::text(413, "Request body(" + std::to_string(ex.request.body.size()) +
                                 " bytes) too large, max size: " + std::to_string(max) + " bytes");
}

}  // namespace trellis::api
