#include "model/decode.h"

#include <cctype>

#include "common/duration.h"

namespace trellis::model {
namespace {

std::string normalize(std::string_view k) {
  std::string out;
  out.reserve(k.size());
  for (char c : k) {
    if (c == '_' || c == '-') continue;
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

}  // namespace

Status decodeError(std::string reason) {
  return invalidArgument("Request decode failed: " + std::move(reason));
}

Result<InJson> parseBody(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return InJson();
  InJson v = InJson::parse(body, nullptr, false);
  if (v.is_discarded()) return decodeError("invalid JSON in request body");
  return v;
}

std::string jsonTypeName(const InJson& v) {
  switch (v.type()) {
    case InJson::value_t::string: return "string";
    case InJson::value_t::boolean: return "bool";
    case InJson::value_t::number_integer:
    case InJson::value_t::number_unsigned:
    case InJson::value_t::number_float: return "number";
    case InJson::value_t::array: return "array";
    case InJson::value_t::object: return "object";
    default: return "null";
  }
}

Result<Fields> Fields::of(const InJson& v, std::string type) {
  Fields f;
  f.type_ = std::move(type);
  if (v.is_null()) return f;
  if (!v.is_object()) {
    return decodeError("json: cannot unmarshal " + jsonTypeName(v) + " into Go value of type " +
                       f.type_);
  }
  f.obj_ = &v;
  for (auto it = v.begin(); it != v.end(); ++it) {
    f.entries_.emplace_back(normalize(it.key()), &it.value());
    f.original_keys_.push_back(it.key());
  }
  f.used_.assign(f.entries_.size(), false);
  return f;
}

const InJson* Fields::take(std::string_view name) {
  std::string n = normalize(name);
  const InJson* found = nullptr;
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].first == n) {
      used_[i] = true;
      if (found == nullptr) found = entries_[i].second;
    }
  }
  if (found != nullptr && found->is_null()) return nullptr;
  return found;
}

Status Fields::finish() const {
  for (size_t i = 0; i < used_.size(); ++i) {
    if (!used_[i]) return decodeError("json: unknown field \"" + original_keys_[i] + "\"");
  }
  return Status::ok();
}

Status Fields::typeError(std::string_view field, const InJson& v, std::string_view go_type) const {
  return decodeError("json: cannot unmarshal " + jsonTypeName(v) + " into Go struct field " +
                     type_ + "." + std::string(field) + " of type " + std::string(go_type));
}

Status Fields::str(std::string_view name, std::string* out) {
  const InJson* v = take(name);
  if (v == nullptr) return Status::ok();
  if (!v->is_string()) return typeError(name, *v, "string");
  *out = v->get<std::string>();
  return Status::ok();
}

Status Fields::i64(std::string_view name, int64_t* out) {
  const InJson* v = take(name);
  if (v == nullptr) return Status::ok();
  if (v->is_number_integer()) {
    *out = v->get<int64_t>();
    return Status::ok();
  }
  if (v->is_number_float()) {
    double d = v->get<double>();
    if (d == static_cast<double>(static_cast<int64_t>(d))) {
      *out = static_cast<int64_t>(d);
      return Status::ok();
    }
  }
  return typeError(name, *v, "int");
}

Status Fields::u64(std::string_view name, uint64_t* out) {
  const InJson* v = take(name);
  if (v == nullptr) return Status::ok();
  if (v->is_number_unsigned() || (v->is_number_integer() && v->get<int64_t>() >= 0)) {
    *out = v->get<uint64_t>();
    return Status::ok();
  }
  return typeError(name, *v, "uint64");
}

Status Fields::i32(std::string_view name, int32_t* out) {
  int64_t v = *out;
  if (Status s = i64(name, &v); !s) return s;
  if (v < INT32_MIN || v > INT32_MAX) return decodeError("json: value out of range for " + std::string(name));
  *out = static_cast<int32_t>(v);
  return Status::ok();
}

Status Fields::boolean(std::string_view name, bool* out) {
  const InJson* v = take(name);
  if (v == nullptr) return Status::ok();
  if (!v->is_boolean()) return typeError(name, *v, "bool");
  *out = v->get<bool>();
  return Status::ok();
}

Status Fields::strings(std::string_view name, std::vector<std::string>* out) {
  const InJson* v = take(name);
  if (v == nullptr) return Status::ok();
  if (!v->is_array()) return typeError(name, *v, "[]string");
  out->clear();
  for (const auto& e : *v) {
    if (!e.is_string()) return typeError(name, e, "string");
    out->push_back(e.get<std::string>());
  }
  return Status::ok();
}

Status Fields::stringMap(std::string_view name, std::map<std::string, std::string>* out) {
  const InJson* v = take(name);
  if (v == nullptr) return Status::ok();
  if (!v->is_object()) return typeError(name, *v, "map[string]string");
  out->clear();
  for (auto it = v->begin(); it != v->end(); ++it) {
    if (!it.value().is_string()) return typeError(name, it.value(), "string");
    (*out)[it.key()] = it.value().get<std::string>();
  }
  return Status::ok();
}

Status Fields::duration(std::string_view name, std::chrono::nanoseconds* out) {
  const InJson* v = take(name);
  if (v == nullptr) return Status::ok();
  if (v->is_number_integer()) {
    *out = std::chrono::nanoseconds(v->get<int64_t>());
    return Status::ok();
  }
  if (v->is_string()) {
    std::string s = v->get<std::string>();
    if (s.empty()) {
      *out = std::chrono::nanoseconds(0);
      return Status::ok();
    }
    if (auto d = parseGoDuration(s)) {
      *out = *d;
      return Status::ok();
    }
    return decodeError("time: invalid duration \"" + s + "\"");
  }
  return typeError(name, *v, "time.Duration");
}

}  // namespace trellis::model
