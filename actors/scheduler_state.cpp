#include "actors/scheduler_state.hpp"

#include <algorithm>

namespace overseer::actors {

namespace {
std::size_t bucket(int priority) { return static_cast<std::size_t>(std::clamp(priority, 0, 10)); }
}  // namespace

std::size_t scheduler_state::enqueue(const std::string& job_id, const std::string& tool,
                                     int priority) {
  if (where_.contains(job_id)) return 0;
  std::size_t ahead = 0;
  for (std::size_t p = bucket(priority); p < per_priority_.size(); ++p) ahead += per_priority_[p];
  key k{priority, next_order_++};
  by_tool_[tool].emplace(k, job_id);
  where_.emplace(job_id, location{tool, k});
  ++per_priority_[bucket(priority)];
  return ahead;
}

bool scheduler_state::remove(const std::string& job_id) {
  auto it = where_.find(job_id);
  if (it == where_.end()) return false;
  auto tool_it = by_tool_.find(it->second.tool);
  tool_it->second.erase(it->second.k);
  if (tool_it->second.empty()) by_tool_.erase(tool_it);
  --per_priority_[bucket(it->second.k.priority)];
  where_.erase(it);
  return true;
}

std::optional<std::string> scheduler_state::pop_next(
  const std::function<int(const std::string&)>& tool_limit,
  const std::function<bool(const std::string&)>& paused) {
  if (running_ >= max_running_) return std::nullopt;
  const std::pair<const key, std::string>* best = nullptr;
  for (const auto& [tool, queue] : by_tool_) {
    if (paused(tool)) continue;
    const int limit = tool_limit(tool);
    if (limit > 0 && running(tool) >= limit) continue;
    const auto& head = *queue.begin();
    if (!best || head.first < best->first) best = &head;
  }
  if (!best) return std::nullopt;
  std::string id = best->second;
  remove(id);
  return id;
}

void scheduler_state::started(const std::string& tool) {
  ++running_;
  ++running_by_tool_[tool];
}

void scheduler_state::finished(const std::string& tool) {
  --running_;
  if (auto it = running_by_tool_.find(tool); it != running_by_tool_.end() && --it->second == 0)
    running_by_tool_.erase(it);
}

int scheduler_state::running(const std::string& tool) const {
  auto it = running_by_tool_.find(tool);
  return it == running_by_tool_.end() ? 0 : it->second;
}

std::size_t scheduler_state::queued_count(const std::string& tool) const {
  auto it = by_tool_.find(tool);
  return it == by_tool_.end() ? 0 : it->second.size();
}

}  // namespace overseer::actors
