#include "floor.hpp"

#include <atomic>
#include <deque>
#include <thread>
#include <unordered_map>

#include <boost/json.hpp>
#include <caf/all.hpp>

#include "actors/attempt_pool.hpp"
#include "actors/coordinator.hpp"
#include "actors/event_bus.hpp"
#include "actors/job_id.hpp"
#include "actors/job_writes.hpp"
#include "actors/messages.hpp"
#include "actors/pending_writes.hpp"
#include "persistence/group_commit.hpp"
#include "persistence/store.hpp"

namespace overseer::bench {

namespace {

using persistence::job_record;
using record_ptr = std::shared_ptr<job_record>;

/// What every actor of the pipeline reaches; owned by the pipeline.
struct parts {
  persistence::group_commit* writer = nullptr;
  actors::attempt_pool* pool = nullptr;
  actors::spin_gate gate;
  int slots = 2;
  bool job_actors = true;
};

struct job_state {
  static inline const char* name = "floor.job";
  actors::pending_writes writes;
};

/// A job actor: the job's record is its own from here. Its attempt already
/// runs (the scheduler launched it in its own turn, as the engine's does);
/// the result comes back through the scheduler, which freed the slot.
caf::behavior job(caf::stateful_actor<job_state>* self, record_ptr rec, const parts* p) {
  return {
    [self, rec, p](actors::attempt_finished& m) {
      auto& st = self->state;
      auto w = actors::change_status(*rec, job_status::completed, "", boost::json::serialize(m.result->value()));
      if (w) st.writes.add(std::move(*w));
      // Nothing waits for the end to be durable here: the writer publishes
      // it once it is. Its write is queued, so the actor can go (as the
      // engine's does), and the scheduler hears of it from its down_msg.
      st.writes.flush(*p->writer, caf::actor_cast<caf::actor>(self));
      self->quit();
    },
  };
}

struct scheduler_state {
  static inline const char* name = "floor.scheduler";
  std::deque<record_ptr> queue;
  int running = 0;
  std::uint64_t next_runner = 0;
  std::unordered_map<caf::actor_id, record_ptr> jobs;  ///< supervised: its job actor -> the job
  actors::pending_writes writes;
  std::vector<record_ptr> admitted;  ///< spawned after the flush: their writes come after ours
};

using scheduler_ptr = caf::stateful_actor<scheduler_state>*;

void dispatch(scheduler_ptr self, const parts* p) {
  auto& st = self->state;
  while (st.running < p->slots && !st.queue.empty()) {
    auto rec = std::move(st.queue.front());
    st.queue.pop_front();
    ++st.running;
    if (auto w = actors::begin_attempt(*rec)) st.writes.add(std::move(*w));
    st.admitted.push_back(std::move(rec));
  }
  p->gate->store(st.queue.size() < static_cast<std::size_t>(p->slots), std::memory_order_relaxed);
}

void flush(scheduler_ptr self, const parts* p) {
  auto& st = self->state;
  st.writes.flush(*p->writer, caf::actor_cast<caf::actor>(self));
  for (auto& rec : std::exchange(st.admitted, {})) {
    caf::actor a;
    if (p->job_actors) {
      a = self->spawn(job, rec, p);
      self->monitor(a);
    }
    const auto runner = ++st.next_runner;
    st.jobs.emplace(p->job_actors ? a.id() : runner, rec);
    p->pool->run([a, runner, attempt = rec->attempt, scheduler = caf::actor_cast<caf::actor>(self)] {
      tool_result r{boost::json::object{}};  // the no-op tool's body
      caf::anon_send(scheduler, actors::attempt_exited{runner, attempt, false, std::move(r),
                                                       caf::actor_cast<caf::strong_actor_ptr>(a)});
    });
  }
}

caf::behavior scheduler(scheduler_ptr self, const parts* p) {
  self->set_down_handler([self](caf::down_msg& dm) { self->state.jobs.erase(dm.source.id()); });
  return {
    [self, p](actors::submit_job& m) {
      auto& st = self->state;
      st.writes.add(actors::creation(*m.record, std::nullopt));
      st.writes.after([reply = std::move(m.reply), id = m.record->id](bool ok) {
        submit_result r;
        r.code = ok ? errc::ok : errc::store_failure;
        r.job_id = id;
        r.status = job_status::pending;
        reply(std::move(r));
      });
      st.queue.push_back(std::move(m.record));
      dispatch(self, p);
      flush(self, p);
    },
    [self, p](actors::attempt_exited& m) {
      auto& st = self->state;
      --st.running;
      if (m.job) {
        self->send(caf::actor_cast<caf::actor>(m.job), actors::attempt_finished{m.attempt, std::move(m.result)});
      } else if (auto it = st.jobs.find(m.runner); it != st.jobs.end()) {
        // Without job actors (the comparison): the scheduler ends the job.
        auto w = actors::change_status(*it->second, job_status::completed, "",
                                       boost::json::serialize(m.result->value()));
        if (w) st.writes.add(std::move(*w));
        st.jobs.erase(it);
      }
      dispatch(self, p);
      flush(self, p);
    },
    [self](const actors::writes_committed& c) { self->state.writes.committed(c); },
  };
}

}  // namespace

struct floor_pipeline::impl {
  persistence::store db;
  std::shared_ptr<actors::event_bus> bus = std::make_shared<actors::event_bus>();
  subscription sub;
  persistence::group_commit writer;
  actors::attempt_pool pool;
  parts p;
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> system;
  caf::actor sched;

  impl(const std::filesystem::path& dir, bool sync, bool job_actors, std::function<void(const event&)> on_event)
      : db(persistence::store::options{.dir = dir, .sync = sync}),
        sub(bus->subscribe(filter::all(), std::move(on_event))),
        writer(db, [b = bus.get()](std::vector<event>&& events) { b->publish(std::move(events)); }) {
    p.writer = &writer;
    p.pool = &pool;
    p.job_actors = job_actors;
    p.gate = std::make_shared<std::atomic<bool>>(true);
    p.slots = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    actors::configure_engine_system(cfg, engine_config{}.idle_spin, p.gate);
    system = std::make_unique<caf::actor_system>(cfg);
    sched = system->spawn(scheduler, &p);
  }

  ~impl() {
    caf::anon_send_exit(sched, caf::exit_reason::user_shutdown);
    sched = nullptr;
    system.reset();  // waits for every actor
    writer.stop();
    bus->stop();
  }
};

floor_pipeline::floor_pipeline(const std::filesystem::path& dir, bool sync, std::function<void(const event&)> on_event,
                               bool job_actors)
    : impl_(std::make_unique<impl>(dir, sync, job_actors, std::move(on_event))) {}

floor_pipeline::~floor_pipeline() = default;

void floor_pipeline::submit_async(std::function<void(submit_result)> done) {
  // What the engine's submit_async leaves in a no-op job's record, built on
  // the caller's thread as there.
  auto rec = std::make_shared<job_record>();
  rec->created_at = clock::now();
  rec->id = actors::new_job_id(rec->created_at);
  static const std::string tool{"noop"}, version{"1"}, params{"{}"};  // copied, as from the tool's definition
  rec->tool = tool;
  rec->tool_version = version;
  rec->params_json = params;
  caf::anon_send(impl_->sched, actors::submit_job{std::move(rec), std::move(done)});
}

std::uint64_t floor_pipeline::rows_written() const { return impl_->writer.rows_written(); }

}  // namespace overseer::bench
