// intention check / match / list: read-only views, with Consul's output and exit codes
// (`check` exits 0 when allowed, 1 when denied and 2 on any error; `list` exits 2 when empty).
#include "cli/command.h"
#include "cli/connect_format.h"

namespace trellis::cli {
namespace {

using nlohmann::json;

constexpr std::string_view kCheckHelp = R"(Usage: trellis intention check [options] SRC DST

  Check whether a connection between SRC and DST would be allowed by
  Connect given the current Trellis configuration. Prints Allowed or Denied
  and exits 0 or 1 accordingly (2 on errors). With -explain (a Trellis
  addition) it also prints which intention, or which default, decided.

      $ trellis intention check web db
      $ trellis intention check -explain web db
)";

constexpr std::string_view kMatchHelp = R"(Usage: trellis intention match [options] SRC|DST

  Show the list of intentions that would be enforced for a given source
  or destination. The intentions are listed in the order they would be
  evaluated.

      $ trellis intention match db
      $ trellis intention match -source web
)";

constexpr std::string_view kListHelp = R"(Usage: trellis intention list [options]

  List all intentions.
)";

std::string describe(const Result<http::HttpResponse>& res) {
  return res ? unexpectedResponse(*res) : res.status().message();
}

void printExplanation(const json& body, std::ostream& out) {
  auto why = body.find("Explanation");
  if (why == body.end() || !why->is_object()) return;
  auto text = [&](const char* key) {
    auto it = why->find(key);
    return it != why->end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (text("DecidedBy") == "intention") {
    auto prec = why->find("Precedence");
    out << "Decided by intention: " << text("Summary") << ", precedence "
        << (prec != why->end() ? prec->dump() : "?") << "\n";
  } else {
    out << "Decided by the default policy (" << text("DefaultPolicy") << "): no intention matches\n";
  }
  out << "Reason: " << text("Reason") << "\n";
}

}  // namespace

int runIntentionCheck(const std::vector<std::string>& args, Context& ctx) {
  constexpr int kError = 2;
  FlagSet flags;
  HttpFlags http;
  http.registerWith(flags);
  bool explain = false;
  flags.addBool("explain", &explain, "Also print which intention or default decided.");
  int code = 0;
  if (!parseFlags(flags, args, ctx, kCheckHelp, &code)) return code == 0 ? 0 : kError;
  const auto& rest = flags.args();
  if (rest.size() != 2) {
    ctx.err << "Error: command requires exactly two arguments: src and dst\n";
    return kError;
  }
  auto client = makeClient(http, ctx);
  if (!client) return kError;
  ApiCall call;
  call.path = "/v1/connect/intentions/check";
  call.query.add("source", rest[0]).add("destination", rest[1]).add("source-type", "consul");
  if (explain) call.query.add("explain");
  auto res = client->send(call);
  auto body = res && isSuccess(*res) ? parseJson(res->body) : std::nullopt;
  if (!body || !body->is_object()) {
    ctx.err << "Error checking the connection: "
            << (res && isSuccess(*res) ? "invalid JSON in response" : describe(res)) << "\n";
    return kError;
  }
  auto allowed = body->find("Allowed");
  bool ok = allowed != body->end() && allowed->is_boolean() && allowed->get<bool>();
  ctx.out << (ok ? "Allowed\n" : "Denied\n");
  if (explain) printExplanation(*body, ctx.out);
  return ok ? 0 : 1;
}

int runIntentionMatch(const std::vector<std::string>& args, Context& ctx) {
  FlagSet flags;
  HttpFlags http;
  http.registerWith(flags);
  bool source = false, destination = false;
  flags.addBool("source", &source, "Match intentions with the given source.");
  flags.addBool("destination", &destination, "Match intentions with the given destination.");
  int code = 0;
  if (!parseFlags(flags, args, ctx, kMatchHelp, &code)) return code == 0 ? 0 : 2;
  const auto& rest = flags.args();
  if (rest.size() != 1) {
    ctx.err << "Error: command requires exactly one argument: src or dst\n";
    return 1;
  }
  if (source && destination) {
    ctx.err << "Error: only one of -source or -destination may be specified\n";
    return 1;
  }
  auto client = makeClient(http, ctx);
  if (!client) return 1;
  ApiCall call;
  call.path = "/v1/connect/intentions/match";
  call.query.add("by", source ? "source" : "destination").add("name", rest[0]);
  auto res = client->send(call);
  auto body = res && isSuccess(*res) ? parseJson(res->body) : std::nullopt;
  if (!body || !body->is_object()) {
    ctx.err << "Error matching the connection: "
            << (res && isSuccess(*res) ? "invalid JSON in response" : describe(res)) << "\n";
    return 1;
  }
  auto list = body->find(rest[0]);
  if (list == body->end() || !list->is_array()) return 0;
  for (const auto& ixn : *list) {
    if (ixn.is_object()) ctx.out << intentionString(ixn) << "\n";
  }
  return 0;
}

int runIntentionList(const std::vector<std::string>& args, Context& ctx) {
  FlagSet flags;
  HttpFlags http;
  http.registerWith(flags);
  int code = 0;
  if (!parseFlags(flags, args, ctx, kListHelp, &code)) return code;
  auto client = makeClient(http, ctx);
  if (!client) return 1;
  ApiCall call;
  call.path = "/v1/connect/intentions";
  auto res = client->send(call);
  auto body = res && isSuccess(*res) ? parseJson(res->body) : std::nullopt;
  if (!body || !(body->is_array() || body->is_null())) {
    ctx.err << "Failed to retrieve the intentions list: "
            << (res && isSuccess(*res) ? "invalid JSON in response" : describe(res)) << "\n";
    return 1;
  }
  if (body->empty()) {
    ctx.err << "There are no intentions.\n";
    return 2;
  }
  ctx.out << formatIntentionList(*body) << "\n";
  return 0;
}

}  // namespace trellis::cli
