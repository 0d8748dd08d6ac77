#include "tools/process.hpp"

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace overseer::tools {

namespace {

struct stat_fields {
  char state = '?';
  int pgrp = 0;
  std::uint64_t start_time = 0;
};

/// Fields 3 (state), 5 (process group) and 22 (start time) of /proc/PID/stat.
std::optional<stat_fields> read_stat(int pid) {
  if (pid <= 0) return std::nullopt;
  std::ifstream in{"/proc/" + std::to_string(pid) + "/stat"};
  std::string stat;
  if (!std::getline(in, stat)) return std::nullopt;
  // Field 2 (comm) may contain spaces and parentheses: count from the last ')'.
  const auto close = stat.rfind(')');
  if (close == std::string::npos || close + 2 > stat.size()) return std::nullopt;
  std::istringstream fields{stat.substr(close + 2)};
  std::string field;
  stat_fields out;
  for (int i = 3; i <= 22; ++i) {
    if (!(fields >> field)) return std::nullopt;
    char* end = nullptr;
    if (i == 3) out.state = field.empty() ? '?' : field.front();
    if (i == 5) out.pgrp = static_cast<int>(std::strtol(field.c_str(), &end, 10));
    if (i == 22) out.start_time = std::strtoull(field.c_str(), &end, 10);
  }
  return out;
}

/// Whether a live process (not a zombie) of group `pgid` that started no
/// earlier than `start_time` exists.
bool group_has_members(int pgid, std::uint64_t start_time) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator{"/proc", ec}) {
    const auto name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const auto s = read_stat(std::atoi(name.c_str()));
    if (s && s->pgrp == pgid && s->start_time >= start_time && s->state != 'Z') return true;
  }
  return false;
}

}  // namespace

std::optional<std::uint64_t> process_start_time(int pid) {
  const auto s = read_stat(pid);
  if (!s) return std::nullopt;
  return s->start_time;
}

bool kill_orphan_group(int pgid, std::uint64_t start_time) {
  if (pgid <= 1) return false;
  if (const auto leader = read_stat(pgid)) {
    // A different start time means the id now belongs to an unrelated
    // program (and Linux does not give a live group's id to a new process).
    if (leader->start_time != start_time) return false;
    return ::kill(-pgid, SIGKILL) == 0;
  }
  // The leader is gone, but the group lives on while any member does
  // (a background worker, say): its id cannot have been given to another
  // process meanwhile. Members started after the leader did.
  if (!group_has_members(pgid, start_time)) return false;
  return ::kill(-pgid, SIGKILL) == 0;
}

}  // namespace overseer::tools
