#include "actors/scheduler_state.hpp"

#include <algorithm>

namespace overseer::actors {

namespace {
std::size_t bucket(int priority) { return static_cast<std::size_t>(std::clamp(priority, 0, 10)); }
}  // namespace

std::size_t scheduler_state::enqueue(const std::string& job_id, const std::string& tool, int priority,
                                     const std::string& owner) {
  if (where_.contains(job_id)) return 0;
  std::size_t ahead = 0;
  for (std::size_t p = bucket(priority) + 1; p < per_priority_.size(); ++p) ahead += per_priority_[p];
  auto& who = principals_[owner];
  ahead += who.per_priority[bucket(priority)];
  // Joining (again): at the current virtual time, not earlier.
  if (who.queued == 0) who.pass = std::max(who.pass, virtual_time_);
  key k{priority, next_order_++};
  queues_[{tool, owner}].emplace(k, job_id);
  where_.emplace(job_id, location{tool, owner, k});
  ++per_priority_[bucket(priority)];
  ++who.per_priority[bucket(priority)];
  ++who.queued;
  ++queued_by_tool_[tool];
  return ahead;
}

bool scheduler_state::remove(const std::string& job_id) {
  auto it = where_.find(job_id);
  if (it == where_.end()) return false;
  const auto& loc = it->second;
  auto q = queues_.find({loc.tool, loc.owner});
  q->second.erase(loc.k);
  if (q->second.empty()) queues_.erase(q);
  --per_priority_[bucket(loc.k.priority)];
  auto& who = principals_[loc.owner];
  --who.per_priority[bucket(loc.k.priority)];
  --who.queued;
  if (auto t = queued_by_tool_.find(loc.tool); t != queued_by_tool_.end() && --t->second == 0)
    queued_by_tool_.erase(t);
  const auto owner = loc.owner;
  where_.erase(it);
  forget_if_idle(owner);
  return true;
}

std::optional<std::string> scheduler_state::pop_next(
  const std::function<int(const std::string&)>& tool_limit,
  const std::function<bool(const std::string&)>& paused) {
  if (running_ >= max_running_) return std::nullopt;
  const std::string* best = nullptr;
  key best_key{};
  std::uint64_t best_pass = 0;
  // Tool checks are made once per tool, not per queue.
  std::unordered_map<std::string, bool> tool_open;
  for (const auto& [qid, queue] : queues_) {
    const auto& [tool, owner] = qid;
    const auto& head = *queue.begin();
    // Ranked by priority first: a queue whose head is of a lower priority
    // than the best so far cannot win, whatever its pass.
    if (best && head.first.priority < best_key.priority) continue;
    auto open = tool_open.find(tool);
    if (open == tool_open.end()) {
      const int limit = tool_limit(tool);
      open = tool_open.emplace(tool, !paused(tool) && (limit <= 0 || running(tool) < limit)).first;
    }
    if (!open->second) continue;
    const auto p = principals_.find(owner);
    const std::uint64_t pass = p == principals_.end() ? virtual_time_ : p->second.pass;
    if (const int cap = share_of(owner).max_running; cap > 0 && running_of(owner) >= cap) continue;
    const bool better = !best || head.first.priority > best_key.priority ||
                        (pass != best_pass ? pass < best_pass : head.first.order < best_key.order);
    if (!better) continue;
    best = &head.second;
    best_key = head.first;
    best_pass = pass;
  }
  if (!best) return std::nullopt;
  std::string id = *best;
  const auto owner = where_.at(id).owner;
  auto& who = principals_[owner];
  virtual_time_ = std::max(virtual_time_, who.pass);
  who.pass = std::max(who.pass, virtual_time_) + stride_base / static_cast<std::uint64_t>(share_of(owner).weight);
  remove(id);
  return id;
}

void scheduler_state::started(const std::string& tool, const std::string& owner) {
  ++running_;
  ++running_by_tool_[tool];
  ++principals_[owner].running;
}

void scheduler_state::finished(const std::string& tool, const std::string& owner) {
  --running_;
  if (auto it = running_by_tool_.find(tool); it != running_by_tool_.end() && --it->second == 0)
    running_by_tool_.erase(it);
  if (auto it = principals_.find(owner); it != principals_.end()) {
    --it->second.running;
    forget_if_idle(owner);
  }
}

void scheduler_state::set_shares(std::map<std::string, principal_share> shares) { shares_ = std::move(shares); }

void scheduler_state::refresh(const principal_shares& shares) {
  const auto version = shares.version();
  if (version == shares_version_) return;
  shares_version_ = version;
  set_shares(shares.snapshot());
}

principal_share scheduler_state::share_of(const std::string& owner) const {
  auto it = shares_.find(owner);
  principal_share s = it == shares_.end() ? principal_share{} : it->second;
  s.weight = std::max(1, s.weight);
  return s;
}

void scheduler_state::forget_if_idle(const std::string& owner) {
  // A principal with nothing queued and nothing running is dropped: its
  // pass would be raised to the virtual time when it comes back anyway.
  auto it = principals_.find(owner);
  if (it != principals_.end() && it->second.queued == 0 && it->second.running <= 0 &&
      it->second.pass <= virtual_time_)
    principals_.erase(it);
}

int scheduler_state::running(const std::string& tool) const {
  auto it = running_by_tool_.find(tool);
  return it == running_by_tool_.end() ? 0 : it->second;
}

int scheduler_state::running_of(const std::string& owner) const {
  auto it = principals_.find(owner);
  return it == principals_.end() ? 0 : it->second.running;
}

std::size_t scheduler_state::queued_count(const std::string& tool) const {
  auto it = queued_by_tool_.find(tool);
  return it == queued_by_tool_.end() ? 0 : it->second;
}

std::size_t scheduler_state::queued_of(const std::string& owner) const {
  auto it = principals_.find(owner);
  return it == principals_.end() ? 0 : it->second.queued;
}

}  // namespace overseer::actors
