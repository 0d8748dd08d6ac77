// The scheduler's queue, without actors: what runs next, and how many run.
//
// Ready jobs are ordered by priority (higher first), then FIFO by the order
// they became ready. A job is picked only if the global limit and its tool's
// limit leave room and its tool is not paused; a tool at its limit does not
// block other tools' jobs behind it. All operations are O(log n) or
// O(number of tools). Not thread-safe: the scheduler actor owns it.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>

namespace overseer::actors {

class scheduler_state {
public:
  /// `max_running` >= 1: jobs running at once, all tools together.
  explicit scheduler_state(int max_running) : max_running_(max_running) {}

  /// Queues a ready job; returns how many queued jobs are ahead of it.
  std::size_t enqueue(const std::string& job_id, const std::string& tool, int priority);
  /// Takes a job out of the queue (cancel). False if it was not queued.
  bool remove(const std::string& job_id);
  [[nodiscard]] bool queued(const std::string& job_id) const { return where_.contains(job_id); }

  /// Pops the next job that may start now. `tool_limit` gives a tool's limit
  /// (0 = none); `paused` says whether a tool is paused.
  std::optional<std::string> pop_next(const std::function<int(const std::string&)>& tool_limit,
                                      const std::function<bool(const std::string&)>& paused);
  /// Slot accounting: an attempt of `tool` started / its actor exited.
  void started(const std::string& tool);
  void finished(const std::string& tool);

  [[nodiscard]] int running() const noexcept { return running_; }
  [[nodiscard]] int running(const std::string& tool) const;
  [[nodiscard]] std::size_t queue_size() const noexcept { return where_.size(); }
  /// Jobs of `tool` in the queue.
  [[nodiscard]] std::size_t queued_count(const std::string& tool) const;
  [[nodiscard]] int max_running() const noexcept { return max_running_; }

private:
  struct key {
    int priority;
    std::uint64_t order;
    bool operator<(const key& o) const noexcept {
      return priority != o.priority ? priority > o.priority : order < o.order;
    }
  };
  struct location {
    std::string tool;
    key k;
  };

  int max_running_;
  int running_ = 0;
  std::uint64_t next_order_ = 0;
  std::map<std::string, std::map<key, std::string>> by_tool_;
  std::unordered_map<std::string, location> where_;
  std::unordered_map<std::string, int> running_by_tool_;
  /// Queued jobs per priority 0-10: the position of a new job is the count
  /// at its priority and above, without walking the queue.
  std::array<std::size_t, 11> per_priority_{};
};

}  // namespace overseer::actors
