// allowed_paths: the directories a path param may name files in, for exec
// tools (a param with "path": true) and the built-in fasta_stats.
//
// A directory is kept in two forms: as configured (made lexically normal)
// and canonical (symbolic links and ".." resolved; weakly, so that it need
// not exist yet). A path is inside when it is one of the directories or lies
// beneath one, compared component by component after its own ".." and
// symbolic links are resolved, so neither can lead out. Pure functions.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "overseer/errc.hpp"

namespace overseer::tools {

struct allowed_dir {
  std::filesystem::path configured;
  std::filesystem::path canonical;
};

/// `dirs` checked and resolved: each must be absolute; a problem names
/// `field` and the directory.
[[nodiscard]] std::vector<allowed_dir> resolve_allowed_dirs(const std::vector<std::filesystem::path>& dirs,
                                                            const std::string& field,
                                                            std::vector<field_error>& problems);

/// Whether `path` (absolute, normal) is `dir` or lies beneath it.
[[nodiscard]] bool is_within(const std::filesystem::path& path, const std::filesystem::path& dir);

/// Whether the canonical `path` is inside one of the canonical `dirs`.
[[nodiscard]] bool is_allowed(const std::filesystem::path& path, const std::vector<allowed_dir>& dirs);

/// "/srv/genomes, /data": the directories as configured, for messages.
[[nodiscard]] std::string describe(const std::vector<allowed_dir>& dirs);

}  // namespace overseer::tools
