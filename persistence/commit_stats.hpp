// What the group-commit writer counts for GET /metrics: commits, job writes
// per commit, the RocksDB rows they wrote (puts, deletes, range deletes
// alike: WriteBatch::Count) and the time of each RocksDB write (WAL sync
// included). Four relaxed atomic adds per commit, on the writer thread. Process-wide: a
// process running two engines sees their commits together.
#pragma once

#include <atomic>
#include <cstdint>

#include "metrics/instruments.hpp"

namespace overseer::persistence {

struct commit_stats {
  metrics::counter commits;
  metrics::counter rows;
  metrics::histogram batch_size{metrics::size_buckets()};
  metrics::histogram latency{metrics::duration_buckets()};
  metrics::counter delays;  ///< commits that waited for company (persistence/commit_delay.hpp)
  metrics::counter joined;  ///< of those, the ones a write somebody waits for joined
};

[[nodiscard]] commit_stats& commit_statistics() noexcept;

/// Engine calls made and not answered yet (a submit, a cancel, a retry:
/// due_answer), each about a sync from its answer: while above zero, an
/// answer is on its way back through the engine's threads. Idle threads
/// that poll before they sleep poll on meanwhile (actors/coordinator.hpp,
/// engine::answers_due). Process-wide, like the counters above.
[[nodiscard]] std::atomic<std::int64_t>& answers_due() noexcept;

/// One answer due from its creation until done() or its end, whichever
/// comes first: an engine call holds one from the moment it is made.
class due_answer {
public:
  due_answer() noexcept { answers_due().fetch_add(1, std::memory_order_relaxed); }
  ~due_answer() { done(); }
  due_answer(const due_answer&) = delete;
  due_answer& operator=(const due_answer&) = delete;
  /// Call after the answer is handed on, so that a thread polling for it
  /// finds it before it sees nothing due.
  void done() noexcept {
    if (!done_) {
      done_ = true;
      answers_due().fetch_sub(1, std::memory_order_relaxed);
    }
  }

private:
  bool done_ = false;
};

}  // namespace overseer::persistence
