// Whether a process is gone, for tests that check nothing is left running.
#pragma once

#include <cerrno>
#include <chrono>
#include <csignal>
#include <fstream>
#include <string>

#include "support/eventually.hpp"

namespace overseer::test {

/// True once `pid` is gone or a zombie (orphans are reaped by init, or not).
inline bool gone(int pid) {
  if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
  std::ifstream in{"/proc/" + std::to_string(pid) + "/stat"};
  std::string stat;
  if (!std::getline(in, stat)) return true;
  const auto close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'Z';
}

/// Polls gone(pid) until it holds or `limit` passes.
inline bool eventually_gone(int pid, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  return eventually([pid] { return gone(pid); }, limit);
}

}  // namespace overseer::test
