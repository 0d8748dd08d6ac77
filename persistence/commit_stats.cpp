#include "persistence/commit_stats.hpp"

namespace overseer::persistence {

commit_stats& commit_statistics() noexcept {
  static commit_stats stats;
  return stats;
}

std::atomic<std::int64_t>& answers_due() noexcept {
  static std::atomic<std::int64_t> due{0};
  return due;
}

}  // namespace overseer::persistence
