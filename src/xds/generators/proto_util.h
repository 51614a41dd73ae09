#pragma once
// Serialisation helpers shared by the generators. Resource versions are hashes of the bytes, so
// every message -- including the ones packed into Any fields -- is serialised deterministically:
// protobuf's default order for map fields (RBAC policies) is unspecified.

#include <string>
#include <string_view>

#include <google/protobuf/any.pb.h>
#include <google/protobuf/message.h>

#include "envoy/config/core/v3/config_source.pb.h"
#include "xds/resources.h"

namespace trellis::xds {

std::string deterministicBytes(const google::protobuf::Message& msg);

// Any::PackFrom, but with deterministic bytes.
void packAny(google::protobuf::Any& any, const google::protobuf::Message& msg);

ResourcePtr makeMessageResource(std::string name, const google::protobuf::Message& msg);

// `{ads: {}, resource_api_version: V3}`: fetch the referenced resource over the same ADS stream.
void setAdsSource(envoy::config::core::v3::ConfigSource& source);

}  // namespace trellis::xds
