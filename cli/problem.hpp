// An error answer of the server as one readable line, and the exit status
// that reports it. The server sends RFC 9457 problem documents; anything
// else (a proxy's HTML page, a truncated body) is still reported, quoted.
#pragma once

#include <string>
#include <string_view>

#include "cli/exit_status.hpp"

namespace overseer::cli {

/// "the job spec is invalid (400): priority: 12 is outside 0-10; params.seconds:
/// expected number, found \"x\"". Every field error is named, in the
/// server's order; the text is terminal_safe.
[[nodiscard]] std::string problem_line(unsigned http_status, std::string_view body);

/// The exit status for an error answer with this HTTP status.
[[nodiscard]] exit_status exit_status_for_http(unsigned http_status) noexcept;

}  // namespace overseer::cli
