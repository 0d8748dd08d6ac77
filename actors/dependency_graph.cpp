#include "actors/dependency_graph.hpp"

namespace overseer::actors {

void dependency_graph::add(const std::string& job, const std::string& dep) {
  if (waits_[job].insert(dep).second) dependents_[dep].push_back(job);
}

std::set<std::string> dependency_graph::waits_for(const std::string& job) const {
  auto it = waits_.find(job);
  return it == waits_.end() ? std::set<std::string>{} : it->second;
}

std::vector<std::string> dependency_graph::resolve(const std::string& dep, bool completed) {
  auto it = dependents_.find(dep);
  if (it == dependents_.end()) return {};
  auto jobs = std::move(it->second);
  dependents_.erase(it);
  if (completed)
    for (const auto& job : jobs)
      if (auto w = waits_.find(job); w != waits_.end()) {
        w->second.erase(dep);
        if (w->second.empty()) waits_.erase(w);
      }
  return jobs;
}

void dependency_graph::forget(const std::string& job) {
  auto it = waits_.find(job);
  if (it == waits_.end()) return;
  for (const auto& dep : it->second)
    if (auto d = dependents_.find(dep); d != dependents_.end()) {
      std::erase(d->second, job);
      if (d->second.empty()) dependents_.erase(d);
    }
  waits_.erase(it);
}

}  // namespace overseer::actors
