// Regular expressions of tool definitions: the `pattern` of a param and an
// exec tool's `progress_regex`.
//
// They are RE2 expressions (https://github.com/google/re2/wiki/Syntax):
// matching takes time linear in the input, without recursion, in memory
// bounded per expression, so that no value a client sends and no line a
// tool prints can take the daemon down. RE2 has no backreferences and no
// lookaround. An expression is compiled once, when the tool is registered,
// and kept for the life of the process; a value is matched on its bytes as
// a whole (a NUL byte is an ordinary character). Thread-safe.
//
//   std::string error;
//   auto re = overseer::tools::compile_regex("[a-z]+\\.fa", error);
//   bool ok = re && overseer::tools::full_match(*re, value);
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <re2/re2.h>

namespace overseer::tools {

/// The compiled form of `pattern`, shared by every caller that gives the
/// same text, or nullptr with RE2's reason in `error`.
[[nodiscard]] std::shared_ptr<const re2::RE2> compile_regex(std::string_view pattern, std::string& error);

/// Whether `re` matches all of `value`, not only a part of it.
[[nodiscard]] bool full_match(const re2::RE2& re, std::string_view value);

/// The text of capture group 1 of the first match of `re` in `text`, if
/// there is a match and the group took part in it.
[[nodiscard]] std::optional<std::string_view> search_group1(const re2::RE2& re, std::string_view text);

}  // namespace overseer::tools
