// The CAF scheduler the engine runs on: CAF 0.17's work-stealing coordinator
// with a clock that cancels only the timeouts an actor has set.
//
// Every actor that terminates asks the system clock to cancel its timeouts
// (local_actor::cleanup). CAF 0.17's thread-safe clock answers each request
// by queueing a command for its timer thread and waking it, whether or not
// the actor ever set a timeout. A job actor per job sets none (its timers are
// delayed messages, which cancellation does not touch), so every finished
// job woke the timer thread: two context switches per job, the largest cost
// a job actor added over a job kept in the scheduler (docs/performance.md).
// This clock remembers which actors set a receive, multi or request timeout
// and forwards the cancellation only for those; everything else goes to
// CAF's own clock unchanged.
#pragma once

#include <caf/actor_system.hpp>

namespace caf {
class actor_system_config;
}

namespace overseer::actors {

/// Makes `cfg`'s actor system use the coordinator described above (a module
/// factory: the system builds its scheduler from it). Call before building
/// the system.
void use_engine_coordinator(caf::actor_system_config& cfg);

}  // namespace overseer::actors
