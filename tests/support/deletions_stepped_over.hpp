// How many deleted keys a RocksDB walk steps over, for tests of walks that
// must end at their range or run after a compaction.
#pragma once

#include <cstdint>

#include <rocksdb/perf_context.h>
#include <rocksdb/perf_level.h>

namespace overseer::test {

/// The deleted keys that walks on this thread stepped over while `walk`
/// ran (RocksDB's perf context, on for the call only).
template <class Walk>
std::uint64_t deletions_stepped_over(Walk walk) {
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kEnableCount);
  rocksdb::get_perf_context()->Reset();
  walk();
  const auto n = rocksdb::get_perf_context()->internal_delete_skipped_count;
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
  return n;
}

}  // namespace overseer::test
