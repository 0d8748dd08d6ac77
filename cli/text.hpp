// Text for a terminal: what the server sends (job names, step names, log
// lines, failure reasons) is made safe to print, measured and cut by
// characters, and times and durations are written for people.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace overseer::cli {

/// `s` as valid UTF-8 (ill-formed bytes become U+FFFD) with every control
/// character but tab replaced by U+FFFD too: a log line can neither break
/// the output's encoding nor move the cursor, change colours or retitle the
/// terminal with an escape sequence. Newlines are replaced as well, so one
/// record stays one line; `keep_newlines` keeps them (for multi-line text).
[[nodiscard]] std::string terminal_safe(std::string_view s, bool keep_newlines = false);

/// Columns `s` takes, counting one per code point (the output of
/// terminal_safe has no control characters).
[[nodiscard]] std::size_t width(std::string_view s) noexcept;
/// `s` cut to at most `columns` columns, never inside a UTF-8 sequence.
[[nodiscard]] std::string cut_to_width(std::string_view s, std::size_t columns);
/// `s` followed by spaces up to `columns`.
[[nodiscard]] std::string pad(std::string_view s, std::size_t columns);

/// "0.4s", "12s", "3m05s", "2h04m", "3d02h".
[[nodiscard]] std::string format_duration(std::chrono::milliseconds d);

using wall_clock = std::chrono::system_clock;
/// An RFC 3339 timestamp as the server writes it ("2026-11-25T00:12:23.108Z",
/// or with an offset); nullopt for anything else.
[[nodiscard]] std::optional<wall_clock::time_point> parse_rfc3339(std::string_view s);
/// "2026-11-25T00:12:23.108Z".
[[nodiscard]] std::string format_rfc3339(wall_clock::time_point t);
/// "2026-11-25 00:12:23" (UTC, to the second) for table cells; the text as
/// given when it is not a timestamp.
[[nodiscard]] std::string short_time(std::string_view rfc3339);

/// ANSI colours, or nothing at all when colour is off.
struct palette {
  bool on = false;
  [[nodiscard]] std::string paint(std::string_view s, std::string_view code) const;
  [[nodiscard]] std::string status(std::string_view status) const;  ///< a job status in its colour
  [[nodiscard]] std::string bold(std::string_view s) const { return paint(s, "1"); }
  [[nodiscard]] std::string dim(std::string_view s) const { return paint(s, "2"); }
  [[nodiscard]] std::string red(std::string_view s) const { return paint(s, "31"); }
};

/// Colour is for people: only when stdout is a terminal, NO_COLOR is unset
/// or empty (no-color.org), TERM is not "dumb" and --no-color was not given.
[[nodiscard]] bool colour_wanted(bool stdout_is_tty, bool no_colour_flag);

}  // namespace overseer::cli
