#include "tools/allowed_paths.hpp"

#include <algorithm>

namespace overseer::tools {

namespace fs = std::filesystem;

std::vector<allowed_dir> resolve_allowed_dirs(const std::vector<fs::path>& dirs, const std::string& field,
                                              std::vector<field_error>& problems) {
  std::vector<allowed_dir> out;
  for (const auto& dir : dirs) {
    if (!dir.is_absolute()) {
      problems.push_back({field, std::string{"\""}.append(dir.string()).append("\" is not an absolute path")});
      continue;
    }
    std::error_code ec;
    auto canonical = fs::weakly_canonical(dir, ec);
    if (ec) {
      problems.push_back({field, "cannot resolve \"" + dir.string() + "\": " + ec.message()});
      continue;
    }
    // "/srv/genomes/" and "/srv/genomes" are the same directory.
    auto strip = [](fs::path p) { return p.has_filename() ? p : p.parent_path(); };
    out.push_back({strip(dir.lexically_normal()), strip(canonical)});
  }
  return out;
}

bool is_within(const fs::path& path, const fs::path& dir) {
  const auto rel = path.lexically_relative(dir);
  return !rel.empty() && *rel.begin() != "..";
}

bool is_allowed(const fs::path& path, const std::vector<allowed_dir>& dirs) {
  return std::any_of(dirs.begin(), dirs.end(), [&](const allowed_dir& d) { return is_within(path, d.canonical); });
}

std::string describe(const std::vector<allowed_dir>& dirs) {
  std::string out;
  for (const auto& d : dirs) out += (out.empty() ? "" : ", ") + d.configured.string();
  return out;
}

}  // namespace overseer::tools
