// fuzz_param_schema: a tool's param schema checked (check_schema), then a
// job's params validated against it (validate_params), from one JSON text
// {"schema": {...}, "params": {...}}.
//
// Promises checked: errors name their field in valid UTF-8; validating
// never throws, even against a schema check_schema refused (a registry
// only holds checked schemas, but the engine must not crash on a bad one);
// against a sound schema, accepted params come back with every default
// filled in, and validating that output again accepts it unchanged.
#include "fuzz/fuzz.hpp"

#include <string>

#include <boost/json/parse.hpp>

#include "fuzz/json_checks.hpp"
#include "tools/param_schema.hpp"

namespace overseer::fuzz {

int fuzz_param_schema(const std::uint8_t* data, std::size_t size) {
  boost::system::error_code ec;
  const auto v = boost::json::parse(as_text(data, size), ec);
  if (ec || !v.is_object()) return 0;
  const auto* schema_value = v.get_object().if_contains("schema");
  const auto* params_value = v.get_object().if_contains("params");
  if (!schema_value || !schema_value->is_object()) return 0;
  const auto& schema = schema_value->get_object();
  static const boost::json::object no_params;
  const auto& params = params_value && params_value->is_object() ? params_value->get_object() : no_params;

  const auto schema_errors = tools::check_schema(schema);
  check_field_errors(schema_errors, "check_schema");
  boost::json::object out;
  std::vector<field_error> errors;
  try {
    errors = tools::validate_params(schema, params, out);
  } catch (const std::exception& e) {
    fail(std::string("validate_params threw: ") + e.what());
  }
  check_field_errors(errors, "validate_params");
  if (!schema_errors.empty() || !errors.empty()) return 0;

  for (const auto& [name, entry] : schema) {
    const auto& e = entry.get_object();
    if (e.contains("default") && !out.contains(name))
      fail("validate_params: param \"" + excerpt(name) + "\" has a default but is missing from the output");
  }
  boost::json::object again;
  const auto second = tools::validate_params(schema, out, again);
  if (!second.empty())
    fail("validate_params refuses its own output: " + second.front().field + ": " + second.front().message);
  if (again != out) fail("validate_params changes its own output on a second pass");
  return 0;
}

}  // namespace overseer::fuzz
