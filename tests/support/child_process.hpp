// A program a recovery test starts, reads line by line, and kills with
// SIGKILL: the "crash" of the engine it runs.
#pragma once

#include <string>
#include <vector>

namespace overseer::test {

class child_process {
public:
  /// Starts `argv[0]` with its stdout piped to us. Throws on failure.
  explicit child_process(std::vector<std::string> argv);
  ~child_process();  ///< kills it if still running
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  /// The next line of its output without the newline; false at end of output.
  bool read_line(std::string& line);
  /// SIGKILL, then reap. Returns true if it died of that signal (it had
  /// not exited on its own first).
  bool kill9();

private:
  int pid_ = -1;
  void* out_ = nullptr;  // FILE*
};

}  // namespace overseer::test
