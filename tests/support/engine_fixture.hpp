// An engine on a fresh temp data dir, and helpers to wait on its events.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "overseer/engine.hpp"
#include "support/temp_dir.hpp"

namespace overseer::test {

/// Collects every event of an engine, and waits for conditions on them.
class event_log {
public:
  void add(const event& e) {
    std::lock_guard lock{mutex_};
    events_.push_back(e);
    cv_.notify_all();
  }
  /// Waits up to `limit` for `pred(events)`; returns whether it held. The
  /// predicate is checked on every event, and every 20 ms for conditions
  /// that no event announces.
  bool wait_for(const std::function<bool(const std::vector<event>&)>& pred,
                std::chrono::milliseconds limit = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    std::unique_lock lock{mutex_};
    while (!pred(events_)) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) return false;
      cv_.wait_for(lock, std::min<std::chrono::steady_clock::duration>(deadline - now, std::chrono::milliseconds(20)));
    }
    return true;
  }
  std::vector<event> snapshot() const {
    std::lock_guard lock{mutex_};
    return events_;
  }
  std::vector<event> of(const std::string& job_id) const {
    std::vector<event> out;
    for (auto& e : snapshot())
      if (e.job_id == job_id) out.push_back(e);
    return out;
  }

private:
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<event> events_;
};

/// True once the job has a transition to `to`.
inline auto reached(const std::string& id, job_status to) {
  return [id, to](const std::vector<event>& es) {
    for (auto& e : es)
      if (e.job_id == id && e.kind == event_kind::transition && e.to == to) return true;
    return false;
  };
}

/// The job's log lines written by the engine itself, oldest first.
inline std::vector<std::string> engine_lines(engine& eng, const std::string& id) {
  std::vector<std::string> out;
  auto page = eng.logs(id, log_level::debug, 1000, 0);
  if (!page) return out;
  for (auto& l : page->lines)
    if (l.component == "engine") out.push_back(l.message);
  return out;
}

/// Whether one of `lines` contains `part`.
inline bool has_line(const std::vector<std::string>& lines, std::string_view part) {
  for (const auto& l : lines)
    if (l.find(part) != std::string::npos) return true;
  return false;
}

struct engine_fixture {
  temp_dir dir;
  event_log events;
  std::unique_ptr<engine> eng;
  subscription sub;

  explicit engine_fixture(engine_config cfg = {}) { open(std::move(cfg)); }

  void open(engine_config cfg) {
    cfg.data_dir = dir.path() / "data";
    eng = std::make_unique<engine>(cfg);
  }
  /// Starts the engine and begins collecting events.
  void start() {
    eng->start();
    sub = eng->subscribe(filter::all(), [this](const event& e) { events.add(e); });
  }
  void close() {
    sub.reset();
    eng.reset();
  }
};

}  // namespace overseer::test
