// Counters and histograms the hot paths update: one relaxed atomic add per
// event, no lock, no allocation. They are read at scrape time (GET
// /metrics), where a slightly stale figure is fine.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace overseer::metrics {

class counter {
public:
  void add(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
  std::atomic<std::uint64_t> value_{0};
};

/// Upper bounds in seconds, from 10 ms to 24 h: queue waits, run times,
/// request latencies and commit latencies all fit somewhere in this range.
[[nodiscard]] std::span<const double> duration_buckets() noexcept;
/// Upper bounds for counts (the writes in one group commit).
[[nodiscard]] std::span<const double> size_buckets() noexcept;

/// A Prometheus histogram: per-bucket counts (not cumulative here; the
/// exposition writer accumulates), the sum, and the count.
class histogram {
public:
  explicit histogram(std::span<const double> bounds);
  histogram(histogram&&) noexcept;
  histogram(const histogram&) = delete;
  histogram& operator=(const histogram&) = delete;

  void observe(double v) noexcept;

  struct snapshot {
    std::vector<double> bounds;          ///< without +Inf
    std::vector<std::uint64_t> counts;   ///< bounds.size() + 1 (the last is +Inf)
    double sum = 0;
  };
  [[nodiscard]] snapshot read() const;

private:
  std::span<const double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;
  /// In millionths, so the sum is one integer add.
  std::atomic<std::uint64_t> sum_micros_{0};
};

}  // namespace overseer::metrics
