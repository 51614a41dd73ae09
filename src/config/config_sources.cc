#include "config/config_sources.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>

#include "config/hcl.h"
#include "config/json_loader.h"

namespace trellis::config {
namespace {

namespace fs = std::filesystem;

// Config files are small; a cap keeps a mistaken -config-file /dev/zero from eating memory.
constexpr std::uintmax_t kMaxConfigFileBytes = 16 * 1024 * 1024;

std::optional<std::string> formatOf(const fs::path& path) {
  std::string ext = path.extension().string();
  if (ext == ".json") return "json";
  if (ext == ".hcl") return "hcl";
  return std::nullopt;
}

Result<std::string> readFile(const fs::path& path) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  if (!ec && size > kMaxConfigFileBytes) {
    return invalidArgument(path.string() + ": config file is larger than 16 MiB");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return invalidArgument(path.string() + ": cannot read config file");
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return invalidArgument(path.string() + ": cannot read config file");
  return data;
}

Status loadFile(const fs::path& path, const std::optional<std::string>& format,
                std::vector<ConfigSource>& out) {
  // As in Consul, -config-format wins over the extension.
  auto fmt = format ? format : formatOf(path);
  if (!fmt) {
    return invalidArgument(path.string() +
                           ": cannot tell the config format; use a .json or .hcl extension "
                           "or -config-format");
  }
  auto data = readFile(path);
  if (!data.isOk()) return data.status();
  auto doc = parseConfigText(data.value(), *fmt);
  if (!doc.isOk()) return invalidArgument(path.string() + ": " + doc.status().message());
  out.push_back(ConfigSource{path.string(), std::move(doc).value()});
  return Status::ok();
}

Status loadDir(const fs::path& dir, const std::optional<std::string>& format,
               std::vector<ConfigSource>& out) {
  std::error_code ec;
  std::vector<fs::path> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (!it->is_regular_file(type_ec)) continue;  // follows symlinks, skips subdirectories
    // With -config-format, Consul reads every file of the directory in that format.
    if (format || formatOf(it->path())) files.push_back(it->path());
  }
  if (ec) return invalidArgument(dir.string() + ": cannot read config directory: " + ec.message());
  std::sort(files.begin(), files.end(),
            [](const fs::path& a, const fs::path& b) { return a.filename() < b.filename(); });
  for (const auto& f : files) {
    Status s = loadFile(f, format, out);
    if (!s.isOk()) return s;
  }
  return Status::ok();
}

bool isBlank(std::string_view text) {
  return text.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

}  // namespace

Result<ParsedDocument> parseConfigText(std::string_view text, std::string_view format) {
  if (isBlank(text)) return ParsedDocument{nlohmann::json::object(), {}};
  if (format == "json") return parseJsonDocument(text);
  if (format == "hcl") {
    // HCL v1 reads a document that opens with '{' as JSON; -config-format=hcl relies on it.
    if (text[text.find_first_not_of(" \t\r\n")] == '{') return parseJsonDocument(text);
    return parseHcl(text);
  }
  return invalidArgument("invalid config format: " + std::string(format));
}

Result<std::vector<ConfigSource>> readConfigPaths(const std::vector<ConfigPath>& paths,
                                                  const std::optional<std::string>& format) {
  std::vector<ConfigSource> out;
  try {
    for (const auto& p : paths) {
      std::error_code ec;
      fs::path path(p.path);
      auto status = fs::status(path, ec);
      if (ec || !fs::exists(status)) {
        return invalidArgument(p.path + ": config " + (p.explicit_file ? "file" : "directory") +
                               " does not exist");
      }
      Status s;
      if (fs::is_directory(status)) {
        s = loadDir(path, format, out);
      } else if (!p.explicit_file) {
        s = invalidArgument(p.path + ": -config-dir must name a directory");
      } else {
        s = loadFile(path, format, out);
      }
      if (!s.isOk()) return s;
    }
  } catch (const std::exception& e) {
    return internalError(std::string("config: ") + e.what());
  }
  return out;
}

}  // namespace trellis::config
