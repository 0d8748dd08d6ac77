#include "actors/event_bus.hpp"

#include "tools/thread_name.hpp"
#include "tools/utf8.hpp"

namespace overseer::actors {

event_bus::event_bus(log_sink log)
  : log_(std::move(log)), thread_([this] {
      tools::name_this_thread("ovs.events");
      dispatch_id_ = std::this_thread::get_id();
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

subscription event_bus::subscribe(filter f, callback cb, bool last) {
  auto sub = std::make_shared<subscriber>();
  sub->f = std::move(f);
  sub->cb = std::move(cb);
  std::lock_guard lock{subscribers_mutex_};
  const auto id = next_id_++ | (last ? last_bit : 0);
  subscribers_.emplace(id, std::move(sub));
  return subscription{[bus = weak_from_this(), id] {
    if (auto alive = bus.lock()) alive->unsubscribe(id);
  }};
}

void event_bus::unsubscribe(std::uint64_t id) {
  std::shared_ptr<subscriber> sub;
  {
    std::lock_guard lock{subscribers_mutex_};
    auto it = subscribers_.find(id);
    if (it == subscribers_.end()) return;
    sub = std::move(it->second);
    subscribers_.erase(it);
  }
  sub->active = false;
  // From a callback (the dispatch thread), no callback of the bus runs but
  // the caller's own: nothing to wait for. From elsewhere, wait for the
  // call under way, if any; every later one sees `active` false.
  if (std::this_thread::get_id() != dispatch_id_.load()) std::lock_guard running{sub->running};
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
    // A snapshot: callbacks may subscribe and unsubscribe meanwhile, and
    // other threads may, without waiting for the callbacks.
    std::vector<std::shared_ptr<subscriber>> subs;
    {
      std::lock_guard lock{subscribers_mutex_};
      subs.reserve(subscribers_.size());
      for (const auto& [id, sub] : subscribers_) subs.push_back(sub);
    }
    for (const auto& e : batch) {
      for (const auto& sub : subs) {
        if (!sub->active.load(std::memory_order_relaxed) || !sub->f.matches(e)) continue;
        std::lock_guard running{sub->running};
        if (!sub->active) continue;
        try {
          sub->cb(e);
        } catch (const std::exception& x) {
          report(log_, log_level::error, "events", "a subscriber's callback threw; the event is passed over",
                 {{"error", tools::sanitize_utf8(x.what())}, {"job_id", e.job_id}});
        } catch (...) {
          report(log_, log_level::error, "events", "a subscriber's callback threw; the event is passed over",
                 {{"error", "not a std::exception"}, {"job_id", e.job_id}});
        }
      }
      last_dispatched_ = e.seq;
    }
  }
}

}  // namespace overseer::actors
