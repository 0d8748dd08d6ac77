// A program a recovery test starts, reads line by line, and kills with
// SIGKILL (the "crash" of the engine it runs) or stops with SIGTERM.
#pragma once

#include <string>
#include <vector>

namespace overseer::test {

class child_process {
public:
  /// Starts `argv[0]` with its stdout piped to us (and its stderr into
  /// `stderr_file`, when given). Throws on failure.
  explicit child_process(std::vector<std::string> argv, const std::string& stderr_file = {});
  ~child_process();  ///< kills it if still running
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  /// The next line of its output without the newline; false at end of output.
  bool read_line(std::string& line);
  /// SIGKILL, then reap. Returns true if it died of that signal (it had
  /// not exited on its own first).
  bool kill9();
  /// SIGTERM, then SIGKILL if it has not exited within `limit_ms`; reaps.
  /// Returns its exit status, or -signal.
  int terminate(int limit_ms = 10000);
  [[nodiscard]] int pid() const noexcept { return pid_; }

private:
  int pid_ = -1;
  void* out_ = nullptr;  // FILE*
};

}  // namespace overseer::test
