#include "cli/command.h"

#include <cctype>
#include <cerrno>
#include <cstring>
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

Result<std::string> readFileGo(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    // Go's syscall errors are lower case ("no such file or directory").
    std::string reason = std::strerror(errno);
    if (!reason.empty()) reason[0] = static_cast<char>(std::tolower(reason[0]));
    return invalidArgument("open " + path + ": " + reason);
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<std::string> loadFileOrStdin(const std::string& value, Context& ctx) {
  if (value.empty()) {
    return invalidArgument("Failed to load data: must specify a file path or '-' for stdin");
  }
  if (value == "-") {
    std::stringstream ss;
    ss << ctx.in.rdbuf();
    return ss.str();
  }
  auto data = readFileGo(value);
  if (!data) return invalidArgument("Failed to read file: " + data.status().message());
  return data;
}

Result<nlohmann::json> decodeHclOrJson(std::string_view text, Context& ctx) {
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && text[first] == '{') {
    try {
      return nlohmann::json::parse(text.begin(), text.end());
    } catch (const nlohmann::json::exception& e) {
      return invalidArgument(std::string("invalid JSON: ") + e.what());
    }
  }
  if (ctx.hcl == nullptr || !*ctx.hcl) return invalidArgument("HCL support not linked");
  return (*ctx.hcl)(text);
}

}  // namespace trellis::cli
