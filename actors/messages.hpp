// Every message the scheduler and job actors exchange, and the one type-ID
// block that registers them with CAF.
//
// The messages never leave the process (the engine is not distributed), so
// they carry shared records and reply callbacks instead of being
// serializable; CAF_ALLOW_UNSAFE_MESSAGE_TYPE says so. Commands are
// imperative (submit_job), facts past tense (attempt_finished).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "overseer/engine.hpp"
#include "overseer/tool.hpp"
#include "persistence/codec.hpp"
#include "persistence/group_commit.hpp"

namespace overseer::actors {

/// Shared between the scheduler and one running attempt: the cooperative
/// stop flag the tool polls, and a wake-up for tools sleeping on it.
class attempt_control {
public:
  void request_stop() {
    {
      std::lock_guard lock{mutex_};
      stop_ = true;
    }
    cv_.notify_all();
  }
  [[nodiscard]] bool stop_requested() const noexcept { return stop_.load(); }
  /// Sleeps up to `d` or until a stop is requested; returns stop_requested().
  bool sleep_for(std::chrono::milliseconds d) {
    std::unique_lock lock{mutex_};
    cv_.wait_for(lock, d, [this] { return stop_.load(); });
    return stop_;
  }

private:
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable cv_;
};

using submit_reply = std::function<void(submit_result)>;
using change_reply = std::function<void(change_result)>;

struct submit_job {
  std::shared_ptr<persistence::job_record> record;
  submit_reply reply;
  /// A cache hit: the job is created completed with this result.
  std::optional<std::string> cached_result;
};

/// A batch and its jobs, created in one write.
struct submit_batch {
  persistence::batch_record batch;
  std::vector<std::shared_ptr<persistence::job_record>> jobs;
  std::function<void(batch_submit_result)> reply;
};

struct cancel_batch {
  std::string batch_id;
  change_reply reply;
  std::string by;  ///< who asked ("client 127.0.0.1")
};

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

/// Retention: delete these expired jobs, unless one was revived meanwhile.
struct expire_jobs {
  std::vector<std::string> ids;
  std::vector<persistence::job_write> deletions;  ///< one per id, each atomic
  std::function<void(std::size_t deleted)> done;
};

struct run_at_reached {
  std::string job_id;
};

struct cancel_job {
  std::string job_id;
  change_reply reply;
  std::string by;  ///< who asked ("client 127.0.0.1")
};

struct retry_job {
  std::string job_id;
  change_reply reply;
  std::string by;  ///< who asked
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

/// Unfinished jobs found in the store at start, oldest first.
struct recover_jobs {
  std::vector<persistence::job_record> jobs;
  std::vector<persistence::batch_record> batches;  ///< of the unfinished jobs
  /// Status of every dependency of an unfinished job that is itself finished.
  std::map<std::string, job_status> finished_deps;
  /// Called once the recovery's own writes (interrupted, ...) are durable.
  std::function<void(bool)> done;
};

struct attempt_finished {
  std::string job_id;
  int attempt;
  std::optional<tool_result> result;  // optional: CAF needs a default constructor
};

/// Sent last by an attempt's pool task, after attempt_finished: the tool body
/// has returned and its thread is free. Releases the concurrency slot.
struct attempt_exited {
  std::uint64_t runner = 0;
};

struct progress_reported {
  std::string job_id;
  int attempt;
  overseer::progress value;
};

struct log_reported {
  std::string job_id;
  int attempt;
  log_level level;
  std::string message;
};

struct save_checkpoint {
  std::string job_id;
  int attempt;
  std::string bytes;
  std::function<void(bool durable)> done;
};

struct record_process {
  std::string job_id;
  int attempt;
  int process_group;
  std::uint64_t start_time;
  std::function<void(bool durable)> done;
};

struct attempt_timed_out {
  std::string job_id;
  int attempt;
};

struct backoff_elapsed {
  std::string job_id;
  int attempt;
};

/// From the writer: the writes flushed under `token` are durable (or failed).
struct writes_committed {
  std::uint64_t token;
  bool ok;
};

struct get_stats {
  std::function<void(engine_stats)> reply;
};

struct resume_tool {
  std::string name;
  std::function<void(bool)> reply;
};

struct pause_tool {
  std::string name;
  std::string reason;  ///< "paused by client 127.0.0.1"
  std::function<void(bool)> reply;
};

/// Stop every attempt (they stay "running" in the store and resume as
/// interrupted at the next start), then quit.
struct shut_down {};

}  // namespace overseer::actors

CAF_BEGIN_TYPE_ID_BLOCK(overseer, caf::first_custom_type_id)
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::submit_job))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::cancel_job))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::expire_jobs))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::run_at_reached))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::key_loaded))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::deps_loaded))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::cancel_batch))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::submit_batch))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::retry_job))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::retry_loaded))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::recover_jobs))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::attempt_finished))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::progress_reported))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::log_reported))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::save_checkpoint))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::record_process))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::attempt_timed_out))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::backoff_elapsed))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::writes_committed))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::get_stats))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::resume_tool))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::shut_down))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::attempt_exited))
  CAF_ADD_TYPE_ID(overseer, (overseer::actors::pause_tool))
CAF_END_TYPE_ID_BLOCK(overseer)

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::submit_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::cancel_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::expire_jobs)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::run_at_reached)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::key_loaded)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::deps_loaded)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::cancel_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::submit_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::retry_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::retry_loaded)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::recover_jobs)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::attempt_finished)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::progress_reported)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::log_reported)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::save_checkpoint)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::record_process)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::attempt_timed_out)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::backoff_elapsed)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::writes_committed)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::get_stats)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::resume_tool)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::shut_down)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::attempt_exited)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::pause_tool)
