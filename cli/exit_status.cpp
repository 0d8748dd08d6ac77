#include "cli/exit_status.hpp"

namespace overseer::cli {

exit_status for_job_status(std::string_view status) noexcept {
  if (status == "failed") return exit_status::job_failed;
  if (status == "cancelled") return exit_status::job_cancelled;
  if (status == "timed_out") return exit_status::job_timed_out;
  return exit_status::ok;
}

namespace {
int severity(exit_status s) noexcept {
  switch (s) {
    case exit_status::ok: return 0;
    case exit_status::job_cancelled: return 1;
    case exit_status::job_timed_out: return 2;
    case exit_status::conflict: return 3;
    case exit_status::not_found: return 4;
    case exit_status::job_failed: return 5;
    case exit_status::usage: return 6;
    case exit_status::server_error: return 7;
    case exit_status::unauthorized: return 8;
    case exit_status::unreachable: return 9;
    case exit_status::cannot_write: return 10;
    case exit_status::interrupted: return 11;
  }
  return 11;
}
}  // namespace

exit_status worse(exit_status a, exit_status b) noexcept { return severity(b) > severity(a) ? b : a; }

bool is_terminal(std::string_view status) noexcept {
  return status == "completed" || status == "failed" || status == "cancelled" || status == "timed_out";
}

}  // namespace overseer::cli
