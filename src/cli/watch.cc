// `watch`: blocking queries on one view; run a handler with the JSON result each time it
// changes, or print the first result and exit when no handler is given.
#include <thread>

#include "cli/command.h"
#include "cli/process.h"
#include "cli/signals.h"

namespace trellis::cli {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

constexpr std::string_view kHelp = R"(Usage: trellis watch [options] [child...]

  Watches for changes in a given data view. If a child process is specified, it
  is invoked with the latest results on stdin each time they change. Otherwise
  the current value is printed and the watch ends.

  Types: key (-key), keyprefix (-prefix), services, nodes, service (-service,
  -tag, -passingonly), checks (-service or -state).
)";

// Blocking queries without ?wait get the agent's default (5 min, at most 10 min).
constexpr milliseconds kQueryTimeout = std::chrono::minutes(11);
constexpr milliseconds kRetryBase{5000};
constexpr milliseconds kMaxBackoff{20000};

struct WatchView {
  std::string path;
  Query query;
  bool singleKey = false;  // `key`: the result is the first element, or null
};

struct WatchFlags {
  std::string type, key, prefix, service, state, passingOnly;
  std::vector<std::string> tags;
};

Result<WatchView> viewFor(const WatchFlags& f) {
  WatchView v;
  if (f.type == "key") {
    if (f.key.empty()) return invalidArgument("Must specify a single key to watch");
    v.path = "/v1/kv/" + encodePath(f.key);
    v.singleKey = true;
  } else if (f.type == "keyprefix") {
    if (f.prefix.empty()) return invalidArgument("Must specify a single prefix to watch");
    v.path = "/v1/kv/" + encodePath(f.prefix);
    v.query.add("recurse");
  } else if (f.type == "services") {
    v.path = "/v1/catalog/services";
  } else if (f.type == "nodes") {
    v.path = "/v1/catalog/nodes";
  } else if (f.type == "service") {
    if (f.service.empty()) return invalidArgument("Must specify a single service to watch");
    v.path = "/v1/health/service/" + encodeComponent(f.service);
    for (const auto& t : f.tags) v.query.add("tag", t);
    if (!f.passingOnly.empty()) {
      auto passing = parseGoBool(f.passingOnly);
      if (!passing) {
        return invalidArgument("Failed to parse passingonly flag: strconv.ParseBool: parsing \"" +
                               f.passingOnly + "\": invalid syntax");
      }
      if (*passing) v.query.add("passing", "1");
    }
  } else if (f.type == "checks") {
    if (!f.service.empty() && !f.state.empty()) {
      return invalidArgument("Cannot specify service and state");
    }
    if (!f.service.empty()) {
      v.path = "/v1/health/checks/" + encodeComponent(f.service);
    } else {
      v.path = "/v1/health/state/" + encodeComponent(f.state.empty() ? "any" : f.state);
    }
  } else {
    return invalidArgument("Unsupported watch type: " + f.type);
  }
  return v;
}

json resultOf(const WatchView& view, const http::HttpResponse& res) {
  if (res.status == 404) return json();
  auto body = parseJson(res.body);
  if (!body) return json();
  if (view.singleKey) return body->is_array() && !body->empty() ? (*body)[0] : json();
  return *body;
}

}  // namespace

int runWatch(const std::vector<std::string>& args, Context& ctx) {
  FlagSet flags;
  HttpFlags http;
  http.registerWith(flags);
  WatchFlags f;
  bool shell = true;
  flags.addString("type", &f.type,
                  "Watch type: key, keyprefix, services, nodes, service or checks.");
  flags.addString("key", &f.key, "The key to watch (type key).");
  flags.addString("prefix", &f.prefix, "The key prefix to watch (type keyprefix).");
  flags.addString("service", &f.service, "The service to watch (type service, checks).");
  flags.addStringList("tag", &f.tags, "Service tag to filter on (type service; repeatable).");
  flags.addString("passingonly", &f.passingOnly,
                  "Only instances passing all checks, `[true|false]` (type service).");
  flags.addString("state", &f.state, "Check state to watch (type checks).");
  flags.addBool("shell", &shell, "Use /bin/sh -c to run the handler.");
  int code = 0;
  if (!parseFlags(flags, args, ctx, kHelp, &code)) return code;
  if (f.type.empty()) {
    ctx.err << "Watch type must be specified\n\n" << kHelp;
    return 1;
  }
  auto view = viewFor(f);
  if (!view) {
    ctx.err << view.status().message() << "\n";
    return 1;
  }
  auto client = makeClient(http, ctx);
  if (!client) return 1;
  const std::vector<std::string> handler = flags.args();

  ShutdownSignals signals;
  auto stopped = [&signals] { return signals.triggered(); };
  std::optional<uint64_t> lastIndex;
  json lastResult;
  int failures = 0;
  while (!signals.triggered()) {
    ApiCall call;
    call.path = view->path;
    call.query = view->query;
    call.cancelled = stopped;
    call.timeout = kQueryTimeout;
    if (lastIndex && *lastIndex > 0) call.query.add("index", std::to_string(*lastIndex));
    auto res = client->send(call);
    if (signals.triggered()) break;
    if (!callSucceeded(res, true)) {
      if (!lastIndex && !res) return reportFailure(ctx, "Error querying Trellis agent", res);
      ++failures;
      auto backoff = std::min(kMaxBackoff, kRetryBase * (failures * failures));
      ctx.err << (res ? "Error querying Trellis agent: " + unexpectedResponse(*res)
                      : "Error connecting to Trellis agent: " + res.status().message())
              << " (retrying in " << backoff.count() / 1000 << "s)" << std::endl;
      auto until = std::chrono::steady_clock::now() + backoff;
      while (std::chrono::steady_clock::now() < until && !signals.triggered()) {
        std::this_thread::sleep_for(milliseconds(50));
      }
      continue;
    }
    failures = 0;
    uint64_t index = consulIndex(*res);
    if (lastIndex && *lastIndex == index) continue;
    const bool first = !lastIndex;
    // An index that goes backwards (a snapshot restore, a deleted key under a prefix) means
    // the next query must not block on a number the server will not reach again.
    lastIndex = lastIndex && index < *lastIndex ? 0 : index;
    json result = resultOf(*view, *res);
    if (!first && result == lastResult) continue;
    lastResult = result;

    if (handler.empty()) {
      ctx.out << result.dump(4) << "\n";
      return 0;
    }
    ctx.out.flush();
    ChildSpec spec;
    spec.argv = childCommand(handler, shell);
    spec.extraEnv = {"CONSUL_INDEX=" + std::to_string(index)};
    spec.stdinData = result.dump() + "\n";
    auto pid = spawnChild(spec);
    if (!pid) {
      ctx.err << "Error executing handler: " << pid.status().message() << "\n";
      return 1;
    }
    std::optional<int> exit;
    while (!(exit = pollChild(*pid))) {
      if (signals.triggered()) {
        terminateChild(*pid, std::chrono::seconds(5));
        return 0;
      }
      std::this_thread::sleep_for(milliseconds(20));
    }
    if (*exit != 0) {
      ctx.err << "Error executing handler: exit status " << *exit << "\n";
      return 1;
    }
  }
  return 0;
}

}  // namespace trellis::cli
