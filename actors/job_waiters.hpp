// Callers waiting for jobs to end, without a thread each: engine::wait_async
// (and through it the HTTP front's `?wait=` and engine::run).
//
// One event-bus subscription sees every terminal transition and wakes the
// waiters of that job; one timer thread answers those whose deadline passes
// first. Each waiter is answered exactly once, by whichever comes first:
// the job's end (or its being terminal already when the waiter is added),
// its deadline, or stop(). Callbacks run on the bus's dispatch thread, the
// timer thread or the caller of add() / stop(), outside any lock here.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "overseer/event.hpp"

namespace overseer::actors {

class job_waiters {
public:
  /// How a wait ended: the job ended (`ended`), the deadline passed
  /// (`timed_out`) or the engine stops (`stopping`).
  enum class outcome { ended, timed_out, stopping };
  using callback = std::function<void(outcome)>;

  job_waiters();
  ~job_waiters();
  job_waiters(const job_waiters&) = delete;
  job_waiters& operator=(const job_waiters&) = delete;

  /// Waits for `job_id` to end until `deadline`. `is_terminal_now` is asked
  /// after the waiter is registered (so an end in between is not missed):
  /// true answers `ended` at once, on the calling thread.
  void add(const std::string& job_id, std::chrono::steady_clock::time_point deadline,
           const std::function<bool()>& is_terminal_now, callback cb);
  /// From the event bus: wakes the job's waiters at a terminal transition.
  void on_event(const event& e);
  /// Answers every waiter `stopping`; later add()s are answered at once.
  void stop();
  /// Waiters not answered yet.
  [[nodiscard]] std::size_t size() const;

private:
  struct waiter {
    std::string job_id;
    std::chrono::steady_clock::time_point deadline;
    callback cb;
  };
  using waiter_ptr = std::shared_ptr<waiter>;
  void run();
  /// Takes `w` out of both indexes; false if it was answered already.
  bool take(const waiter_ptr& w);

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::unordered_multimap<std::string, waiter_ptr> by_job_;
  std::multimap<std::chrono::steady_clock::time_point, waiter_ptr> by_deadline_;
  std::thread timer_;
};

}  // namespace overseer::actors
