// fuzz_tools_file: the tools file reader (tools/tools_file.hpp), then the
// registration checks of every tool it accepts (check_exec_tool, which
// compiles the schema's patterns and the progress regex and resolves the
// program on PATH), and the body built from a tool that passes them.
//
// Promises checked: every problem is reported in valid UTF-8 and describe()
// renders them as valid UTF-8; a file without problems gives each tool a
// command; a tool that passes check_exec_tool gets a body without
// throwing. Nothing is run.
#include "fuzz/fuzz.hpp"

#include <string>

#include "fuzz/json_checks.hpp"
#include "tools/tools_file.hpp"

namespace overseer::fuzz {

int fuzz_tools_file(const std::uint8_t* data, std::size_t size) {
  const auto text = as_text(data, size);
  std::vector<tools::tools_file_problem> problems;
  auto contents = tools::parse_tools_file(text, problems);
  for (const auto& p : problems) {
    check_utf8(p.tool, "parse_tools_file: a tool name in a problem");
    check_field_errors({p.error}, "parse_tools_file");
  }
  check_utf8(tools::describe("tools.json", problems), "describe()");
  if (!problems.empty()) return 0;
  for (auto& c : contents.tools) {
    // An empty name is well-typed; check_exec_tool refuses it.
    if (c.command.empty()) fail("parse_tools_file: tool \"" + excerpt(c.definition.name) + "\" has no command");
    const auto errors = tools::check_exec_tool(c);
    check_field_errors(errors, "check_exec_tool");
    if (!errors.empty()) continue;
    try {
      (void)tools::make_exec_body(c);
    } catch (const std::exception& e) {
      fail("make_exec_body threw on a tool check_exec_tool accepted: " + std::string(e.what()));
    }
  }
  return 0;
}

}  // namespace overseer::fuzz
