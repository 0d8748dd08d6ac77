#include "actors/event_bus.hpp"

#include "tools/thread_name.hpp"

namespace overseer::actors {

event_bus::event_bus()
  : thread_([this] {
      tools::name_this_thread("ovs.events");
      run();
    }) {}

event_bus::~event_bus() { stop(); }

void event_bus::stop() {
  {
    std::lock_guard lock{queue_mutex_};
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void event_bus::publish(std::vector<event>&& events) {
  {
    std::lock_guard lock{queue_mutex_};
    queue_.push_back(std::move(events));
  }
  cv_.notify_one();
}

subscription event_bus::subscribe(filter f, callback cb) {
  std::lock_guard lock{subscribers_mutex_};
  const auto id = next_id_++;
  subscribers_.emplace(id, std::make_shared<subscriber>(subscriber{std::move(f), std::move(cb)}));
  return subscription{[bus = weak_from_this(), id] {
    if (auto alive = bus.lock()) alive->unsubscribe(id);
  }};
}

void event_bus::unsubscribe(std::uint64_t id) {
  // Recursive: a callback may drop its own (or another) subscription.
  std::lock_guard lock{subscribers_mutex_};
  if (auto it = subscribers_.find(id); it != subscribers_.end()) {
    it->second->active = false;
    subscribers_.erase(it);
  }
}

void event_bus::run() {
  for (;;) {
    std::vector<event> batch;
    {
      std::unique_lock lock{queue_mutex_};
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      batch = std::move(queue_.front());
      queue_.pop_front();
    }
    std::lock_guard lock{subscribers_mutex_};
    // A snapshot: callbacks may unsubscribe (themselves or others) meanwhile.
    std::vector<std::shared_ptr<subscriber>> subs;
    subs.reserve(subscribers_.size());
    for (const auto& [id, sub] : subscribers_) subs.push_back(sub);
    for (const auto& e : batch) {
      for (const auto& sub : subs)
        if (sub->active && sub->f.matches(e)) sub->cb(e);
      last_dispatched_ = e.seq;
    }
  }
}

}  // namespace overseer::actors
