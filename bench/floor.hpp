// The design's floor: the fewest hand-offs a no-op job can make while it
// keeps every promise the engine makes about it, built from the engine's own
// parts, so the benchmark can say how much of a job's cost is the engine's
// bookkeeping and how much is the design.
//
// A job here is what it is in the engine, and no more:
// - a record, written with the engine's own writes (creation, the start of
//   its attempt with its log line, completion with its result) through the
//   real group-commit writer and RocksDB store, so it writes the engine's
//   rows, and its submitter hears of it only once its creation is durable;
// - a scheduler actor that owns the queue and the slots (as many as cores,
//   the engine's default) and supervises (monitors) a job actor per job;
// - a tool body run on the engine's attempt pool, never on a CAF thread;
// - its events published through the engine's event bus once durable.
// All on an actor system configured as the engine's (its coordinator, two
// workers, the same idle polling behind the same gate).
//
// What it leaves out is everything else the engine does per job: spec
// validation and defaults, tool look-up and params, idempotency keys,
// batches, dependencies, tenants' shares, run_at, timeouts, retries,
// restart intensity, estimates, census and metrics, caches. A no-op job
// needs none of it; the engine pays for it anyway.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>

#include "overseer/engine.hpp"

namespace overseer::bench {

class floor_pipeline {
public:
  /// Opens a store in `dir` (created), with the WAL synced per commit when
  /// `sync`; `on_event` sees every committed event, on the bus' thread.
  /// Without `job_actors` (a comparison, not a design the engine may use)
  /// the scheduler ends each job itself: what an actor per job costs.
  floor_pipeline(const std::filesystem::path& dir, bool sync, std::function<void(const event&)> on_event,
                 bool job_actors = true);
  ~floor_pipeline();  ///< waits for nothing: call after every job completed
  floor_pipeline(const floor_pipeline&) = delete;
  floor_pipeline& operator=(const floor_pipeline&) = delete;

  /// Submits a no-op job; `done` runs once its creation is durable (or the
  /// store failed), on a CAF thread.
  void submit_async(std::function<void(submit_result)> done);
  /// RocksDB rows written so far (puts, deletes, range deletes alike).
  [[nodiscard]] std::uint64_t rows_written() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace overseer::bench
