// Parameter schemas of tools, and validation of a job's params against one.
//
// A schema is a JSON object {"NAME": {"type": ..., "required": bool,
// "default": v, "minimum": n, "maximum": n, "enum": [...], "pattern": "re",
// "absolute_path": bool, "description": "..."}} (see overseer::tool_definition).
// A pattern is an RE2 expression matched against the whole value
// (tools/regex.hpp), compiled when the schema is checked. Validation reports
// every problem at once, each naming its field as "params.NAME"; an unknown
// param suggests the nearest known name. Pure functions, thread-safe.
#pragma once

#include <vector>

#include <boost/json/object.hpp>

#include "overseer/errc.hpp"
#include "overseer/tool.hpp"

namespace overseer::tools {

/// Problems with a schema itself (unknown type, minimum > maximum, a pattern
/// that does not compile, a default that breaks its own rules). Empty = valid.
[[nodiscard]] std::vector<field_error> check_schema(const boost::json::object& schema);

/// Validates `params` against `schema`. On success returns no errors and sets
/// `out` to the params with defaults filled in. An empty schema declares no
/// parameters and accepts any params as they are.
[[nodiscard]] std::vector<field_error> validate_params(const boost::json::object& schema,
                                                       const boost::json::object& params,
                                                       boost::json::object& out);

/// Validates `params` for `tool`: as above, except that a tool with
/// strict_params refuses every undeclared param even when it declares none.
[[nodiscard]] std::vector<field_error> validate_params(const tool_definition& tool,
                                                       const boost::json::object& params,
                                                       boost::json::object& out);

}  // namespace overseer::tools
