// A job actor: one per admitted job, from the moment the scheduler first
// grants the job a slot until the job is terminal. It owns that job's
// lifecycle, and a reader finds all of it in job_actor.cpp:
//
//   admitted (the scheduler wrote pending → running and spawn_job_actor
//   launched the first body; the actor takes it over on its first turn)
//                                 │
//                                 ▼
//   pending ──start_attempt──► running ──attempt_finished──► completed / failed
//      ▲                         │  timeout timer               │
//      │                         ▼                              ▼
//      └──backoff_elapsed── retrying ◄── retry policy ── failed or crashed attempt
//   any unfinished status ──stop_job──► cancelled
//
// It starts each later attempt on the attempt pool (the blocking tool body
// never runs on CAF's threads), coalesces and stores progress, relays log lines,
// stores checkpoints and process records, arms the attempt's timeout and the
// backoff timer, decides retries from the job's retry policy, cancels, and
// writes its job's record (the snapshot recovery resumes from) through the
// group-commit writer before it acts on any change. It tells the scheduler
// how each attempt ended (the restart intensity is the scheduler's), when
// the job is ready again after a backoff, and when it is durably terminal;
// it goes by itself once the writer has answered its writes and its end is
// reported and its last attempt has reported too (attempt_finished), or
// the engine stops.
#pragma once

#include <memory>

#include <caf/all.hpp>

#include "actors/messages.hpp"
#include "actors/scheduler.hpp"
#include "persistence/codec.hpp"

namespace overseer::actors {

struct job_actor_args {
  std::shared_ptr<const scheduler_deps> deps;
  scheduler_actor scheduler;
  /// The job's record, handed over by the scheduler: running (just admitted,
  /// with `first`), pending, or retrying (recovered or restarted during a
  /// backoff: the actor arms the timer).
  std::shared_ptr<persistence::job_record> record;
  /// The first attempt's slot, for a job the scheduler has just admitted
  /// (its record is running): the actor starts the attempt at once.
  std::optional<start_attempt> first;
  /// Set by spawn_job_actor when it has started the first attempt's body.
  bool first_launched = false;
};

/// Spawns the job actor of `args.record` from `parent` (the scheduler, which
/// monitors it). Spawned from the parent's context, the new actor is queued on
/// the parent's own worker: no lock, no wake-up of a sleeping worker.
[[nodiscard]] job_actor spawn_job_actor(caf::local_actor& parent, job_actor_args args);

}  // namespace overseer::actors
