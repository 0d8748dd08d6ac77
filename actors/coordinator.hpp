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
//
// Its workers also poll a while before they sleep. A CAF 0.17 worker that
// runs out of work polls its queue about a hundred times (a microsecond or
// two), then waits on a condition variable; a message from a thread outside
// CAF (a caller's submit, the group-commit writer's notice that a write is
// durable) then has to wake it, and on this kind of machine a futex wake-up
// of an idle thread takes tens of microseconds. A submit made one at a time
// crosses into CAF twice, so those wake-ups were most of its round trip
// when nothing is synced. With `idle_spin`, an idle worker first keeps
// polling its queue (and taking the next job of another worker's) for that
// long, yielding the CPU between polls to any thread that has work: as
// Erlang's schedulers busy-wait before they sleep (+sbwt). 0 turns it off.
// It costs CPU at light load, and while a long queue drains it halved the
// drain (the polls took the 2 cores from the writer and the tools, and a
// worker that polled in vain went on to CAF's steals, which walk a long
// queue of scheduled job actors): so the workers poll only while `gate` is
// open, which the engine's scheduler keeps open only while fewer jobs wait
// for a slot than there are slots (spin_gate). docs/performance.md has the
// A/Bs.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>

#include <caf/actor_system.hpp>

#include "metrics/instruments.hpp"

namespace caf {
class actor_system_config;
}

namespace overseer::actors {

/// Whether idle workers may poll now: open at first. The engine's
/// scheduler closes it while a long queue waits (see above).
using spin_gate = std::shared_ptr<std::atomic<bool>>;

/// Makes `cfg`'s actor system use the coordinator described above (a module
/// factory: the system builds its scheduler from it), its idle workers
/// polling for `idle_spin` before they sleep while `gate` is open (none:
/// always). Call before building the system.
void use_engine_coordinator(caf::actor_system_config& cfg, std::chrono::nanoseconds idle_spin = {},
                            spin_gate gate = {});

/// The engine's own actor system: its message types, its worker count and
/// the coordinator above (use_engine_coordinator). Call before building the
/// system.
void configure_engine_system(caf::actor_system_config& cfg, std::chrono::microseconds idle_spin, spin_gate gate);

/// What idle workers found while they polled, over every such system in
/// the process (for /metrics).
struct worker_stats {
  metrics::counter caught;    ///< polls that found work before idle_spin ran out
  metrics::counter expected;  ///< polls that found work polling on while an answer was due
  metrics::counter missed;    ///< polls that ran out: the worker went on to sleep
};


[[nodiscard]] worker_stats& worker_statistics() noexcept;

}  // namespace overseer::actors
