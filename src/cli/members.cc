#include "cli/command.h"
#include "cli/format.h"

namespace trellis::cli {
namespace {

constexpr std::string_view kHelp = R"(Usage: trellis members [options]

  Outputs the members of a running Trellis agent.
)";

}  // namespace

int runMembers(const std::vector<std::string>& args, Context& ctx) {
  FlagSet flags;
  HttpFlags http;
  http.registerWith(flags);
  bool detailed = false, wan = false;
  std::string status = ".*", segment, filter;
  flags.addBool("detailed", &detailed, "Provides detailed information about nodes.");
  flags.addBool("wan", &wan, "Lists the members of the WAN pool (servers only).");
  flags.addString("status", &status,
                  "If provided, output is filtered to only nodes matching the regular "
                  "expression for status.");
  flags.addString("segment", &segment, "(Enterprise-only) Filter by network segment.");
  flags.addString("filter", &filter, "Filter to use with the request.");
  int code = 0;
  if (!parseFlags(flags, args, ctx, kHelp, &code)) return code;
  if (!flags.args().empty()) {
    ctx.err << "Too many arguments (expected 0, got " << flags.args().size() << ")\n";
    return 1;
  }
  auto client = makeClient(http, ctx);
  if (!client) return 1;

  ApiCall call;
  call.path = "/v1/agent/members";
  call.read = false;
  if (wan) call.query.add("wan", "1");
  if (!segment.empty()) call.query.add("segment", segment);
  if (!filter.empty()) call.query.add("filter", filter);
  auto res = client->send(call);
  if (!callSucceeded(res)) return reportFailure(ctx, "Error retrieving members", res);
  auto body = parseJson(res->body);
  if (!body) {
    ctx.err << "Error retrieving members: invalid JSON in response\n";
    return 1;
  }
  auto table = formatMembers(*body, detailed, status);
  if (!table) {
    ctx.err << table.status().message() << "\n";
    return 1;
  }
  if (table->empty()) return 2;
  ctx.out << *table << "\n";
  return 0;
}

}  // namespace trellis::cli
