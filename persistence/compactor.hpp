// Compaction of deleted keys, on a thread of its own.
//
// RocksDB keeps a deleted key until a compaction carries its deletion to the
// family's bottom level, and every walk over its range steps over it
// meanwhile. Two kinds of deletion are compacted here, neither of which
// RocksDB's own compactions reach soon enough; nothing waits for either, and
// a failure is the store's (fail-stop, through `failed`).
//
// open_jobs holds the records of unfinished jobs, and every job that
// finishes deletes its key there: a listing of pending or running jobs, and
// a pending job's view (which counts the unfinished jobs ahead of it), step
// over them. After 100,000 finished jobs that view took 32 ms instead of
// microseconds. The writer reports the keys it deleted there. Once they
// reach the larger of `min_deletions` and the keys the family held after
// its last compaction, this thread compacts it (store::compact_unfinished):
// the family holds only the unfinished jobs, so the work stays in
// proportion to the deletions.
//
// A retention pass or a purge deletes every row of many jobs at once, and a
// listing of what is left steps over all of them. The tables RocksDB writes
// are marked for compaction when they are mostly deletions (store.cpp, the
// families' options), but the deletions of jobs still in the memtable are
// not written to a table until it fills up, and a table of deletions alone
// (the rows they delete were never written to a table) is moved down
// without being rewritten, where it stays. So after such a deletion of
// `purge_min_jobs` jobs or more, this thread has the job families' tables
// written and compacts the key ranges of those that are mostly deletions
// (store::compact_deleted_ranges).
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "persistence/store.hpp"

namespace overseer::persistence {

class compactor {
public:
  static constexpr std::uint64_t default_min_deletions = 10'000;
  /// The fewest jobs deleted at once that have the job families compacted.
  static constexpr std::uint64_t purge_min_jobs = 1'000;
  using failed_fn = std::function<void(std::string why)>;

  /// Counts the deleted keys already in open_jobs (a restart) toward its
  /// first compaction.
  compactor(store& db, failed_fn failed);
  ~compactor();  ///< stops
  compactor(const compactor&) = delete;
  compactor& operator=(const compactor&) = delete;

  /// `n` keys of open_jobs were deleted by a durable commit. Any thread;
  /// never blocks on a compaction.
  void deleted(std::uint64_t n);
  /// Every row of `jobs` jobs was deleted, durably (a retention pass, a
  /// purge). Any thread; never blocks on a compaction.
  void purged(std::uint64_t jobs);
  /// Tests: compact open_jobs after this many deletions at least.
  void set_min_deletions(std::uint64_t n);
  /// Cancels a compaction under way and joins the thread.
  void stop();
  /// Compactions of open_jobs finished since start.
  [[nodiscard]] std::uint64_t compactions() const noexcept { return compactions_.load(); }
  /// Compactions after a purge finished since start.
  [[nodiscard]] std::uint64_t purge_compactions() const noexcept { return purge_compactions_.load(); }

private:
  void run();
  [[nodiscard]] bool due() const { return deleted_ >= std::max(min_deletions_, kept_); }

  store& db_;
  failed_fn failed_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::uint64_t deleted_ = 0;                             ///< since the last compaction began; under mutex_
  std::uint64_t kept_ = 0;                                ///< keys left by the last compaction; under mutex_
  std::uint64_t min_deletions_ = default_min_deletions;  ///< under mutex_
  bool purge_due_ = false;                                ///< under mutex_
  bool stopping_ = false;                                 ///< under mutex_
  std::atomic<bool> canceled_{false};
  std::atomic<std::uint64_t> compactions_{0};
  std::atomic<std::uint64_t> purge_compactions_{0};
  std::thread thread_;
};

}  // namespace overseer::persistence
