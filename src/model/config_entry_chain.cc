// service-router, service-splitter, service-resolver, ingress-gateway, terminating-gateway:
// stored and schema-validated now (field names, types, enums, required fields); the discovery
// chain and gateway work will add the cross-entry rules (protocol checks, subset existence).
#include <cmath>

#include "model/config_entry_schema.h"

namespace trellis::model::schema {
namespace {

const std::vector<const char*> kProtocols = {"tcp", "http", "http2", "grpc"};

const Schema kQueryParamMatch{"structs.ServiceRouteHTTPMatchQueryParam",
                              {{"Name", Type::kString},
                               {"Present", Type::kBool},
                               {"Exact", Type::kString},
                               {"Regex", Type::kString}}};
const Schema kRouteHttpMatch{"structs.ServiceRouteHTTPMatch",
                             {{"PathExact", Type::kString},
                              {"PathPrefix", Type::kString},
                              {"PathRegex", Type::kString},
                              {"CaseInsensitive", Type::kBool},
                              {"Header", Type::kObjectList, &kHeaderMatch},
                              {"QueryParam", Type::kObjectList, &kQueryParamMatch},
                              {"Methods", Type::kStrings}}};
const Schema kRouteMatch{"structs.ServiceRouteMatch", {{"HTTP", Type::kObject, &kRouteHttpMatch}}};
const Schema kRouteDestination{
    "structs.ServiceRouteDestination",
    {{"Service", Type::kString},
     {"ServiceSubset", Type::kString},
     {"Namespace", Type::kString},
     {"Partition", Type::kString},
     {"PrefixRewrite", Type::kString},
     {"RequestTimeout", Type::kDuration},
     {"IdleTimeout", Type::kDuration},
     {"NumRetries", Type::kUint},
     {"RetryOnConnectFailure", Type::kBool},
     {"RetryOnStatusCodes", Type::kUints},
     {"RetryOn",
      Type::kStrings,
      nullptr,
      {"5xx", "gateway-error", "reset", "connect-failure", "envoy-ratelimited", "retriable-4xx",
       "refused-stream", "cancelled", "deadline-exceeded", "internal", "resource-exhausted",
       "unavailable"}},
     {"RequestHeaders", Type::kObject, &kHeaderModifiers},
     {"ResponseHeaders", Type::kObject, &kHeaderModifiers}}};
const Schema kRoute{
    "structs.ServiceRoute",
    {{"Match", Type::kObject, &kRouteMatch}, {"Destination", Type::kObject, &kRouteDestination}}};

const Schema kSplit{"structs.ServiceSplit",
                    {{"Weight", Type::kFloat},
                     {"Service", Type::kString},
                     {"ServiceSubset", Type::kString},
                     {"Namespace", Type::kString},
                     {"Partition", Type::kString},
                     {"RequestHeaders", Type::kObject, &kHeaderModifiers},
                     {"ResponseHeaders", Type::kObject, &kHeaderModifiers}}};

const Schema kSubset{"structs.ServiceResolverSubset",
                     {{"Filter", Type::kString}, {"OnlyPassing", Type::kBool}}};
const Schema kRedirect{"structs.ServiceResolverRedirect",
                       {{"Service", Type::kString},
                        {"ServiceSubset", Type::kString},
                        {"Namespace", Type::kString},
                        {"Partition", Type::kString},
                        {"Datacenter", Type::kString},
                        {"Peer", Type::kString},
                        {"SamenessGroup", Type::kString}}};
const Schema kFailoverTarget{"structs.ServiceResolverFailoverTarget",
                             {{"Service", Type::kString},
                              {"ServiceSubset", Type::kString},
                              {"Partition", Type::kString},
                              {"Namespace", Type::kString},
                              {"Datacenter", Type::kString},
                              {"Peer", Type::kString}}};
const Schema kFailover{"structs.ServiceResolverFailover",
                       {{"Service", Type::kString},
                        {"ServiceSubset", Type::kString},
                        {"Namespace", Type::kString},
                        {"Datacenters", Type::kStrings},
                        {"Targets", Type::kObjectList, &kFailoverTarget},
                        {"Policy", Type::kObject, &kFailoverPolicy},
                        {"SamenessGroup", Type::kString}}};
const Schema kRingHash{"structs.RingHashConfig",
                       {{"MinimumRingSize", Type::kUint}, {"MaximumRingSize", Type::kUint}}};
const Schema kLeastRequest{"structs.LeastRequestConfig", {{"ChoiceCount", Type::kUint}}};
const Schema kCookieConfig{
    "structs.CookieConfig",
    {{"Session", Type::kBool}, {"TTL", Type::kDuration}, {"Path", Type::kString}}};
const Schema kHashPolicy{
    "structs.HashPolicy",
    {{"Field", Type::kString, nullptr, {"header", "cookie", "query_parameter"}},
     {"FieldValue", Type::kString},
     {"CookieConfig", Type::kObject, &kCookieConfig},
     {"SourceIP", Type::kBool},
     {"Terminal", Type::kBool}}};
const Schema kLoadBalancer{"structs.LoadBalancer",
                           {{"Policy",
                             Type::kString,
                             nullptr,
                             {"round_robin", "least_request", "ring_hash", "maglev", "random"}},
                            {"RingHashConfig", Type::kObject, &kRingHash},
                            {"LeastRequestConfig", Type::kObject, &kLeastRequest},
                            {"HashPolicies", Type::kObjectList, &kHashPolicy}}};

const Schema kGatewayTlsSds{"structs.GatewayTLSSDSConfig",
                            {{"ClusterName", Type::kString}, {"CertResource", Type::kString}}};
const Schema kGatewayTls{"structs.GatewayTLSConfig",
                         {{"Enabled", Type::kBool},
                          {"TLSMinVersion", Type::kString},
                          {"TLSMaxVersion", Type::kString},
                          {"CipherSuites", Type::kStrings},
                          {"SDS", Type::kObject, &kGatewayTlsSds}}};
const Schema kGatewayServiceTls{"structs.GatewayServiceTLSConfig",
                                {{"SDS", Type::kObject, &kGatewayTlsSds}}};
const Schema kIngressService{"structs.IngressService",
                             {{"Name", Type::kString},
                              {"Hosts", Type::kStrings},
                              {"Namespace", Type::kString},
                              {"Partition", Type::kString},
                              {"TLS", Type::kObject, &kGatewayServiceTls},
                              {"RequestHeaders", Type::kObject, &kHeaderModifiers},
                              {"ResponseHeaders", Type::kObject, &kHeaderModifiers},
                              {"MaxConnections", Type::kUint},
                              {"MaxPendingRequests", Type::kUint},
                              {"MaxConcurrentRequests", Type::kUint},
                              {"PassiveHealthCheck", Type::kObject, &kPassiveHealthCheck}}};
const Schema kIngressListener{"structs.IngressListener",
                              {{"Port", Type::kInt},
                               {"Protocol", Type::kString, nullptr, kProtocols, true},
                               {"Services", Type::kObjectList, &kIngressService},
                               {"TLS", Type::kObject, &kGatewayTls}}};
const Schema kIngressDefaults{"structs.IngressServiceConfig",
                              {{"MaxConnections", Type::kUint},
                               {"MaxPendingRequests", Type::kUint},
                               {"MaxConcurrentRequests", Type::kUint},
                               {"PassiveHealthCheck", Type::kObject, &kPassiveHealthCheck}}};
const Schema kLinkedService{"structs.LinkedService",
                            {{"Name", Type::kString},
                             {"Namespace", Type::kString},
                             {"Partition", Type::kString},
                             {"CAFile", Type::kString},
                             {"CertFile", Type::kString},
                             {"KeyFile", Type::kString},
                             {"SNI", Type::kString},
                             {"DisableAutoHostRewrite", Type::kBool}}};

Status requireName(const Json& e) {
  if (str(e, "Name").empty()) return invalidArgument("Name is required");
  return Status::ok();
}

std::string idx(const char* list, size_t i) {
  return std::string(list) + "[" + std::to_string(i) + "]";
}

}  // namespace

const Schema kServiceRouterSchema{"structs.ServiceRouterConfigEntry",
                                  withCommon({{"Routes", Type::kObjectList, &kRoute}})};
const Schema kServiceSplitterSchema{"structs.ServiceSplitterConfigEntry",
                                    withCommon({{"Splits", Type::kObjectList, &kSplit}})};
const Schema kServiceResolverSchema{
    "structs.ServiceResolverConfigEntry",
    withCommon({{"DefaultSubset", Type::kString},
                {"Subsets", Type::kObjectMap, &kSubset},
                {"Redirect", Type::kObject, &kRedirect},
                {"Failover", Type::kObjectMap, &kFailover},
                {"ConnectTimeout", Type::kDuration},
                {"RequestTimeout", Type::kDuration},
                {"LoadBalancer", Type::kObject, &kLoadBalancer},
                {"PrioritizeByLocality", Type::kObject, &kPrioritizeByLocality}})};
const Schema kIngressGatewaySchema{"structs.IngressGatewayConfigEntry",
                                   withCommon({{"TLS", Type::kObject, &kGatewayTls},
                                               {"Listeners", Type::kObjectList, &kIngressListener},
                                               {"Defaults", Type::kObject, &kIngressDefaults}})};
const Schema kTerminatingGatewaySchema{
    "structs.TerminatingGatewayConfigEntry",
    withCommon({{"Services", Type::kObjectList, &kLinkedService}})};

Status validateServiceRouter(Json* e) {
  if (Status s = requireName(*e); !s) return s;
  if (!has(*e, "Routes")) return Status::ok();
  const Json& routes = (*e)["Routes"];
  for (size_t i = 0; i < routes.size(); ++i) {
    std::string p = "Route[" + std::to_string(i) + "]";
    const Json& http =
        has(routes[i], "Match") ? routes[i]["Match"].value("HTTP", Json::object()) : Json::object();
    int paths = 0;
    for (const char* k : {"PathExact", "PathPrefix", "PathRegex"})
      paths += str(http, k).empty() ? 0 : 1;
    if (paths > 1) {
      return invalidArgument(p +
                             " should only contain at most one of PathExact, PathPrefix, or "
                             "PathRegex");
    }
    for (const char* k : {"PathExact", "PathPrefix"}) {
      std::string v = str(http, k);
      if (!v.empty() && v[0] != '/') {
        return invalidArgument(p + " " + k + " doesn't start with '/': " + quote(v));
      }
    }
    if (has(routes[i], "Destination") && !str(routes[i]["Destination"], "PrefixRewrite").empty() &&
        str(http, "PathExact").empty() && str(http, "PathPrefix").empty()) {
      return invalidArgument(p +
                             " cannot make use of PrefixRewrite without configuring either "
                             "PathExact or PathPrefix");
    }
  }
  return Status::ok();
}

Status validateServiceSplitter(Json* e) {
  if (Status s = requireName(*e); !s) return s;
  if (!has(*e, "Splits") || (*e)["Splits"].empty()) {
    return invalidArgument("no splits configured");
  }
  double sum = 0;
  for (const auto& s : (*e)["Splits"]) sum += s.value("Weight", 0.0);
  if (std::fabs(sum - 100.0) > 0.01) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.2f", sum);
    return invalidArgument(std::string("the sum of all split weights must be 100, not ") + buf);
  }
  return Status::ok();
}

Status validateServiceResolver(Json* e) {
  if (Status s = requireName(*e); !s) return s;
  std::string def = str(*e, "DefaultSubset");
  if (!def.empty() && !(has(*e, "Subsets") && (*e)["Subsets"].contains(def))) {
    return invalidArgument("DefaultSubset " + quote(def) + " is not a valid subset");
  }
  if (has(*e, "Redirect") && has(*e, "Subsets") && !(*e)["Subsets"].empty()) {
    return invalidArgument("Redirect and Subsets cannot both be set");
  }
  if (has(*e, "Failover") && has(*e, "Subsets")) {
    for (auto it = (*e)["Failover"].begin(); it != (*e)["Failover"].end(); ++it) {
      if (it.key() != "*" && !(*e)["Subsets"].contains(it.key())) {
        return invalidArgument("Bad Failover[" + quote(it.key()) + "]: not a valid subset " +
                               quote(it.key()));
      }
    }
  }
  return Status::ok();
}

Status validateIngressGateway(Json* e) {
  if (Status s = requireName(*e); !s) return s;
  if (!has(*e, "Listeners")) return Status::ok();
  const Json& ls = (*e)["Listeners"];
  for (size_t i = 0; i < ls.size(); ++i) {
    std::string proto = str(ls[i], "Protocol");
    size_t n = has(ls[i], "Services") ? ls[i]["Services"].size() : 0;
    for (size_t j = 0; j < n; ++j) {
      std::string name = str(ls[i]["Services"][j], "Name");
      if (name.empty()) {
        return invalidArgument(idx("Listeners", i) + "." + idx("Services", j) +
                               ": Name is required");
      }
      if (name == "*" && (proto.empty() || proto == "tcp")) {
        return invalidArgument(
            "Wildcard service name is only valid for protocol = 'http' "
            "(listener on port " +
            std::to_string(ls[i].value("Port", 0)) + ")");
      }
    }
    if ((proto.empty() || proto == "tcp") && n > 1) {
      return invalidArgument(
          "Multiple services per listener are only supported for L7 protocols, "
          "'http', 'grpc' and 'http2' (listener on port " +
          std::to_string(ls[i].value("Port", 0)) + ")");
    }
  }
  return Status::ok();
}

Status validateTerminatingGateway(Json* e) {
  if (Status s = requireName(*e); !s) return s;
  if (!has(*e, "Services")) return Status::ok();
  const Json& svcs = (*e)["Services"];
  for (size_t i = 0; i < svcs.size(); ++i) {
    if (str(svcs[i], "Name").empty()) {
      return invalidArgument(idx("Services", i) + ": Name is required");
    }
    bool cert = !str(svcs[i], "CertFile").empty(), key = !str(svcs[i], "KeyFile").empty();
    if (cert != key) {
      return invalidArgument("Service " + quote(str(svcs[i], "Name")) +
                             " must have a CertFile and KeyFile specified together");
    }
  }
  return Status::ok();
}

}  // namespace trellis::model::schema
