// Looking tools up by name: what a name may be, and what a client is told
// when it names no registered tool. The registry itself is
// overseer::tool_registry (include/overseer/tool.hpp).
#pragma once

#include <string_view>
#include <vector>

#include "overseer/tool.hpp"

namespace overseer::tools {

/// 1-64 of A-Z a-z 0-9 _ . -
[[nodiscard]] bool is_tool_name(std::string_view name) noexcept;

/// The one check of a tool definition, whoever declares the tool (the
/// registry's add, an exec tool, the tools file): its name, its params
/// schema, timeout_s, max_concurrent and retry policy (check_retry_policy).
[[nodiscard]] std::vector<field_error> check_definition(const tool_definition& d);

/// The error for a submit naming `name`, which `registry` does not hold:
/// field "tool", message `unknown tool "slep"; did you mean "sleep"?` (the
/// suggestion only when a registered name is a plausible typo of it).
[[nodiscard]] field_error unknown_tool(const tool_registry& registry, std::string_view name);

}  // namespace overseer::tools
