// The tools file: JSON {"tools": [ {name, command, params, ...} ]} declaring
// exec tools (DESIGN.md "Tools", docs/tools.md). Parsing only checks shapes
// and types; check_exec_tool (exec_tool.hpp) checks meaning. Pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tools/exec_tool.hpp"

namespace overseer::tools {

/// A problem with one tool of the file: `tool` is its name, or "#N" (from 1)
/// when it has none; empty for the file as a whole.
struct tools_file_problem {
  std::string tool;
  field_error error;
};

/// Reads the text of a tools file. Every problem found is appended to
/// `problems`; the configs returned are meaningful only when there are none.
[[nodiscard]] std::vector<exec_tool_config> parse_tools_file(std::string_view json,
                                                             std::vector<tools_file_problem>& problems);

/// "tools file F: tool "T": field "X": message", one problem per line.
[[nodiscard]] std::string describe(const std::string& file, const std::vector<tools_file_problem>& problems);

}  // namespace overseer::tools
