// The HTTP API route table: every path Trellis serves, its methods and its handler, in one list.
#include "bin/http_routes.h"

#include "api/endpoints.h"

namespace trellis::bin {

std::vector<api::Route> httpRoutes() {
  using namespace trellis::api;  // NOLINT: the table reads better with bare handler names
  const std::vector<std::string> kGet{"GET"};
  const std::vector<std::string> kPut{"PUT"};
  // Debian's python3-consul (0.7) still sends TTL updates and deregistrations as GET, which
  // Consul accepted before 1.0; accepting both keeps that client working.
  const std::vector<std::string> kGetPut{"GET", "PUT"};
  return {
      // agent
      {"/v1/agent/self", false, kGet, agentSelf},
      {"/v1/agent/metrics", false, kGet, agentMetrics},
      {"/v1/agent/members", false, kGet, agentMembers},
      {"/v1/agent/version", false, kGet, agentVersion},
      {"/v1/agent/services", false, kGet, agentServices},
      {"/v1/agent/service/register", false, kPut, agentServiceRegister},
      {"/v1/agent/service/deregister/", true, kGetPut, agentServiceDeregister},
      {"/v1/agent/service/maintenance/", true, kPut, agentServiceMaintenance},
      {"/v1/agent/service/", true, kGet, agentService},
      {"/v1/agent/maintenance", false, kPut, agentMaintenance},
      {"/v1/agent/checks", false, kGet, agentChecks},
      {"/v1/agent/check/register", false, kPut, agentCheckRegister},
      {"/v1/agent/check/deregister/", true, kGetPut, agentCheckDeregister},
      {"/v1/agent/check/pass/", true, kGetPut, agentCheckPass},
      {"/v1/agent/check/warn/", true, kGetPut, agentCheckWarn},
      {"/v1/agent/check/fail/", true, kGetPut, agentCheckFail},
      {"/v1/agent/check/update/", true, kPut, agentCheckUpdate},
      {"/v1/agent/health/service/name/", true, kGet, agentHealthByName},
      {"/v1/agent/health/service/id/", true, kGet, agentHealthById},
      {"/v1/agent/reload", false, kPut, agentReload},
      {"/v1/agent/leave", false, kPut, agentLeave},
      // catalog
      {"/v1/catalog/register", false, kPut, catalogRegister},
      {"/v1/catalog/deregister", false, kPut, catalogDeregister},
      {"/v1/catalog/datacenters", false, kGet, catalogDatacenters},
      {"/v1/catalog/nodes", false, kGet, catalogNodes},
      {"/v1/catalog/services", false, kGet, catalogServices},
      {"/v1/catalog/service/", true, kGet, catalogService},
      {"/v1/catalog/connect/", true, kGet, catalogConnect},
      {"/v1/catalog/node/", true, kGet, catalogNode},
      {"/v1/catalog/node-services/", true, kGet, catalogNodeServices},
      // health
      {"/v1/health/service/", true, kGet, healthService},
      {"/v1/health/connect/", true, kGet, healthConnect},
      {"/v1/health/checks/", true, kGet, healthChecks},
      {"/v1/health/node/", true, kGet, healthNode},
      {"/v1/health/state/", true, kGet, healthState},
      // kv and transactions
      {"/v1/kv/", true, {"GET", "PUT", "DELETE"}, kvEndpoint},
      {"/v1/txn", false, kPut, txnEndpoint},
      // sessions
      {"/v1/session/create", false, kPut, sessionCreate},
      {"/v1/session/destroy/", true, kPut, sessionDestroy},
      {"/v1/session/renew/", true, kPut, sessionRenew},
      {"/v1/session/info/", true, kGet, sessionInfo},
      {"/v1/session/list", false, kGet, sessionList},
      {"/v1/session/node/", true, kGet, sessionNode},
      // config entries and intentions
      {"/v1/config", false, kPut, configApply},
      {"/v1/config/", true, {"GET", "DELETE"}, configEntryPath},
      {"/v1/connect/intentions", false, {"GET", "POST"}, intentionsList},
      {"/v1/connect/intentions/exact", false, {"GET", "PUT", "DELETE"}, intentionsExact},
      {"/v1/connect/intentions/check", false, kGet, intentionsCheck},
      {"/v1/connect/intentions/match", false, kGet, intentionsMatch},
      {"/v1/connect/intentions/", true, {"GET", "PUT", "DELETE"}, intentionsById},
      {"/v1/agent/connect/authorize", false, {"POST", "PUT"}, agentConnectAuthorize},
      {"/v1/connect/ca/roots", false, kGet, caRoots},
      {"/v1/agent/connect/ca/roots", false, kGet, caRoots},
      {"/v1/connect/ca/configuration", false, {"GET", "PUT"}, caConfiguration},
      {"/v1/agent/connect/ca/leaf/", true, kGet, agentCaLeaf},
      // status and events
      {"/v1/status/leader", false, kGet, statusLeader},
      {"/v1/status/peers", false, kGet, statusPeers},
      {"/v1/event/fire/", true, kPut, eventFire},
      {"/v1/event/list", false, kGet, eventList},
  };
}

}  // namespace trellis::bin
