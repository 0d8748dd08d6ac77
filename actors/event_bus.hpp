// Fan-out of committed events to subscribers.
//
// The group-commit writer hands each committed batch here, in sequence
// order; one dispatch thread delivers them, so a slow subscriber slows only
// delivery, never the writer or the scheduler. Within the bus, events reach
// every subscriber in sequence order. A subscriber added while events are in
// flight sees only events dispatched after it was added.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "overseer/event.hpp"
#include "overseer/log_sink.hpp"

namespace overseer::actors {

/// Owned by a shared_ptr: a subscription holds a weak one, so one that
/// outlives the bus (a host's, reset after engine::stop) is a no-op.
class event_bus : public std::enable_shared_from_this<event_bus> {
public:
  using callback = std::function<void(const event&)>;

  /// `log` hears of a callback that threw (the bus goes on).
  explicit event_bus(log_sink log = {});
  ~event_bus();
  event_bus(const event_bus&) = delete;
  event_bus& operator=(const event_bus&) = delete;

  /// Called by the writer after a commit, in commit order.
  void publish(std::vector<event>&& events);
  /// The returned subscription unsubscribes; once that returns, `cb` is not
  /// running (unless called from `cb` itself) and never runs again.
  /// Neither this nor an unsubscribe waits for other subscribers' callbacks.
  /// `last`: for each event, called after every subscriber that is not
  /// (the engine's waiters: a wait() that returns has let every host
  /// subscriber hear the ending).
  [[nodiscard]] subscription subscribe(filter f, callback cb, bool last = false);
  /// The seq of the last event handed to subscribers.
  [[nodiscard]] std::uint64_t last_dispatched() const noexcept { return last_dispatched_; }
  void stop();

private:
  struct subscriber {
    filter f;
    callback cb;
    std::atomic<bool> active{true};
    // Held while `cb` runs (on the dispatch thread only), so an
    // unsubscribe from another thread can wait for that one call.
    std::mutex running;
  };
  void run();
  void unsubscribe(std::uint64_t id);

  std::mutex queue_mutex_;
  std::condition_variable cv_;
  std::deque<std::vector<event>> queue_;
  bool stopping_ = false;

  // Guards the map only, never held while a callback runs.
  std::mutex subscribers_mutex_;
  std::map<std::uint64_t, std::shared_ptr<subscriber>> subscribers_;
  /// Ids of `last` subscribers have the top bit set: the map's order is
  /// the order of calls.
  static constexpr std::uint64_t last_bit = std::uint64_t{1} << 63;
  std::uint64_t next_id_ = 1;
  std::atomic<std::uint64_t> last_dispatched_{0};
  log_sink log_;
  /// The dispatch thread's id, set by the thread itself before its first
  /// dispatch (unsubscribe compares; thread_ may be being joined).
  std::atomic<std::thread::id> dispatch_id_{};
  std::thread thread_;
};

}  // namespace overseer::actors
