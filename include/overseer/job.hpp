// Job types of the Overseer public API: statuses, specs, views, progress.
//
// A job is one request to run a tool with parameters. Its status only moves
// along the edges of the job lifecycle (docs/architecture.md); the scheduler is the
// sole owner of those moves and makes each one durable before it is reported.
// Every type here is a plain value: copy it freely across threads.
//
//   overseer::job_spec spec{.tool = "sleep", .params = {{"seconds", 2}}};
//   auto id = engine.submit(spec);
//   if (auto v = engine.get(id); v && v->status == overseer::job_status::completed) ...
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "overseer/retry_policy.hpp"

namespace overseer {

using clock = std::chrono::system_clock;
using time_point = clock::time_point;

/// Where a job stands. Each comment says who moves a job out of the status.
enum class job_status : std::uint8_t {
  /// Queued (or waiting for its backoff to run out after a restart). The
  /// scheduler starts it when a slot is free; a cancel ends it.
  pending,
  /// An attempt is executing. The attempt's result, its timeout, a cancel or
  /// an engine restart (back to pending, reason "interrupted") end it.
  running,
  /// An attempt failed and attempts remain; the scheduler re-queues it when
  /// its backoff delay has passed. A cancel ends it.
  retrying,
  /// Terminal: the last attempt returned a result. Only an explicit retry is
  /// refused here; nothing moves a job out.
  completed,
  /// Terminal: the last attempt failed and no attempts remain. An explicit
  /// retry re-queues it.
  failed,
  /// Terminal: cancelled by a client. Never retried automatically; an explicit
  /// retry re-queues it.
  cancelled,
  /// Terminal: the last attempt ran past its timeout. An explicit retry
  /// re-queues it.
  timed_out,
};

inline constexpr job_status all_job_statuses[] = {
  job_status::pending,   job_status::running, job_status::retrying,
  job_status::completed, job_status::failed,  job_status::cancelled,
  job_status::timed_out,
};

[[nodiscard]] std::string_view to_string(job_status s) noexcept;
[[nodiscard]] std::optional<job_status> parse_job_status(std::string_view s) noexcept;
[[nodiscard]] bool is_terminal(job_status s) noexcept;

/// Severity of a log line, ordered: a filter at `warning` keeps `warning`,
/// `error` and `critical`.
enum class log_level : std::uint8_t { debug, info, warning, error, critical };

[[nodiscard]] std::string_view to_string(log_level l) noexcept;
[[nodiscard]] std::optional<log_level> parse_log_level(std::string_view s) noexcept;

/// What a tool reports about how far it got. All fields are optional in
/// spirit: zero or empty means "not reported".
struct progress {
  double percent = 0;  ///< 0 to 100
  int current_step = 0;
  int total_steps = 0;
  std::string step_name{};
  std::optional<time_point> estimated_completion{};

  friend bool operator==(const progress&, const progress&) = default;
};

/// What a client asks for. Only `tool` is required; unset optionals take the
/// tool's defaults, then the engine's.
/// Which kinds of a job's events a webhook receives.
struct event_kinds {
  bool transition = true;
  bool progress = false;
  bool log = false;
  friend bool operator==(const event_kinds&, const event_kinds&) = default;
};

/// Where a job's events are POSTed (overseer/webhooks.hpp).
struct notify_spec {
  std::string url{};  ///< http:// or https://, its host on webhook_config::allow
  event_kinds events{};
};

struct job_spec {
  std::string tool{};
  boost::json::object params{};
  std::string name{};
  std::optional<int> priority{};  ///< 0 to 10, higher runs first; default 5
  std::map<std::string, std::string> labels{};
  /// In a cluster, the node labels its attempts need (every pair must match
  /// a node's --node-label); empty: any node.
  std::map<std::string, std::string> node_selector{};
  std::optional<std::chrono::seconds> timeout{};  ///< per attempt; none = no limit
  std::optional<retry_policy> retry{};
  std::optional<int> ttl_hours{};  ///< 1 to 168; how long a finished job is kept
  std::string idempotency_key{};
  /// Answer from the result cache when an equal job completed recently.
  bool use_cache = false;
  /// Jobs that must complete before this one starts; each must exist. If
  /// one fails, times out or is cancelled, this job fails naming it.
  std::vector<std::string> depends_on{};
  /// Not started before this time (a restart honours it).
  std::optional<time_point> run_at{};
  /// Not started before this long after submission (delay_s in JSON).
  std::optional<std::chrono::milliseconds> delay{};
  /// The principal the job belongs to (docs/operations.md, "Tenants"): its
  /// fair share, quotas and who may see it. Empty: the single tenant of an
  /// engine without principals (what the HTTP front's admins submit as).
  std::string owner{};
  /// The W3C trace id (32 lowercase hex digits) the job belongs to: a request
  /// can be followed from the web front through the job, its events, logs
  /// and tools (exec tools get TRACEPARENT). Empty: none. The HTTP front
  /// takes it from a `traceparent` header when the spec gives none.
  std::string trace_id{};
  /// POST this job's events to a URL (docs/operations.md, "Webhooks").
  std::optional<notify_spec> notify{};
};

/// Where a cache hit's result came from.
struct cache_info {
  time_point cached_at{};
  std::string source_job_id{};
};

/// One line of a job's history: a transition as it was made durable.
struct transition {
  std::optional<job_status> from{};  ///< empty for the creation entry
  job_status to = job_status::pending;
  time_point at{};
  int attempt = 0;
  std::string reason{};
  /// In a cluster, the node the attempt runs (ran) on; empty otherwise.
  std::string node{};
  friend bool operator==(const transition&, const transition&) = default;
};

/// One log line of a job, as a tool (or the engine) wrote it.
struct log_line {
  time_point at{};
  log_level level = log_level::info;
  std::string message{};
  std::string component{};  ///< "tool" for tool output, "engine" for the engine
};

/// A job as a client sees it: a snapshot, never a live reference.
struct job_view {
  std::string id{};
  std::string tool{};
  std::string name{};
  job_status status = job_status::pending;
  int attempt = 0;  ///< attempts started so far; 0 while never run
  /// Of those, the ones counted against retry.max_attempts: not an attempt
  /// a restart or a lost node interrupted, nor one before an explicit retry.
  int attempts_counted = 0;
  int priority = 5;
  std::map<std::string, std::string> labels{};
  boost::json::object params{};
  overseer::progress progress{};
  std::optional<boost::json::value> result{};  ///< set once completed
  std::string error{};                          ///< last failure, if any
  time_point created_at{};
  std::optional<time_point> started_at{};    ///< start of the latest attempt
  std::optional<time_point> completed_at{};  ///< when it became terminal
  std::optional<time_point> next_attempt_at{};  ///< while retrying: backoff end
  std::optional<std::chrono::seconds> timeout{};
  retry_policy retry{};
  int ttl_hours = 0;
  std::string idempotency_key{};
  std::string batch_id{};                 ///< empty unless submitted in a batch
  std::vector<std::string> depends_on{};
  /// Dependencies not completed yet; "node" while no connected node can run
  /// it (its tool, its node_selector).
  std::vector<std::string> waiting_on{};
  std::optional<time_point> run_at{};
  bool use_cache = false;
  std::optional<overseer::cache_info> cache_info{};  ///< set for a cache hit
  std::string owner{};  ///< the principal it belongs to; empty: none
  std::string trace_id{};  ///< its W3C trace id; empty: none
  /// In a cluster: the node of its latest attempt (empty before the first,
  /// or without a cluster), and the node labels it requires.
  std::string node{};
  std::map<std::string, std::string> node_selector{};
  /// Seconds until it is expected to end (pending, retrying, running: see
  /// submit_result::estimated_duration_s) and how long a run of its tool
  /// typically takes. Estimates, set by engine::get; none when unknown.
  std::optional<double> estimated_duration_s{};
  std::optional<double> estimated_run_s{};
  /// Whether progress.estimated_completion was computed by the engine from
  /// the progress rate (the tool gave none), rather than reported by the tool.
  bool completion_estimated = false;
};

}  // namespace overseer
