// Compaction of the open_jobs family, on a thread of its own.
//
// open_jobs holds the records of unfinished jobs, and every job that
// finishes deletes its key there. RocksDB keeps such a deletion until a
// compaction carries it to the family's bottom level, and every walk of the
// family steps over it meanwhile: a listing of pending or running jobs, and
// a pending job's view, which counts the unfinished jobs ahead of it. After
// 100,000 finished jobs that view took 32 ms instead of microseconds.
//
// The writer reports the keys it deleted there. Once they reach the larger
// of `min_deletions` and the keys the family held after its last compaction,
// this thread compacts it (store::compact_unfinished): the family holds only
// the unfinished jobs, so the work stays in proportion to the deletions, and
// a walk steps over at most about that many. Nothing waits for it; a
// failure is the store's (fail-stop, through `failed`).
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

class open_jobs_compactor {
public:
  static constexpr std::uint64_t default_min_deletions = 10'000;
  using failed_fn = std::function<void(std::string why)>;

  /// Counts the deleted keys already there (a restart) toward the first
  /// compaction.
  open_jobs_compactor(store& db, failed_fn failed);
  ~open_jobs_compactor();  ///< stops
  open_jobs_compactor(const open_jobs_compactor&) = delete;
  open_jobs_compactor& operator=(const open_jobs_compactor&) = delete;

  /// `n` keys of open_jobs were deleted by a durable commit. Any thread;
  /// never blocks on a compaction.
  void deleted(std::uint64_t n);
  /// Tests: compact after this many deletions at least.
  void set_min_deletions(std::uint64_t n);
  /// Cancels a compaction under way and joins the thread.
  void stop();
  /// Compactions finished since start.
  [[nodiscard]] std::uint64_t compactions() const noexcept { return compactions_.load(); }

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
  bool stopping_ = false;                                 ///< under mutex_
  std::atomic<bool> canceled_{false};
  std::atomic<std::uint64_t> compactions_{0};
  std::thread thread_;
};

}  // namespace overseer::persistence
