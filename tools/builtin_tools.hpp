// The built-in tools of DESIGN.md: sleep, fail, noop and fasta_stats.
#pragma once

#include "overseer/tool.hpp"

namespace overseer::tools {

/// Registers sleep, fail, noop and fasta_stats with `registry`.
void register_builtin_tools(tool_registry& registry);

}  // namespace overseer::tools
