#include "cli/command.h"

#include <fstream>
#include <sstream>

namespace trellis::cli {

bool parseFlags(FlagSet& flags, const std::vector<std::string>& args, Context& ctx,
                std::string_view help, int* exitCode) {
  Status st = flags.parse(args);
  if (st) return true;
  if (flags.helpRequested()) {
    ctx.out << help << "\nOptions:\n\n" << flags.describe();
    *exitCode = 0;
    return false;
  }
  ctx.err << st.message() << "\n\n" << help << "\nOptions:\n\n" << flags.describe();
  *exitCode = 1;
  return false;
}

std::optional<ApiClient> makeClient(const HttpFlags& flags, Context& ctx) {
  auto client = ApiClient::create(flags, ctx.env);
  if (!client) {
    ctx.err << "Error connecting to Trellis agent: " << client.status().message() << "\n";
    return std::nullopt;
  }
  return std::move(*client);
}

bool callSucceeded(const Result<http::HttpResponse>& response, bool allow404) {
  return response && (isSuccess(*response) || (allow404 && response->status == 404));
}

int reportFailure(Context& ctx, std::string_view prefix,
                  const Result<http::HttpResponse>& response) {
  if (!response) {
    ctx.err << "Error connecting to Trellis agent: " << response.status().message() << "\n";
  } else {
    ctx.err << prefix << ": " << unexpectedResponse(*response) << "\n";
  }
  return 1;
}

std::optional<nlohmann::json> parseJson(std::string_view body) {
  auto j = nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

Result<std::string> loadDataSource(const std::string& value, Context& ctx) {
  if (value == "-") {
    std::stringstream ss;
    ss << ctx.in.rdbuf();
    return ss.str();
  }
  if (!value.empty() && value[0] == '@') {
    std::ifstream in(value.substr(1), std::ios::binary);
    if (!in) return invalidArgument("Failed to read file: open " + value.substr(1));
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  return value;
}

}  // namespace trellis::cli
