// Which unfinished jobs wait for which others (depends_on), without actors.
// A job is held back while it waits for any dependency; a dependency that
// completes releases it, one that ends otherwise fails it (and so on down
// the chain, by the caller). Not thread-safe: the scheduler owns it.
#pragma once

#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace overseer::actors {

class dependency_graph {
public:
  /// `job` waits for `dep`.
  void add(const std::string& job, const std::string& dep);
  /// Whether `job` still waits for anything.
  [[nodiscard]] bool waiting(const std::string& job) const { return waits_.contains(job); }
  /// What `job` still waits for.
  [[nodiscard]] std::set<std::string> waits_for(const std::string& job) const;

  /// `dep` ended: the jobs that waited for it. If it completed, they no
  /// longer wait for it (and may be ready); if not, the caller fails them.
  std::vector<std::string> resolve(const std::string& dep, bool completed);
  /// `job` is gone (it ended): it waits for nothing any more.
  void forget(const std::string& job);

  [[nodiscard]] std::size_t size() const noexcept { return waits_.size(); }

private:
  std::unordered_map<std::string, std::set<std::string>> waits_;             ///< job -> deps
  std::unordered_map<std::string, std::vector<std::string>> dependents_;     ///< dep -> jobs
};

}  // namespace overseer::actors
