#pragma once
// Service and check definitions as the agent receives them: from PUT /v1/agent/service/register,
// PUT /v1/agent/check/register, and `services`/`checks` in agent config files. One decoder for all
// three (PascalCase or snake_case keys), with Consul's defaults and validation messages.

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "model/decode.h"
#include "trellis.pb.h"

namespace trellis::agent {

// A check as the agent keeps it: the catalog row (pb::Check, whose definition also carries the
// runner settings such as TTL and script args).
struct CheckDef {
  pb::Check check;
  bool has_status = false;  // Status given explicitly (otherwise critical)
};

struct ServiceDef {
  pb::Service service;
  std::vector<CheckDef> checks;
  std::string token;
  // Connect.SidecarService as given: ID `<id>-sidecar-proxy` and name already set, check IDs
  // derived from it; the other defaults need the agent's state (expandSidecar in sidecar.h).
  std::shared_ptr<const ServiceDef> sidecar;
};

// Decodes and validates a service definition. `node` owns it. Validation errors are Consul's
// 400 reasons: "Missing service name", "Validation failed: <why>", "Invalid check: <why>", ...
Result<ServiceDef> decodeService(const model::InJson& body, const std::string& node);
// Decodes a check registration (/v1/agent/check/register or a config-file check).
Result<CheckDef> decodeCheck(const model::InJson& body, const std::string& node);

// Check type from its definition: "ttl", "http", "tcp", "script", "alias", ... ("" if invalid).
std::string checkKind(const pb::CheckDefinition& d);

}  // namespace trellis::agent
