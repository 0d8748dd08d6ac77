// The scheduler's queue, without actors: what runs next, and how many run.
//
// Ready jobs are ordered by priority (higher first). Within one priority,
// jobs of different principals (job_spec::owner) start in weighted
// round-robin (stride scheduling: each principal has a pass that grows by
// stride = L / weight at each start it is granted; the principal with the
// lowest pass goes next, ties by arrival), and FIFO within a principal. A
// principal that had nothing queued joins at the current virtual time (the
// pass of the last start), so idle time is not banked as credit. With one
// principal (every job without owner, as in a single-tenant engine) this is
// plain priority-then-FIFO.
//
// A job is picked only if the global limit, its tool's limit and its
// principal's max_running leave room and its tool is not paused; a tool or a
// principal at its limit does not block others' jobs behind it. Each tool
// keeps the head of every principal's queue ranked (priority, pass,
// arrival), so enqueue and remove are O(log n) and pop_next is O(tools x
// log principals) plus the principals it skips at their max_running; a pop
// moves its principal's heads in each tool it has jobs queued for. Not
// thread-safe: the scheduler actor owns it.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>

#include "overseer/engine.hpp"

namespace overseer::actors {

class scheduler_state {
public:
  /// `max_running` >= 1: jobs running at once, all tools together.
  /// `max_immediate` >= 1: jobs of immediate tools running at once, in a
  /// pool of their own (tool_definition::mode): they never wait behind the
  /// other tools' long jobs, nor take those tools' slots.
  explicit scheduler_state(int max_running, int max_immediate = 1)
    : max_running_(max_running), max_immediate_(max_immediate) {}

  /// What a tool's jobs may take: its own limit (0 = none) and its pool.
  struct tool_rules {
    int limit = 0;
    bool immediate = false;
  };

  /// Queues a ready job of `owner`; returns its position: the queued jobs of
  /// a higher priority plus its own principal's queued jobs of the same
  /// priority ahead of it (with one principal: every job ahead of it).
  /// Other principals' jobs of the same priority share the slots with it
  /// round-robin, so they are not counted.
  std::size_t enqueue(const std::string& job_id, const std::string& tool, int priority,
                      const std::string& owner = {});
  /// Takes a job out of the queue (cancel). False if it was not queued.
  bool remove(const std::string& job_id);
  [[nodiscard]] bool queued(const std::string& job_id) const { return where_.contains(job_id); }

  /// Pops the next job that may start now. `tool_limit` gives a tool's limit
  /// (0 = none); `paused` says whether a tool is paused.
  std::optional<std::string> pop_next(const std::function<int(const std::string&)>& tool_limit,
                                      const std::function<bool(const std::string&)>& paused);
  /// The same, with each tool's pool: an immediate tool's job takes a slot
  /// of the immediate pool, any other a slot of the global limit.
  std::optional<std::string> pop_next(const std::function<tool_rules(const std::string&)>& rules,
                                      const std::function<bool(const std::string&)>& paused);
  /// Slot accounting: an attempt of `tool` (of `owner`, in the immediate
  /// pool or not) started / its actor exited.
  void started(const std::string& tool, const std::string& owner = {}, bool immediate = false);
  void finished(const std::string& tool, const std::string& owner = {}, bool immediate = false);

  /// Weights and max_running of principals; one not named has weight 1 and
  /// no limit.
  void set_shares(std::map<std::string, principal_share> shares);
  /// Takes `shares` when it changed since the last call (by its version).
  void refresh(const principal_shares& shares);

  /// Attempts holding a slot of the global limit / of the immediate pool.
  [[nodiscard]] int running() const noexcept { return running_; }
  [[nodiscard]] int running_immediate() const noexcept { return running_immediate_; }
  [[nodiscard]] int running(const std::string& tool) const;
  [[nodiscard]] int running_of(const std::string& owner) const;
  [[nodiscard]] std::size_t queue_size() const noexcept { return where_.size(); }
  /// Jobs of `tool` in the queue.
  [[nodiscard]] std::size_t queued_count(const std::string& tool) const;
  /// Jobs of `owner` in the queue.
  [[nodiscard]] std::size_t queued_of(const std::string& owner) const;
  [[nodiscard]] int max_running() const noexcept { return max_running_; }

  /// The pass a stride is a fraction of: weights up to 1000 divide it
  /// without much rounding.
  static constexpr std::uint64_t stride_base = 720720;

private:
  struct key {
    int priority;
    std::uint64_t order;
    bool operator<(const key& o) const noexcept {
      return priority != o.priority ? priority > o.priority : order < o.order;
    }
  };
  struct tool_queue;
  using owner_queue = std::pair<const std::string, std::map<key, std::string>>;
  /// Where a queued job is: the nodes of its tool's queue and of its
  /// principal's queue there (nodes of std::map and std::unordered_map keep
  /// their address while they exist, and they exist while it is queued), so
  /// a queued job costs two pointers here, not two more strings.
  struct location {
    std::pair<const std::string, tool_queue>* tool;
    owner_queue* queue;
    key k;
  };
  struct principal {
    std::uint64_t pass = 0;
    int running = 0;
    std::size_t queued = 0;
    std::array<std::size_t, 11> per_priority{};
    std::unordered_map<std::string, std::size_t> tools;  ///< its queued jobs per tool
  };
  /// The head of one principal's queue of a tool, ranked: priority (higher
  /// first), then the principal's pass, then arrival.
  struct rank {
    int priority;
    std::uint64_t pass;
    std::uint64_t order;
    std::string owner;
    bool operator<(const rank& o) const noexcept {
      if (priority != o.priority) return priority > o.priority;
      if (pass != o.pass) return pass < o.pass;
      return order < o.order;
    }
  };
  struct tool_queue {
    std::unordered_map<std::string, std::map<key, std::string>> by_owner;
    std::set<rank> heads;  ///< one per principal with jobs queued here
  };

  [[nodiscard]] principal_share share_of(const std::string& owner) const;
  void forget_if_idle(const std::string& owner);
  [[nodiscard]] rank head_of(const tool_queue& q, const std::string& owner) const;
  void unlink(tool_queue& q, const std::string& owner);
  void link(tool_queue& q, const std::string& owner);

  int max_running_;
  int max_immediate_;
  int running_ = 0;
  int running_immediate_ = 0;
  std::uint64_t next_order_ = 0;
  std::uint64_t virtual_time_ = 0;  ///< the pass of the last start granted
  std::uint64_t shares_version_ = 0;
  std::map<std::string, tool_queue> tools_;
  std::unordered_map<std::string, location> where_;
  std::unordered_map<std::string, int> running_by_tool_;
  std::unordered_map<std::string, std::size_t> queued_by_tool_;
  std::unordered_map<std::string, principal> principals_;
  std::map<std::string, principal_share> shares_;
  /// Queued jobs per priority 0-10: the position of a new job is the count
  /// above its priority, without walking the queue.
  std::array<std::size_t, 11> per_priority_{};
};

}  // namespace overseer::actors
