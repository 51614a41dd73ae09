#pragma once
// Decoding Consul request bodies: keys match case-insensitively and snake_case aliases match their
// PascalCase field (DestinationServiceName == destination_service_name), unknown keys and wrong
// types are rejected with Go-like reasons, which Consul clients and tests match on:
//   Request decode failed: json: unknown field "Foo"
//   Request decode failed: json: cannot unmarshal string into Go struct field .Port of type int

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace trellis::model {

using InJson = nlohmann::json;

// Parses a request body; empty bodies yield null. Errors: "Request decode failed: <reason>".
Result<InJson> parseBody(std::string_view body);

class Fields {
 public:
  // `v` must be an object (or null, treated as empty); `type` names it in errors.
  static Result<Fields> of(const InJson& v, std::string type);

  // Takes the value of field `name` (or any of its aliases); nullptr when absent or null.
  const InJson* take(std::string_view name);

  Status str(std::string_view name, std::string* out);
  Status i64(std::string_view name, int64_t* out);
  Status u64(std::string_view name, uint64_t* out);
  Status i32(std::string_view name, int32_t* out);
  Status boolean(std::string_view name, bool* out);
  Status strings(std::string_view name, std::vector<std::string>* out);
  Status stringMap(std::string_view name, std::map<std::string, std::string>* out);
  // A Go duration string ("10s") or a number of nanoseconds.
  Status duration(std::string_view name, std::chrono::nanoseconds* out);
  // Raw nested value (object/array) for a sub-decoder; nullptr when absent.
  const InJson* raw(std::string_view name) { return take(name); }

  // Error for the first key that no take() consumed.
  Status finish() const;

  Status typeError(std::string_view field, const InJson& v, std::string_view go_type) const;

 private:
  const InJson* obj_ = nullptr;
  std::string type_;
  std::vector<bool> used_;
  std::vector<std::pair<std::string, const InJson*>> entries_;  // normalized key -> value
  std::vector<std::string> original_keys_;
};

std::string jsonTypeName(const InJson& v);
Status decodeError(std::string reason);

}  // namespace trellis::model
