#include "cli/cli.h"

#include <array>
#include <iostream>

#include "cli/command.h"

namespace trellis::cli {
namespace {

// The command table: one row per leaf command. A group ("kv") is the set of rows sharing the
// first word; running the group alone lists its subcommands.
constexpr std::array kCommands = {
    CommandSpec{"catalog datacenters", "Lists all known datacenters", runCatalogDatacenters},
    CommandSpec{"catalog nodes", "Lists all nodes in the given datacenter", runCatalogNodes},
    CommandSpec{"catalog services", "Lists all registered services in a datacenter",
                runCatalogServices},
    CommandSpec{"kv delete", "Removes data from the KV store", runKvDelete},
    CommandSpec{"kv get", "Retrieves or lists data from the KV store", runKvGet},
    CommandSpec{"kv put", "Sets or updates data in the KV store", runKvPut},
    CommandSpec{"lock", "Execute a command holding a lock", runLock},
    CommandSpec{"members", "Lists the members of a Trellis cluster", runMembers},
    CommandSpec{"services deregister", "Deregister services with the local agent",
                runServicesDeregister},
    CommandSpec{"services register", "Register services with the local agent", runServicesRegister},
    CommandSpec{"watch", "Watch for changes in Trellis", runWatch},
};

std::string_view firstWord(std::string_view name) { return name.substr(0, name.find(' ')); }

HclParser& hclParser() {
  static HclParser parser;
  return parser;
}

int printGroupHelp(std::string_view group, std::ostream& os) {
  os << "Usage: trellis " << group << " <subcommand> [options] [args]\n\nSubcommands:\n";
  for (const auto& c : kCommands) {
    if (firstWord(c.name) != group) continue;
    std::string sub(c.name.substr(group.size() + 1));
    os << "    " << sub << std::string(sub.size() < 16 ? 16 - sub.size() : 1, ' ') << c.synopsis
       << "\n";
  }
  return 1;
}

}  // namespace

void setHclParser(HclParser parser) { hclParser() = std::move(parser); }

bool isCommand(std::string_view name) {
  for (const auto& c : kCommands) {
    if (firstWord(c.name) == name) return true;
  }
  return false;
}

int run(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
        std::ostream& out, std::ostream& err) {
  if (args.empty() || !isCommand(args[0])) {
    err << "Unknown command: " << (args.empty() ? "" : args[0]) << "\n";
    return 1;
  }
  Context ctx{env, out, err, std::cin, hclParser() ? &hclParser() : nullptr};
  try {
    for (const auto& c : kCommands) {
      if (c.name == args[0]) {
        return c.run(std::vector<std::string>(args.begin() + 1, args.end()), ctx);
      }
    }
    // A group: args[1] names the subcommand.
    if (args.size() >= 2) {
      std::string leaf = args[0] + " " + args[1];
      for (const auto& c : kCommands) {
        if (c.name == leaf) {
          return c.run(std::vector<std::string>(args.begin() + 2, args.end()), ctx);
        }
      }
      if (args[1] != "-h" && args[1] != "-help" && args[1] != "--help") {
        err << "Unknown subcommand: " << leaf << "\n\n";
      }
    }
    return printGroupHelp(args[0], err);
  } catch (const std::exception& e) {
    // Commands catch what they expect; this keeps any surprise inside the module.
    err << "Error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace trellis::cli
