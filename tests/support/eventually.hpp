// Polling with a deadline, for conditions no event announces.
#pragma once

#include <chrono>
#include <thread>

namespace overseer::test {

/// Polls `pred` every 10 ms until it holds (true) or `limit` passes (false).
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // poll interval, bounded by the deadline
  }
  return true;
}

}  // namespace overseer::test
