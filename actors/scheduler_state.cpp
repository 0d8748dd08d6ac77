#include "actors/scheduler_state.hpp"

#include <algorithm>
#include <vector>

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
  auto& tool_node = *tools_.try_emplace(tool).first;
  auto& tq = tool_node.second;
  auto& queue_node = *tq.by_owner.try_emplace(owner).first;
  auto& q = queue_node.second;
  if (!q.empty()) unlink(tq, owner);
  q.emplace(k, job_id);
  link(tq, owner);
  where_.emplace(job_id, location{&tool_node, &queue_node, k});
  ++per_priority_[bucket(priority)];
  ++who.per_priority[bucket(priority)];
  ++who.queued;
  ++who.tools[tool];
  ++queued_by_tool_[tool];
  return ahead;
}

bool scheduler_state::remove(const std::string& job_id) {
  auto it = where_.find(job_id);
  if (it == where_.end()) return false;
  const auto loc = it->second;
  where_.erase(it);
  // Copies: the nodes may go below.
  const std::string tool = loc.tool->first;
  const std::string owner = loc.queue->first;
  auto& tq = loc.tool->second;
  unlink(tq, owner);
  loc.queue->second.erase(loc.k);
  if (loc.queue->second.empty()) tq.by_owner.erase(owner);
  else link(tq, owner);
  if (tq.by_owner.empty()) tools_.erase(tool);
  --per_priority_[bucket(loc.k.priority)];
  auto& who = principals_[owner];
  --who.per_priority[bucket(loc.k.priority)];
  --who.queued;
  if (auto n = who.tools.find(tool); n != who.tools.end() && --n->second == 0) who.tools.erase(n);
  if (auto n = queued_by_tool_.find(tool); n != queued_by_tool_.end() && --n->second == 0)
    queued_by_tool_.erase(n);
  forget_if_idle(owner);
  return true;
}

scheduler_state::rank scheduler_state::head_of(const tool_queue& q, const std::string& owner) const {
  const auto& head = *q.by_owner.at(owner).begin();
  const auto p = principals_.find(owner);
  return rank{head.first.priority, p == principals_.end() ? virtual_time_ : p->second.pass, head.first.order, owner};
}

void scheduler_state::unlink(tool_queue& q, const std::string& owner) { q.heads.erase(head_of(q, owner)); }

void scheduler_state::link(tool_queue& q, const std::string& owner) { q.heads.insert(head_of(q, owner)); }

std::optional<std::string> scheduler_state::pop_next(
  const std::function<int(const std::string&)>& tool_limit,
  const std::function<bool(const std::string&)>& paused) {
  return pop_next([&](const std::string& tool) { return tool_rules{tool_limit(tool), false}; }, paused);
}

std::optional<std::string> scheduler_state::pop_next(
  const std::function<tool_rules(const std::string&)>& tool_rules_of,
  const std::function<bool(const std::string&)>& paused) {
  const bool regular_room = running_ < max_running_;
  if (!regular_room && running_immediate_ >= max_immediate_) return std::nullopt;
  const rank* best = nullptr;
  tool_queue* best_tool = nullptr;
  for (auto& [tool, tq] : tools_) {
    if (paused(tool)) continue;
    const auto rules = tool_rules_of(tool);
    if (rules.immediate ? running_immediate_ >= max_immediate_ : !regular_room) continue;
    if (rules.limit > 0 && running(tool) >= rules.limit) continue;
    // This tool's best head whose principal is below its max_running.
    for (const auto& r : tq.heads) {
      if (best && !(r < *best)) break;  // ranked: nothing later here beats `best`
      if (const int cap = share_of(r.owner).max_running; cap > 0 && running_of(r.owner) >= cap) continue;
      best = &r;
      best_tool = &tq;
      break;
    }
  }
  if (!best) return std::nullopt;
  const std::string owner = best->owner;
  std::string id = best_tool->by_owner.at(owner).begin()->second;
  // Its pass moves: so does its head in every tool it has jobs queued for.
  auto& who = principals_[owner];
  std::vector<tool_queue*> moved;
  for (const auto& [tool, n] : who.tools) {
    auto& tq = tools_.at(tool);
    unlink(tq, owner);
    moved.push_back(&tq);
  }
  virtual_time_ = std::max(virtual_time_, who.pass);
  who.pass = std::max(who.pass, virtual_time_) + stride_base / static_cast<std::uint64_t>(share_of(owner).weight);
  for (auto* tq : moved) link(*tq, owner);
  remove(id);
  return id;
}

void scheduler_state::started(const std::string& tool, const std::string& owner, bool immediate) {
  ++(immediate ? running_immediate_ : running_);
  ++running_by_tool_[tool];
  ++principals_[owner].running;
}

void scheduler_state::finished(const std::string& tool, const std::string& owner, bool immediate) {
  --(immediate ? running_immediate_ : running_);
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
