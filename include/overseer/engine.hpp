// The Overseer engine: durable, supervised long-running jobs, embeddable.
//
// An engine owns a RocksDB data directory, a scheduler actor and the tools
// registered with it. Guarantees: a job id is returned only after the job is
// durable; every transition is durable before any subscriber sees it; after a
// crash, start() re-queues every unfinished job (a job found running becomes
// a new attempt that receives its last checkpoint). Every member function is
// thread-safe, also against stop(): a call that stop() overtakes is answered
// not_running (a blocked wait() or wait_async() at once), and stop() waits
// for calls under way before it closes anything they read.
//
// One error style. A call that can fail for a reason the caller should act
// on answers a result<T> (overseer/result.hpp): ok with a value, or an errc
// (not_found, invalid_spec, conflict, timeout, not_running, store_failure,
// ...) with a message and, for a refused request, every bad field. It never
// throws for those. submit_result, batch_submit_result and change_result are
// the results of their calls in the same shape (code, message, errors as
// fields), with the ids and counts a submit or change answers. Exceptions
// (overseer::error, carrying the errc) are left for:
//   - submit(), the one throwing shorthand: the job id, or overseer::error
//     for anything try_submit() would refuse;
//   - start() and the constructor: a store that cannot be opened, an
//     invalid engine_config;
//   - result<T>::value() on a result that is not ok;
//   - the calls whose answer has no failure of its own (list, history,
//     events_after, last_seq, cache_statistics, stats, run_retention,
//     subscribe): they throw only when the engine is not started
//     (not_running) or the store cannot be read (store_failure), never for
//     "nothing there" (an unknown id's history is empty).
//
// Threads. Calls that wait for an answer (submit, try_submit, submit_batch,
// cancel, retry, cancel_batch, clear_cache, pause_tool, resume_tool, stats,
// wait, start, stop) block the calling thread: never make them from a CAF
// cooperative thread, an event callback, a log sink, on_store_failure or a
// completion callback of an *_async call (they run on the threads those
// calls wait for, and would deadlock). The *_async calls and the readers
// (get, get_with_seq, get_batch, logs, list, history, events_after,
// last_seq, cache_statistics, check) never wait on the engine's threads; the
// readers read RocksDB directly (a point read or a scan, no lock held by the
// engine's threads), so a completion callback may call them.
//
// Host callbacks (completion callbacks, event callbacks, watchers, the log
// sink) run on the engine's threads and must return quickly: a slow one
// delays what that thread serves (a submit's done runs on the scheduler's
// thread). What one throws is reported through engine_config::log and goes
// no further; the engine goes on. Durations longer than a clock can hold
// are refused in specs and in engine_config (timeouts and delays above
// 10^9 s, intervals above ten years); a wait() longer than a century waits
// a century.
//
//   overseer::engine engine{{.data_dir = "/var/lib/app/jobs"}};
//   engine.start();
//   auto view = engine.wait(engine.submit({.tool = "sleep"}), std::chrono::seconds(30));
//   if (view) use(view->status);
//   else if (view.code() == overseer::errc::timeout) ...;
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "overseer/errc.hpp"
#include "overseer/event.hpp"
#include "overseer/files.hpp"
#include "overseer/job.hpp"
#include "overseer/log_sink.hpp"
#include "overseer/result.hpp"
#include "overseer/retry_policy.hpp"
#include "overseer/supervision.hpp"
#include "overseer/tool.hpp"
#include "overseer/webhooks.hpp"

namespace caf {
class actor_system;
class actor;
}  // namespace caf

namespace overseer {

/// A principal's share of the slots (docs/operations.md, "Tenants").
struct principal_share {
  /// Starts it is granted per round of the round-robin between principals
  /// of one priority (1-1000). Default 1.
  int weight = 1;
  /// Its jobs running at once; 0 = no limit beyond the engine's and the tools'.
  int max_running = 0;
  friend bool operator==(const principal_share&, const principal_share&) = default;
};

/// The principals' shares, by owner name, set by the host at any time (the
/// daemon sets them from its tokens file, again on SIGHUP) and read by the
/// scheduler at its next dispatch. Thread-safe.
class principal_shares {
public:
  void set(std::map<std::string, principal_share> shares);
  [[nodiscard]] std::map<std::string, principal_share> snapshot() const;
  /// Grows by one at every set(); 0 before the first.
  [[nodiscard]] std::uint64_t version() const noexcept { return version_.load(std::memory_order_acquire); }

private:
  mutable std::mutex mutex_;
  std::map<std::string, principal_share> shares_;
  std::atomic<std::uint64_t> version_{0};
};

/// Worker nodes (docs/cluster.md): the engine that owns the store is the
/// scheduler node; other processes (`overseerd --worker`) join it over
/// CAF's middleman and run attempts of the tools they offer. Off while
/// `listen` is empty.
struct cluster_config {
  /// "HOST:PORT" the scheduler node accepts workers on; port 0 picks a free
  /// one (engine::cluster_port). Empty: no cluster, every attempt runs here.
  std::string listen{};
  /// Attempts this node runs itself at once; -1: max_concurrent; 0: none
  /// (every attempt goes to a worker). In a cluster the global limit is the
  /// sum of the connected nodes' capacities.
  int local_capacity = -1;
  /// This node's name in GET /v1/nodes; empty: the host name.
  std::string node_name{};
  std::map<std::string, std::string> labels{};
  /// Mutual TLS (PEM files): this node's certificate chain and key, and the
  /// CA every peer's certificate must chain to. All three or none; without
  /// them `listen` must be a loopback address.
  std::string cert_file{};
  std::string key_file{};
  std::string ca_file{};
  /// A worker that sends no heartbeat for this long is lost, as if its
  /// connection had dropped. Workers send one every second.
  std::chrono::milliseconds heartbeat_timeout{5000};
};

/// A node joined the cluster, or was lost (engine::watch_nodes).
struct node_change {
  std::string node{};
  bool joined = true;   ///< false: lost
  std::string reason{};  ///< why it was lost ("connection lost", "no heartbeat for 5000 ms", "rejoined")
  int capacity = 0;
  time_point at{};
};

/// One node of a cluster as GET /v1/nodes shows it.
struct node_view {
  std::string name{};
  std::string address{};  ///< where it connects from ("local" for this node)
  std::map<std::string, std::string> labels{};
  int capacity = 0;
  int running = 0;
  time_point joined_at{};
  time_point last_heartbeat{};
  bool local = false;
  std::map<std::string, std::string> tools{};  ///< name -> version
};

struct engine_config {
  /// Where RocksDB keeps the jobs. Created if missing. Default ./overseer-data.
  std::filesystem::path data_dir = "overseer-data";
  /// Jobs running at once, all tools together. 0 = the number of cores.
  int max_concurrent = 0;
  /// Jobs of immediate tools (tool_mode::immediate) running at once, in a
  /// pool of their own beside max_concurrent. 0 = the number of cores.
  int immediate_concurrent = 0;
  /// Sync the write-ahead log on every group commit. Default true; false
  /// trades crash durability (not process-crash safety) for speed.
  bool sync = true;
  /// Priority of a spec that names none (0-10). Default 5.
  int default_priority = 5;
  /// How long finished jobs are kept when the spec says nothing. Default 24.
  int default_ttl_hours = 24;
  /// Restart intensity: a tool with more than `max_failures` counted
  /// attempt endings within `failure_window` is paused until resume_tool()
  /// (OTP's intensity/period). Default 20 in 10 s. The default for every
  /// tool whose definition brings no `supervision` of its own.
  int max_failures = 20;
  std::chrono::milliseconds failure_window{10000};
  /// Which attempt endings count toward the restart intensity
  /// (intensity_counts: crashes and timeouts by default).
  intensity_counts intensity{};
  /// Shortest interval between two stored progress updates of one job.
  /// Default 200 ms; the last update before an attempt ends is always stored.
  std::chrono::milliseconds progress_interval{200};
  /// How long a worker thread of the engine's own actor system keeps
  /// polling for work (yielding the CPU between polls) before it sleeps.
  /// A message from outside (a submit, a write made durable) then finds it
  /// awake instead of waking it, which takes tens of microseconds: a submit
  /// made one at a time crosses twice (50 us: 2x the jobs/s one at a time
  /// without a sync, 1.16x with one). Only while fewer jobs wait for a slot
  /// than there are slots: while a long queue drains the polls took the
  /// cores from the writer and the tools (docs/performance.md). While an
  /// answer is due (answers_due) one worker polls on past it, for at most
  /// expecting_cap: a submit made one at a time then finds it awake after
  /// its sync too. It costs some CPU at light load (about 0.5 ms per
  /// submit made one at a time); 0 turns it all off. Default 50 us. Ignored by the
  /// constructor that takes an actor system: that system's scheduler is the
  /// host's.
  std::chrono::microseconds idle_spin{50};
  /// Register sleep, fail, noop and fasta_stats. Default true.
  bool builtin_tools = true;
  /// How long a completed job's result answers equal use_cache submits.
  /// Default 24 h.
  std::chrono::seconds cache_ttl{24 * 3600};
  /// How often the janitor deletes expired jobs and old events. Default 60 s.
  std::chrono::milliseconds retention_interval{60000};
  /// Events kept for `since` replay, newest first. Default 1,000,000.
  std::uint64_t event_retention = 1'000'000;
  /// Free space the data directory's file system must keep, in bytes. Below
  /// it start() refuses (store_failure naming both figures), and a running
  /// engine fail-stops before its next write: RocksDB must never hit a full
  /// disk itself. The default, 64 MiB, covers a flush of RocksDB's memtables
  /// (64 MiB together); less lets a flush fill the disk. 0 turns the check off.
  std::uint64_t min_free_bytes = 64ull << 20;
  /// Salvage a store whose write-ahead log is damaged in its middle (a disk
  /// fault, not a crash: a crash only tears the last record, which is
  /// skipped). false, the default: start() refuses such a store
  /// (store_failure), since writes acknowledged after the damage would be
  /// lost. true: replay the log up to the damage and drop the rest. An
  /// operator's one-off decision, never a standing setting.
  bool salvage_store = false;
  /// Fail-stop notice. When the store fails (a write or a RocksDB background
  /// job fails, or free space falls below min_free_bytes) the engine refuses
  /// every change from then on with errc::store_failure, starts no attempts,
  /// and reports the error in stats(); nothing acknowledged is lost. Then
  /// this runs once, on an engine thread (the writer's, RocksDB's
  /// background-error thread, or the one in start()), with the error: it must
  /// not block and must not call the engine (not even the readers: the store
  /// has failed), since every pending write waits behind it. A host should stop the engine and restart it once
  /// the cause is fixed; recovery takes over. Default none.
  std::function<void(const std::string& error)> on_store_failure{};
  /// The engine's diagnostics (a tool paused, the store failed, an
  /// unreadable record skipped, an orphaned process killed, RocksDB's
  /// warnings). Default none: an embedded engine never writes to the
  /// host's stderr by itself. Runs on any engine thread (see log_sink): it
  /// must not block for long and must not call the engine.
  log_sink log{};
  /// Weights and running limits of the principals that own jobs
  /// (job_spec::owner). Default none: every owner has weight 1 and no limit.
  std::shared_ptr<principal_shares> shares{};
  /// Webhook deliveries (overseer/webhooks.hpp): the daemon-wide receiver,
  /// the secret, the hosts a job's notify.url may name, retries.
  webhook_config webhooks{};
  /// Worker nodes; off by default.
  cluster_config cluster{};
};

/// Jobs submitted together.
struct batch_spec {
  std::string name{};
  std::vector<job_spec> jobs{};  ///< started in this order within the limit
  int parallel_limit = 0;      ///< at most this many running at once; 0 = no limit
  bool fail_fast = false;      ///< the first failure cancels the rest
  /// The principal the batch and every one of its jobs belong to (each job's
  /// own owner is replaced by it). Empty: none.
  std::string owner{};
};

/// The answer to a batch submit, in result's shape: `code` is errc::ok when
/// every job was made durable, else why none was (errors name the fields).
struct batch_submit_result {
  errc code = errc::ok;
  std::string batch_id{};
  std::vector<std::string> job_ids{};
  std::string message{};
  std::vector<field_error> errors{};  ///< fields named "jobs[3].priority"
};

struct batch_view {
  std::string id{};
  std::string name{};
  int parallel_limit = 0;
  bool fail_fast = false;
  time_point created_at{};
  /// pending, running, completed, failed or cancelled.
  std::string status{};
  std::map<std::string, std::size_t> counts{};  ///< per job status
  std::vector<std::pair<std::string, job_status>> jobs{};
  std::string owner{};  ///< the principal it belongs to; empty: none
};

struct cache_stats {
  std::size_t total_cached_results = 0;
  double hit_rate_percent = 0;  ///< hits / (hits + misses) since start
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t total_size_bytes = 0;
  std::optional<time_point> oldest{};
  std::optional<time_point> newest{};
};

struct cache_filter {
  std::string tool{};                           ///< empty: every tool
  std::map<std::string, std::string> labels{};  ///< of the source job
  /// Only entries whose source job belongs to this principal; none: any.
  std::optional<std::string> owner{};
};

/// The answer to a submit, in result's shape: `code` is errc::ok once the job
/// is durable (or answered from the cache or an earlier idempotent submit),
/// else why it was refused, with `message` and every bad field in `errors`.
struct submit_result {
  errc code = errc::ok;
  std::string job_id{};
  std::string message{};
  std::vector<field_error> errors{};
  std::size_t position_in_queue = 0;  ///< jobs ahead of it when it was queued
  bool existing = false;  ///< an idempotent repeat: job_id names the earlier job
  /// The job's status when answered: pending, completed for a cache hit, or
  /// the earlier job's for an idempotent repeat (empty if not known).
  std::optional<job_status> status{};
  /// Seconds until the job is expected to end: the waves of jobs ahead of
  /// it at its tool's concurrency, then its tool's typical run time (the
  /// median of its recent runs, kept across restarts). An estimate; none
  /// before the tool has run a few jobs.
  std::optional<double> estimated_duration_s{};
};

/// The answer to run: the submit's own answer, and the job's view when the
/// wait ended. `code` is errc::ok when the job ended (any terminal status:
/// completed, failed, cancelled, timed_out) within the time given; timeout
/// when it goes on (then `view` is how it was at the deadline: pending or
/// running; it keeps running); else the submit's refusal (as in
/// `submitted`) or not_running when the engine stopped meanwhile.
struct run_result {
  errc code = errc::ok;
  std::string message{};
  submit_result submitted{};
  std::optional<job_view> view{};
};

/// The answer to cancel, retry and cancel_batch, in result's shape: `code`
/// is errc::ok once the change is durable (not_found, conflict, not_running,
/// store_failure otherwise, with `message`).
struct change_result {
  errc code = errc::ok;
  std::string message{};
  std::optional<job_view> view{};  ///< the job after the change, when ok
};

/// A job's view and the seq of the last event it reflects (get_with_seq).
struct job_snapshot {
  job_view view{};
  std::uint64_t seq = 0;
};

/// One page of a job's log (logs()).
struct log_page {
  std::vector<log_line> lines{};  ///< oldest first
  std::size_t total = 0;          ///< every matching line, not only this page
};

struct list_query {
  std::optional<job_status> status{};
  std::string tool{};
  std::map<std::string, std::string> labels{};  ///< every one must match
  std::string batch_id{};
  std::string trace_id{};  ///< only the jobs of this W3C trace id; empty: any
  /// Only jobs whose name contains this text, ASCII letters matched without
  /// regard to case ("sample 17" finds "Annotate SAMPLE 17"); empty: any.
  std::string name_contains{};
  std::optional<time_point> created_after{};   ///< inclusive
  std::optional<time_point> created_before{};  ///< exclusive
  /// Only jobs of this principal (job_spec::owner; "" is the jobs without
  /// one); none: every owner.
  std::optional<std::string> owner{};
  std::size_t limit = 100;
  std::size_t offset = 0;
};

struct list_result {
  std::vector<job_view> jobs{};  ///< newest first
  std::size_t total_count = 0;
};

struct tool_health {
  std::string name{};
  bool paused = false;
  int running = 0;           ///< attempts holding a slot
  std::size_t queued = 0;    ///< ready and waiting for a slot
  std::size_t retrying = 0;  ///< waiting for their backoff
  int recent_failures = 0;   ///< counted toward the restart intensity
  /// Why and by whom it was paused ("by client 127.0.0.1", "more than 20
  /// crashed or timed-out attempts within 10000 ms"), when paused.
  std::string paused_reason{};
  std::optional<time_point> paused_since{};  ///< when it was paused, when paused
  /// False for a stored pause of a tool that this start's registry lacks: it
  /// is listed so that an operator sees it (it would hold the tool's jobs
  /// if the tool came back) and can lift it with resume_tool.
  bool registered = true;
};

struct engine_stats {
  bool running_ok = false;   ///< the scheduler answered
  bool store_ok = false;     ///< the store has not failed (see on_store_failure)
  std::string store_error{};   ///< why it failed, when store_ok is false
  std::uint64_t corrupt_records = 0;  ///< unreadable records skipped since start
  std::uint64_t store_live_bytes = 0;  ///< RocksDB's estimate of its live data
  /// RocksDB rows this engine's writer wrote since start (puts, deletes and
  /// range deletes alike): divided by jobs, the storage cost of a job.
  std::uint64_t store_rows_written = 0;
  /// Of those, the rows of job changes themselves (records, index entries,
  /// log lines, results), without the rows each commit writes once for all
  /// of them (event blocks, rollups, the event sequence).
  std::uint64_t store_job_rows_written = 0;
  std::size_t pending = 0;   ///< queued and ready
  std::size_t waiting = 0;   ///< retrying, waiting for their backoff
  std::size_t running = 0;
  /// Job actors alive: one per admitted job, and ended jobs whose actor
  /// still waits for its last writes or its attempt's last report.
  std::size_t job_actors = 0;
  /// Idle engine workers poll before they sleep now (engine_config::
  /// idle_spin): it is on, and fewer jobs wait for a slot than there are
  /// slots. False on a host's actor system.
  bool idle_polling = false;
  std::vector<tool_health> tools{};
};

/// Filters and paging of engine::list_batches; every filter given must match.
struct batch_list_query {
  /// The batch status as get_batch computes it (pending, running, completed,
  /// failed, cancelled); empty: any. Costs a read of each batch's jobs.
  std::string status{};
  std::string name{};                          ///< exact; empty: any
  std::optional<time_point> created_after{};   ///< inclusive
  std::optional<time_point> created_before{};  ///< exclusive
  /// Only batches of this principal (batch_spec::owner); none: every owner.
  std::optional<std::string> owner{};
  std::size_t limit = 100;
  std::size_t offset = 0;
};

struct batch_list_result {
  std::vector<batch_view> batches{};  ///< newest first
  std::size_t total_count = 0;        ///< matching batches, before paging
};

/// The answer to engine::purge.
struct purge_result {
  std::size_t matched = 0;  ///< finished jobs that matched the filters
  std::size_t deleted = 0;  ///< of those, deleted (0 for a dry run)
};

class engine {
public:
  /// An engine with an actor system of its own (one CAF worker per core, at
  /// least 2, with a short idle-polling phase: tool bodies run on the
  /// engine's own threads, so more workers only poll).
  explicit engine(engine_config cfg);
  /// An engine on the host's actor system. The host must have called
  /// overseer::register_types(cfg) on its actor_system_config. On few cores,
  /// CAF's default of max(cores, 4) polling workers costs throughput; see
  /// docs/performance.md ("scheduler.max-threads").
  engine(caf::actor_system& system, engine_config cfg);
  ~engine();
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  [[nodiscard]] tool_registry& tools() noexcept;
  [[nodiscard]] const engine_config& config() const noexcept;

  /// Opens the store, recovers unfinished jobs, starts the scheduler.
  /// Throws overseer::error (store_failure) when the store cannot be opened
  /// or its file system has less free space than min_free_bytes.
  void start();
  /// Interrupts running jobs (they resume at the next start) and closes the
  /// store. Called by the destructor. Calls that arrive meanwhile are
  /// answered not_running; waits under way are answered not_running at once.
  /// Throws overseer::error (conflict) when called from a tool body of this
  /// engine or from a callback that a call of this engine runs on the same
  /// thread: it waits for every body, and every call, to return. (The
  /// destructor, which cannot throw, terminates there.)
  void stop();

  /// The one throwing shorthand: submits and returns the job id once the job
  /// is durable; throws overseer::error (its code, the message and every
  /// field error) for whatever try_submit would refuse. Blocks.
  std::string submit(job_spec spec);
  /// Like submit, but reports every outcome as a value. Blocks.
  [[nodiscard]] submit_result try_submit(job_spec spec);
  /// The field errors a submit of `spec` (or of `batch`) would be refused
  /// with, all of them, without submitting anything; empty: it would be
  /// accepted. Lets a front end report its own errors and the engine's in
  /// one answer.
  [[nodiscard]] std::vector<field_error> check(const job_spec& spec) const;
  [[nodiscard]] std::vector<field_error> check(const batch_spec& batch) const;
  /// Asynchronous submit; returns at once. `done` runs exactly once (unless
  /// the engine stops first, when it may be destroyed uncalled): on the
  /// calling thread, before submit_async returns, for a refusal found there
  /// (invalid spec, unknown tool, not started, store failed); otherwise on
  /// an engine thread once the job is durable or refused (the scheduler's
  /// CAF worker, or the writer thread). Keep it short: it delays other jobs'
  /// acknowledgements. What it throws is reported through engine_config::log. It may call the *_async functions and the
  /// readers; it must not call a blocking function (submit, cancel, wait,
  /// stats, ...).
  void submit_async(job_spec spec, std::function<void(submit_result)> done);

  /// Cancel and retry take who asks (`by`): the job's transition reason
  /// and log line say "cancelled by <by>" / "retried by <by>". The HTTP
  /// front passes the client's address. cancel and retry block; cancel_async
  /// and retry_async return at once and call `done` like submit_async (the
  /// calling thread for a refusal found there, else an engine thread once
  /// durable; the same may/may-not rules). retry reads the job's record on
  /// the calling thread (a store read, no actor) and refuses it with
  /// conflict when a stored file its params name has been deleted.
  [[nodiscard]] change_result cancel(std::string_view job_id, std::string_view by = "client");
  void cancel_async(std::string_view job_id, std::function<void(change_result)> done,
                    std::string_view by = "client");
  [[nodiscard]] change_result retry(std::string_view job_id, std::string_view by = "client");
  void retry_async(std::string_view job_id, std::function<void(change_result)> done,
                   std::string_view by = "client");

  /// Submits every job of a batch atomically (all or none) once durable.
  /// `done` runs like submit_async's (same thread, same may/may-not rules).
  void submit_batch_async(batch_spec spec, std::function<void(batch_submit_result)> done);
  /// Blocks.
  [[nodiscard]] batch_submit_result submit_batch(batch_spec spec);
  /// The batch and its jobs' statuses; not_found, store_failure, not_running.
  [[nodiscard]] result<batch_view> get_batch(std::string_view batch_id) const;
  /// Cancels every unfinished job of the batch; conflict if all are finished.
  /// `done` runs like submit_async's (same thread, same may/may-not rules).
  void cancel_batch_async(std::string_view batch_id, std::function<void(change_result)> done,
                          std::string_view by = "client");
  [[nodiscard]] change_result cancel_batch(std::string_view batch_id, std::string_view by = "client");

  [[nodiscard]] cache_stats cache_statistics() const;
  /// Removes matching cache entries (the jobs stay); how many, once durable.
  /// store_failure if the store failed or could not be read, not_running.
  /// Blocks.
  result<std::size_t> clear_cache(const cache_filter& f);
  /// Asynchronous clear: `done` gets what clear_cache would answer. It runs
  /// on the calling thread, before clear_cache_async returns, when nothing
  /// matches or the call is refused there (not started, store failed);
  /// otherwise on the writer thread once durable. Same may/may-not rules as
  /// submit_async's `done`.
  void clear_cache_async(const cache_filter& f, std::function<void(result<std::size_t>)> done);

  /// Runs one retention pass now (the janitor also runs every
  /// retention_interval): deletes terminal jobs past their ttl with every row
  /// they own, and events beyond event_retention. Returns jobs deleted.
  std::size_t run_retention();

  /// The job's view, read straight from the store (never queues behind the
  /// scheduler). not_found when there is no such job; store_failure when
  /// the store cannot be read (never reported as not_found); not_running
  /// before start(). Never throws.
  [[nodiscard]] result<job_view> get(std::string_view job_id) const;
  /// The view and the seq of the last event it reflects, read from one
  /// consistent store snapshot: events after `seq` are exactly what the
  /// view does not show yet. Fails like get().
  [[nodiscard]] result<job_snapshot> get_with_seq(std::string_view job_id) const;
  /// Committed events with seq > `after`, oldest first, at most `max`.
  [[nodiscard]] std::vector<event> events_after(std::uint64_t after, std::size_t max) const;
  [[nodiscard]] list_result list(const list_query& q) const;
  [[nodiscard]] std::vector<transition> history(std::string_view job_id) const;
  /// Log lines at or above `min_level`, oldest first, `limit` from `offset`,
  /// with the count of all matching lines. Fails like get(): not_found when
  /// no line matches and there is no such job. Never throws.
  [[nodiscard]] result<log_page> logs(std::string_view job_id, log_level min_level, std::size_t limit,
                                      std::size_t offset) const;

  /// Blocks until the job is terminal and returns its view: timeout if it is
  /// not terminal within `timeout`, not_found for an unknown id,
  /// not_running (also at once when stop() is called meanwhile),
  /// store_failure. Never throws. A job whose end it hears of from the
  /// event stream (one that ends while it waits): every subscription
  /// (subscribe) has been handed the job's terminal event, and the events
  /// before it, when wait returns (or wait_async's `done` runs). A job found
  /// ended in the store, when wait begins or in the moment it registers, is
  /// answered at once, maybe before the subscriptions hear of the end.
  [[nodiscard]] result<job_view> wait(std::string_view job_id, std::chrono::milliseconds timeout);

  /// The same without blocking: `done` gets what wait() would answer, once.
  /// It runs on the calling thread, before wait_async returns, when the job
  /// is terminal already or the call fails there (unknown id, not started);
  /// else on the event-dispatch thread when the job ends, or on the engine's
  /// timer thread at the deadline (or not_running once the engine stops).
  /// It may call the readers and the *_async functions, never a blocking
  /// function. No thread waits per caller: thousands may wait at once.
  void wait_async(std::string_view job_id, std::chrono::milliseconds timeout,
                  std::function<void(result<job_view>)> done);
  /// Submits and waits up to `timeout` for the job to end: a synchronous
  /// run for a fast tool (tool_mode::immediate). Blocks. A job not ended in
  /// time goes on (code timeout, with its id in `submitted`).
  [[nodiscard]] run_result run(job_spec spec, std::chrono::milliseconds timeout);
  /// run without blocking: `done` runs once, on the threads submit_async's
  /// and wait_async's callbacks run on, with the same may/may-not rules.
  void run_async(job_spec spec, std::chrono::milliseconds timeout, std::function<void(run_result)> done);
  /// Calls `on_event` for every matching event committed from now on, until
  /// the subscription is reset or destroyed (or the engine stops). It runs
  /// on the engine's one event-dispatch thread, one call at a time, in seq
  /// order, after the event is durable. Keep it short (a slow callback
  /// delays every subscriber, never the writer). It may call the readers
  /// (get, logs, ...) and the *_async functions, and may reset its own
  /// subscription; it must not call a blocking function (wait, submit,
  /// cancel, stats, ...). Resetting a subscription elsewhere waits for a
  /// call under way. Throws overseer::error (not_running) before start().
  [[nodiscard]] subscription subscribe(filter f, std::function<void(const event&)> on_event);
  /// Calls `on_change` on the store's writer thread after every commit
  /// that changed stored jobs (a record, a result, a deletion) with the
  /// changed jobs' ids, or with `any` true when a change may have touched
  /// any job; always before the commit's events are published or anybody
  /// is told of it. For caches of what get() reads: a cache that drops what
  /// is named here never answers staler than what its readers were told.
  /// It must be quick and must not block or call the engine. Any time,
  /// started or not; it holds until the engine is destroyed, so capture a
  /// weak_ptr to anything that may go first.
  void watch_job_changes(std::function<void(std::span<const std::string_view> ids, bool any)> on_change);
  /// The job's webhook deliveries (job_spec::notify, webhook_config::url),
  /// pending and finished, in seq order, read straight from the store.
  /// Empty for a job without any; fails like get() otherwise (not_found).
  [[nodiscard]] result<std::vector<delivery_view>> deliveries(std::string_view job_id) const;
  /// The sequence number of the newest committed event (0 if none).
  [[nodiscard]] std::uint64_t last_seq() const;
  /// Whether threads that ran out of work may poll for more now: fewer jobs
  /// wait for a slot than there are slots (engine_stats::idle_polling
  /// without the engine's own idle_spin). One relaxed atomic load, on any
  /// thread, started or not; the HTTP front's I/O threads follow it.
  [[nodiscard]] bool idle_polling_allowed() const noexcept;
  /// Whether answers are on their way back through the engine's threads
  /// and the host's: submits, cancels or retries made and not yet answered
  /// (each about a sync away), from one to expecting_max_due of them. Threads that poll
  /// before they sleep (idle_spin) poll on meanwhile, up to expecting_cap:
  /// one of the engine's workers and the HTTP front's I/O threads that owe
  /// an answer. One relaxed atomic load; process-wide (two engines in one
  /// process share it).
  [[nodiscard]] bool answers_due() const noexcept;
  /// The longest an idle thread polls on while answers are due.
  static constexpr std::chrono::microseconds expecting_cap{2000};
  /// More answers due than this is load: the threads find work soon anyway.
  static constexpr std::int64_t expecting_max_due = 4;

  /// A drain before stop(): no attempt starts from the return on, and
  /// running ones go on and end as usual. Not a pause: nothing is stored,
  /// and the next start runs the queue as before. Blocks; a no-op before
  /// start() or while stopping.
  void hold_attempts();
  /// Lifts the pause of a tool (set by pause_tool or by its restart
  /// intensity) and clears its failure count. A tool no longer registered
  /// whose pause was stored before a restart can still be resumed (its
  /// stored pause is erased). not_found for an unknown tool with no
  /// stored pause; not_running before start() or while stopping. Blocks.
  result<void> resume_tool(std::string_view name);
  /// Pauses a tool: its queued jobs wait, running attempts go on, submits
  /// are still accepted. The reason recorded is "paused by BY", or "paused
  /// by BY: WHY" when the operator gave a `why` ("the license server is
  /// down"). The pause is stored before this returns, so it outlives a
  /// restart (a crash too) until resume_tool; a second pause keeps the
  /// first one's reason and time. not_found for an unknown tool;
  /// not_running before start() or while stopping, or when the store
  /// failed. Blocks.
  result<void> pause_tool(std::string_view name, std::string_view by = "client", std::string_view why = {});
  /// The scheduler's view, which may trail the event stream by a message:
  /// an attempt's end is published once durable and reaches the scheduler
  /// on its own. Blocks; throws overseer::error (not_running) before start().
  [[nodiscard]] engine_stats stats() const;
  /// Returns at once; `done` runs on a CAF worker thread of the engine's
  /// actor system with the figures (on the calling thread, with running_ok
  /// false, when the engine is not started). It must not block or call a
  /// blocking engine function; it may call the *_async functions and the
  /// readers.
  void stats_async(std::function<void(engine_stats)> done) const;
  /// The nodes of the cluster, this one first (docs/cluster.md); without a
  /// cluster, this node alone. Returns at once; `done` runs as stats_async's
  /// does (an empty list when the engine is not started).
  void nodes_async(std::function<void(std::vector<node_view>)> done) const;
  /// Calls `on_change` for every node that joins or is lost from now on,
  /// until the subscription is reset or destroyed (none without a cluster).
  /// It runs on a CAF worker thread of the engine, one call at a time; keep
  /// it short, and do not reset the subscription from inside it.
  [[nodiscard]] subscription watch_nodes(std::function<void(const node_change&)> on_change);
  /// The port workers join on (cluster_config::listen), once started; 0
  /// without a cluster.
  [[nodiscard]] std::uint16_t cluster_port() const;

  /// The scheduler, for programs that speak CAF.
  [[nodiscard]] caf::actor scheduler() const;

  /// Batches newest first, read straight from the store, each viewed as
  /// get_batch views it.
  [[nodiscard]] batch_list_result list_batches(const batch_list_query& q) const;
  /// Deletes every finished (terminal) job that matches `q` (its limit and
  /// offset are ignored), each with every row it owns, the way retention
  /// deletes an expired job: through the scheduler, which keeps a job that
  /// a retry revives meanwhile. Unfinished jobs never match. Blocks until
  /// the deletions are durable; with `dry_run`, only counts.
  purge_result purge(const list_query& q, bool dry_run = false);

  /// Stored files (overseer/files.hpp): what a param of type "file" names
  /// and what an exec tool's `outputs` become.
  ///
  /// Copies `source` (a regular file) into the data directory as a file
  /// named `name` (any text; invalid UTF-8 is replaced), belonging to
  /// `owner`, and returns it once its bytes are synced and its record is
  /// durable. store_failure if it cannot be read or written; not_running.
  /// Blocks.
  result<file_info> add_file(const std::filesystem::path& source, std::string name, std::string owner = {});
  /// Stores a complete upload written under upload_dir() (the HTTP front's
  /// POST /v1/files): fsync, rename, record, on an engine thread; `done`
  /// runs once durable (on the writer thread), or with the failure. The
  /// temporary file is the engine's from the call on: moved or removed.
  void commit_upload_async(file_upload upload, std::function<void(result<file_info>)> done);
  /// Where uploads write their temporary files: DATA_DIR/files/tmp, emptied
  /// at every start.
  [[nodiscard]] std::filesystem::path upload_dir() const;
  /// The file's metadata; not_found, store_failure, not_running. Never throws.
  [[nodiscard]] result<file_info> get_file(std::string_view id) const;
  /// Where a stored file's bytes are (read-only, mode 0444). For an id
  /// get_file found.
  [[nodiscard]] std::filesystem::path file_path(std::string_view id) const;
  /// Files newest first, a page at a time (next_cursor).
  [[nodiscard]] file_list_result list_files(const file_list_query& q) const;
  /// Deletes a file: conflict while a pending, running or retrying job
  /// uses it (or one being submitted), not_found. `done` runs once the
  /// deletion is durable and the bytes are gone, on an engine thread (on
  /// the calling thread for a refusal).
  void delete_file_async(std::string_view id, std::function<void(result<void>)> done);
  /// Blocks.
  result<void> delete_file(std::string_view id);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace overseer

namespace caf {
class actor_system_config;
}

namespace overseer {
/// Registers the engine's message types; a host that passes its own
/// actor_system to the engine calls this on its config first.
void register_types(caf::actor_system_config& cfg);
}  // namespace overseer

namespace overseer {
/// Every field of `config` outside its bounds, as field errors named like
/// the fields ("max_concurrent", "default_priority", ...); empty when valid:
/// data_dir not empty, max_concurrent >= 0, default_priority 0-10,
/// default_ttl_hours 1-168, max_failures >= 0, failure_window,
/// progress_interval, cache_ttl and retention_interval > 0, event_retention >= 1.
[[nodiscard]] std::vector<field_error> check_engine_config(const engine_config& config);
/// Throws error(errc::invalid_spec) naming every bad field of `config` in one
/// message ("invalid engine_config: default_priority 11 is outside 0-10;
/// failure_window 0 ms is not positive"), its field errors attached. The
/// engine's constructor calls it.
void validate_engine_config(const engine_config& config);
}  // namespace overseer
