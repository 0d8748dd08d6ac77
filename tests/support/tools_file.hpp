// Tools files for tests that declare their own tools (docs/tools.md).
#pragma once

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include <boost/json.hpp>

namespace overseer::test {

/// Writes `contents` to `dir`/tools.json; returns its path.
inline std::filesystem::path write_tools_file(const std::filesystem::path& dir, const boost::json::object& contents) {
  const auto file = dir / "tools.json";
  std::ofstream{file} << boost::json::serialize(contents);
  return file;
}

/// A tools file with one tool, `name`, that runs `script` with bash: the
/// script goes to `dir`/<name>.sh. `fields` adds to or overrides the tool's
/// declaration (a mode, a kill grace, params). Returns the file's path.
inline std::filesystem::path script_tool_file(const std::filesystem::path& dir, std::string_view name,
                                              std::string_view script, const boost::json::object& fields = {}) {
  const auto path = dir / (std::string{name} + ".sh");
  std::ofstream{path} << script;
  boost::json::object tool{{"name", name}, {"command", {"bash", path.string()}}};
  for (const auto& [key, value] : fields) tool[key] = value;
  return write_tools_file(dir, {{"tools", boost::json::array{tool}}});
}

}  // namespace overseer::test
