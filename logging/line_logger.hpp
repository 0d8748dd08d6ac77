// The daemon's log: one line per record on a file descriptor (stderr for
// overseerd), as JSON objects or as text, at or above a level. Every value
// is escaped, so a tool's output quoted in a reason or an error cannot
// forge a line or put invalid UTF-8 in the log (docs/operations.md, "Logs").
//
//   line_logger log{2, log_level::info, line_logger::format::json};
//   log.write({log_level::info, "http", "request", {{"status", "200"}}});
//
// Lines below warning (the access log, debug transitions) are written by
// the logger's own thread, many in one write(2), at most `linger` after
// they were logged: an HTTP I/O thread never waits for stderr, and one
// write serves thousands of requests. If the descriptor does not keep up
// (a stalled reader of the pipe), such lines beyond `max_pending` bytes are
// dropped and counted, and a warning line says how many once it drains.
// Warning and above are written before write() returns, after every line
// logged before them, so a daemon's last words are on the descriptor when
// it exits or aborts. The destructor writes what is pending.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "overseer/log_sink.hpp"

namespace overseer::logging {

class line_logger {
public:
  enum class format { text, json };

  struct limits {
    std::chrono::milliseconds linger{5};  ///< longest a line waits for company
    std::size_t batch = 64 * 1024;        ///< written at once when this much waits
    std::size_t max_pending = 4 << 20;    ///< beyond it, lines below warning are dropped
  };

  line_logger(int fd, log_level min, format f) : line_logger(fd, min, f, limits{}) {}
  line_logger(int fd, log_level min, format f, limits l);
  ~line_logger();
  line_logger(const line_logger&) = delete;
  line_logger& operator=(const line_logger&) = delete;

  [[nodiscard]] bool enabled(log_level l) const noexcept { return l >= min_; }
  /// Logs the record's line if its level is enabled; thread-safe, never
  /// interleaved with another line. Below warning it is queued (see above);
  /// warning and above are on the descriptor when this returns.
  void write(const log_record& r);
  /// Every line logged so far is on the descriptor when this returns.
  void flush();
  /// Lines dropped so far because the descriptor did not keep up.
  [[nodiscard]] std::uint64_t dropped() const;
  /// A sink for engine_config::log and server_config::log.
  [[nodiscard]] log_sink sink();

  /// The line without writing it (for tests).
  [[nodiscard]] std::string format_line(const log_record& r) const;

  [[nodiscard]] static std::optional<log_level> parse_level(std::string_view s);
  [[nodiscard]] static std::optional<format> parse_format(std::string_view s);

private:
  void format_into(std::string& out, const log_record& r) const;
  void run();
  /// Writes what is pending (and the dropped-lines warning); under fd_mutex_.
  void write_pending();
  void write_all(const std::string& text);

  int fd_;
  log_level min_;
  format format_;
  limits limits_;
  mutable std::mutex mutex_;  ///< guards pending_, dropped_, unreported_, stopping_
  std::condition_variable wake_;
  std::string pending_;
  std::uint64_t dropped_ = 0;     ///< since the start
  std::uint64_t unreported_ = 0;  ///< dropped, not yet told in a warning line
  bool stopping_ = false;
  std::mutex fd_mutex_;  ///< one writer of the descriptor at a time, in order
  std::thread thread_;   ///< last: starts once the rest is ready
};

}  // namespace overseer::logging
