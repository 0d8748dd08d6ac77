#include "actors/estimates.hpp"

#include <algorithm>

#include "metrics/instruments.hpp"

namespace overseer::actors {

std::optional<double> typical_run_s(const persistence::rollup_cell& w, std::uint64_t min_samples) {
  if (w.timed < std::max<std::uint64_t>(1, min_samples)) return std::nullopt;
  const auto median = w.quantile(0.5);
  if (!median) return std::nullopt;
  const double mean = static_cast<double>(w.duration_micros) / 1e6 / static_cast<double>(w.timed);
  // The bucket the median fell in: [lower, upper) of the histogram's bounds.
  const auto bounds = metrics::duration_buckets();
  const auto bucket = [&](double s) { return std::lower_bound(bounds.begin(), bounds.end(), s) - bounds.begin(); };
  return bucket(*median) == bucket(mean) ? mean : *median;
}

std::optional<double> estimated_duration_s(job_status status, std::optional<double> run_s, std::size_t ahead,
                                           int slots, double elapsed_s) {
  if (!run_s || is_terminal(status)) return std::nullopt;
  if (status == job_status::running) return std::max(0.0, *run_s - std::max(0.0, elapsed_s));
  const auto waves = static_cast<double>(ahead / static_cast<std::size_t>(std::max(1, slots)));
  return (waves + 1) * *run_s;
}

std::optional<time_point> completion_from_rate(double percent, time_point started, time_point now) {
  if (!(percent > 0) || percent >= 100 || now <= started) return std::nullopt;
  const auto elapsed = std::chrono::duration<double>(now - started).count();
  const double remaining = elapsed * (100 - percent) / percent;
  // A tiny percent after a long run gives a remaining time no clock can
  // hold (1e-300 % of a minute): no estimate past a year.
  if (!(remaining <= 365.0 * 24 * 3600)) return std::nullopt;
  return now + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(remaining));
}

std::optional<double> run_time_cache::typical(persistence::store& db, const std::string& tool) {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock{mutex_};
    // No history yet is looked at again sooner: the first runs should count.
    if (auto it = tools_.find(tool);
        it != tools_.end() && now - it->second.read_at < (it->second.run_s ? refresh_ : refresh_ / 5))
      return it->second.run_s;
  }
  auto read = [&](std::chrono::hours range) -> std::optional<double> {
    auto w = persistence::read_rollups(db, clock::now(), range);
    auto it = w.by_tool.find(tool);
    return it == w.by_tool.end() ? std::nullopt : typical_run_s(it->second);
  };
  auto run_s = read(std::chrono::hours{1});
  if (!run_s) run_s = read(std::chrono::hours{24});
  std::lock_guard lock{mutex_};
  tools_[tool] = {run_s, now};
  return run_s;
}

}  // namespace overseer::actors
