#include "xds/generators/proto_util.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

namespace trellis::xds {

std::string deterministicBytes(const google::protobuf::Message& msg) {
  std::string out;
  out.reserve(msg.ByteSizeLong());
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    msg.SerializeWithCachedSizes(&coded);
  }
  return out;
}

void packAny(google::protobuf::Any& any, const google::protobuf::Message& msg) {
  any.set_type_url("type.googleapis.com/" + msg.GetDescriptor()->full_name());
  any.set_value(deterministicBytes(msg));
}

ResourcePtr makeMessageResource(std::string name, const google::protobuf::Message& msg) {
  return makeResource(std::move(name), deterministicBytes(msg));
}

void setAdsSource(envoy::config::core::v3::ConfigSource& source) {
  source.mutable_ads();
  source.set_resource_api_version(envoy::config::core::v3::V3);
}

}  // namespace trellis::xds
