#include "config/normalize.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/duration.h"
#include "config/schema.h"

namespace trellis::config {
namespace {

using nlohmann::json;

class Normalizer {
 public:
  using Warnings = std::vector<std::pair<int, std::string>>;  // (line, text)

  Normalizer(const ParsedDocument& doc, const std::string& source, Warnings& warnings)
      : doc_(doc), source_(source), warnings_(warnings) {}

  Status walkStruct(const std::vector<KeySpec>& specs, const json& in, const std::string& ptr,
                    const std::string& dotted, json& out) {
    if (!out.is_object()) out = json::object();
    for (const auto& [name, value] : in.items()) {
      std::string p = appendPointer(ptr, name);
      std::string d = dotted.empty() ? name : dotted + "." + name;
      const KeySpec* spec = findKey(specs, name);
      if (spec == nullptr) return error(p, "unknown config key \"" + d + "\"");
      if (spec->name != name) d = dotted.empty() ? spec->name : dotted + "." + spec->name;
      Status s = walkValue(*spec, value, p, d, out[spec->name]);
      if (!s.isOk()) return s;
    }
    return Status::ok();
  }

 private:
  std::string where(const std::string& ptr) const {
    int line = doc_.lineOf(ptr);
    return line > 0 ? source_ + ":" + std::to_string(line) : source_;
  }
  Status error(const std::string& ptr, const std::string& what) const {
    return invalidArgument(where(ptr) + ": " + what);
  }
  Status invalid(const std::string& ptr, const std::string& dotted, const std::string& why) {
    return error(ptr, "invalid value for \"" + dotted + "\": " + why);
  }
  void warnUnimplemented(const std::string& ptr, const std::string& dotted) {
    warnings_.emplace_back(doc_.lineOf(ptr), where(ptr) + ": config key \"" + dotted +
                                                 "\" is accepted but not implemented yet; ignored");
  }

  static const char* typeName(const json& v) {
    switch (v.type()) {
      case json::value_t::object:
        return "an object";
      case json::value_t::array:
        return "a list";
      case json::value_t::string:
        return "a string";
      case json::value_t::boolean:
        return "a boolean";
      case json::value_t::number_float:
        return "a float";
      case json::value_t::number_integer:
      case json::value_t::number_unsigned:
        return "an integer";
      default:
        return "null";
    }
  }
  Status wrongType(const std::string& ptr, const std::string& dotted, const char* want,
                   const json& got) {
    return invalid(ptr, dotted, std::string("expected ") + want + ", got " + typeName(got));
  }

  // Go's decoder turns a float with no fraction into an int; so do we.
  static bool asInteger(const json& v, int64_t& out) {
    if (v.is_number_integer() &&
        !(v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))) {
      out = v.get<int64_t>();
      return true;
    }
    if (v.is_number_float()) {
      double d = v.get<double>();
      if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9.2e18) {
        out = static_cast<int64_t>(d);
        return true;
      }
    }
    return false;
  }

  // Each element of a list that HCL built from repeated blocks, or the object itself.
  static std::vector<std::pair<const json*, std::string>> objectsOf(const json& v,
                                                                    const std::string& ptr) {
    std::vector<std::pair<const json*, std::string>> out;
    if (v.is_object()) {
      out.emplace_back(&v, ptr);
    } else if (v.is_array()) {
      for (size_t i = 0; i < v.size(); ++i) out.emplace_back(&v[i], appendPointer(ptr, i));
    }
    return out;
  }

  Status walkValue(const KeySpec& spec, const json& v, const std::string& ptr,
                   const std::string& dotted, json& out) {
    bool leaf = spec.type != KeyType::kStruct;
    switch (spec.type) {
      case KeyType::kBool:
        if (!v.is_boolean()) return wrongType(ptr, dotted, "a boolean", v);
        out = v;
        break;
      case KeyType::kInt:
      case KeyType::kUint: {
        int64_t i = 0;
        if (!asInteger(v, i)) return wrongType(ptr, dotted, "an integer", v);
        if (spec.type == KeyType::kUint && i < 0)
          return invalid(ptr, dotted, "must not be negative");
        out = i;
        break;
      }
      case KeyType::kFloat:
        if (!v.is_number()) return wrongType(ptr, dotted, "a number", v);
        out = v;
        break;
      case KeyType::kString:
        if (!v.is_string()) return wrongType(ptr, dotted, "a string", v);
        out = v;
        break;
      case KeyType::kDuration:
        if (!v.is_string()) return wrongType(ptr, dotted, "a duration string such as \"10s\"", v);
        if (!parseGoDuration(v.get_ref<const std::string&>())) {
          return invalid(ptr, dotted, "invalid duration \"" + v.get<std::string>() + "\"");
        }
        out = v;
        break;
      case KeyType::kStringList:
        if (!v.is_array()) return wrongType(ptr, dotted, "a list of strings", v);
        for (size_t i = 0; i < v.size(); ++i) {
          if (!v[i].is_string()) {
            return wrongType(appendPointer(ptr, i), dotted, "a list of strings", v);
          }
        }
        out = v;
        break;
      case KeyType::kStringMap:
      case KeyType::kAnyMap: {
        auto objects = objectsOf(v, ptr);
        if (objects.empty()) return wrongType(ptr, dotted, "an object", v);
        out = json::object();
        for (const auto& [obj, optr] : objects) {
          if (!obj->is_object()) return wrongType(optr, dotted, "an object", *obj);
          for (const auto& [k, item] : obj->items()) {
            if (spec.type == KeyType::kStringMap && !item.is_string()) {
              return invalid(appendPointer(optr, k), dotted + "." + k,
                             std::string("expected a string, got ") + typeName(item));
            }
            out[k] = item;
          }
        }
        break;
      }
      case KeyType::kObjectList:
      case KeyType::kStructList: {
        auto objects = objectsOf(v, ptr);
        if (objects.empty()) return wrongType(ptr, dotted, "an object or a list of objects", v);
        out = json::array();
        for (const auto& [obj, optr] : objects) {
          if (!obj->is_object()) {
            return wrongType(optr, dotted, "an object or a list of objects", *obj);
          }
          if (spec.type == KeyType::kObjectList) {
            out.push_back(*obj);
            continue;
          }
          json item = json::object();
          // Children of a list we do not implement are checked but not warned about one by one.
          Warnings ignored;
          Warnings& sink = warnings_;
          Status s = Normalizer(doc_, source_, spec.implemented ? sink : ignored)
                         .walkStruct(spec.children, *obj, optr, dotted, item);
          if (!s.isOk()) return s;
          out.push_back(std::move(item));
        }
        break;
      }
      case KeyType::kStruct: {
        auto objects = objectsOf(v, ptr);
        if (objects.empty()) return wrongType(ptr, dotted, "an object", v);
        for (const auto& [obj, optr] : objects) {
          if (!obj->is_object()) return wrongType(optr, dotted, "an object", *obj);
          Status s = walkStruct(spec.children, *obj, optr, dotted, out);
          if (!s.isOk()) return s;
        }
        break;
      }
    }
    if (leaf && spec.check != nullptr) {
      std::string why = spec.check(out);
      if (!why.empty()) return invalid(ptr, dotted, why);
    }
    if (leaf && !spec.implemented) warnUnimplemented(ptr, dotted);
    return Status::ok();
  }

  const ParsedDocument& doc_;
  const std::string& source_;
  Warnings& warnings_;
};

bool isAppendedList(const KeySpec& spec) {
  return spec.type == KeyType::kStringList || spec.type == KeyType::kObjectList ||
         spec.type == KeyType::kStructList;
}

void mergeWith(const std::vector<KeySpec>& specs, json& dst, const json& src) {
  for (const auto& [name, value] : src.items()) {
    const KeySpec* spec = findKey(specs, name);
    json& slot = dst[name];
    if (spec != nullptr && spec->type == KeyType::kStruct) {
      if (!slot.is_object()) slot = json::object();
      mergeWith(spec->children, slot, value);
    } else if (spec != nullptr && isAppendedList(*spec) && slot.is_array()) {
      for (const auto& item : value) slot.push_back(item);
    } else if (spec != nullptr &&
               (spec->type == KeyType::kStringMap || spec->type == KeyType::kAnyMap) &&
               value.empty() && slot.is_object()) {
      // Consul keeps the earlier map when the later one is empty.
    } else {
      slot = value;
    }
  }
}

// service/check are single definitions in Consul's struct but several per file in practice;
// both fold into the plural list, single ones first as Consul's builder does.
void foldDefinitions(json& out, const char* single, const char* plural) {
  if (!out.contains(single)) return;
  json combined = out[single];
  if (out.contains(plural)) {
    for (const auto& item : out[plural]) combined.push_back(item);
  }
  out[plural] = std::move(combined);
  out.erase(single);
}

}  // namespace

Result<json> normalizeSource(const ParsedDocument& doc, const std::string& source,
                             std::vector<std::string>& warnings) {
  try {
    if (doc.value.is_null()) return json::object();
    if (!doc.value.is_object()) {
      return invalidArgument(source + ": config must be an object at the top level");
    }
    json out = json::object();
    Normalizer::Warnings local;
    Status s =
        Normalizer(doc, source, local).walkStruct(agentConfigSchema(), doc.value, "", "", out);
    if (!s.isOk()) return s;
    foldDefinitions(out, "service", "services");
    foldDefinitions(out, "check", "checks");
    // Objects iterate in key order; report in the order the file reads instead.
    std::stable_sort(local.begin(), local.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& w : local) warnings.push_back(std::move(w.second));
    return out;
  } catch (const std::exception& e) {
    return internalError(source + ": " + e.what());
  }
}

void mergeSources(json& dst, const json& src) {
  if (!dst.is_object()) dst = json::object();
  mergeWith(agentConfigSchema(), dst, src);
}

}  // namespace trellis::config
