// "Did you mean": the nearest known name to a misspelt one (Oban-style
// suggestions for unknown tools, fields, params and query parameters).
//
// A suggestion is made only when it is a plausible typo, so that a wrong
// guess never sends a reader after a name that has nothing to do with
// theirs: "slep" -> "sleep", "max_concurent" -> "max_concurrent",
// "tpye" -> "type", but nothing for "name" among {"page", "limit"}.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace overseer::tools {

/// Damerau-Levenshtein distance (optimal string alignment): insertions,
/// deletions, substitutions and swaps of two adjacent characters each count
/// as one edit. Bytes are compared, which is exact for ASCII names.
[[nodiscard]] std::size_t edit_distance(std::string_view a, std::string_view b);

/// Whether `candidate` is close enough to `name` to be offered as its
/// correction: at most 2 edits, and fewer than a third of the longer
/// name's length (so 1 edit for names of 4 to 6 characters, 2 from 7 on,
/// none below 4).
[[nodiscard]] bool plausible_typo(std::string_view name, std::string_view candidate);

/// The candidate nearest to `name` if it is a plausible typo (the first of
/// equally near ones); empty otherwise, and for an exact match.
template <class Names>
[[nodiscard]] std::string nearest_name(std::string_view name, const Names& candidates) {
  std::string best;
  std::size_t best_distance = 0;
  for (std::string_view c : candidates) {
    if (c == name || !plausible_typo(name, c)) continue;
    if (const auto d = edit_distance(name, c); best.empty() || d < best_distance) {
      best = std::string(c);
      best_distance = d;
    }
  }
  return best;
}

}  // namespace overseer::tools
