#include "actors/coordinator.hpp"

#include <mutex>
#include <unordered_set>

#include <caf/actor_system_config.hpp>
#include <caf/detail/thread_safe_actor_clock.hpp>
#include <caf/policy/work_stealing.hpp>
#include <caf/scheduler/coordinator.hpp>

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

class coordinator final : public caf::scheduler::coordinator<caf::policy::work_stealing> {
public:
  using super = caf::scheduler::coordinator<caf::policy::work_stealing>;
  explicit coordinator(caf::actor_system& sys) : super(sys), clock_(super::clock()) {}

  caf::detail::thread_safe_actor_clock& clock() noexcept override { return clock_; }

private:
  cancelling_clock clock_;
};

}  // namespace

void use_engine_coordinator(caf::actor_system_config& cfg) {
  cfg.module_factories.push_back([](caf::actor_system& sys) -> caf::actor_system::module* {
    return new coordinator(sys);
  });
}

}  // namespace overseer::actors
