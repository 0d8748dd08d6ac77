// `overseer`, the command-line client of overseerd: argument parsing
// (CLI11) and dispatch to the commands. apps/overseer.cpp is only main().
#pragma once

namespace overseer::cli {

/// Runs the command line; returns the process exit status (docs/cli.md
/// lists them, cli/exit_status.hpp defines them).
[[nodiscard]] int run(int argc, char** argv);

}  // namespace overseer::cli
