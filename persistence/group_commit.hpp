// The one writer: group commit of everything the engine stores.
//
// Callers enqueue work and return at once. A single thread drains everything
// queued, writes it as one synced WriteBatch, and only then publishes the
// batch's events and runs the completion callbacks, in enqueue order. So one
// fsync serves many concurrent requests, nothing is published before it is
// durable, and the global event sequence increases in commit order. Reads
// queued here (`read`) run on the same thread after every earlier write,
// which gives them a consistent view of the scheduler's own changes.
//
// Fail-stop: the first failure latches the writer for good. A RocksDB write
// that fails, free space below the store's reserve (checked before a commit,
// without touching RocksDB, at most 10 ms or 1 MiB of writes apart), or an
// error of a RocksDB background job
// all end the same way: RocksDB is never written again, and every write
// queued then or later completes with done(false). Once RocksDB has failed a
// write its state is suspect (Debian's build asserts on a second write to a
// failed file), and nothing unacknowledged may be reported as done; a restart
// recovers from the synced WAL.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <unordered_set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "overseer/event.hpp"
#include "persistence/codec.hpp"
#include "persistence/commit_delay.hpp"
#include "persistence/compactor.hpp"
#include "persistence/rollups.hpp"
#include "persistence/store.hpp"
#include "webhooks/outbox.hpp"

namespace overseer::persistence {

/// A raw change to one family, for what is not a job record: batches,
/// cache entries, retention deletes.
struct kv_op {
  enum class kind : std::uint8_t { put, erase, erase_range } what = kind::put;
  family f = family::meta;
  std::string key;
  std::string value;  ///< the value for put; the range end for erase_range
};

/// Everything one change of one job writes, atomically with the others of
/// its commit.
/// A job record as it is written: encoded on the caller's thread (the
/// single writer thread is the engine's bottleneck, and encoding also spares
/// a copy of the whole record), with what its index entries need.
struct record_image {
  explicit record_image(const job_record& r);
  std::string id;
  std::string bytes;  ///< encode(r)
  job_status status = job_status::pending;
  time_point created_at;
  std::optional<time_point> started_at;  ///< the last attempt's start: a finished job's run time (rollups)
  std::string tool, batch_id, idempotency_key, trace_id;  ///< a created job's index entries
};

struct job_write {
  /// The record as it is now; empty when this change leaves it alone.
  std::optional<record_image> record;
  /// The status the stored record had, to move its index entry; empty for a
  /// new job (which also gets its tool entry).
  std::optional<job_status> previous_status;
  bool created = false;
  std::optional<std::string> result_json;
  /// Given their seq here. Transitions also go to history, logs to logs.
  std::vector<event> events;
  std::vector<kv_op> ops;
  /// When set: the write is made only if that job's record is still
  /// stored (and not deleted earlier in the same commit). A webhook
  /// delivery's outcome uses it, so that an attempt that ends after
  /// retention deleted its job does not bring the job's rows back.
  std::string only_if_job_kept;
};

/// The most events one value of the events family holds (a commit writes
/// ceil(events / event_block_size) blocks).
inline constexpr std::size_t event_block_size = 256;

class group_commit {
public:
  using publish_fn = std::function<void(std::vector<event>&&)>;
  using done_fn = std::function<void(bool ok)>;
  using failed_fn = std::function<void(const std::string& error)>;
  /// The ids of the jobs a commit changed (records, results, deletions),
  /// or `any` when a change may have touched every job (a range delete).
  using changes_fn = std::function<void(std::span<const std::string_view> ids, bool any)>;

  /// `failed` runs once, on the writer thread, when the writer latches; it
  /// must not block or stop the writer.
  group_commit(store& db, publish_fn publish, failed_fn failed = {});
  ~group_commit();  ///< drains what is queued, then stops
  group_commit(const group_commit&) = delete;
  group_commit& operator=(const group_commit&) = delete;

  /// Queues writes; `done(true)` runs on the writer thread once they are
  /// durable and their events published (false: the write failed).
  ///
  /// Writes without a `done` have nobody waiting for them (an attempt's
  /// start or end, a progress step, a log line), only their events'
  /// publication: with sync on, a commit of nothing else may wait a little
  /// for one that somebody waits for (persistence/commit_delay.hpp).
  /// `awaited` false: `done` is bookkeeping nobody waits for (a tool's log
  /// credit), and the write is treated as one without a `done`.
  void write(std::vector<job_write> writes, done_fn done, bool awaited = true);
  /// Queues a read behind every write queued so far.
  void read(std::function<void()> fn);
  void stop();
  /// Webhooks (webhooks/outbox.hpp): the daemon-wide receiver, and what
  /// runs on the writer thread after a commit that put rows into the outbox
  /// (it must not block). Call before the first write.
  void set_webhooks(std::string url, event_kinds kinds, std::function<void(std::size_t rows)> outbox_added);
  /// Adds a watcher of changed jobs: it runs on the writer thread after
  /// each commit that changed jobs, before the commit's events are
  /// published and its callers told, so a cache it keeps is never staler
  /// than what anybody has been told. It must be quick and not block. Any
  /// thread, any time; watchers stay until the writer is destroyed.
  void watch_changes(changes_fn fn);
  /// Latches the writer, from any thread: see the fail-stop note above. The
  /// first reason is kept.
  void fail(std::string why);

  [[nodiscard]] std::uint64_t commits() const noexcept { return commits_; }
  /// RocksDB rows written since start: puts, deletes and range deletes
  /// alike (WriteBatch::Count of every commit, failed ones included).
  [[nodiscard]] std::uint64_t rows_written() const noexcept { return rows_.load(std::memory_order_relaxed); }
  /// Of those, the rows of the job writes themselves: records, index
  /// entries, log lines, results, raw ops; not the rows a commit writes once
  /// for all its writes (event blocks, rollups, the event sequence).
  [[nodiscard]] std::uint64_t job_rows_written() const noexcept { return job_rows_.load(std::memory_order_relaxed); }
  /// Tests: every commit of writes nobody waits for waits this long for
  /// company (commit_delay::fix). Call before the first write.
  void delay_commits_for(std::chrono::nanoseconds wait);
  /// Tests: the writer is waiting for company now.
  [[nodiscard]] bool waiting_for_company() const;
  /// Commits that waited for company, and of those, the ones that found it.
  [[nodiscard]] std::uint64_t delayed_commits() const noexcept { return delayed_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t joined_commits() const noexcept { return joined_.load(std::memory_order_relaxed); }
  /// Tests: compact open_jobs after this many deleted keys at least
  /// (persistence/compactor.hpp).
  void compact_open_jobs_after(std::uint64_t deletions) { compactor_.set_min_deletions(deletions); }
  /// Compactions of open_jobs finished since start.
  [[nodiscard]] std::uint64_t open_jobs_compactions() const noexcept { return compactor_.compactions(); }
  /// Every row of `jobs` jobs was deleted, durably (a retention pass, a
  /// purge): from compactor::purge_min_jobs on, the compactor's thread has
  /// the job families' deleted keys compacted away. Never blocks.
  void purged(std::uint64_t jobs) { compactor_.purged(jobs); }
  /// Compactions after a purge finished since start.
  [[nodiscard]] std::uint64_t purge_compactions() const noexcept { return compactor_.purge_compactions(); }
  /// False for good once the writer has latched.
  [[nodiscard]] bool healthy() const noexcept { return !failed_; }
  /// Why the writer latched; empty while healthy.
  [[nodiscard]] std::string error() const;

private:
  struct request {
    std::vector<job_write> writes;
    done_fn done;
    std::function<void()> read;
    bool awaited = false;  ///< somebody waits for `done`
  };
  void run();
  /// Waits, with `lock` held, until somebody waits for a queued write or
  /// read, or the commit delay has passed; then moves the queue into `batch`.
  void gather_company(std::unique_lock<std::mutex>& lock, std::deque<request>& batch);
  bool commit(std::deque<request>& batch, std::vector<event>& published);
  /// Tells the watchers which jobs a durable commit changed.
  void tell_watchers(const std::deque<request>& committed);
  /// The store's space_error, read again only when due.
  std::optional<std::string> check_space();

  store& db_;
  publish_fn publish_;
  failed_fn failed_fn_;
  std::uint64_t next_seq_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<request> queue_;
  std::size_t queued_awaited_ = 0;  ///< requests in queue_ with a done or a read; under mutex_
  bool delaying_ = false;           ///< the writer waits for company; under mutex_
  bool stopping_ = false;
  std::string error_;        ///< under mutex_
  bool unreported_ = false;  ///< latched, failed_fn_ not called yet; under mutex_
  std::atomic<std::uint64_t> commits_{0};
  std::atomic<std::uint64_t> rows_{0};
  std::atomic<std::uint64_t> job_rows_{0};
  std::atomic<std::uint64_t> delayed_{0};
  std::atomic<std::uint64_t> joined_{0};
  std::atomic<bool> failed_{false};
  // Writer thread only. statvfs costs a few microseconds, a noticeable share
  // of a small commit; between two reads the writer writes at most about
  // 1 MiB plus one batch, far below any useful reserve.
  std::chrono::steady_clock::time_point space_checked_{};
  std::uint64_t written_since_check_ = 0;
  commit_delay delay_;  ///< writer thread only, but for delay_commits_for
  rollup_writer rollups_;  ///< writer thread only
  webhooks::outbox_writer outbox_;  ///< writer thread only, but for set_webhooks
  std::function<void(std::size_t)> outbox_added_;
  std::mutex watchers_mutex_;
  std::vector<changes_fn> watchers_;   ///< under watchers_mutex_
  std::atomic<bool> watched_{false};    ///< watchers_ is not empty
  std::vector<std::string_view> changed_;  ///< writer thread only: tell_watchers' ids
  /// Writer thread only: job records deleted so far in the commit being built.
  std::unordered_set<std::string> deleted_in_commit_;
  [[nodiscard]] bool job_kept(const std::string& id) const;
  /// Told of the keys each commit deleted from open_jobs; stopped after the
  /// writer thread.
  compactor compactor_;
  std::thread thread_;
};

}  // namespace overseer::persistence
