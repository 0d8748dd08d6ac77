#include "persistence/commit_stats.hpp"

namespace overseer::persistence {

commit_stats& commit_statistics() noexcept {
  static commit_stats stats;
  return stats;
}

}  // namespace overseer::persistence
