// Aligned columns for `list`, `history`, `tools` and friends.
#pragma once

#include <string>
#include <vector>

#include "cli/text.hpp"

namespace overseer::cli {

/// Rows under upper-case headers, columns two spaces apart, sized by
/// characters; the last column is not padded. Cells must be terminal_safe.
/// The cells of `status_column` (if >= 0) are painted with their status
/// colour after sizing, so colour never shifts a column.
[[nodiscard]] std::string render_table(const std::vector<std::string>& headers,
                                       const std::vector<std::vector<std::string>>& rows, const palette& colours,
                                       int status_column = -1);

}  // namespace overseer::cli
