// The engine's diagnostics channel: how an embedded engine reports what an
// operator should know without writing to the host's stderr.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "overseer/job.hpp"

namespace overseer {

/// One line of the engine's own diagnostics (not a job's log, which is
/// data: see engine::logs). `component` names the part that speaks
/// ("scheduler", "store", "rocksdb", "recovery"); `fields` carry the values
/// the message mentions (tool, job_id, error, ...), for structured logs.
struct log_record {
  log_level level = log_level::info;
  std::string_view component{};
  std::string_view message{};
  std::vector<std::pair<std::string_view, std::string>> fields{};
};

/// Where an engine reports its diagnostics. Called on any engine thread
/// (the scheduler's, the writer's, RocksDB's background threads): it must
/// not block for long and must not call the engine.
using log_sink = std::function<void(const log_record&)>;

/// Reports through `sink` if there is one. A sink that throws loses that
/// line, and nothing else: the engine goes on.
inline void report(const log_sink& sink, log_level level, std::string_view component, std::string_view message,
                   std::vector<std::pair<std::string_view, std::string>> fields = {}) noexcept {
  if (!sink) return;
  try {
    sink(log_record{level, component, message, std::move(fields)});
  } catch (...) {
  }
}

}  // namespace overseer
