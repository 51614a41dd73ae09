// `trellis connect envoy`: locate the proxy registration (-proxy-id or -sidecar-for), read its
// service and Proxy.Config from the agent, find the agent's xDS port, then print Envoy's
// bootstrap (-bootstrap) or exec Envoy with it. Consul's flags and messages.
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "cli/command.h"
#include "cli/connect_envoy.h"
#include "cli/envoy_bootstrap.h"

namespace trellis::cli {
namespace {

using nlohmann::json;

constexpr std::string_view kHelp = R"(Usage: trellis connect envoy [options] [-- pass-through options]

  Generates the bootstrap configuration for an Envoy proxy registered with the
  local agent, then runs Envoy with it (or prints it with -bootstrap).

      $ trellis connect envoy -sidecar-for web
      $ trellis connect envoy -proxy-id web-sidecar-proxy -bootstrap > bootstrap.json
)";

constexpr std::string_view kProxyHelp = R"(Usage: trellis connect proxy [options] [-- pass-through options]

  Runs trellis-proxy, Trellis' own sidecar, for a proxy registered with the local
  agent. It takes the same bootstrap that `trellis connect envoy` writes for Envoy
  and speaks delta xDS to the agent's gRPC port.

      $ trellis connect proxy -sidecar-for web
      $ trellis connect proxy -proxy-id web-sidecar-proxy -- -workers 1
)";

struct EnvoyFlags {
  HttpFlags http;
  std::string proxyId, sidecarFor, adminBind = "localhost:19000";
  std::string adminAccessLogPath = "/dev/null", grpcAddr, envoyBinary;
  bool bootstrap = false;
  bool proxyMode = false;  // `connect proxy` (trellis-proxy) rather than `connect envoy`

  void registerWith(FlagSet& flags) {
    http.registerWith(flags);
    flags.addString("proxy-id", &proxyId,
                    "The proxy's ID on the local agent.");
    flags.addString("sidecar-for", &sidecarFor,
                    "The ID of a service instance on the local agent that this proxy should "
                    "become a sidecar for. It requires that the proxy service is registered "
                    "with the agent as a connect-proxy with Proxy.DestinationServiceID set to "
                    "this value. If more than one such proxy is registered it will fail.");
    flags.addBool("bootstrap", &bootstrap,
                  "Generate the bootstrap.json but don't exec envoy");
    flags.addString("admin-bind", &adminBind,
                    "The address:port to start envoy's admin server on. Envoy requires this "
                    "but care must be taken to ensure it's not exposed to an untrusted network "
                    "as it has full control over the secrets and config of the proxy.");
    flags.addString("admin-access-log-path", &adminAccessLogPath,
                    "The path to write the access log for the administration server.");
    flags.addString("grpc-addr", &grpcAddr,
                    "Set the agent's gRPC address and port (in http(s)://host:port format). "
                    "Alternatively, you can specify CONSUL_GRPC_ADDR in ENV.");
    flags.addString(proxyMode ? "proxy-binary" : "envoy-binary", &envoyBinary,
                    proxyMode ? "The full path to the trellis-proxy binary to run. By default "
                                "the one next to this trellis binary, then $PATH."
                              : "The full path to the envoy binary to run. By default will "
                                "just search $PATH.");
  }
};

std::string envOr(const Env& env, const char* name) {
  auto it = env.find(name);
  return it == env.end() ? std::string() : it->second;
}

std::string describe(const Result<http::HttpResponse>& res) {
  return res ? unexpectedResponse(*res) : res.status().message();
}

// A Proxy.Config value as the JSON text Consul would splice in: strings as written, objects
// and arrays of objects re-encoded (HCL users often give them as maps, not strings).
std::string configText(const json& config, std::string_view key) {
  const json* v = findField(config, key);
  if (v == nullptr) return {};
  if (v->is_string()) return v->get<std::string>();
  if (v->is_object()) return v->dump();
  if (v->is_array()) {
    std::string out;
    for (const auto& item : *v) out += (out.empty() ? "" : ",") + item.dump();
    return out;
  }
  return {};
}

// Empty (after a warning) when the agent does not answer.
std::optional<json> agentSelf(const ApiClient& client, Context& ctx) {
  ApiCall call;
  call.path = "/v1/agent/self";
  auto res = client.send(call);
  if (!callSucceeded(res)) {
    // A proxy token often lacks agent:read; Consul carries on with the default port too.
    ctx.err << "Warning: could not read the agent's configuration (" << describe(res)
            << "); assuming the defaults\n";
    return std::nullopt;
  }
  return parseJson(res->body);
}

std::string findOnPath(const std::string& name, const Env& env) {
  std::string path = envOr(env, "PATH");
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    struct stat st{};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    start = end + 1;
  }
  return {};
}

// Writes the bootstrap to a private temp file (it may hold the ACL token) and replaces this
// process with Envoy. Returns only on failure. The file stays behind: after exec nobody is left
// to remove it, and Envoy reads it once at start.
int execEnvoy(const std::string& binary, const std::string& bootstrap,
              const std::vector<std::string>& passThrough, Context& ctx, bool proxyMode) {
  std::string dir = envOr(ctx.env, "TMPDIR");
  std::string path = (dir.empty() ? "/tmp" : dir) + "/trellis-envoy-bootstrap-XXXXXX.json";
  int fd = ::mkstemps(path.data(), 5);
  if (fd < 0) {
    ctx.err << "Failed to write the Envoy bootstrap: " << std::strerror(errno) << "\n";
    return 1;
  }
  size_t written = 0;
  while (written < bootstrap.size()) {
    ssize_t n = ::write(fd, bootstrap.data() + written, bootstrap.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ctx.err << "Failed to write the Envoy bootstrap: " << std::strerror(errno) << "\n";
      ::close(fd);
      ::unlink(path.c_str());
      return 1;
    }
    written += static_cast<size_t>(n);
  }
  ::close(fd);
  std::vector<std::string> args{binary, proxyMode ? "-bootstrap" : "--config-path", path};
  args.insert(args.end(), passThrough.begin(), passThrough.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  ctx.out.flush();
  ctx.err.flush();
  ::execv(binary.c_str(), argv.data());
  int error = errno;
  ::unlink(path.c_str());
  ctx.err << "Failed to exec " << binary << ": " << std::strerror(error) << "\n";
  return 1;
}

// trellis-proxy is installed next to trellis (both in build/src/bin); $PATH otherwise.
std::string findTrellisProxy(const Env& env) {
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n > 0) {
    std::string dir(self, size_t(n));
    dir = dir.substr(0, dir.rfind('/') + 1);
    std::string candidate = dir + "trellis-proxy";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return findOnPath("trellis-proxy", env);
}

int runConnectSidecar(const std::vector<std::string>& args, Context& ctx, bool proxyMode) {
  FlagSet flags;
  EnvoyFlags f;
  f.proxyMode = proxyMode;
  f.registerWith(flags);
  int code = 0;
  if (!parseFlags(flags, args, ctx, proxyMode ? kProxyHelp : kHelp, &code)) return code;
  auto client = makeClient(f.http, ctx);
  if (!client) return 1;
  auto token = resolveToken(f.http, ctx.env);
  if (!token) {  // makeClient already resolved it once; unreachable unless the file vanished
    ctx.err << "Error connecting to Trellis agent: " << token.status().message() << "\n";
    return 1;
  }

  if (f.proxyId.empty() && !f.sidecarFor.empty()) {
    ApiCall call;
    call.path = "/v1/agent/services";
    auto res = client->send(call);
    auto body = callSucceeded(res) ? parseJson(res->body) : std::nullopt;
    if (!body) {
      ctx.err << "Failed looking up sidecar proxy info for " << f.sidecarFor << ": "
              << (callSucceeded(res) ? "invalid JSON from the agent" : describe(res)) << "\n";
      return 1;
    }
    auto id = findSidecarProxyId(*body, f.sidecarFor);
    if (!id) {
      ctx.err << id.status().message() << "\n";
      return 1;
    }
    f.proxyId = *id;
  }
  if (f.proxyId.empty()) {
    ctx.err << "No proxy ID specified. One of -proxy-id or -sidecar-for is required\n";
    return 1;
  }

  EnvoyBootstrapInput in;
  in.proxyId = f.proxyId;
  in.token = *token;
  in.adminAccessLogPath = f.adminAccessLogPath;
  auto admin = splitHostPort(f.adminBind);
  if (!admin) {
    ctx.err << "Invalid -admin-bind address: " << admin.status().message() << "\n";
    return 1;
  }
  auto adminIp = resolveIp(admin->host);
  if (!adminIp) {
    ctx.err << "Failed to resolve admin bind address: " << adminIp.status().message() << "\n";
    return 1;
  }
  in.adminAddress = *adminIp;
  in.adminPort = admin->port;

  std::string grpcAddr = f.grpcAddr;
  for (const char* name : {"TRELLIS_GRPC_ADDR", "CONSUL_GRPC_ADDR"}) {
    if (grpcAddr.empty()) grpcAddr = envOr(ctx.env, name);
  }
  std::optional<json> self;
  if (grpcAddr.empty()) {
    self = agentSelf(*client, ctx);
    in.agentAddress = "127.0.0.1";
    in.agentPort = xdsPortFromSelf(self.value_or(json::object()));
  } else {
    auto grpc = parseGrpcAddr(grpcAddr);
    auto ip = grpc ? resolveIp(grpc->host) : Result<std::string>(grpc.status());
    if (!ip) {
      ctx.err << "Invalid gRPC address " << grpcAddr << ": " << ip.status().message() << "\n";
      return 1;
    }
    in.agentAddress = *ip;
    in.agentPort = grpc->port;
  }

  ApiCall call;
  call.path = "/v1/agent/service/" + encodeComponent(f.proxyId);
  auto res = client->send(call);
  auto svc = callSucceeded(res) ? parseJson(res->body) : std::nullopt;
  if (!svc || !svc->is_object()) {
    ctx.err << "failed fetch proxy config from local agent: "
            << (callSucceeded(res) ? "invalid JSON from the agent" : describe(res)) << "\n";
    return 1;
  }
  const json* proxy = findField(*svc, "Proxy");
  std::string destination = proxy ? configText(*proxy, "DestinationServiceName") : "";
  in.cluster = destination.empty() ? configText(*svc, "Service") : destination;
  if (in.cluster.empty()) in.cluster = f.proxyId;
  in.datacenter = configText(*svc, "Datacenter");
  const json* selfConfig = self ? findField(*self, "Config") : nullptr;
  if (in.datacenter.empty() && selfConfig) in.datacenter = configText(*selfConfig, "Datacenter");
  if (in.datacenter.empty()) in.datacenter = "dc1";
  if (auto ns = configText(*svc, "Namespace"); !ns.empty()) in.nameSpace = ns;
  if (auto p = configText(*svc, "Partition"); !p.empty()) in.partition = p;
  if (const json* config = proxy ? findField(*proxy, "Config") : nullptr) {
    in.extraStaticClustersJson = configText(*config, "envoy_extra_static_clusters_json");
    in.extraStaticListenersJson = configText(*config, "envoy_extra_static_listeners_json");
    in.statsFlushInterval = configText(*config, "envoy_stats_flush_interval");
  }

  auto bootstrap = buildEnvoyBootstrap(in);
  if (!bootstrap) {
    ctx.err << bootstrap.status().message() << "\n";
    return 1;
  }
  std::string text = bootstrap->dump(2) + "\n";
  if (f.bootstrap) {
    ctx.out << text;
    return 0;
  }
  std::string binary = f.envoyBinary;
  if (binary.empty()) binary = proxyMode ? findTrellisProxy(ctx.env) : findOnPath("envoy", ctx.env);
  if (binary.empty()) {
    if (proxyMode) {
      ctx.err << "Couldn't find trellis-proxy: not next to trellis nor in $PATH (use "
                 "-proxy-binary)\n";
    } else {
      ctx.err << "Couldn't find envoy binary: no \"envoy\" in $PATH (use -envoy-binary, or "
                 "-bootstrap to print the configuration)\n";
    }
    return 1;
  }
  return execEnvoy(binary, text, flags.args(), ctx, proxyMode);
}

}  // namespace

int runConnectEnvoy(const std::vector<std::string>& args, Context& ctx) {
  return runConnectSidecar(args, ctx, false);
}

int runConnectProxy(const std::vector<std::string>& args, Context& ctx) {
  return runConnectSidecar(args, ctx, true);
}

}  // namespace trellis::cli
