// A supervised child process in a process group of its own, for exec tools.
//
// spawn() forks, puts the child in a new process group (pgid == pid), resets
// its signal mask and dispositions, applies resource limits, points stdin at
// /dev/null, closes every other inherited descriptor and execs the program
// with an explicit environment: no shell, no PATH search. It returns once the
// exec succeeded (or throws with the step that failed). The owner reads
// stdout and stderr from two non-blocking pipes.
//
// Whatever happens, the group dies with the object: the destructor SIGKILLs
// it and reaps the leader. Not thread-safe; one owner.
//
//   auto child = child_process::spawn({.argv = {"/bin/echo", "hi"}, .cwd = "/tmp"});
//   while (!child.exited()) { /* poll child.stdout_fd() ... */ }
//   int status = child.reap();
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/resource.h>

namespace overseer::tools {

struct spawn_request {
  std::vector<std::string> argv;  ///< argv[0] is an absolute path
  std::vector<std::string> env;   ///< "NAME=value", the whole environment
  std::filesystem::path cwd;
  std::optional<rlim_t> cpu_seconds;    ///< RLIMIT_CPU (SIGXCPU, SIGKILL 1 s later)
  std::optional<rlim_t> address_space;  ///< RLIMIT_AS, bytes
  std::optional<rlim_t> open_files;     ///< RLIMIT_NOFILE
};

class child_process {
public:
  /// Throws std::runtime_error naming the step that failed ("execve
  /// /opt/x: No such file or directory").
  [[nodiscard]] static child_process spawn(const spawn_request& request);
  child_process(child_process&& other) noexcept;
  child_process& operator=(child_process&&) = delete;
  ~child_process();

  /// The leader's pid, which is also the process group id.
  [[nodiscard]] int pid() const noexcept { return pid_; }
  /// Read ends of the pipes, -1 once closed with close_output().
  [[nodiscard]] int stdout_fd() const noexcept { return out_; }
  [[nodiscard]] int stderr_fd() const noexcept { return err_; }
  void close_output(int fd) noexcept;

  /// Signals the whole group. Harmless once the group is gone.
  void signal_group(int sig) const noexcept;
  /// True once the leader has exited. It stays a zombie until reap(), so
  /// its pid, and with it the group id, cannot be reused meanwhile.
  [[nodiscard]] bool exited() const noexcept;
  /// SIGKILLs the group (grandchildren must not outlive the tool), waits for
  /// the leader and returns its wait status. `cpu` gets its CPU time.
  int reap(double* cpu_seconds = nullptr) noexcept;

private:
  child_process(int pid, int out, int err) noexcept : pid_(pid), out_(out), err_(err) {}
  int pid_;
  int out_;
  int err_;
  bool reaped_ = false;
};

/// Splits a byte stream into lines ('\n', a trailing '\r' dropped). A line
/// longer than `max_line` is cut there and reported with `cut` set; the rest
/// of it is skipped. Bytes after the last newline wait for more input.
class line_splitter {
public:
  explicit line_splitter(std::size_t max_line) : max_line_(max_line) {}

  template <class OnLine>  // void(std::string_view line, bool cut)
  void feed(std::string_view data, OnLine&& on_line) {
    while (!data.empty()) {
      const auto nl = data.find('\n');
      const auto chunk = data.substr(0, nl);
      if (!skipping_) {
        const auto room = max_line_ - buffer_.size();
        buffer_.append(chunk.substr(0, room));
        if (chunk.size() > room) {
          emit(on_line, true);
          skipping_ = true;
        }
      }
      if (nl == std::string_view::npos) return;
      if (!skipping_) emit(on_line, false);
      buffer_.clear();
      skipping_ = false;
      data.remove_prefix(nl + 1);
    }
  }
  /// End of stream: a last line without a newline is still a line.
  template <class OnLine>
  void finish(OnLine&& on_line) {
    if (!skipping_ && !buffer_.empty()) emit(on_line, false);
    buffer_.clear();
    skipping_ = false;
  }

private:
  template <class OnLine>
  void emit(OnLine& on_line, bool cut) {
    std::string_view line = buffer_;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    on_line(line, cut);
    buffer_.clear();
  }
  std::size_t max_line_;
  std::string buffer_;
  bool skipping_ = false;
};

}  // namespace overseer::tools
