#include "actors/attempt_pool.hpp"

#include "tools/thread_name.hpp"

namespace overseer::actors {

attempt_pool::attempt_pool(std::chrono::milliseconds idle_timeout) : idle_timeout_(idle_timeout) {}

attempt_pool::~attempt_pool() {
  std::unordered_map<std::thread::id, std::thread> threads;
  {
    std::lock_guard lock{mutex_};
    stopping_ = true;
    threads.swap(threads_);
  }
  wake_.notify_all();
  for (auto& [id, t] : threads) t.join();
}

void attempt_pool::run(std::function<void()> task) {
  std::unique_lock lock{mutex_};
  join_exited(lock);
  tasks_.push_back(std::move(task));
  if (tasks_.size() <= idle_) {
    // Every queued task has a waiting thread of its own.
    lock.unlock();
    wake_.notify_one();
    return;
  }
  std::thread t{[this] {
    tools::name_this_thread("ovs.tool");
    work();
  }};
  threads_.emplace(t.get_id(), std::move(t));
}

std::size_t attempt_pool::threads() const {
  std::lock_guard lock{mutex_};
  return threads_.size() - exited_.size();
}

std::size_t attempt_pool::idle() const {
  std::lock_guard lock{mutex_};
  return idle_;
}

void attempt_pool::work() {
  std::unique_lock lock{mutex_};
  for (;;) {
    while (!tasks_.empty()) {
      auto task = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      task();
      task = nullptr;  // destroy what the task captured outside the lock
      lock.lock();
    }
    if (stopping_) return;
    ++idle_;
    const bool woken = wake_.wait_for(lock, idle_timeout_, [this] { return !tasks_.empty() || stopping_; });
    --idle_;
    if (woken && !tasks_.empty()) continue;
    if (stopping_) return;
    // Idle for idle_timeout_: leave, and let the next run() join this thread.
    exited_.push_back(std::this_thread::get_id());
    return;
  }
}

void attempt_pool::join_exited(std::unique_lock<std::mutex>& lock) {
  if (exited_.empty()) return;
  std::vector<std::thread> done;
  for (const auto& id : exited_) {
    auto it = threads_.find(id);
    done.push_back(std::move(it->second));
    threads_.erase(it);
  }
  exited_.clear();
  lock.unlock();
  for (auto& t : done) t.join();  // each has returned from work() or is about to
  lock.lock();
}

}  // namespace overseer::actors
