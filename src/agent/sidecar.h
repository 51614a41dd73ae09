#pragma once
// Connect.SidecarService expansion: the nested definition becomes a connect-proxy registration
// with Consul's defaults (ID/Name `<parent>-sidecar-proxy`, Kind, Proxy destination and local
// service, a port from ports.sidecar_min_port..sidecar_max_port, Address/Tags/Meta/Locality from
// the parent, a TCP and an alias check). Pure: the agent passes the ports its services hold.

#include <map>
#include <string>

#include "agent/definition.h"

namespace trellis::agent {

struct SidecarPortRange {
  int min = 21000;  // <= 0 disables automatic assignment
  int max = 21255;
};

// ID of the sidecar that `service_id`'s Connect.SidecarService registers.
std::string sidecarId(const std::string& service_id);

// Builds the sidecar of `parent` (parent.sidecar must be set). `local_ports` maps each service ID
// registered on this agent to its port: ports in the range are taken, except that the sidecar's
// own previous port is kept so re-registration and reload do not move it. Errors are the 400
// reasons Consul gives ("Invalid SidecarService: ...", "Failed Validation: ...").
Result<ServiceDef> expandSidecar(const ServiceDef& parent,
                                 const std::map<std::string, int>& local_ports,
                                 SidecarPortRange range);

}  // namespace trellis::agent
