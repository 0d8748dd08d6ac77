#include "actors/job_waiters.hpp"

#include <vector>

namespace overseer::actors {

job_waiters::job_waiters() : timer_([this] { run(); }) {}

job_waiters::~job_waiters() {
  stop();
  timer_.join();
}

bool job_waiters::take(const waiter_ptr& w) {
  bool found = false;
  for (auto [it, end] = by_job_.equal_range(w->job_id); it != end; ++it) {
    if (it->second == w) {
      by_job_.erase(it);
      found = true;
      break;
    }
  }
  if (!found) return false;
  for (auto [it, end] = by_deadline_.equal_range(w->deadline); it != end; ++it) {
    if (it->second == w) {
      by_deadline_.erase(it);
      break;
    }
  }
  return true;
}

void job_waiters::add(const std::string& job_id, std::chrono::steady_clock::time_point deadline,
                      const std::function<bool()>& is_terminal_now, callback cb) {
  auto w = std::make_shared<waiter>(waiter{job_id, deadline, std::move(cb)});
  {
    std::lock_guard lock{mutex_};
    if (stopping_) {
      auto answer = std::move(w->cb);
      return answer(outcome::stopping);
    }
    by_job_.emplace(job_id, w);
    const bool earliest = by_deadline_.empty() || deadline < by_deadline_.begin()->first;
    by_deadline_.emplace(deadline, w);
    if (earliest) cv_.notify_one();
  }
  // Registered first, then looked at: an end between the two is seen by one
  // of them, and take() lets only one answer.
  if (!is_terminal_now()) return;
  {
    std::lock_guard lock{mutex_};
    if (!take(w)) return;
  }
  w->cb(outcome::ended);
}

void job_waiters::on_event(const event& e) {
  if (e.kind != event_kind::transition || !is_terminal(e.to)) return;
  std::vector<waiter_ptr> woken;
  {
    std::lock_guard lock{mutex_};
    auto [it, end] = by_job_.equal_range(e.job_id);
    if (it == end) return;
    for (auto i = it; i != end; ++i) woken.push_back(i->second);
    for (const auto& w : woken) take(w);
  }
  for (const auto& w : woken) w->cb(outcome::ended);
}

void job_waiters::stop() {
  std::vector<waiter_ptr> all;
  {
    std::lock_guard lock{mutex_};
    if (stopping_) return;
    stopping_ = true;
    for (auto& [deadline, w] : by_deadline_) all.push_back(w);
    by_deadline_.clear();
    by_job_.clear();
  }
  cv_.notify_all();
  for (const auto& w : all) w->cb(outcome::stopping);
}

std::size_t job_waiters::size() const {
  std::lock_guard lock{mutex_};
  return by_job_.size();
}

void job_waiters::run() {
  std::unique_lock lock{mutex_};
  while (!stopping_) {
    if (by_deadline_.empty()) {
      cv_.wait(lock);
      continue;
    }
    const auto next = by_deadline_.begin()->first;
    if (std::chrono::steady_clock::now() < next) {
      cv_.wait_until(lock, next);
      continue;
    }
    std::vector<waiter_ptr> due;
    const auto now = std::chrono::steady_clock::now();
    while (!by_deadline_.empty() && by_deadline_.begin()->first <= now) {
      due.push_back(by_deadline_.begin()->second);
      take(due.back());
    }
    lock.unlock();
    for (const auto& w : due) w->cb(outcome::timed_out);
    lock.lock();
  }
}

}  // namespace overseer::actors
