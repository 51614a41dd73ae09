#pragma once
// The HTTP API v1 handlers, one file per area. The route table that binds them to paths is in
// src/bin/http_routes.cc. Every handler runs on the core loop.

#include <optional>

#include "api/router.h"
#include "model/config_entry.h"

namespace trellis::api {

#define TRELLIS_HANDLER(name) \
  boost::asio::awaitable<Response> name(Context& ctx, Exchange& ex, std::string rest)

// kv.cc
TRELLIS_HANDLER(kvEndpoint);
// txn.cc
TRELLIS_HANDLER(txnEndpoint);
// catalog.cc
TRELLIS_HANDLER(catalogRegister);
TRELLIS_HANDLER(catalogDeregister);
TRELLIS_HANDLER(catalogDatacenters);
TRELLIS_HANDLER(catalogNodes);
TRELLIS_HANDLER(catalogServices);
TRELLIS_HANDLER(catalogService);
TRELLIS_HANDLER(catalogConnect);
TRELLIS_HANDLER(catalogNode);
TRELLIS_HANDLER(catalogNodeServices);
// health.cc
TRELLIS_HANDLER(healthService);
TRELLIS_HANDLER(healthConnect);
TRELLIS_HANDLER(healthChecks);
TRELLIS_HANDLER(healthNode);
TRELLIS_HANDLER(healthState);
// agent_endpoints.cc
TRELLIS_HANDLER(agentSelf);
TRELLIS_HANDLER(agentMetrics);
TRELLIS_HANDLER(agentMembers);
TRELLIS_HANDLER(agentServices);
TRELLIS_HANDLER(agentService);
TRELLIS_HANDLER(agentServiceRegister);
TRELLIS_HANDLER(agentServiceDeregister);
TRELLIS_HANDLER(agentServiceMaintenance);
TRELLIS_HANDLER(agentMaintenance);
TRELLIS_HANDLER(agentChecks);
TRELLIS_HANDLER(agentCheckRegister);
TRELLIS_HANDLER(agentCheckDeregister);
TRELLIS_HANDLER(agentCheckPass);
TRELLIS_HANDLER(agentCheckWarn);
TRELLIS_HANDLER(agentCheckFail);
TRELLIS_HANDLER(agentCheckUpdate);
TRELLIS_HANDLER(agentHealthByName);
TRELLIS_HANDLER(agentHealthById);
TRELLIS_HANDLER(agentReload);
TRELLIS_HANDLER(agentLeave);
TRELLIS_HANDLER(agentVersion);
// session.cc
TRELLIS_HANDLER(sessionCreate);
TRELLIS_HANDLER(sessionDestroy);
TRELLIS_HANDLER(sessionRenew);
TRELLIS_HANDLER(sessionInfo);
TRELLIS_HANDLER(sessionList);
TRELLIS_HANDLER(sessionNode);
// status_event.cc
TRELLIS_HANDLER(statusLeader);
TRELLIS_HANDLER(statusPeers);
TRELLIS_HANDLER(eventFire);
TRELLIS_HANDLER(eventList);

// config_entries.cc
TRELLIS_HANDLER(configApply);
TRELLIS_HANDLER(configEntryPath);
// intentions.cc
TRELLIS_HANDLER(intentionsList);
TRELLIS_HANDLER(intentionsExact);
TRELLIS_HANDLER(intentionsCheck);
TRELLIS_HANDLER(intentionsMatch);
TRELLIS_HANDLER(intentionsById);
TRELLIS_HANDLER(agentConnectAuthorize);
// connect_ca.cc
TRELLIS_HANDLER(caRoots);
TRELLIS_HANDLER(caConfiguration);
TRELLIS_HANDLER(agentCaLeaf);

#undef TRELLIS_HANDLER

// Config-entry writes shared with the intention endpoints (config_entries.cc).
boost::asio::awaitable<Status> writeConfigEntry(Context& ctx, const model::ConfigEntry& e,
                                                std::optional<uint64_t> cas, bool* applied);
boost::asio::awaitable<Status> deleteConfigEntry(Context& ctx, const std::string& kind,
                                                 const std::string& name,
                                                 std::optional<uint64_t> cas, bool* applied);
Json renderEntryRow(const pb::ConfigEntry& row);

}  // namespace trellis::api
