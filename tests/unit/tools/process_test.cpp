// Orphaned process groups after a crash (tools/process.hpp): killed when
// they are still the recorded program's, left alone when the id moved on.
#include "tools/process.hpp"

#include <csignal>
#include <fstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "support/eventually.hpp"

using namespace std::chrono_literals;
using overseer::tools::kill_orphan_group;
using overseer::tools::process_start_time;

namespace {

/// Running, not a zombie waiting for init to reap it.
bool alive(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/stat"};
  std::string stat;
  if (!std::getline(in, stat)) return false;
  const auto close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z';
}

/// A group led by a child of ours, with one member that sleeps; the leader
/// waits on `hold` (a pipe) until told to exit. Returns {leader, member}.
struct group {
  pid_t leader = -1;
  pid_t member = -1;
  int hold[2]{-1, -1};   // the test closes hold[1]: the leader exits
  int report[2]{-1, -1};  // the leader writes the member's pid

  group() {
    REQUIRE(::pipe(hold) == 0);
    REQUIRE(::pipe(report) == 0);
    leader = ::fork();
    REQUIRE(leader >= 0);
    if (leader == 0) {
      ::setpgid(0, 0);
      ::close(hold[1]);
      const pid_t m = ::fork();
      if (m == 0) {
        ::close(hold[0]);
        ::execlp("sleep", "sleep", "60", static_cast<char*>(nullptr));
        ::_exit(127);
      }
      (void)!::write(report[1], &m, sizeof m);
      char c;
      (void)!::read(hold[0], &c, 1);
      ::_exit(0);
    }
    ::setpgid(leader, leader);  // no race with the child's own call
    ::close(hold[0]);
    ::close(report[1]);
    REQUIRE(::read(report[0], &member, sizeof member) == sizeof member);
    ::close(report[0]);
  }
  void end_leader() {
    ::close(hold[1]);
    hold[1] = -1;
    int status = 0;
    ::waitpid(leader, &status, 0);  // reaped: no /proc entry left
  }
  ~group() {
    if (hold[1] >= 0) ::close(hold[1]);
    ::kill(-leader, SIGKILL);
    ::waitpid(leader, nullptr, WNOHANG);
  }
};

}  // namespace

TEST_CASE("an orphaned group is killed while its leader lives with its start time", "[process]") {
  group g;
  const auto start = process_start_time(g.leader);
  REQUIRE(start);
  CHECK_FALSE(kill_orphan_group(g.leader, *start + 1));  // another program's start time: left alone
  CHECK(alive(g.member));
  CHECK(kill_orphan_group(g.leader, *start));
  CHECK(overseer::test::eventually([&] { return !alive(g.member); }, 5s));
}

TEST_CASE("an orphaned group whose leader has exited is still killed through its members", "[process]") {
  group g;
  const auto start = process_start_time(g.leader);
  REQUIRE(start);
  g.end_leader();
  REQUIRE_FALSE(process_start_time(g.leader));
  REQUIRE(alive(g.member));  // reparented, still in the group
  CHECK(kill_orphan_group(g.leader, *start));
  CHECK(overseer::test::eventually([&] { return !alive(g.member); }, 5s));
  // Nothing left of the group: nothing to kill, and no signal sent.
  CHECK(overseer::test::eventually([&] { return !kill_orphan_group(g.leader, *start); }, 5s));
}
