// Process identity on Linux: a pid plus its start time names one process
// for good, even after the pid is reused.
#pragma once

#include <cstdint>
#include <optional>

namespace overseer::tools {

/// The start time of `pid` (clock ticks since boot, /proc/PID/stat field
/// 22), or nullopt if there is no such process.
[[nodiscard]] std::optional<std::uint64_t> process_start_time(int pid);

/// Kills process group `pgid` with SIGKILL if it is still the group whose
/// leader started at `start_time`: its leader exists with that start time,
/// or the leader has exited and members of the group that started since
/// remain (a pid is not reused while its group exists). Returns true if it
/// signalled the group.
bool kill_orphan_group(int pgid, std::uint64_t start_time);

}  // namespace overseer::tools
