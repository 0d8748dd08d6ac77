#include "actors/job_lifecycle.hpp"

#include "overseer/errc.hpp"
#include "overseer/event.hpp"
#include "overseer/tool.hpp"

namespace overseer {

std::string_view to_string(job_status s) noexcept {
  switch (s) {
    case job_status::pending: return "pending";
    case job_status::running: return "running";
    case job_status::retrying: return "retrying";
    case job_status::completed: return "completed";
    case job_status::failed: return "failed";
    case job_status::cancelled: return "cancelled";
    case job_status::timed_out: return "timed_out";
  }
  return "unknown";
}

std::optional<job_status> parse_job_status(std::string_view s) noexcept {
  for (auto st : all_job_statuses)
    if (to_string(st) == s) return st;
  return std::nullopt;
}

bool is_terminal(job_status s) noexcept {
  switch (s) {
    case job_status::pending:
    case job_status::running:
    case job_status::retrying: return false;
    case job_status::completed:
    case job_status::failed:
    case job_status::cancelled:
    case job_status::timed_out: return true;
  }
  return false;
}

std::string_view to_string(tool_mode m) noexcept {
  return m == tool_mode::immediate ? "immediate" : "queued";
}

std::string_view to_string(log_level l) noexcept {
  switch (l) {
    case log_level::debug: return "debug";
    case log_level::info: return "info";
    case log_level::warning: return "warning";
    case log_level::error: return "error";
    case log_level::critical: return "critical";
  }
  return "unknown";
}

std::optional<log_level> parse_log_level(std::string_view s) noexcept {
  for (auto l : {log_level::debug, log_level::info, log_level::warning, log_level::error,
                 log_level::critical})
    if (to_string(l) == s) return l;
  return std::nullopt;
}

std::string_view to_string(event_kind k) noexcept {
  switch (k) {
    case event_kind::transition: return "transition";
    case event_kind::progress: return "progress";
    case event_kind::log: return "log";
  }
  return "unknown";
}

std::string_view to_string(errc e) noexcept {
  switch (e) {
    case errc::ok: return "ok";
    case errc::invalid_spec: return "invalid_spec";
    case errc::unknown_tool: return "unknown_tool";
    case errc::not_found: return "not_found";
    case errc::conflict: return "conflict";
    case errc::not_running: return "not_running";
    case errc::store_failure: return "store_failure";
    case errc::timeout: return "timeout";
  }
  return "unknown";
}

bool filter::matches(const event& e) const noexcept {
  if (!include_logs && e.kind == event_kind::log) return false;
  switch (what) {
    case scope::all: return true;
    case scope::job: return e.job_id == id;
    case scope::batch: return e.batch_id == id;
  }
  return false;
}

namespace actors {

bool can_transition(std::optional<job_status> from, job_status to) noexcept {
  using s = job_status;
  if (!from) return to == s::pending || to == s::completed;  // completed: a cache hit
  switch (*from) {
    case s::pending:
      // failed: a dependency failed before the job could run.
      return to == s::running || to == s::cancelled || to == s::failed;
    case s::running:
      // pending: the engine stopped or crashed mid-run ("interrupted").
      return to == s::completed || to == s::failed || to == s::timed_out ||
             to == s::cancelled || to == s::retrying || to == s::pending;
    case s::retrying:
      return to == s::pending || to == s::cancelled;
    case s::completed:
      return false;
    case s::failed:
    case s::cancelled:
    case s::timed_out:
      return to == s::pending;  // an explicit retry
  }
  return false;
}

}  // namespace actors
}  // namespace overseer
