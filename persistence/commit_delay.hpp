// When a commit that nobody waits for waits for one that somebody does.
//
// The group-commit writer's writes fall in two kinds: those a caller waits
// for (a submit's answer, a cancel's, a checkpoint the tool blocks on) and
// those only the event stream waits for (an attempt's start and end, a
// progress step, a log line). A client submitting one job at a time used
// to pay two syncs per job: its own, and before it the sync of the previous
// job's start and end, which were committed alone just before its submit
// arrived. So a commit of only the second kind first waits a little: up to
// one sync's time (the disk's, measured), and ends the wait as soon as a
// write somebody waits for is queued; both then share one fsync.
//
// A wait that found nobody (one client waiting on its own job's end, a
// queue draining) made that job's events later for nothing: the next waits
// are tried only after 1, 3, 7, ... 63 commits at once, and one that finds
// company starts over. So the delay costs a lonely commit at most one sync
// once in a while, and saves a sync per job where company comes.
//
// Writer thread only.
#pragma once

#include <algorithm>
#include <chrono>
#include <optional>

namespace overseer::persistence {

class commit_delay {
public:
  /// The longest wait, however slow the disk.
  static constexpr std::chrono::nanoseconds max_wait = std::chrono::microseconds{1000};

  /// A synced commit's RocksDB write took `took`: the wait follows a moving
  /// average over about the last 8.
  void observe_sync(std::chrono::nanoseconds took) noexcept { sync_time_ += (took - sync_time_) / 8; }

  /// How long the next commit of writes nobody waits for waits for company
  /// (zero: commit at once). Each call is one such commit.
  [[nodiscard]] std::chrono::nanoseconds next() noexcept {
    if (skip_ > 0) {
      --skip_;
      return {};
    }
    return fixed_ ? *fixed_ : std::clamp(sync_time_, std::chrono::nanoseconds{0}, max_wait);
  }

  /// What the wait next() asked for found: company, or nobody.
  void waited(bool company) noexcept {
    if (company) {
      lonely_ = 0;
      return;
    }
    lonely_ = std::min(lonely_ + 1, 6);
    skip_ = (1 << lonely_) - 1;
  }

  /// Tests: every wait this long, whatever the disk does.
  void fix(std::chrono::nanoseconds wait) noexcept { fixed_ = wait; }

private:
  std::chrono::nanoseconds sync_time_{0};
  std::optional<std::chrono::nanoseconds> fixed_;
  int lonely_ = 0;  ///< waits in a row that found nobody
  int skip_ = 0;    ///< commits to make at once before the next wait
};

}  // namespace overseer::persistence
