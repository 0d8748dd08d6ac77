// The built-in tools: sleep, fail, noop and fasta_stats.
//
// Each declares its params and refuses any other (strict_params).
// fasta_stats reads only files inside its allowed_paths, which are empty
// until configured: by default it reads nothing. overseerd configures them
// from its tools file ({"builtins": {"fasta_stats": {"allowed_paths":
// [...]}}}, docs/tools.md); a host embedding the engine passes them here.
//
//   overseer::tools::builtin_config c;
//   c.fasta_stats_allowed_paths = {"/srv/genomes"};
//   if (auto problems = check_builtin_config(registry, c); problems.empty())
//     configure_builtin_tools(registry, c);
#pragma once

#include <filesystem>
#include <vector>

#include "overseer/tool.hpp"

namespace overseer::tools {

struct builtin_config {
  /// Directories (absolute) whose files fasta_stats may read; symbolic links
  /// and ".." are resolved before a path is compared. Default: none, so
  /// every path is refused.
  std::vector<std::filesystem::path> fasta_stats_allowed_paths;
};

/// Registers sleep, fail, noop and fasta_stats with `registry`, configured
/// with `config`. Throws overseer::error(invalid_spec) for a bad config.
void register_builtin_tools(tool_registry& registry, const builtin_config& config = {});

/// Problems with applying `config` to the built-ins in `registry`, each
/// naming its field ("builtins.fasta_stats.allowed_paths"): a relative
/// directory, or a built-in that `registry` does not hold.
[[nodiscard]] std::vector<field_error> check_builtin_config(const tool_registry& registry,
                                                            const builtin_config& config);

/// Replaces the configuration of the built-ins in `registry`, for the jobs
/// that start from now on. `config` must have passed check_builtin_config.
void configure_builtin_tools(tool_registry& registry, const builtin_config& config);

}  // namespace overseer::tools
