// The scheduler actor: owns the queue, admission and the concurrency slots,
// and supervises one job actor per admitted job (actors/job_actor.hpp).
//
// It holds the jobs that have not been admitted yet (queued, waiting for
// their dependencies, their run_at or their batch's limit) as compact
// entries and writes their changes itself (creation, cancel, recovery's
// "interrupted"). When a job gets a slot it spawns the job's actor, hands it
// the record, and from then on the job actor alone writes that job; the
// scheduler forwards cancels to it and learns of its ends.
//
// Supervision as data (supervision.hpp): per tool, a restart intensity over
// the attempt endings the config counts (crashes and timeouts by default)
// escalates to a pause of the tool, visible in stats and lifted by
// resume_tool. A job actor that dies unexpectedly (a defect of the engine,
// not a tool's failure) is restarted from its last durable snapshot, at
// most max_job_actor_restarts times before its job fails.
#pragma once

#include <atomic>
#include <filesystem>
#include <memory>

#include <caf/all.hpp>

#include "actors/coordinator.hpp"
#include "actors/attempt_pool.hpp"
#include "actors/job_census.hpp"
#include "actors/messages.hpp"
#include "overseer/engine.hpp"
#include "persistence/group_commit.hpp"
#include "persistence/store.hpp"

namespace overseer::actors {

/// What the scheduler and its job actors need from the engine; every
/// pointer outlives them all.
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
  /// The cluster actor (actors/cluster.hpp) attempt proxies attach to;
  /// empty without a cluster.
  caf::actor cluster{};
  /// Called by the scheduler with every node whenever the cluster changes
  /// (engine::get's waiting_on "node"); none without a cluster.
  std::function<void(std::vector<node_view>, std::optional<node_change>)> on_nodes{};
  /// Every job actor not yet terminated, so that the engine can stop them
  /// all and wait for them before the writer goes; none in tests that
  /// stop nothing.
  std::shared_ptr<job_census> job_actors{};
  /// Opened while fewer jobs wait for a slot than there are slots, closed
  /// otherwise: whether the engine's idle workers may poll before they
  /// sleep (actors/coordinator.hpp). None: nobody asks.
  spin_gate idle_spin_gate{};
  /// Where attempts' working directories go (attempt_args::work_root):
  /// config.data_dir / "work", made once by spawn_scheduler if not set.
  std::shared_ptr<const std::filesystem::path> work_root{};
};

/// How often one job's actor is restarted after dying unexpectedly before
/// the job is failed instead.
inline constexpr int max_job_actor_restarts = 3;

/// Spawns the scheduler on `system`. Send it recover_jobs first, then work.
[[nodiscard]] scheduler_actor spawn_scheduler(caf::actor_system& system, scheduler_deps deps);

}  // namespace overseer::actors
