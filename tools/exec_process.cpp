#include "tools/exec_process.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>
#include <utility>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace overseer::tools {
namespace {

// What the child reports through the status pipe when a step before exec
// fails; the pipe closes unread (close-on-exec) when exec succeeds.
enum class stage : int { setpgid = 1, descriptors, chdir, rlimit_cpu, rlimit_as, rlimit_nofile, exec };

struct child_plan {
  char* const* argv;
  char* const* envp;
  const char* cwd;
  int in, out, err, status;
  std::optional<rlimit> cpu, address_space, open_files;
  int max_fd;  // for closing descriptors when close_range is missing
};

[[noreturn]] void run_child(const child_plan& p) noexcept {
  // Only async-signal-safe calls from here to exec: another engine thread
  // may have held the malloc lock when we forked.
  int report_fd = p.status;
  auto fail = [&](stage s) {
    const int report[2] = {static_cast<int>(s), errno};
    [[maybe_unused]] auto n = ::write(report_fd, report, sizeof report);
    ::_exit(127);
  };
  if (::setpgid(0, 0) != 0) fail(stage::setpgid);
  // Blocked or ignored signals survive exec: a host that blocks SIGTERM (to
  // sigwait for it) or ignores SIGPIPE must not hand that to the program.
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; ++s) ::sigaction(s, &dfl, nullptr);  // some refuse; fine
  // Lift every descriptor we need above 2 first, so that installing 0-2
  // cannot overwrite one still needed.
  const int in = ::fcntl(p.in, F_DUPFD_CLOEXEC, 3), out = ::fcntl(p.out, F_DUPFD_CLOEXEC, 3),
            err = ::fcntl(p.err, F_DUPFD_CLOEXEC, 3), status = ::fcntl(p.status, F_DUPFD_CLOEXEC, 3);
  if (in < 0 || out < 0 || err < 0 || status < 0) fail(stage::descriptors);
  report_fd = status;
  if (::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) fail(stage::descriptors);
  // The engine's own descriptors (the store, sockets) are none of the
  // program's business, close-on-exec or not.
  const auto keep = static_cast<unsigned>(status);
  if ((keep > 3 && ::close_range(3, keep - 1, 0) != 0) || ::close_range(keep + 1, ~0U, 0) != 0) {
    for (int fd = 3; fd < p.max_fd; ++fd)
      if (fd != status) ::close(fd);
  }
  if (::chdir(p.cwd) != 0) fail(stage::chdir);
  if (p.cpu && ::setrlimit(RLIMIT_CPU, &*p.cpu) != 0) fail(stage::rlimit_cpu);
  if (p.address_space && ::setrlimit(RLIMIT_AS, &*p.address_space) != 0) fail(stage::rlimit_as);
  if (p.open_files && ::setrlimit(RLIMIT_NOFILE, &*p.open_files) != 0) fail(stage::rlimit_nofile);
  ::execve(p.argv[0], p.argv, p.envp);
  fail(stage::exec);
  ::_exit(127);  // unreachable: fail() exits
}

std::string describe(stage s, int error, const spawn_request& r) {
  std::string what;
  switch (s) {
    case stage::setpgid: what = "setpgid"; break;
    case stage::descriptors: what = "setting up stdin/stdout/stderr"; break;
    case stage::chdir: what = "chdir " + r.cwd.string(); break;
    case stage::rlimit_cpu: what = "setrlimit(RLIMIT_CPU)"; break;
    case stage::rlimit_as: what = "setrlimit(RLIMIT_AS)"; break;
    case stage::rlimit_nofile: what = "setrlimit(RLIMIT_NOFILE)"; break;
    case stage::exec: what = "execve " + r.argv.front(); break;
  }
  return "cannot start " + r.argv.front() + ": " + what + ": " + std::strerror(error);
}

// A limit within the current hard limit: without privilege a hard limit can
// only be lowered. `extra` lifts the hard limit above the soft one.
std::optional<rlimit> limit(int resource, std::optional<rlim_t> want, rlim_t extra = 0) {
  if (!want) return std::nullopt;
  rlimit current{};
  ::getrlimit(resource, &current);
  rlim_t hard = *want + extra;
  if (current.rlim_max != RLIM_INFINITY) hard = std::min(hard, current.rlim_max);
  return rlimit{std::min(*want, hard), hard};
}

struct unique_fd {
  int fd = -1;
  unique_fd() = default;
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  ~unique_fd() { reset(); }
  void reset() noexcept {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  int release() noexcept { return std::exchange(fd, -1); }
};

void make_pipe(unique_fd& read_end, unique_fd& write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(std::string{"pipe: "} + std::strerror(errno));
  read_end.fd = fds[0];
  write_end.fd = fds[1];
}

}  // namespace

child_process child_process::spawn(const spawn_request& r) {
  if (r.argv.empty()) throw std::runtime_error("cannot start a program: empty command");
  // Everything the child touches is built before fork (no allocation after).
  std::vector<char*> argv, envp;
  for (const auto& a : r.argv) argv.push_back(const_cast<char*>(a.c_str()));
  for (const auto& e : r.env) envp.push_back(const_cast<char*>(e.c_str()));
  argv.push_back(nullptr);
  envp.push_back(nullptr);
  const std::string cwd = r.cwd.string();

  unique_fd out_r, out_w, err_r, err_w, status_r, status_w, devnull;
  make_pipe(out_r, out_w);
  make_pipe(err_r, err_w);
  make_pipe(status_r, status_w);
  devnull.fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (devnull.fd < 0) throw std::runtime_error(std::string{"open /dev/null: "} + std::strerror(errno));
  rlimit files{};
  ::getrlimit(RLIMIT_NOFILE, &files);
  const child_plan plan{argv.data(),
                        envp.data(),
                        cwd.c_str(),
                        devnull.fd,
                        out_w.fd,
                        err_w.fd,
                        status_w.fd,
                        limit(RLIMIT_CPU, r.cpu_seconds, 1),
                        limit(RLIMIT_AS, r.address_space),
                        limit(RLIMIT_NOFILE, r.open_files),
                        static_cast<int>(std::min<rlim_t>(files.rlim_cur, 65536))};

  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string{"fork: "} + std::strerror(errno));
  if (pid == 0) run_child(plan);
  // Both sides set the group, so that whichever runs first, the group exists
  // before the parent may signal it (after exec the call fails; harmless).
  ::setpgid(pid, pid);
  out_w.reset();
  err_w.reset();
  status_w.reset();
  devnull.reset();
  int report[2] = {0, 0};
  ssize_t n;
  do n = ::read(status_r.fd, report, sizeof report);
  while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof report)) {
    ::waitpid(pid, nullptr, 0);
    throw std::runtime_error(describe(static_cast<stage>(report[0]), report[1], r));
  }
  for (int fd : {out_r.fd, err_r.fd}) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return child_process{pid, out_r.release(), err_r.release()};
}

child_process::child_process(child_process&& other) noexcept
  : pid_(std::exchange(other.pid_, -1)), out_(std::exchange(other.out_, -1)),
    err_(std::exchange(other.err_, -1)), reaped_(std::exchange(other.reaped_, true)) {}

child_process::~child_process() {
  close_output(out_);
  close_output(err_);
  if (!reaped_) reap();
}

void child_process::close_output(int fd) noexcept {
  if (fd < 0) return;
  ::close(fd);
  if (fd == out_) out_ = -1;
  if (fd == err_) err_ = -1;
}

void child_process::signal_group(int sig) const noexcept {
  if (pid_ > 0 && !reaped_) ::kill(-pid_, sig);
}

bool child_process::exited() const noexcept {
  if (reaped_) return true;
  siginfo_t info{};
  // WNOWAIT leaves the leader a zombie: the group id stays ours until reap().
  return ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid == pid_;
}

int child_process::reap(double* cpu_seconds) noexcept {
  if (reaped_) return 0;
  signal_group(SIGKILL);
  int status = 0;
  rusage usage{};
  while (::wait4(pid_, &status, 0, &usage) < 0 && errno == EINTR) {}
  reaped_ = true;
  if (cpu_seconds) {
    auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
    *cpu_seconds = secs(usage.ru_utime) + secs(usage.ru_stime);
  }
  return status;
}

}  // namespace overseer::tools
