// The test runner: Catch2's main, plus a fatal-signal handler that kills
// every child the crashing test started (support/children.hpp) before the
// process dies. Catch reports the signal first, then restores the handlers
// it replaced (this one) and raises it again.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <csignal>

#include "support/children.hpp"

namespace {

extern "C" void kill_children_and_die(int sig) {
  for (auto& s : overseer::test::children::slots)
    if (const pid_t pid = s.load(); pid > 0) ::kill(pid, SIGKILL);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

}  // namespace

int main(int argc, char* argv[]) {
  for (const int sig : {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL}) {
    struct sigaction action {};
    action.sa_handler = kill_children_and_die;
    sigemptyset(&action.sa_mask);
    ::sigaction(sig, &action, nullptr);
  }
  return Catch::Session().run(argc, argv);
}
