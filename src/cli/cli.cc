#include "cli/cli.h"

#include <array>
#include <iostream>

#include "cli/command.h"

namespace trellis::cli {
namespace {

// The command table: one row per leaf command. A group ("kv", "connect ca") is the set of rows
// whose name starts with it; running the group alone lists its subcommands.
constexpr std::array kCommands = {
    CommandSpec{"catalog datacenters", "Lists all known datacenters", runCatalogDatacenters},
    CommandSpec{"catalog nodes", "Lists all nodes in the given datacenter", runCatalogNodes},
    CommandSpec{"catalog services", "Lists all registered services in a datacenter",
                runCatalogServices},
    CommandSpec{"config delete", "Delete a centralized config entry", runConfigDelete},
    CommandSpec{"config list", "List centralized config entries of a given kind", runConfigList},
    CommandSpec{"config read", "Read a centralized config entry", runConfigRead},
    CommandSpec{"config write", "Create or update a centralized config entry", runConfigWrite},
    CommandSpec{"connect ca get-config",
                "Display the current Connect Certificate Authority (CA) configuration",
                runConnectCaGetConfig},
    CommandSpec{"connect ca set-config", "Modify the current Connect CA configuration",
                runConnectCaSetConfig},
    CommandSpec{"connect envoy", "Runs or configures Envoy as a Connect proxy", runConnectEnvoy},
    CommandSpec{"connect proxy", "Runs trellis-proxy, the built-in sidecar", runConnectProxy},
    CommandSpec{"intention check", "Check whether a connection between two services is allowed.",
                runIntentionCheck},
    CommandSpec{"intention create", "Create intentions for service connections.",
                runIntentionCreate},
    CommandSpec{"intention delete", "Delete an intention.", runIntentionDelete},
    CommandSpec{"intention get", "Show information about an intention.", runIntentionGet},
    CommandSpec{"intention list", "List intentions.", runIntentionList},
    CommandSpec{"intention match", "Show intentions that match a source or destination.",
                runIntentionMatch},
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

bool startsWithGroup(std::string_view name, std::string_view group) {
  return name.size() > group.size() && name.substr(0, group.size()) == group &&
         name[group.size()] == ' ';
}

// Lists the next word of every command under `group` once ("connect" lists "ca").
int printGroupHelp(std::string_view group, std::ostream& os) {
  os << "Usage: trellis " << group << " <subcommand> [options] [args]\n\nSubcommands:\n";
  std::string last;
  for (const auto& c : kCommands) {
    if (!startsWithGroup(c.name, group)) continue;
    std::string_view rest = c.name.substr(group.size() + 1);
    bool leaf = rest.find(' ') == std::string_view::npos;
    std::string sub(leaf ? rest : rest.substr(0, rest.find(' ')));
    if (sub == last) continue;
    last = sub;
    std::string_view synopsis = leaf ? c.synopsis : std::string_view("(subcommands)");
    os << "    " << sub << std::string(sub.size() < 16 ? 16 - sub.size() : 1, ' ') << synopsis
       << "\n";
  }
  return 1;
}

bool isHelpArg(const std::string& a) { return a == "-h" || a == "-help" || a == "--help"; }

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
    // The longest run of leading words naming a command or a group wins.
    std::string name = args[0];
    size_t used = 1;
    for (size_t i = 1; i < args.size(); ++i) {
      std::string longer = name + " " + args[i];
      bool known = false;
      for (const auto& c : kCommands) {
        known = known || c.name == longer || startsWithGroup(c.name, longer);
      }
      if (!known) break;
      name = std::move(longer);
      used = i + 1;
    }
    for (const auto& c : kCommands) {
      if (c.name == name) {
        return c.run(std::vector<std::string>(args.begin() + used, args.end()), ctx);
      }
    }
    if (used < args.size() && !isHelpArg(args[used])) {
      err << "Unknown subcommand: " << name << " " << args[used] << "\n\n";
    }
    return printGroupHelp(name, err);
  } catch (const std::exception& e) {
    // Commands catch what they expect; this keeps any surprise inside the module.
    err << "Error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace trellis::cli
