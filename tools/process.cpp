#include "tools/process.hpp"

#include <csignal>
#include <fstream>
#include <sstream>
#include <string>

namespace overseer::tools {

std::optional<std::uint64_t> process_start_time(int pid) {
  if (pid <= 0) return std::nullopt;
  std::ifstream in{"/proc/" + std::to_string(pid) + "/stat"};
  std::string stat;
  if (!std::getline(in, stat)) return std::nullopt;
  // Field 2 (comm) may contain spaces and parentheses: count from the last ')'.
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields{stat.substr(close + 2)};
  std::string field;
  for (int i = 3; i <= 22; ++i) {
    if (!(fields >> field)) return std::nullopt;
    if (i == 22) return std::stoull(field);
  }
  return std::nullopt;
}

bool kill_orphan_group(int pgid, std::uint64_t start_time) {
  const auto started = process_start_time(pgid);
  // A different start time means the id now belongs to an unrelated program.
  if (!started || *started != start_time) return false;
  return ::kill(-pgid, SIGKILL) == 0;
}

}  // namespace overseer::tools
