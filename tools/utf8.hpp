// UTF-8 at the edges: every string that comes from a tool or a client is
// valid UTF-8 before the engine stores it or sends it.
#pragma once

#include <string>
#include <string_view>

namespace overseer::tools {

/// Whether `s` is well-formed UTF-8 (RFC 3629: no overlong forms, no
/// surrogates, nothing above U+10FFFF). NUL bytes are valid.
[[nodiscard]] bool valid_utf8(std::string_view s) noexcept;

/// The offset of the first byte of `s` that is not part of well-formed
/// UTF-8, or std::string_view::npos when it is all valid.
[[nodiscard]] std::size_t first_invalid_utf8(std::string_view s) noexcept;

/// `s` with every ill-formed sequence replaced by U+FFFD, one replacement
/// per maximal subpart (the Unicode Standard's "best practice", as WHATWG's
/// decoder and Python's `errors="replace"` do). Valid input comes back as is.
[[nodiscard]] std::string sanitize_utf8(std::string_view s);

/// Characters as a person counts them: code points of valid UTF-8 (bytes
/// that do not start a sequence are not counted).
[[nodiscard]] std::size_t utf8_length(std::string_view s) noexcept;

/// Makes `s` valid UTF-8 in place; returns whether anything was replaced.
bool sanitize_utf8_in_place(std::string& s);

/// The longest prefix of `s` of at most `max_bytes` that does not end inside
/// a multi-byte sequence, for quoting the start of a long value: a prefix of
/// valid UTF-8 stays valid.
[[nodiscard]] std::string_view utf8_prefix(std::string_view s, std::size_t max_bytes) noexcept;

}  // namespace overseer::tools
