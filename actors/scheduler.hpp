// The scheduler actor: sole owner of the queue and of every status change.
//
// It keeps each unfinished job's record in memory, decides every transition
// (through can_transition), writes it through the group-commit writer and
// acts on it (replies, queueing, starting attempts) only once it is durable.
// Each change is conditional on the job's current status and attempt, so a
// message from a superseded attempt is dropped: cancellation wins every race.
#pragma once

#include <atomic>
#include <memory>

#include <caf/all.hpp>

#include "actors/attempt_pool.hpp"
#include "overseer/engine.hpp"
#include "persistence/group_commit.hpp"
#include "persistence/store.hpp"

namespace overseer::actors {

/// What the scheduler needs from the engine; all outlive the actor.
struct scheduler_deps {
  engine_config config;
  persistence::store* store = nullptr;
  persistence::group_commit* writer = nullptr;
  tool_registry* tools = nullptr;
  /// Counts attempts whose tool body has not returned, so the engine can
  /// wait for them at stop.
  std::shared_ptr<std::atomic<int>> live_attempts;
  /// Where tool bodies run.
  attempt_pool* pool = nullptr;
};

/// Spawns the scheduler on `system`. Send it recover_jobs first, then work.
[[nodiscard]] caf::actor spawn_scheduler(caf::actor_system& system, scheduler_deps deps);

}  // namespace overseer::actors
