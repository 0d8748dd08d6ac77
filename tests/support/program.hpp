// Runs a program the way a shell script would (the `overseer` client, or
// tmux): arguments, extra environment, stdin text; stdout and stderr go to
// files, so a program left running in the background never blocks on a
// full pipe, and its output so far can be read while it runs.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace overseer::test {

struct program_result {
  int exit_code = -1;  ///< the exit status, or -signal
  std::string out;
  std::string err;
  bool timed_out = false;  ///< killed at the deadline
};

class program {
public:
  /// Starts `argv` with the test's environment minus OVERSEER_URL,
  /// OVERSEER_TOKEN and NO_COLOR, plus `env` ("NAME=VALUE" entries).
  program(std::vector<std::string> argv, std::vector<std::string> env = {}, const std::string& stdin_text = {});
  ~program();  ///< kills it (SIGKILL) if still running
  program(const program&) = delete;
  program& operator=(const program&) = delete;

  /// Waits for the exit, killing it when `limit` passes first.
  program_result wait(std::chrono::milliseconds limit = std::chrono::seconds(60));
  /// What it printed on stdout so far.
  [[nodiscard]] std::string out_so_far() const;

private:
  int pid_ = -1;
  std::filesystem::path dir_;
  program_result result_;
  bool reaped_ = false;
};

/// Runs to the end (or the deadline).
program_result run_program(std::vector<std::string> argv, std::vector<std::string> env = {},
                           const std::string& stdin_text = {},
                           std::chrono::milliseconds limit = std::chrono::seconds(60));

}  // namespace overseer::test
