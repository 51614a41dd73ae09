#pragma once
// Service and check definitions as the agent receives them: from PUT /v1/agent/service/register,
// PUT /v1/agent/check/register, and `services`/`checks` in agent config files. One decoder for all
// three (PascalCase or snake_case keys), with Consul's defaults and validation messages.

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
};

// Decodes a service definition. `node` owns it.
Result<ServiceDef> decodeService(const model::InJson& body, const std::string& node);
// Decodes a check registration (/v1/agent/check/register or a config-file check).
Result<CheckDef> decodeCheck(const model::InJson& body, const std::string& node);

// Check type from its definition: "ttl", "http", "tcp", "script", "alias", ... ("" if invalid).
std::string checkKind(const pb::CheckDefinition& d);

}  // namespace trellis::agent
