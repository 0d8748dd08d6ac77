#include "actors/attempt_pool.hpp"

#include <algorithm>
#include <ctime>

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "tools/thread_name.hpp"

namespace overseer::actors {

namespace {

std::uint32_t* word(std::atomic<std::uint32_t>& a) {
  static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
  return reinterpret_cast<std::uint32_t*>(&a);
}

}  // namespace

attempt_pool::attempt_pool(std::chrono::milliseconds idle_timeout) : idle_timeout_(idle_timeout) {}

attempt_pool::~attempt_pool() {
  std::unordered_map<std::thread::id, std::thread> threads;
  std::vector<std::shared_ptr<worker>> idle;
  {
    std::lock_guard lock{mutex_};
    stopping_ = true;
    threads.swap(threads_);
    idle.swap(idle_);
  }
  for (auto& w : idle) hand(*w);  // no task: it returns
  for (auto& [id, t] : threads) t.join();
}

void attempt_pool::hand(worker& w) {
  w.handed.store(1, std::memory_order_release);
  syscall(SYS_futex, word(w.handed), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
}

bool attempt_pool::wait_handed(worker& w, std::optional<std::chrono::milliseconds> timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout.value_or(std::chrono::milliseconds{0});
  while (w.handed.load(std::memory_order_acquire) == 0) {
    timespec rel{};
    if (timeout) {
      const auto left = until - std::chrono::steady_clock::now();
      if (left <= std::chrono::nanoseconds{0}) return false;
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
      rel.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
      rel.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    }
    // Sleeps only while the word is still 0; a hand() before or during the
    // call ends it. EINTR, EAGAIN, ETIMEDOUT: the loop looks again.
    syscall(SYS_futex, word(w.handed), FUTEX_WAIT_PRIVATE, 0, timeout ? &rel : nullptr, nullptr, 0);
  }
  return true;
}

void attempt_pool::run(std::function<void()> task) {
  std::unique_lock lock{mutex_};
  join_exited(lock);
  if (!idle_.empty()) {
    auto w = std::move(idle_.back());
    idle_.pop_back();
    w->task = std::move(task);
    lock.unlock();
    hand(*w);  // `w` keeps the worker alive until its wake-up is sent
    return;
  }
  auto w = std::make_shared<worker>();
  std::thread t{[this, w, task = std::move(task)]() mutable {
    tools::name_this_thread("ovs.tool");
    work(std::move(w), std::move(task));
  }};
  threads_.emplace(t.get_id(), std::move(t));
}

std::size_t attempt_pool::threads() const {
  std::lock_guard lock{mutex_};
  return threads_.size() - exited_.size();
}

std::size_t attempt_pool::idle() const {
  std::lock_guard lock{mutex_};
  return idle_.size();
}

void attempt_pool::work(std::shared_ptr<worker> self, std::function<void()> task) {
  for (;;) {
    task();
    task = nullptr;  // destroy what the task captured before going idle
    {
      std::lock_guard lock{mutex_};
      if (stopping_) return;
      self->handed.store(0, std::memory_order_relaxed);
      idle_.push_back(self);
    }
    if (!wait_handed(*self, idle_timeout_)) {
      std::unique_lock lock{mutex_};
      if (auto it = std::find(idle_.begin(), idle_.end(), self); it != idle_.end()) {
        // Idle for idle_timeout_: leave, and let the next run() join this thread.
        idle_.erase(it);
        exited_.push_back(std::this_thread::get_id());
        return;
      }
      // run() or the destructor took it just as the wait timed out: what
      // it hands is on its way.
      lock.unlock();
      wait_handed(*self, std::nullopt);
    }
    // hand()'s release store made the task visible.
    if (!self->task) return;  // the pool is being destroyed
    task = std::move(self->task);
    self->task = nullptr;  // moved from: left empty for the next hand-off's check
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
