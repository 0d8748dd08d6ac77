#include "cli/table.hpp"

#include <algorithm>

namespace overseer::cli {

std::string render_table(const std::vector<std::string>& headers, const std::vector<std::vector<std::string>>& rows,
                         const palette& colours, int status_column) {
  std::vector<std::size_t> widths(headers.size(), 0);
  for (std::size_t c = 0; c < headers.size(); ++c) widths[c] = width(headers[c]);
  for (const auto& row : rows)
    for (std::size_t c = 0; c < row.size() && c < widths.size(); ++c) widths[c] = std::max(widths[c], width(row[c]));
  std::string out;
  const auto emit = [&](const std::vector<std::string>& row, bool header) {
    std::string line;
    for (std::size_t c = 0; c < widths.size(); ++c) {
      const std::string cell = c < row.size() ? row[c] : std::string{};
      const bool last = c + 1 == widths.size();
      std::string shown = header ? colours.bold(cell)
                                 : (static_cast<int>(c) == status_column ? colours.status(cell) : cell);
      line += shown;
      if (!last) line += std::string(widths[c] - width(cell) + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  };
  emit(headers, true);
  for (const auto& row : rows) emit(row, false);
  return out;
}

}  // namespace overseer::cli
