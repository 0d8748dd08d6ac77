// The test harness itself. Hidden ([.]): run by harness_crash_check.sh,
// which expects this test to die and checks what it leaves behind.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>

#include "support/daemon.hpp"
#include "support/temp_dir.hpp"

using namespace overseer::test;

TEST_CASE("a test that dies takes the daemon it started with it", "[.][harness]") {
  const char* pid_file = std::getenv("OVERSEER_HARNESS_PID_FILE");
  REQUIRE(pid_file);
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  std::ofstream{pid_file} << d.pid() << '\n';
  std::abort();  // no destructor runs: only the fatal-signal handler can stop the daemon
}
