// The tools file: JSON {"tools": [ {name, command, params, ...} ],
// "builtins": {"fasta_stats": {"allowed_paths": [...]}}} declaring exec
// tools and configuring the built-in ones (docs/tools.md). Parsing checks
// shapes and types (and a retry object's bounds, read as a job spec's is:
// tools/retry_json.hpp); check_exec_tool (exec_tool.hpp) and
// check_builtin_config (builtin_tools.hpp) check meaning. Pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tools/builtin_tools.hpp"
#include "tools/exec_tool.hpp"

namespace overseer::tools {

/// A problem with one tool of the file: `tool` is its name, or "#N" (from 1)
/// when it has none; empty for the file as a whole.
struct tools_file_problem {
  std::string tool;
  field_error error;
};

struct tools_file_contents {
  std::vector<exec_tool_config> tools;  ///< one per element of "tools", in order
  std::optional<builtin_config> builtins;  ///< the "builtins" object, if the file has one
};

/// Reads the text of a tools file. Every problem found is appended to
/// `problems`; the contents are meaningful only when there are none.
[[nodiscard]] tools_file_contents parse_tools_file(std::string_view json,
                                                   std::vector<tools_file_problem>& problems);

/// "tools file F: tool "T": field "X": message", one problem per line.
[[nodiscard]] std::string describe(const std::string& file, const std::vector<tools_file_problem>& problems);

}  // namespace overseer::tools
