#include "support/program.hpp"

#include "support/eventually.hpp"

#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <spawn.h>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace overseer::test {

namespace {

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

program::program(std::vector<std::string> argv, std::vector<std::string> env, const std::string& stdin_text) {
  char tmpl[] = "/tmp/overseer-program-XXXXXX";
  if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  std::ofstream(dir_ / "stdin", std::ios::binary) << stdin_text;

  std::vector<std::string> envs;
  for (char** e = environ; *e; ++e) {
    const std::string_view entry{*e};
    if (entry.starts_with("OVERSEER_URL=") || entry.starts_with("OVERSEER_TOKEN=") || entry.starts_with("NO_COLOR="))
      continue;
    envs.emplace_back(entry);
  }
  envs.insert(envs.end(), env.begin(), env.end());
  std::vector<char*> envp;
  for (auto& e : envs) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, (dir_ / "stdin").c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, (dir_ / "stdout").c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, (dir_ / "stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  pid_t pid = 0;
  const int rc = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + argv[0]);
  pid_ = pid;
}

program::~program() {
  if (!reaped_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  std::error_code ignored;  // a leftover temp dir is harmless
  std::filesystem::remove_all(dir_, ignored);
}

program_result program::wait(std::chrono::milliseconds limit) {
  if (reaped_) return result_;
  int status = 0;
  if (!eventually([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, limit)) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
    result_.timed_out = true;
  }
  reaped_ = true;
  result_.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  result_.out = slurp(dir_ / "stdout");
  result_.err = slurp(dir_ / "stderr");
  return result_;
}

std::string program::out_so_far() const { return slurp(dir_ / "stdout"); }

program_result run_program(std::vector<std::string> argv, std::vector<std::string> env, const std::string& stdin_text,
                           std::chrono::milliseconds limit) {
  program p{std::move(argv), std::move(env), stdin_text};
  return p.wait(limit);
}

}  // namespace overseer::test
