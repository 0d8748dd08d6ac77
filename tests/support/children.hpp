// The daemons and child processes a test process has started, so that a
// test that crashes (a fatal signal) takes them down with it: otherwise an
// orphaned overseerd keeps the test's stderr open and ctest waits for it.
// tests/main.cpp kills every tracked child from its fatal-signal handler;
// the calls here are async-signal-safe (atomics only).
#pragma once

#include <sys/types.h>

#include <array>
#include <atomic>

namespace overseer::test::children {

inline std::array<std::atomic<pid_t>, 256> slots{};

/// Remembers `pid` (a child of this process) until forget(pid).
inline void track(pid_t pid) {
  for (auto& s : slots) {
    pid_t free = 0;
    if (s.compare_exchange_strong(free, pid)) return;
  }
}

inline void forget(pid_t pid) {
  for (auto& s : slots) {
    pid_t expected = pid;
    if (s.compare_exchange_strong(expected, 0)) return;
  }
}

}  // namespace overseer::test::children
