// Exec tools: external command-line programs run as supervised jobs.
//
// An exec tool is an argv template ({params.NAME} and {workdir} substituted
// into single elements, never split, never given to a shell) plus an
// environment, resource limits and a progress protocol (docs/tools.md).
// Each attempt runs the program in its own process group with the job's
// workdir as working directory; the group and its leader's start time are
// recorded (durably) before the program's output is read, so that after a
// crash the engine kills the orphans. When the attempt ends, however it
// ends, the whole group is killed and the leader reaped.
//
// Registration checks everything it can up front (the program exists and is
// executable, templates name declared params, the regex compiles) and
// throws overseer::error(errc::invalid_spec) naming the tool and the field.
// A tools file is registered whole or not at all. Thread-safe as the
// registry is; the bodies may run concurrently.
//
//   overseer::tools::register_tools_file(engine.tools(), "/etc/overseer/tools.json");
//   engine.start();
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "overseer/tool.hpp"

namespace overseer::tools {

struct exec_limits {
  /// CPU seconds (RLIMIT_CPU): SIGXCPU at the limit, SIGKILL one second
  /// later. Default: inherited from the engine.
  std::optional<long long> cpu_s;
  /// Address space in MiB (RLIMIT_AS). Default: inherited.
  std::optional<long long> memory_mb;
  /// Open descriptors (RLIMIT_NOFILE). Default: inherited.
  std::optional<long long> open_files;
  /// Output (stdout and stderr together) kept as log lines, in MiB; later
  /// lines are dropped after one warning saying so. Default 64.
  double output_mb = 64;
};

struct exec_tool_config {
  /// Name, version, description, schema, timeout, retry, max_concurrent.
  /// The schema has no "path" keys here: path params are listed below.
  tool_definition definition;
  /// argv templates. command[0] is an absolute path to an executable or a
  /// program name looked up on the engine's PATH at registration; it takes
  /// no templates.
  std::vector<std::string> command;
  /// Added to the minimal environment (PATH, HOME, LANG); may override those
  /// three. OVERSEER_* names are reserved.
  std::map<std::string, std::string> env;
  /// RE2 regular expression searched in every output line (after invalid
  /// UTF-8 is replaced); group 1 is the percent. Empty: none.
  std::string progress_regex;
  exec_limits limits;
  /// Between SIGTERM and SIGKILL when the job is cancelled or times out.
  /// Default 10 s.
  std::chrono::milliseconds kill_grace{10000};
  /// Directories that the params in path_params must resolve inside
  /// (symlinks followed). Relative values resolve against the first one.
  std::vector<std::filesystem::path> allowed_paths;
  std::vector<std::string> path_params;
};

/// Problems with `config` (each naming its field: "command", "env.X",
/// "limits.cpu_s"...); empty when it can be registered. Resolves
/// command[0] on PATH and canonicalizes allowed_paths in place.
[[nodiscard]] std::vector<field_error> check_exec_tool(exec_tool_config& config);

/// Checks and registers one exec tool, with strict_params set: a param
/// reaches the program only through a template. Throws
/// overseer::error(invalid_spec) listing every problem.
void register_exec_tool(tool_registry& registry, exec_tool_config config);

/// Reads a tools file ({"tools": [...]}, docs/tools.md) and registers every
/// tool in it, or none: throws overseer::error(invalid_spec) whose message
/// names the file, the tool and the field of each problem.
void register_tools_file(tool_registry& registry, const std::filesystem::path& file);

/// The body of an exec tool, for tests and hosts that register it
/// themselves. `config` must have passed check_exec_tool.
[[nodiscard]] tool_function make_exec_body(exec_tool_config config);

}  // namespace overseer::tools
