// Every job actor of one engine that has not terminated yet.
//
// The engine stops the writer and closes the store only after the last job
// actor has gone: a job actor whose attempt reported just before the stop
// may still be handling that report (and writing it) after the scheduler is
// down, and nothing else orders its turn before the writer's end. The
// scheduler's own shut_down reaches only the jobs it still tracks; a job
// whose end was reported lives on until its last attempt reports, so the
// engine tells every actor here to stop and waits for the census to empty.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <caf/all.hpp>

#include "actors/messages.hpp"

namespace overseer::actors {

class job_census : public std::enable_shared_from_this<job_census> {
public:
  /// Counts `actor` until it terminates (an attached functor removes it,
  /// also when it is already gone).
  template <class Handle>
  void add(const Handle& actor) {
    auto* raw = caf::actor_cast<caf::abstract_actor*>(actor);
    {
      std::lock_guard lock{mutex_};
      live_.emplace(raw->id(), actor.address());
    }
    raw->attach_functor([census = shared_from_this(), id = raw->id()] { census->remove(id); });
  }

  /// Sends `shut_down` to every actor still counted.
  void shut_down_all() {
    std::vector<caf::actor_addr> addrs;
    {
      std::lock_guard lock{mutex_};
      addrs.reserve(live_.size());
      for (const auto& [id, addr] : live_) addrs.push_back(addr);
    }
    for (const auto& a : addrs)
      if (auto h = caf::actor_cast<caf::actor>(a)) caf::anon_send(h, shut_down{});
  }

  /// Blocks until no actor is counted.
  void wait_empty() {
    std::unique_lock lock{mutex_};
    cv_.wait(lock, [this] { return live_.empty(); });
  }

  [[nodiscard]] std::size_t size() const {
    std::lock_guard lock{mutex_};
    return live_.size();
  }

private:
  void remove(caf::actor_id id) {
    std::lock_guard lock{mutex_};
    live_.erase(id);
    if (live_.empty()) cv_.notify_all();
  }

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::unordered_map<caf::actor_id, caf::actor_addr> live_;
};

}  // namespace overseer::actors
