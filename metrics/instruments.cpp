#include "metrics/instruments.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace overseer::metrics {

namespace {

constexpr std::array<double, 19> duration_bounds{0.01, 0.025, 0.05, 0.1,  0.25, 0.5,   1,     2.5,   5,    10,
                                                 30,   60,    120,  300,  600,  1800,  3600,  21600, 86400};
constexpr std::array<double, 12> size_bounds{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096};

}  // namespace

std::span<const double> duration_buckets() noexcept { return duration_bounds; }
std::span<const double> size_buckets() noexcept { return size_bounds; }

histogram::histogram(std::span<const double> bounds)
  : bounds_(bounds), counts_(new std::atomic<std::uint64_t>[bounds.size() + 1]) {
  for (std::size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

histogram::histogram(histogram&& o) noexcept
  : bounds_(o.bounds_), counts_(std::move(o.counts_)), sum_micros_(o.sum_micros_.load()) {}

void histogram::observe(double v) noexcept {
  if (!(v >= 0)) v = 0;  // NaN and clock steps backwards count as 0
  const auto i = static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<std::uint64_t>(std::llround(v * 1e6)), std::memory_order_relaxed);
}

histogram::snapshot histogram::read() const {
  snapshot s;
  s.bounds.assign(bounds_.begin(), bounds_.end());
  s.counts.resize(bounds_.size() + 1);
  for (std::size_t i = 0; i <= bounds_.size(); ++i) s.counts[i] = counts_[i].load(std::memory_order_relaxed);
  s.sum = static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6;
  return s;
}

}  // namespace overseer::metrics
