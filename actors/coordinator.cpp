#include "actors/coordinator.hpp"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <thread>
#include <unordered_set>

#include <caf/actor_system_config.hpp>
#include <caf/detail/thread_safe_actor_clock.hpp>
#include <caf/policy/work_stealing.hpp>
#include <caf/scheduler/coordinator.hpp>

#include "overseer/engine.hpp"
#include "persistence/commit_stats.hpp"

namespace overseer::actors {

namespace {

/// Forwards to CAF's clock; drops cancellations for actors without timeouts.
/// Derived from thread_safe_actor_clock only because the coordinator's
/// clock() is declared to return one; its own queue stays unused.
class cancelling_clock final : public caf::detail::thread_safe_actor_clock {
public:
  explicit cancelling_clock(caf::detail::thread_safe_actor_clock& clock) : clock_(clock) {}

  void set_ordinary_timeout(time_point t, caf::abstract_actor* self, caf::atom_value type,
                            std::uint64_t id) override {
    remember(self);
    clock_.set_ordinary_timeout(t, self, type, id);
  }
  void set_request_timeout(time_point t, caf::abstract_actor* self, caf::message_id id) override {
    remember(self);
    clock_.set_request_timeout(t, self, id);
  }
  void set_multi_timeout(time_point t, caf::abstract_actor* self, caf::atom_value type,
                         std::uint64_t id) override {
    remember(self);
    clock_.set_multi_timeout(t, self, type, id);
  }
  void cancel_ordinary_timeout(caf::abstract_actor* self, caf::atom_value type) override {
    clock_.cancel_ordinary_timeout(self, type);
  }
  void cancel_request_timeout(caf::abstract_actor* self, caf::message_id id) override {
    clock_.cancel_request_timeout(self, id);
  }
  void cancel_timeouts(caf::abstract_actor* self) override {
    {
      std::lock_guard lock{mutex_};
      if (set_by_.erase(self->id()) == 0) return;  // none ever set: nothing to cancel
    }
    clock_.cancel_timeouts(self);
  }
  void schedule_message(time_point t, caf::strong_actor_ptr receiver, caf::mailbox_element_ptr content) override {
    clock_.schedule_message(t, std::move(receiver), std::move(content));
  }
  void schedule_message(time_point t, caf::group target, caf::strong_actor_ptr sender,
                        caf::message content) override {
    clock_.schedule_message(t, std::move(target), std::move(sender), std::move(content));
  }
  void cancel_all() override { clock_.cancel_all(); }
  [[nodiscard]] time_point now() const noexcept override { return clock_.now(); }
  [[nodiscard]] duration_type difference(caf::atom_value measurement, long units, time_point t0,
                                         time_point t1) const noexcept override {
    return clock_.difference(measurement, units, t0, t1);
  }

private:
  void remember(caf::abstract_actor* self) {
    std::lock_guard lock{mutex_};
    set_by_.insert(self->id());
  }

  caf::detail::thread_safe_actor_clock& clock_;
  std::mutex mutex_;
  /// Actors that have set a timeout since they started (until they end).
  std::unordered_set<caf::actor_id> set_by_;
};

/// Where a worker finds its spin time: the coordinator, which holds it.
struct idle_spin_source {
  std::chrono::nanoseconds idle_spin{};
  spin_gate gate;  ///< never null
  /// Held by the one worker that polls on while answers are due.
  std::atomic<bool> expecting{false};
};

/// CAF's work stealing, with a polling phase in front: a worker that runs
/// out of work first polls its queue for `idle_spin`, yielding the CPU
/// between polls, then goes on as CAF does (a few polls and steals, then a
/// wait on its condition variable that an enqueue from another thread must
/// wake). See coordinator.hpp for why. Every eighth poll it also takes the
/// next job of another worker, from the head of that worker's queue: a
/// message enqueued to a worker that sleeps (or has just been woken) then
/// need not wait for it. Not from the tail, as CAF's own steals do: CAF
/// 0.17's take_tail walks the victim's queue from its head holding both of
/// its locks, so a steal from a queue of many scheduled actors walks all of
/// them while the victim waits (docs/architecture.md, "Known issues");
/// take_head is one step under one lock.
///
/// While one to engine::expecting_max_due answers are due
/// (persistence::answers_due: submits, cancels, retries waiting for their
/// sync), one worker at a time polls on past `idle_spin`, for at most
/// engine::expecting_cap, taking other workers' next jobs at every poll:
/// the writer's notice then finds it awake, and the answer crosses CAF
/// without a wake-up (docs/performance.md, "Threads that expect an
/// answer poll for it").
class spinning_work_stealing : public caf::policy::work_stealing {
public:
  using super = caf::policy::work_stealing;

  struct worker_data : super::worker_data {
    explicit worker_data(caf::scheduler::abstract_coordinator* p)
      : super::worker_data(p),
        idle_spin(dynamic_cast<const idle_spin_source&>(*p).idle_spin),
        gate(dynamic_cast<const idle_spin_source&>(*p).gate),
        expecting(dynamic_cast<idle_spin_source&>(*p).expecting) {}
    std::chrono::nanoseconds idle_spin;
    spin_gate gate;
    std::atomic<bool>& expecting;
  };

  template <class Worker>
  caf::resumable* dequeue(Worker* self) {
    auto& data = d(self);
    if (auto* job = data.queue.take_head()) return job;
    if (data.idle_spin.count() > 0 && data.gate->load(std::memory_order_relaxed)) {
      auto now = std::chrono::steady_clock::now();
      auto until = now + data.idle_spin;
      const auto cap = now + engine::expecting_cap;
      bool expecting = false;  // this worker holds data.expecting
      caf::resumable* job = nullptr;
      for (std::size_t i = 1;; ++i) {
        std::this_thread::yield();
        job = data.queue.take_head();
        if (!job && (expecting || i % 8 == 0)) job = steal_head(self);
        if (job) break;
        now = std::chrono::steady_clock::now();
        if (now < until) continue;
        // Out of time: poll on while an answer is due, one worker at a time.
        if (now >= cap) break;
        if (const auto due = persistence::answers_due().load(std::memory_order_relaxed);
            due <= 0 || due > engine::expecting_max_due)
          break;
        if (!expecting && data.expecting.exchange(true, std::memory_order_acquire)) break;
        expecting = true;
        until = now + data.idle_spin;
      }
      if (expecting) data.expecting.store(false, std::memory_order_release);
      if (job) {
        (expecting ? worker_statistics().expected : worker_statistics().caught).add();
        return job;
      }
      worker_statistics().missed.add();
    }
    return super::dequeue(self);
  }

private:
  /// The next job of another worker, if one has any.
  template <class Worker>
  caf::resumable* steal_head(Worker* self) {
    auto* parent = self->parent();
    for (std::size_t id = 0; id < parent->num_workers(); ++id)
      if (id != self->id())
        if (auto* job = d(parent->worker_by_id(id)).queue.take_head()) return job;
    return nullptr;
  }
};

}  // namespace
}  // namespace overseer::actors

/// A worker's scheduling loop, as CAF 0.17's own (scheduler/worker.hpp)
/// but without the CAF_PUSH_AID_FROM_PTR it runs for every resume: a
/// `dynamic_cast` from resumable to abstract_actor, a cross-cast through
/// the actor's whole class tree, and two updates of the logger's map of
/// thread ids under its lock, only so that log lines can name the actor.
/// CAF here is built to log nothing (CAF_LOG_LEVEL_QUIET), so they named
/// nothing and cost about 3,500 instructions per job (docs/performance.md,
/// "A worker's loop without the actor id for logging"). A CAF built to log
/// keeps its own loop.
#if CAF_LOG_LEVEL == CAF_LOG_LEVEL_QUIET
template <>
void caf::scheduler::worker<overseer::actors::spinning_work_stealing>::run() {
  CAF_SET_LOGGER_SYS(&system());
  for (;;) {
    auto* job = policy_.dequeue(this);
    policy_.before_resume(this, job);
    const auto res = job->resume(this, max_throughput_);
    policy_.after_resume(this, job);
    switch (res) {
      case resumable::resume_later:
        policy_.resume_job_later(this, job);  // stays in the loop: keeps its reference
        break;
      case resumable::done:
        policy_.after_completion(this, job);
        intrusive_ptr_release(job);
        break;
      case resumable::awaiting_message:
        intrusive_ptr_release(job);  // enqueued again, with a new reference, when a message comes
        break;
      case resumable::shutdown_execution_unit:
        policy_.after_completion(this, job);
        policy_.before_shutdown(this);
        return;
    }
  }
}
#endif

namespace overseer::actors {
namespace {

class coordinator final : public caf::scheduler::coordinator<spinning_work_stealing>, public idle_spin_source {
public:
  using super = caf::scheduler::coordinator<spinning_work_stealing>;
  coordinator(caf::actor_system& sys, std::chrono::nanoseconds spin, spin_gate open)
    : super(sys), clock_(super::clock()) {
    idle_spin = spin;
    gate = open ? std::move(open) : std::make_shared<std::atomic<bool>>(true);
  }

  caf::detail::thread_safe_actor_clock& clock() noexcept override { return clock_; }

private:
  cancelling_clock clock_;
};

}  // namespace

worker_stats& worker_statistics() noexcept {
  static worker_stats stats;
  return stats;
}

void use_engine_coordinator(caf::actor_system_config& cfg, std::chrono::nanoseconds idle_spin, spin_gate gate) {
  cfg.module_factories.push_back([idle_spin, gate](caf::actor_system& sys) -> caf::actor_system::module* {
    return new coordinator(sys, idle_spin, gate);
  });
}

void configure_engine_system(caf::actor_system_config& cfg, std::chrono::microseconds idle_spin, spin_gate gate) {
  register_types(cfg);
  // CAF 0.17 starts max(cores, 4) workers, and an idle worker polls with
  // 50 us sleeps 500 times before it waits on a condition variable. Only
  // the scheduler, the job actors and a few light actors run on them (tool
  // bodies have their own pool), so on 2 cores the extra polling workers took CPU from
  // the writer: 4 -> 2 workers and a short moderate phase measured
  // 25,572 / 27,340 -> 30,108 / 33,303 no-op jobs/s (docs/performance.md).
  // In front of that, a short polling phase that yields the CPU
  // (engine_config::idle_spin, coordinator.hpp).
  cfg.set("scheduler.max-threads", static_cast<std::int64_t>(std::max(2u, std::thread::hardware_concurrency())));
  cfg.set("work-stealing.moderate-poll-attempts", std::int64_t{1});
  use_engine_coordinator(cfg, std::max(std::chrono::microseconds{0}, idle_spin), std::move(gate));
}

}  // namespace overseer::actors
