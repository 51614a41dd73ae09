#include "intentions/intention.h"

#include <algorithm>
#include <tuple>

#include "model/decode.h"

namespace trellis::intentions {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kZeroTime = "0001-01-01T00:00:00Z";

int countExact(std::string_view ns, std::string_view name) {
  if (ns == kWildcard) return 0;
  if (name == kWildcard) return 1;
  return 2;
}

std::string part(const std::string& ns, const std::string& name) {
  if (!ns.empty() && ns != kDefaultNamespace) return ns + "/" + name;
  return name;
}

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), ::toupper);
  return s;
}

}  // namespace

int computePrecedence(std::string_view src_ns, std::string_view src_name, std::string_view dst_ns,
                      std::string_view dst_name) {
  int max = 0;
  switch (countExact(dst_ns, dst_name)) {
    case 2:
      max = 9;
      break;
    case 1:
      max = 6;
      break;
    default:
      max = 3;
      break;
  }
  return max - (2 - countExact(src_ns, src_name));
}

bool precedenceBefore(const Intention& a, const Intention& b) {
  if (a.precedence != b.precedence) return a.precedence > b.precedence;
  return std::tie(a.source_ns, a.source_name, a.destination_ns, a.destination_name) <
         std::tie(b.source_ns, b.source_name, b.destination_ns, b.destination_name);
}

std::string cliString(const Intention& ixn) {
  std::string detail;
  switch (ixn.permissions.size()) {
    case 0:
      detail = ixn.action;
      break;
    case 1:
      detail = "1 permission";
      break;
    default:
      detail = std::to_string(ixn.permissions.size()) + " permissions";
      break;
  }
  return part(ixn.source_ns, ixn.source_name) + " => " +
         part(ixn.destination_ns, ixn.destination_name) + " (" + detail + ")";
}

std::string reasonString(const Intention& ixn) {
  std::string out = ixn.source_ns + "/" + ixn.source_name + " => " + ixn.destination_ns + "/" +
                    ixn.destination_name + " (";
  if (!ixn.id.empty()) out += "ID: " + ixn.id + ", ";
  out += "Precedence: " + std::to_string(ixn.precedence) + ", ";
  if (ixn.isL7()) {
    out += "Permissions: " + std::to_string(ixn.permissions.size());
  } else {
    out += "Action: " + upper(ixn.action);
  }
  return out + ")";
}

nlohmann::ordered_json renderIntention(const Intention& ixn) {
  Json j;
  j["ID"] = ixn.id;
  j["Description"] = ixn.description;
  j["SourceNS"] = ixn.source_ns;
  j["SourceName"] = ixn.source_name;
  j["DestinationNS"] = ixn.destination_ns;
  j["DestinationName"] = ixn.destination_name;
  if (!ixn.source_partition.empty()) j["SourcePartition"] = ixn.source_partition;
  if (!ixn.destination_partition.empty()) j["DestinationPartition"] = ixn.destination_partition;
  if (!ixn.source_peer.empty()) j["SourcePeer"] = ixn.source_peer;
  if (!ixn.source_sameness_group.empty()) j["SourceSamenessGroup"] = ixn.source_sameness_group;
  j["SourceType"] = ixn.source_type;
  if (!ixn.action.empty()) j["Action"] = ixn.action;
  if (!ixn.permissions.empty()) {
    j["Permissions"] = Json::array();
    for (const auto& p : ixn.permissions) j["Permissions"].push_back(model::toJson(p));
  }
  j["Meta"] = Json::object();
  for (const auto& [k, v] : ixn.meta) j["Meta"][k] = v;
  j["Precedence"] = ixn.precedence;
  j["CreatedAt"] = ixn.created_at.empty() ? std::string(kZeroTime) : ixn.created_at;
  j["UpdatedAt"] = ixn.updated_at.empty() ? std::string(kZeroTime) : ixn.updated_at;
  j["CreateIndex"] = ixn.create_index;
  j["ModifyIndex"] = ixn.modify_index;
  return j;
}

Result<Intention> decodeIntention(const nlohmann::json& body) {
  auto f = model::Fields::of(body, "structs.Intention");
  if (!f) return f.status();
  Intention ixn;
  ixn.source_ns.clear();
  ixn.destination_ns.clear();
  ixn.source_type.clear();
  std::string ignored_s;
  int64_t ignored_i = 0;
  uint64_t ignored_u = 0;
  for (auto [name, out] : {std::pair{"ID", &ixn.id},
                           {"Description", &ixn.description},
                           {"SourceNS", &ixn.source_ns},
                           {"SourceName", &ixn.source_name},
                           {"DestinationNS", &ixn.destination_ns},
                           {"DestinationName", &ixn.destination_name},
                           {"SourcePartition", &ixn.source_partition},
                           {"DestinationPartition", &ixn.destination_partition},
                           {"SourcePeer", &ixn.source_peer},
                           {"SourceSamenessGroup", &ixn.source_sameness_group},
                           {"SourceType", &ixn.source_type},
                           {"Action", &ixn.action},
                           {"DefaultAddr", &ignored_s},
                           {"CreatedAt", &ignored_s},
                           {"UpdatedAt", &ignored_s},
                           {"Hash", &ignored_s}}) {
    if (Status s = f->str(name, out); !s) return s;
  }
  if (Status s = f->i64("DefaultPort", &ignored_i); !s) return s;
  if (Status s = f->i64("Precedence", &ignored_i); !s) return s;
  if (Status s = f->u64("CreateIndex", &ignored_u); !s) return s;
  if (Status s = f->u64("ModifyIndex", &ignored_u); !s) return s;
  if (Status s = f->stringMap("Meta", &ixn.meta); !s) return s;
  if (const auto* perms = f->take("Permissions")) {
    auto p = model::decodePermissions(*perms);
    if (!p) return p.status();
    ixn.permissions = std::move(*p);
  }
  if (Status s = f->finish(); !s) return s;
  if (ixn.source_ns.empty()) ixn.source_ns = kDefaultNamespace;
  if (ixn.destination_ns.empty()) ixn.destination_ns = kDefaultNamespace;
  if (ixn.source_type.empty()) ixn.source_type = "consul";
  return ixn;
}

}  // namespace trellis::intentions
