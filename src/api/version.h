#pragma once
// The Consul version Trellis reports where tools check one (agent/self Config.Version, members'
// build tag, `trellis version -format=json`). It names the Consul API generation we match.

namespace trellis::api {
inline constexpr const char* kConsulCompatVersion = "1.18.2";
}  // namespace trellis::api
