// The engine's actor protocols: every message, the typed interface of the
// scheduler and of a job actor, and the one type-ID block that registers
// them with CAF.
//
//   engine ──► scheduler ──spawns, monitors──► job actor (one per admitted job)
//                  ▲                               │  ▲
//                  └──── attempt_ended, job_ready, │  │ progress, logs, checkpoints,
//                        job_finished ◄────────────┘  │ attempt_finished
//                                           attempt (a tool body on the attempt pool)
//
// The messages never leave the process, so they carry shared records and
// reply callbacks instead of being serializable; CAF_ALLOW_UNSAFE_MESSAGE_TYPE
// says so. A reply callback is how an actor answers a caller that is not an
// actor (an HTTP I/O thread, an embedding host): the caller never blocks, and
// the actor calls it exactly once, after what it reports is durable.
// Commands are imperative (submit_job), facts past tense (attempt_finished).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "actors/attempt_control.hpp"
#include "actors/supervision.hpp"
#include "overseer/engine.hpp"
#include "overseer/tool.hpp"
#include "persistence/codec.hpp"
#include "persistence/group_commit.hpp"

namespace overseer::actors {

using submit_reply = std::function<void(submit_result)>;
using change_reply = std::function<void(change_result)>;

/// A reply answered exactly once: by its call or, when the message that
/// carries it is dropped unanswered (its receiver, a job actor, has gone),
/// with `fallback` as the last copy goes. So a cancel forwarded to a job
/// actor that has just finished is still answered.
class guarded_reply {
public:
  guarded_reply() = default;
  guarded_reply(change_reply fn, change_result fallback)
    : state_(std::make_shared<state>(std::move(fn), std::move(fallback))) {}
  explicit operator bool() const noexcept { return state_ && state_->fn; }
  void operator()(change_result r) const {
    if (state_ && state_->fn && !state_->done.exchange(true)) state_->fn(std::move(r));
  }

private:
  struct state {
    state(change_reply f, change_result fb) : fn(std::move(f)), fallback(std::move(fb)) {}
    state(const state&) = delete;
    state& operator=(const state&) = delete;
    ~state() {
      if (fn && !done.exchange(true)) fn(std::move(fallback));
    }
    change_reply fn;
    change_result fallback;
    std::atomic<bool> done{false};
  };
  std::shared_ptr<state> state_;
};

// -- from the engine to the scheduler ----------------------------------------

struct submit_job {
  std::shared_ptr<persistence::job_record> record;
  submit_reply reply;
  /// A cache hit: the job is created completed with this result.
  std::optional<std::string> cached_result;
  /// Rows written with the job's creation (its webhook notify row).
  std::vector<persistence::kv_op> ops{};
};

/// A batch and its jobs, created in one write.
struct submit_batch {
  persistence::batch_record batch;
  std::vector<std::shared_ptr<persistence::job_record>> jobs;
  std::function<void(batch_submit_result)> reply;
  /// Per job, the rows written with its creation (submit_job::ops).
  std::vector<std::vector<persistence::kv_op>> job_ops{};
};

struct cancel_job {
  std::string job_id;
  change_reply reply;
  std::string by;  ///< who asked ("client 127.0.0.1")
};

struct cancel_batch {
  std::string batch_id;
  change_reply reply;
  std::string by;  ///< who asked ("client 127.0.0.1")
};

struct retry_job {
  std::string job_id;
  change_reply reply;
  std::string by;  ///< who asked
};

/// Retention: delete these expired jobs, unless one was revived meanwhile.
struct expire_jobs {
  std::vector<std::string> ids;
  std::vector<persistence::job_write> deletions;  ///< one per id, each atomic
  std::function<void(std::size_t deleted)> done;
};

/// Unfinished jobs found in the store at start, oldest first: what recovery
/// hands the scheduler, as plain data.
struct recover_jobs {
  std::vector<persistence::job_record> jobs;
  std::vector<persistence::batch_record> batches;  ///< of the unfinished jobs
  /// Status of every dependency of an unfinished job that is itself finished.
  std::map<std::string, job_status> finished_deps;
  /// Tools paused when the engine last ran (the index's pause: entries):
  /// tool -> (reason, since). They stay paused.
  std::map<std::string, std::pair<std::string, time_point>> paused;
  /// Called once the recovery's own writes (interrupted, ...) are durable.
  std::function<void(bool)> done;
};

struct get_stats {
  std::function<void(engine_stats)> reply;
};

struct pause_tool {
  std::string name;
  std::string reason;  ///< "paused by client 127.0.0.1"
  std::function<void(bool)> reply;
};

struct resume_tool {
  std::string name;
  std::function<void(bool)> reply;
};

/// A daemon's drain: no attempt starts from now on, running ones go on. In
/// memory only (not a pause of every tool, which would be stored and would
/// outlive the restart). `reply` once it holds.
struct hold_attempts {
  std::function<void()> reply;
};

/// Stop every attempt (they stay "running" in the store and resume as
/// interrupted at the next start), then quit.
struct shut_down {};

/// Fault injection for the supervision tests: the job actor of `job_id`
/// throws from inside a handler, as a defect of the engine would.
struct crash_job_actor {
  std::string job_id;
};

// -- the scheduler's own (store answers, timers, the writer) -----------------

/// The store's answer about dependencies that were not active: their status
/// (empty if the job no longer exists).
struct deps_loaded {
  std::string job_id;
  std::vector<std::pair<std::string, std::optional<job_status>>> deps;
};

/// The store's answer to an idempotency-key look-up.
struct key_loaded {
  std::string key;
  std::optional<persistence::job_record> owner;
  std::string error;  ///< the store could not be read: every waiter gets store_failure
};

/// The store's answer to a retry_job read.
struct retry_loaded {
  std::string job_id;
  std::optional<persistence::job_record> record;
  change_reply reply;
  std::optional<persistence::batch_record> batch;  ///< the job's batch, if it has one
  std::string by;  ///< who asked for the retry
  std::string error;  ///< the store could not be read: answer store_failure
};

/// The last durable snapshot of a job whose actor died: the store's record,
/// read behind every write queued before the death.
struct snapshot_loaded {
  std::string job_id;
  std::optional<persistence::job_record> record;
  std::string error;   ///< the store could not be read
  std::string reason;  ///< why the job actor died
};

struct run_at_reached {
  std::string job_id;
};

/// From the writer: the writes flushed under `token` are durable (or failed).
struct writes_committed {
  std::uint64_t token;
  bool ok;
};

/// Sent last by an attempt's pool task, to the scheduler: the tool body has
/// returned and its thread is free. Releases the concurrency slot it held.
///
/// An attempt that sent its job actor nothing on the way (no progress, no
/// log line: most short attempts) carries its result here too, and the
/// scheduler hands it to `job` as attempt_finished: one message from the
/// pool thread instead of two, and the job actor is woken from a CAF thread,
/// which costs no lock and no wake-up of a sleeping worker. An attempt that
/// did send progress or log lines sends its result straight to its job
/// actor, behind them (one sender's messages arrive in order).
struct attempt_exited {
  std::uint64_t runner = 0;
  int attempt = 0;
  bool had_process = false;  ///< it recorded an external process group
  std::optional<tool_result> result;  ///< the attempt's result, for `job`
  caf::strong_actor_ptr job;          ///< the job actor that started it, with a result
};

// -- from a job actor to the scheduler -----------------------------------------

/// An attempt ended and the job retries: what the restart intensity counts.
/// (An attempt that ends the job is reported by job_finished.)
struct attempt_ended {
  std::string job_id;
  std::string tool;
  int attempt;
  supervision::attempt_outcome outcome;
  job_status next;
};

/// Back to pending after its backoff (that write is queued ahead of
/// anything the scheduler writes next): queue it for a slot.
struct job_ready {
  std::string job_id;
};

/// The job is terminal (its write is queued ahead of anything the scheduler
/// writes next); the job actor goes once its attempt has reported and its
/// writes are answered (a cancel forwarded meanwhile is answered by its
/// guarded_reply). When an
/// attempt's end made it terminal, how it ended (the restart intensity):
/// then no attempt_ended precedes it.
struct job_finished {
  std::shared_ptr<const persistence::job_record> record;
  std::optional<supervision::attempt_outcome> outcome;
};

// -- from the scheduler to a job actor ----------------------------------------

/// A slot is granted: start the next attempt. `runner` names the slot;
/// `control` is the attempt's stop flag, which the scheduler keeps too so
/// that it can stop the body if the job actor dies.
struct start_attempt {
  std::uint64_t runner = 0;
  std::shared_ptr<attempt_control> control;
  /// In a cluster, the worker node that runs it (an attempt proxy relays,
  /// actors/cluster.hpp); empty `worker`: this node's attempt pool.
  std::string node{};
  caf::actor worker{};
  std::uint64_t session = 0;  ///< the node's membership the attempt belongs to
};

/// Cancel the job (a client, a batch's fail-fast, a cancelled batch).
struct stop_job {
  std::string reason;   ///< "cancelled by client 127.0.0.1"
  guarded_reply reply;  ///< may be empty
};

// -- from an attempt (its tool body) to its job actor ------------------------

struct attempt_finished {
  int attempt;
  std::optional<tool_result> result;  // optional: CAF needs a default constructor
};

struct progress_reported {
  int attempt;
  overseer::progress value;
};

struct log_reported {
  int attempt;
  log_level level;
  std::string message;
  /// The attempt's, for a line of a local attempt: the job actor gives the
  /// line's credit back once it is durable, or at once if it drops it.
  std::shared_ptr<attempt_control> credit = nullptr;
};

struct save_checkpoint {
  int attempt;
  std::string bytes;
  std::function<void(bool durable)> done;
};

/// A worker node's attempt asks, every so many log lines, that the lines
/// it sent so far are written (the job actor answers once the writer has
/// committed everything queued before this): its log's backpressure
/// across the cluster (attempt_control::max_unwritten_lines).
struct log_barrier {
  int attempt;
  std::function<void(bool written)> done;
};

struct record_process {
  int attempt;
  int process_group;
  std::uint64_t start_time;
  std::function<void(bool durable)> done;
  /// A process on a worker node: kept in the record, but recovery on this
  /// node must never kill a local process group of that number.
  bool remote = false;
};

/// The attempt's node was lost (its connection dropped or its heartbeats
/// stopped): the job goes back to pending without using up a retry.
struct attempt_interrupted {
  int attempt;
  std::string reason;  ///< "node lost: w1 (connection lost)"
};

// -- cluster (actors/cluster.hpp): within the scheduler node ------------------

/// From the cluster actor to the scheduler: a worker joined (or rejoined,
/// with a new session).
struct node_joined {
  node_view view;
  caf::actor worker;
  std::uint64_t session = 0;
};

/// From the cluster actor: the node of that session is gone. Its attempt
/// proxies have been told; each releases its slot.
struct node_lost {
  std::string name;
  std::uint64_t session = 0;
  std::string reason;
};

/// From the cluster actor: a heartbeat arrived.
struct node_seen {
  std::string name;
  std::uint64_t session = 0;
  time_point at;
};

struct get_nodes {
  std::function<void(std::vector<node_view>)> reply;
};

/// From an attempt proxy to the cluster actor: tell me if this node goes.
struct proxy_attached {
  std::string node;
  std::uint64_t session = 0;
  caf::actor proxy;
};

/// From the cluster actor to an attempt proxy: its node is gone.
struct node_gone {
  std::string reason;
};

/// An attempt proxy's own: the job actor answered a durable request.
struct proxy_durable {
  std::uint64_t token = 0;
  bool ok = false;
};

/// An attempt proxy's own: its attempt_control was told to stop.
struct proxy_stop {};

/// The cluster actor's own: look for nodes whose heartbeats stopped.
struct cluster_tick {};

// -- a job actor's own timers ----------------------------------------------------

struct attempt_timed_out {
  int attempt;
};

struct backoff_elapsed {
  int attempt;
};

/// Fault injection (see crash_job_actor).
struct inject_fault {};

}  // namespace overseer::actors

CAF_BEGIN_TYPE_ID_BLOCK(overseer, caf::first_custom_type_id)
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::submit_job))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::submit_batch))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::cancel_job))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::cancel_batch))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::retry_job))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::expire_jobs))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::recover_jobs))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::get_stats))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::pause_tool))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::resume_tool))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::shut_down))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::crash_job_actor))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::hold_attempts))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::deps_loaded))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::key_loaded))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::retry_loaded))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::snapshot_loaded))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::run_at_reached))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::writes_committed))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::attempt_exited))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::attempt_ended))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::job_ready))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::job_finished))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::start_attempt))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::stop_job))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::attempt_finished))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::progress_reported))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::log_reported))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::save_checkpoint))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::record_process))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::attempt_timed_out))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::backoff_elapsed))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::inject_fault))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::attempt_interrupted))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::node_joined))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::node_lost))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::node_seen))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::get_nodes))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::proxy_attached))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::node_gone))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::proxy_durable))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::proxy_stop))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::cluster_tick))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::log_barrier))
CAF_END_TYPE_ID_BLOCK(overseer)

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::submit_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::submit_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::cancel_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::cancel_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::retry_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::expire_jobs)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::recover_jobs)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::get_stats)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::pause_tool)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::resume_tool)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::shut_down)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::crash_job_actor)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::hold_attempts)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::deps_loaded)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::key_loaded)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::retry_loaded)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::snapshot_loaded)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::run_at_reached)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::writes_committed)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::attempt_exited)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::attempt_ended)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::job_ready)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::job_finished)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::start_attempt)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::stop_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::attempt_finished)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::progress_reported)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::log_reported)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::save_checkpoint)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::log_barrier)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::record_process)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::attempt_timed_out)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::backoff_elapsed)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::inject_fault)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::attempt_interrupted)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::node_joined)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::node_lost)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::node_seen)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::get_nodes)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::proxy_attached)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::node_gone)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::proxy_durable)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::proxy_stop)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::cluster_tick)

namespace overseer::actors {

/// The scheduler's whole interface: what the engine asks of it, what job
/// actors report to it, and its own store answers and timers.
using scheduler_actor = caf::typed_actor<
  // from the engine
  caf::reacts_to<recover_jobs>, caf::reacts_to<submit_job>, caf::reacts_to<submit_batch>,
  caf::reacts_to<cancel_job>, caf::reacts_to<cancel_batch>, caf::reacts_to<retry_job>,
  caf::reacts_to<expire_jobs>, caf::reacts_to<get_stats>, caf::reacts_to<pause_tool>,
  caf::reacts_to<resume_tool>, caf::reacts_to<hold_attempts>, caf::reacts_to<shut_down>,
  caf::reacts_to<crash_job_actor>,
  // from job actors and attempts
  caf::reacts_to<attempt_ended>, caf::reacts_to<job_ready>, caf::reacts_to<job_finished>,
  caf::reacts_to<attempt_exited>,
  // from the cluster actor, and GET /v1/nodes
  caf::reacts_to<node_joined>, caf::reacts_to<node_lost>, caf::reacts_to<node_seen>, caf::reacts_to<get_nodes>,
  // its own: store answers, timers, the writer
  caf::reacts_to<deps_loaded>, caf::reacts_to<key_loaded>, caf::reacts_to<retry_loaded>,
  caf::reacts_to<snapshot_loaded>, caf::reacts_to<run_at_reached>, caf::reacts_to<writes_committed>>;

/// A job actor's whole interface: what the scheduler tells it, what its
/// attempt reports, and its own timers.
using job_actor = caf::typed_actor<
  // from the scheduler
  caf::reacts_to<start_attempt>, caf::reacts_to<stop_job>,
  caf::reacts_to<shut_down>, caf::reacts_to<inject_fault>,
  // from its attempt
  caf::reacts_to<attempt_finished>, caf::reacts_to<progress_reported>, caf::reacts_to<log_reported>,
  caf::reacts_to<save_checkpoint>, caf::reacts_to<log_barrier>, caf::reacts_to<record_process>, caf::reacts_to<attempt_interrupted>,
  // its own: timers, the writer
  caf::reacts_to<attempt_timed_out>, caf::reacts_to<backoff_elapsed>, caf::reacts_to<writes_committed>>;

}  // namespace overseer::actors
