// The engine's figures for GET /metrics, counted from outside the engine:
// a subscriber on the event bus counts every committed transition (by tool
// and status), and the gauges come from engine::stats() and
// engine::cache_statistics() at scrape time. Nothing here runs on the
// scheduler or the writer: the subscriber runs on the bus's dispatch thread,
// after the commit.
#pragma once

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "metrics/exposition.hpp"
#include "metrics/instruments.hpp"
#include "overseer/engine.hpp"

namespace overseer::metrics {

class engine_metrics {
public:
  /// Subscribes to every transition of `e` (a started engine).
  explicit engine_metrics(engine& e);
  ~engine_metrics();
  engine_metrics(const engine_metrics&) = delete;
  engine_metrics& operator=(const engine_metrics&) = delete;

  /// Writes the job, tool, cache and group-commit families. `stats` is what
  /// engine::stats_async answered for this scrape.
  void collect(exposition& out, const engine_stats& stats) const;

  /// Counts one event; public so tests can feed events directly.
  void on_event(const event& e);

private:
  struct per_tool {
    counter submitted;
    std::array<counter, 4> finished;  ///< completed, failed, cancelled, timed_out
    counter attempts, retries, timeouts, cancellations, cache_hits;
    histogram queue_wait{duration_buckets()};
    histogram run_time{duration_buckets()};
  };
  per_tool& tool(const std::string& name);

  engine& eng_;
  mutable std::mutex mutex_;  ///< guards tools_ (the map, not the counters)
  std::map<std::string, std::unique_ptr<per_tool>, std::less<>> tools_;
  // The dispatch thread's own: when each job became pending and running.
  std::unordered_map<std::string, time_point> pending_since_, running_since_;
  subscription sub_;
};

}  // namespace overseer::metrics
