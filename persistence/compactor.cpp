#include "persistence/compactor.hpp"

#include <algorithm>
#include <utility>

#include "tools/thread_name.hpp"

namespace overseer::persistence {

compactor::compactor(store& db, failed_fn failed)
  : db_(db), failed_(std::move(failed)), deleted_(db.deleted_unfinished()), kept_(db.unfinished_keys_in_files()) {
  thread_ = std::thread([this] {
    tools::name_this_thread("ovs.compact");
    run();
  });
}

compactor::~compactor() { stop(); }

void compactor::deleted(std::uint64_t n) {
  if (n == 0) return;
  bool wake = false;
  {
    std::lock_guard lock{mutex_};
    const bool was_due = due();
    deleted_ += n;
    wake = !was_due && due();
  }
  if (wake) cv_.notify_one();
}

void compactor::purged(std::uint64_t jobs) {
  if (jobs < purge_min_jobs) return;
  {
    std::lock_guard lock{mutex_};
    purge_due_ = true;
  }
  cv_.notify_one();
}

void compactor::set_min_deletions(std::uint64_t n) {
  {
    std::lock_guard lock{mutex_};
    min_deletions_ = n;
  }
  cv_.notify_one();
}

void compactor::stop() {
  {
    std::lock_guard lock{mutex_};
    stopping_ = true;
  }
  canceled_ = true;
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void compactor::run() {
  std::unique_lock lock{mutex_};
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || due() || purge_due_; });
    if (stopping_) return;
    if (purge_due_) {
      purge_due_ = false;  // a purge from here on asks again
      lock.unlock();
      if (const auto error = db_.compact_deleted_ranges(&canceled_)) {
        if (!canceled_ && failed_) failed_(*error);
        return;
      }
      lock.lock();
      if (!canceled_) purge_compactions_.fetch_add(1);
      continue;
    }
    deleted_ = 0;  // the ones made from here on may survive this compaction
    lock.unlock();
    if (const auto error = db_.compact_unfinished(&canceled_)) {
      if (!canceled_ && failed_) failed_(*error);
      return;
    }
    const auto kept = db_.unfinished_keys_in_files();
    lock.lock();
    kept_ = kept;
    if (!canceled_) compactions_.fetch_add(1);
  }
}

}  // namespace overseer::persistence
