// Estimates of how long jobs take (docs/api.md, "Estimates"): from a
// tool's recent run times (the rollups of GET /v1/metrics, which are
// durable, so estimates survive a restart) and the queue ahead of a job.
// They are estimates: a tool whose run time depends on its input, or a
// queue of mixed tools, makes them rough.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "overseer/job.hpp"
#include "persistence/rollups.hpp"

namespace overseer::actors {

/// A tool's typical run time, in seconds, from a window of its rollups: the
/// median of the run-time histogram; when the median's bucket also holds
/// the mean, the mean (exact where the histogram is coarse, and equal to
/// the median for a narrow spread). None without `min_samples` runs.
[[nodiscard]] std::optional<double> typical_run_s(const persistence::rollup_cell& window,
                                                  std::uint64_t min_samples = 3);

/// Seconds from now until a job ends, if all goes as usual: for a queued
/// job, the waves of `slots` jobs ahead of it (`ahead` / slots, rounded
/// down) and its own run; for a running job, what remains of a typical run
/// after `elapsed_s` (at least 0). None for a finished job or without a
/// typical run time.
[[nodiscard]] std::optional<double> estimated_duration_s(job_status status, std::optional<double> run_s,
                                                         std::size_t ahead, int slots, double elapsed_s);

/// When a running job's progress says it ends, at the rate it has made
/// progress since it started: none before any progress or at 100 %.
[[nodiscard]] std::optional<time_point> completion_from_rate(double percent, time_point started, time_point now);

/// Typical run times per tool, read from the rollups at most every
/// `refresh` per tool (a fifth of it while a tool has no history: a view
/// asks often; the rollups move by the minute).
/// Thread-safe.
class run_time_cache {
public:
  explicit run_time_cache(std::chrono::milliseconds refresh = std::chrono::seconds(5)) : refresh_(refresh) {}
  /// The tool's typical run time: the last hour's runs, or the last day's
  /// when the hour had too few.
  std::optional<double> typical(persistence::store& db, const std::string& tool);

private:
  struct entry {
    std::optional<double> run_s;
    std::chrono::steady_clock::time_point read_at;
  };
  std::chrono::milliseconds refresh_;
  std::mutex mutex_;
  std::map<std::string, entry> tools_;
};

}  // namespace overseer::actors
