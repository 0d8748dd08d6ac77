#include "tools/param_schema.hpp"

#include "persistence/file_store.hpp"
#include "tools/did_you_mean.hpp"
#include "tools/json_number.hpp"
#include "tools/regex.hpp"
#include "tools/utf8.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <string>
#include <string_view>

#include <boost/json/serialize.hpp>

namespace overseer::tools {
namespace {

constexpr std::array<std::string_view, 7> types = {"string", "integer", "number", "boolean",
                                                   "object", "array",   "file"};
constexpr std::array<std::string_view, 9> entry_keys = {
  "type", "required", "default", "minimum", "maximum", "enum", "pattern", "absolute_path", "description"};

std::string quote(std::string_view s) { return std::string{"\""}.append(s).append("\""); }

double as_double(const boost::json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return v.get_double();
}

// boost::json prints doubles as "1.5E0"; messages read better as "1.5". A
// long value is quoted by its start: an answer must not echo megabytes.
std::string render(const boost::json::value& v) {
  constexpr std::size_t max_quoted = 200;
  if (v.is_double()) return format_number(v.get_double());
  auto s = boost::json::serialize(v);
  if (s.size() <= max_quoted) return s;
  return std::string(utf8_prefix(s, max_quoted)) + "... (" + std::to_string(s.size()) + " bytes)";
}

bool has_type(const boost::json::value& v, std::string_view type) {
  if (type == "string") return v.is_string();
  if (type == "integer") return is_integral(v);
  if (type == "number") return v.is_number();
  if (type == "boolean") return v.is_bool();
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  // A stored file's id; whether it exists is the engine's check at submit.
  if (type == "file") return v.is_string() && persistence::files::looks_like_file_id(v.get_string());
  return false;
}

// 2 and 2.0 are the same enum member although boost::json keeps them apart.
bool same_value(const boost::json::value& a, const boost::json::value& b) {
  if (a.is_number() && b.is_number()) return as_double(a) == as_double(b);
  return a == b;
}

// The nearest candidate, if it is close enough to be a plausible typo.
template <class Names>
std::string suggestion(std::string_view name, const Names& candidates) {
  auto best = nearest_name(name, candidates);
  return best.empty() ? std::string{} : "; did you mean " + quote(best) + "?";
}

// Checks one value against its (well-formed) entry; appends at most one error.
void check_value(const boost::json::object& entry, const boost::json::value& v,
                 const std::string& field, std::vector<field_error>& errors) {
  auto fail = [&](std::string message) { errors.push_back({field, std::move(message)}); };
  if (const auto* type = entry.if_contains("type"); type && type->is_string()) {
    if (!has_type(v, type->get_string())) {
      if (type->get_string() == "file") return fail("expected a file id (\"file_\" and 26 characters), found " + render(v));
      return fail("expected " + std::string(type->get_string()) + ", found " + render(v));
    }
  }
  if (v.is_number()) {
    const auto* min = entry.if_contains("minimum");
    if (min && min->is_number() && as_double(v) < as_double(*min)) {
      return fail(render(v) + " is below the minimum " + render(*min));
    }
    const auto* max = entry.if_contains("maximum");
    if (max && max->is_number() && as_double(v) > as_double(*max)) {
      return fail(render(v) + " is above the maximum " + render(*max));
    }
  }
  if (const auto* options = entry.if_contains("enum"); options && options->is_array()) {
    const auto& arr = options->get_array();
    if (std::none_of(arr.begin(), arr.end(), [&](const auto& o) { return same_value(o, v); })) {
      return fail(render(v) + " is not one of " + boost::json::serialize(arr));
    }
  }
  const auto* pattern = entry.if_contains("pattern");
  if (pattern && pattern->is_string() && v.is_string()) {
    std::string reason;
    const auto re = compile_regex(pattern->get_string(), reason);  // compiled at registration
    if (!re) return fail("the schema's pattern does not compile: " + reason);
    if (!full_match(*re, v.get_string())) {
      return fail(render(v) + " does not match the pattern " + std::string(pattern->get_string()));
    }
  }
  const auto* absolute = entry.if_contains("absolute_path");
  if (absolute && absolute->is_bool() && absolute->get_bool() && v.is_string()) {
    const std::string_view path = v.get_string();
    if (!path.starts_with('/')) {
      return fail(render(v) + " is a relative path; give an absolute one, starting with /");
    }
    if (path.find('\0') != std::string_view::npos) return fail("contains a NUL byte, which no path can");
  }
}

void check_entry(const std::string& field, const boost::json::object& entry,
                 std::vector<field_error>& errors) {
  auto fail = [&](const std::string& f, std::string message) {
    errors.push_back({f, std::move(message)});
  };
  const auto before = errors.size();
  for (const auto& [key, value] : entry) {
    const std::string f = field + "." + std::string(key);
    if (std::find(entry_keys.begin(), entry_keys.end(), key) == entry_keys.end()) {
      fail(f, "unknown key " + quote(key) + suggestion(key, entry_keys));
    } else if (key == "type") {
      if (!value.is_string() ||
          std::find(types.begin(), types.end(), value.get_string()) == types.end()) {
        fail(f, "expected one of string, integer, number, boolean, object, array, file; found " +
                    render(value));
      }
    } else if (key == "required" && !value.is_bool()) {
      fail(f, "expected boolean, found " + render(value));
    } else if ((key == "minimum" || key == "maximum") && !value.is_number()) {
      fail(f, "expected number, found " + render(value));
    } else if (key == "enum" && !value.is_array()) {
      fail(f, "expected array, found " + render(value));
    } else if ((key == "description" || key == "pattern") && !value.is_string()) {
      fail(f, "expected string, found " + render(value));
    } else if (key == "pattern") {
      std::string reason;
      if (!compile_regex(value.get_string(), reason)) {
        fail(f, render(value) + " is not a valid RE2 regular expression (no backreferences, no lookaround): " +
                    reason);
      }
    } else if (key == "absolute_path" && !value.is_bool()) {
      fail(f, "expected boolean, found " + render(value));
    }
  }
  if (!entry.contains("type")) fail(field + ".type", "is required");
  const auto* type = entry.if_contains("type");
  const auto* absolute = entry.if_contains("absolute_path");
  if (absolute && absolute->is_bool() && absolute->get_bool() &&
      !(type && type->is_string() && type->get_string() == "string")) {
    fail(field + ".absolute_path", "only a param of type string can be a path");
  }
  const auto* min = entry.if_contains("minimum");
  const auto* max = entry.if_contains("maximum");
  if (min && max && min->is_number() && max->is_number() && as_double(*min) > as_double(*max)) {
    fail(field + ".minimum", "minimum " + render(*min) + " is above the maximum " + render(*max));
  }
  // A default is only checked against rules that are themselves sound.
  if (const auto* def = entry.if_contains("default"); def && errors.size() == before) {
    check_value(entry, *def, field + ".default", errors);
  }
}

}  // namespace

std::vector<field_error> check_schema(const boost::json::object& schema) {
  std::vector<field_error> errors;
  for (const auto& [name, entry] : schema) {
    const std::string field = "params." + std::string(name);
    if (!entry.is_object()) {
      errors.push_back({field, "expected an object, found " + render(entry)});
    } else {
      check_entry(field, entry.get_object(), errors);
    }
  }
  return errors;
}

namespace {

std::vector<field_error> validate(const boost::json::object& schema, const boost::json::object& params,
                                  boost::json::object& out, bool free_form_when_empty) {
  std::vector<field_error> errors;
  if (schema.empty() && free_form_when_empty) {
    out = params;
    return errors;
  }
  boost::json::object filled;
  for (const auto& [name, entry_value] : schema) {
    const std::string field = "params." + std::string(name);
    const auto* entry = entry_value.if_object();
    if (entry == nullptr) continue;  // check_schema refuses these at registration
    if (const auto* v = params.if_contains(name)) {
      check_value(*entry, *v, field, errors);
      filled[name] = *v;
    } else if (const auto* def = entry->if_contains("default")) {
      filled[name] = *def;
    } else if (const auto* req = entry->if_contains("required"); req && req->is_bool() && req->get_bool()) {
      errors.push_back({field, "is required"});
    }
  }
  std::vector<std::string_view> known;
  for (const auto& kv : schema) known.push_back(kv.key());
  for (const auto& [name, value] : params) {
    if (!schema.contains(name)) {
      errors.push_back({"params." + std::string(name),
                        schema.empty() ? "unknown parameter " + quote(name) + ": this tool takes no params"
                                       : "unknown parameter " + quote(name) + suggestion(name, known)});
    }
  }
  if (errors.empty()) out = std::move(filled);
  return errors;
}

}  // namespace

std::vector<field_error> validate_params(const boost::json::object& schema,
                                         const boost::json::object& params,
                                         boost::json::object& out) {
  // A tool that declares no parameters takes free-form params, as the
  // embedding example's "align" does with {"ref": "hg38"}.
  return validate(schema, params, out, true);
}

std::vector<field_error> validate_params(const tool_definition& tool, const boost::json::object& params,
                                         boost::json::object& out) {
  return validate(tool.params, params, out, !tool.strict_params);
}

}  // namespace overseer::tools
