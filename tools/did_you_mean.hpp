// "Did you mean": the nearest known name to a misspelt one (Oban-style
// suggestions for unknown fields, params and query parameters).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace overseer::tools {

[[nodiscard]] std::size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate nearest to `name` if it is a plausible typo: within 3
/// edits, and fewer edits than `name` has characters ("id" is no typo of
/// "name"). Empty otherwise.
template <class Names>
[[nodiscard]] std::string nearest_name(std::string_view name, const Names& candidates) {
  std::string best;
  std::size_t best_distance = 4;
  for (std::string_view c : candidates) {
    if (auto d = edit_distance(name, c); d < best_distance && d < name.size()) {
      best = std::string(c);
      best_distance = d;
    }
  }
  return best;
}

}  // namespace overseer::tools
