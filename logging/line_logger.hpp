// The daemon's log: one line per record on a file descriptor (stderr for
// overseerd), as JSON objects or as text, at or above a level. Every value
// is escaped, so a tool's output quoted in a reason or an error cannot
// forge a line or put invalid UTF-8 in the log (docs/operations.md, "Logs").
//
//   line_logger log{2, log_level::info, line_logger::format::json};
//   log.write({log_level::info, "http", "request", {{"status", "200"}}});
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "overseer/log_sink.hpp"

namespace overseer::logging {

class line_logger {
public:
  enum class format { text, json };

  line_logger(int fd, log_level min, format f) : fd_(fd), min_(min), format_(f) {}

  [[nodiscard]] bool enabled(log_level l) const noexcept { return l >= min_; }
  /// Writes the record's line if its level is enabled; thread-safe, one
  /// write(2) per line.
  void write(const log_record& r);
  /// A sink for engine_config::log and server_config::log.
  [[nodiscard]] log_sink sink();

  /// The line without writing it (for tests).
  [[nodiscard]] std::string format_line(const log_record& r) const;

  [[nodiscard]] static std::optional<log_level> parse_level(std::string_view s);
  [[nodiscard]] static std::optional<format> parse_format(std::string_view s);

private:
  int fd_;
  log_level min_;
  format format_;
  std::mutex mutex_;
};

}  // namespace overseer::logging
