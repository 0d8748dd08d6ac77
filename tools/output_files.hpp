// The `outputs` of an exec tool (docs/tools.md, "File params and outputs"):
// names or globs, relative to the attempt's working directory, matched
// against the regular files in it after a completed attempt.
//
// A pattern is one or more '/'-separated segments; in a segment '*' matches
// any run of characters and '?' one character, neither crossing a '/'. A
// pattern may not be empty, absolute, contain a "." or ".." segment, a
// backslash or a NUL. Matching walks the directory without following any
// symbolic link (a link is never an output, a linked directory never
// entered), so nothing outside the directory is ever read.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace overseer::tools {

/// Why `pattern` is not a valid output pattern; nothing when it is.
[[nodiscard]] std::optional<std::string> check_output_pattern(std::string_view pattern);
/// Whether the relative path `path` matches `pattern` (segment by segment).
[[nodiscard]] bool output_matches(std::string_view pattern, std::string_view path);
/// The regular files under `dir` that match any of `patterns`, as relative
/// paths ("out/a.csv"), sorted, each once. Symbolic links are skipped.
[[nodiscard]] std::vector<std::string> find_outputs(const std::filesystem::path& dir,
                                                    const std::vector<std::string>& patterns);

}  // namespace overseer::tools
