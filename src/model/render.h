#pragma once
// Rendering state-store rows as Consul's JSON response shapes (PascalCase, Go field order,
// `[]`/`{}` for empty collections where clients depend on it).

#include <nlohmann/json.hpp>

#include "trellis.pb.h"

namespace trellis::model {

using Json = nlohmann::ordered_json;

Json renderNode(const pb::Node& n);
// AgentService. Without indexes: the agent endpoints' shape (api.AgentService). With indexes:
// the catalog's (structs.NodeService, in ServiceEntry.Service and /v1/catalog/node*), where
// Proxy and Connect are always present.
Json renderAgentService(const pb::Service& s, bool with_indexes, const std::string& datacenter);
// CatalogService (/v1/catalog/service/:s): node fields flattened with Service* fields.
Json renderCatalogService(const pb::Node& n, const pb::Service& s);
Json renderCheck(const pb::Check& c);
Json renderKv(const pb::KVEntry& e, bool with_value);
Json renderSession(const pb::Session& s);
Json renderWeights(const pb::Service& s);
Json renderServiceTaggedAddresses(const pb::Service& s);
// A block stored as JSON text (Locality); `{}` when absent.
Json rawObject(const std::string& json_text);

}  // namespace trellis::model
