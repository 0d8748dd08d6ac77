#include "tools/did_you_mean.hpp"

#include <algorithm>
#include <vector>

namespace overseer::tools {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // Three rows: the swap of two adjacent characters looks two rows back.
  const std::size_t n = b.size();
  std::vector<std::size_t> before(n + 1), previous(n + 1), row(n + 1);
  for (std::size_t j = 0; j <= n; ++j) previous[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    row[0] = i;
    for (std::size_t j = 1; j <= n; ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      row[j] = std::min({previous[j] + 1, row[j - 1] + 1, previous[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        row[j] = std::min(row[j], before[j - 2] + 1);
    }
    std::swap(before, previous);
    std::swap(previous, row);
  }
  return previous[n];
}

bool plausible_typo(std::string_view name, std::string_view candidate) {
  const std::size_t longer = std::max(name.size(), candidate.size());
  // Cheap bound first: the distance is at least the difference in length.
  const std::size_t shorter = std::min(name.size(), candidate.size());
  if (longer - shorter > 2) return false;
  const std::size_t d = edit_distance(name, candidate);
  return d <= 2 && 3 * d < longer;
}

}  // namespace overseer::tools
