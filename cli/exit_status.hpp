// The exit statuses of `overseer`, one per outcome a script branches on.
// The numbers are part of the command's contract (docs/cli.md lists them):
// never renumber one, only add.
#pragma once

#include <string_view>

namespace overseer::cli {

enum class exit_status : int {
  ok = 0,            ///< done; with --wait/--watch: every job completed
  job_failed = 1,    ///< a waited-for job ended failed
  usage = 2,         ///< bad arguments, or the server refused the request as invalid (400)
  job_cancelled = 3, ///< a waited-for job ended cancelled
  job_timed_out = 4, ///< a waited-for job ended timed_out
  unreachable = 5,   ///< no connection to the server, or it stopped answering
  not_found = 6,     ///< 404: no such job, batch or route
  conflict = 7,      ///< 409: the job's status does not allow it, or an idempotency key clash
  unauthorized = 8,  ///< 401: no valid token
  server_error = 9,  ///< 5xx, an unhealthy server, or an answer the client cannot read
  cannot_write = 10, ///< standard output could not be written (a full disk, a closed file)
  interrupted = 130, ///< Ctrl-C (128 + SIGINT, as shells report it)
};

/// The exit status that reports a job ending in `status`: ok for
/// "completed", and also for a status that is not terminal.
[[nodiscard]] exit_status for_job_status(std::string_view status) noexcept;

/// The more severe of two outcomes, for commands acting on several jobs:
/// any failure beats success, and a failed job beats the other outcomes.
[[nodiscard]] exit_status worse(exit_status a, exit_status b) noexcept;

[[nodiscard]] bool is_terminal(std::string_view status) noexcept;

}  // namespace overseer::cli
