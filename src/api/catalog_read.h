#pragma once
// Shared read helpers for the catalog and health endpoints: ?tag, ?node-meta and the
// ServiceEntry shape (node + service + node-level and service checks).

#include <string>
#include <vector>

#include "api/context.h"

namespace trellis::api {

// ?node-meta=key:value (repeatable, all must match; split at the first ':').
bool nodeMetaMatches(const http::Request& req, const pb::Node& node);
// ?tag=t (repeatable, all must be present).
bool tagsMatch(const http::Request& req, const pb::Service& svc);
// Instances that serve `name` over Connect: connect-proxy instances whose
// Proxy.DestinationServiceName is `name`, and Connect-native instances of `name`.
std::vector<const pb::Service*> connectInstances(const Context& ctx, const std::string& name);
Json renderServiceEntry(const Context& ctx, const pb::Node& node, const pb::Service& svc);
// Index that health/catalog reads report: the newest change to nodes, services or checks.
uint64_t catalogIndex(const Context& ctx);
std::vector<std::string> catalogTopics();

}  // namespace trellis::api
