// Requests answered when their job ends (`POST /v1/jobs?wait=`, `GET
// /v1/jobs/{id}?wait=`): each is answered exactly once, by the job's end,
// its deadline, or the server's drain, whichever comes first (a drain
// answers at once what would be answered at the deadline, so a graceful
// stop never waits for a long `?wait=`).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace overseer::http {

class sync_waits {
public:
  /// One waiting request. answer() runs `final` or, after a drain,
  /// `on_drain`, exactly once whoever calls first.
  class ticket {
  public:
    /// Claims the answer: true for the first caller only.
    bool claim() { return !answered_.exchange(true); }

  private:
    friend class sync_waits;
    std::atomic<bool> answered_{false};
    std::function<void()> on_drain_;
    std::uint64_t id_ = 0;
  };

  /// Registers a request; `on_drain` answers it early when the server
  /// drains. Answered at once (on_drain on this thread) when draining.
  std::shared_ptr<ticket> add(std::function<void()> on_drain) {
    auto t = std::make_shared<ticket>();
    t->on_drain_ = std::move(on_drain);
    {
      std::lock_guard lock{mutex_};
      if (!draining_) {
        t->id_ = ++next_;
        waiting_.emplace(t->id_, t);
        return t;
      }
    }
    if (t->claim()) t->on_drain_();
    return t;
  }
  /// The request was answered: forget it.
  void done(const std::shared_ptr<ticket>& t) {
    std::lock_guard lock{mutex_};
    waiting_.erase(t->id_);
  }
  /// Answers every waiting request now (and every later one at once).
  void drain() {
    std::unordered_map<std::uint64_t, std::shared_ptr<ticket>> all;
    {
      std::lock_guard lock{mutex_};
      draining_ = true;
      all.swap(waiting_);
    }
    for (auto& [id, t] : all)
      if (t->claim()) t->on_drain_();
  }

private:
  std::mutex mutex_;
  bool draining_ = false;
  std::uint64_t next_ = 0;
  std::unordered_map<std::uint64_t, std::shared_ptr<ticket>> waiting_;
};

}  // namespace overseer::http
