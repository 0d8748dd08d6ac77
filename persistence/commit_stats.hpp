// What the group-commit writer counts for GET /metrics: commits, job writes
// per commit, the RocksDB rows they wrote (puts, deletes, range deletes
// alike: WriteBatch::Count) and the time of each RocksDB write (WAL sync
// included). Four relaxed atomic adds per commit, on the writer thread. Process-wide: a
// process running two engines sees their commits together.
#pragma once

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

}  // namespace overseer::persistence
