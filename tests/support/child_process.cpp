#include "support/child_process.hpp"

#include "support/children.hpp"
#include "support/eventually.hpp"

#include <csignal>
#include <fcntl.h>
#include <cstdio>
#include <spawn.h>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace overseer::test {

child_process::child_process(std::vector<std::string> argv, const std::string& stderr_file) {
  int out[2];
  if (::pipe(out) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  if (!stderr_file.empty())
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  if (rc != 0) {
    ::close(out[0]);
    throw std::runtime_error("cannot start " + argv[0]);
  }
  pid_ = pid;
  children::track(pid_);
  out_ = ::fdopen(out[0], "r");
}

child_process::~child_process() {
  kill9();
  if (out_) std::fclose(static_cast<FILE*>(out_));
}

bool child_process::read_line(std::string& line) {
  char buf[1024];
  if (!std::fgets(buf, sizeof buf, static_cast<FILE*>(out_))) return false;
  line = buf;
  if (!line.empty() && line.back() == '\n') line.pop_back();
  return true;
}

bool child_process::kill9() {
  if (pid_ <= 0) return false;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  children::forget(pid_);
  pid_ = -1;
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

int child_process::terminate(int limit_ms) {
  if (pid_ <= 0) return 0;
  ::kill(pid_, SIGTERM);
  int status = 0;
  if (!eventually([&] { return ::waitpid(pid_, &status, WNOHANG) != 0; }, std::chrono::milliseconds{limit_ms})) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
  }
  children::forget(pid_);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

}  // namespace overseer::test
