// Per-minute and per-hour rollups of finished jobs, for GET /v1/metrics
// (docs/api.md): how many jobs ended in each final status, how many were
// cache hits, and a histogram of their run times, per tool.
//
// Written by the group-commit writer in the same RocksDB write batch as the
// terminal transitions they count, so after any crash (kill -9 included)
// the rollups agree exactly with the jobs that are durably finished. The
// writer keeps the current cells in memory, read from the store the first
// time a cell is touched, and deletes cells past their horizon (minutes
// after 25 h, hours after 8 days) as time moves on. Rows live in the meta
// family under "rollup/m/" and "rollup/h/" + be64(bucket start, seconds) +
// tool name.
//
// Reading a window never scans jobs: at most 1,500 minute rows or 192 hour
// rows per tool.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "overseer/event.hpp"

namespace rocksdb {
class WriteBatch;
}

namespace overseer::persistence {

class store;

/// One tool's figures in one bucket (or a window, once added up).
struct rollup_cell {
  static constexpr std::size_t buckets = 20;  ///< run-time buckets, 10 ms to 24 h, then +Inf
  std::uint64_t completed = 0, failed = 0, cancelled = 0, timed_out = 0, cache_hits = 0;
  std::uint64_t timed = 0;           ///< jobs with a run time (they ran)
  std::uint64_t duration_micros = 0; ///< their run times added up
  std::array<std::uint64_t, buckets> histogram{};

  [[nodiscard]] std::uint64_t total() const noexcept { return completed + failed + cancelled + timed_out; }
  void add(const rollup_cell& o) noexcept;
  /// The run time below which `q` (0-1) of the timed jobs fall, interpolated
  /// within its bucket; nullopt without timed jobs.
  [[nodiscard]] std::optional<double> quantile(double q) const;

  [[nodiscard]] std::string encode() const;
  [[nodiscard]] static std::optional<rollup_cell> decode(std::string_view bytes);
};

/// The writer thread's side.
class rollup_writer {
public:
  explicit rollup_writer(store& db) : db_(db) {}
  /// Counts `e` when it is a transition to a final status; `started_at` is
  /// the record's (the start of the job's last attempt), if it ran. The
  /// cells it changes are written by the next write_changed().
  void count(const event& e, std::optional<time_point> started_at, rocksdb::WriteBatch& wb);
  /// Adds every cell changed since the last call to `wb`, once each: a
  /// commit of a thousand finished jobs writes two rows per tool, not two
  /// per job. Called once per commit, before its batch is written.
  void write_changed(rocksdb::WriteBatch& wb);

private:
  struct slot {
    rollup_cell cell;
    bool changed = false;
  };
  using cells = std::map<std::string, slot>;
  /// The cell of `key`, read from the store the first time; end() if that read failed.
  cells::iterator cell(const std::string& key);
  void expire(std::int64_t minute, rocksdb::WriteBatch& wb);

  store& db_;
  cells cells_;
  std::vector<cells::iterator> changed_;  ///< cells counted since the last write_changed
  std::int64_t minute_ = 0;  ///< the newest minute seen; older cells leave memory
};

/// A window's figures: per tool and all tools together.
struct rollup_window {
  rollup_cell all;
  std::map<std::string, rollup_cell> by_tool;
};

/// Adds up the rollups of the last `range` before `now`: minute rows for a
/// range up to 24 h, hour rows above. Throws store_failure when RocksDB
/// cannot be read.
[[nodiscard]] rollup_window read_rollups(store& db, time_point now, std::chrono::hours range);

/// The store the writer of `data_dir` writes rollups to, for readers that
/// hold only an engine (the HTTP front): registered while the writer runs.
/// `fn` runs with the store under a lock that keeps it open; false if no
/// writer of that directory is running.
bool with_rollup_store(const std::filesystem::path& data_dir, const std::function<void(store&)>& fn);
void register_rollup_store(store& db);
void unregister_rollup_store(store& db);

}  // namespace overseer::persistence
