// trellis: the agent (`trellis agent`), `trellis version`, and the CLI commands.
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "bin/agent_main.h"
#include "bin/version_main.h"
#include "cli/cli.h"
#include "config/hcl.h"

extern char** environ;

namespace {

void usage() {
  std::cerr << "Usage: trellis [--version] <command> [<args>]\n\n"
               "Available commands are:\n"
               "    agent       Runs a Trellis agent\n"
               "    catalog     Interact with the catalog\n"
               "    kv          Interact with the key-value store\n"
               "    lock        Execute a command holding a lock\n"
               "    members     Lists the members of a Trellis cluster\n"
               "    services    Interact with services\n"
               "    version     Prints the Trellis version\n"
               "    watch       Watch for changes in Trellis\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    usage();
    return 1;
  }
  const std::string cmd = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (cmd == "agent") return trellis::bin::runAgent(rest);
  if (cmd == "version" || cmd == "-version" || cmd == "--version" || cmd == "-v") {
    return trellis::bin::runVersion(rest);
  }
  if (trellis::cli::isCommand(cmd)) {
    trellis::cli::setHclParser(
        [](std::string_view text) -> trellis::Result<nlohmann::json> {
          auto doc = trellis::config::parseHcl(text);
          if (!doc) return doc.status();
          return std::move(doc->value);
        });
    std::map<std::string, std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
      std::string kv(*e);
      size_t eq = kv.find('=');
      if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    return trellis::cli::run(args, env, std::cout, std::cerr);
  }
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    usage();
    return 0;
  }
  std::cerr << "Unknown command: " << cmd << "\n";
  usage();
  return 1;
}
