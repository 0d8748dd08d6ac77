#include "actors/scheduler.hpp"

#include <random>
#include <unordered_map>
#include <unordered_set>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "actors/job_actor.hpp"
#include "actors/job_lifecycle.hpp"
#include "actors/messages.hpp"
#include "actors/scheduler_state.hpp"
#include "actors/supervision.hpp"
#include "persistence/record_view.hpp"

namespace overseer::actors {

namespace {

using persistence::job_record;
using persistence::job_write;
using steady = std::chrono::steady_clock;

/// An unfinished job as the scheduler holds it.
struct active_job {
  std::shared_ptr<job_record> record;
  std::shared_ptr<attempt_control> control;  ///< set while an attempt runs
};

/// A job actor that has not exited yet (it may outlive its job's status).
struct runner {
  std::string job_id;
  int attempt;
  std::string tool;
  bool reported = false;  ///< attempt_finished arrived
};

}  // namespace

struct scheduler_data {
  static inline const char* name = "overseer.scheduler";

  scheduler_deps deps;
  scheduler_state queue{1};
  std::mt19937_64 rng{std::random_device{}()};
  std::unordered_map<std::string, active_job> active;
  std::unordered_map<caf::actor_addr, runner> runners;
  std::unordered_set<std::string> retry_loading;
  std::unordered_map<std::string, supervision::restart_intensity> intensity;
  std::unordered_set<std::string> paused;

  // Writes collected while handling one message, and what to do once they
  // are durable; flushed at the end of every handler.
  std::vector<job_write> outbox;
  std::vector<std::function<void(bool)>> after_commit;
  std::uint64_t next_token = 1;
  std::unordered_map<std::uint64_t, std::vector<std::function<void(bool)>>> waiting;
};

namespace {

using self_ptr = caf::stateful_actor<scheduler_data>*;

event transition_event(const job_record& r, std::optional<job_status> from, std::string reason) {
  event e;
  e.job_id = r.id;
  e.kind = event_kind::transition;
  e.at = clock::now();
  e.from = from;
  e.to = r.status;
  e.attempt = r.attempt;
  e.reason = std::move(reason);
  e.tool = r.tool;
  return e;
}

/// Moves `job` to `to` in memory and queues the durable write. Refuses (and
/// returns false for) anything the state machine does not allow.
bool change_status(scheduler_data& st, active_job& job, job_status to, std::string reason,
                   std::optional<std::string> result_json = std::nullopt) {
  auto& rec = *job.record;
  const auto from = rec.status;
  if (!can_transition(from, to)) return false;
  rec.status = to;
  const auto now = clock::now();
  if (to == job_status::running) {
    rec.started_at = now;
    rec.next_attempt_at.reset();
  }
  if (is_terminal(to)) rec.completed_at = now;
  job_write w;
  w.record = std::make_shared<job_record>(rec);  // a snapshot: later changes must not race the writer
  w.previous_status = from;
  w.result_json = std::move(result_json);
  w.events.push_back(transition_event(rec, from, std::move(reason)));
  st.outbox.push_back(std::move(w));
  return true;
}

void after(scheduler_data& st, std::function<void(bool)> fn) { st.after_commit.push_back(std::move(fn)); }

void flush(self_ptr self) {
  auto& st = self->state;
  if (st.outbox.empty()) {
    // Nothing to wait for: run the continuations now.
    auto conts = std::move(st.after_commit);
    st.after_commit.clear();
    for (auto& c : conts) c(true);
    return;
  }
  const auto token = st.next_token++;
  st.waiting.emplace(token, std::move(st.after_commit));
  st.after_commit.clear();
  caf::actor me = caf::actor_cast<caf::actor>(self);
  st.deps.writer->write(std::move(st.outbox), [me, token](bool ok) {
    caf::anon_send(me, writes_committed{token, ok});
  });
  st.outbox.clear();
}

int tool_limit(const scheduler_data& st, const std::string& tool) {
  auto entry = st.deps.tools->find(tool);
  return entry ? entry->definition.max_concurrent : 0;
}

void start_attempt(self_ptr self, const std::string& id);

void dispatch(self_ptr self) {
  auto& st = self->state;
  auto limit = [&](const std::string& tool) { return tool_limit(st, tool); };
  auto paused = [&](const std::string& tool) { return st.paused.contains(tool); };
  while (auto id = st.queue.pop_next(limit, paused)) start_attempt(self, *id);
}

void enqueue(self_ptr self, active_job& job) {
  auto& rec = *job.record;
  self->state.queue.enqueue(rec.id, rec.tool, rec.priority);
}

void fail_unstartable(self_ptr self, active_job& job, std::string reason) {
  auto& st = self->state;
  job.record->error = reason;
  job.record->attempt += 1;
  if (change_status(st, job, job_status::running, "starting")) {
    change_status(st, job, job_status::failed, std::move(reason));
    st.active.erase(job.record->id);
  }
}

void start_attempt(self_ptr self, const std::string& id) {
  auto& st = self->state;
  auto it = st.active.find(id);
  if (it == st.active.end()) return;
  auto& job = it->second;
  auto& rec = *job.record;
  auto tool = st.deps.tools->find(rec.tool);
  if (!tool) {
    // Only possible for a recovered job whose tool is no longer registered.
    fail_unstartable(self, job, "tool \"" + rec.tool + "\" is not registered");
    return;
  }
  boost::system::error_code ec;
  auto params = boost::json::parse(rec.params_json, ec);
  if (ec || !params.is_object()) {
    fail_unstartable(self, job, "stored params are unreadable: " + ec.message());
    return;
  }
  rec.attempt += 1;
  change_status(st, job, job_status::running, rec.attempt > 1 ? "attempt " + std::to_string(rec.attempt) : "started");
  job.control = std::make_shared<attempt_control>();
  attempt_args args{caf::actor_cast<caf::actor>(self), std::move(tool), rec.id, rec.attempt,
                    std::move(params.as_object()), rec.checkpoint, job.control,
                    st.deps.config.progress_interval,
                    st.deps.config.data_dir / "work" / rec.id / std::to_string(rec.attempt)};
  ++*st.deps.live_attempts;
  auto live = st.deps.live_attempts;
  auto actor = self->spawn<caf::monitored + caf::detached>(job_actor, std::move(args));
  // Counted down when the actor is gone, wherever that is noticed.
  actor->attach_functor([live] { --*live; });
  st.runners.emplace(actor.address(), runner{rec.id, rec.attempt, rec.tool});
  st.queue.started(rec.tool);
  if (rec.timeout_ms > 0)
    self->delayed_send(self, std::chrono::milliseconds{rec.timeout_ms},
                       attempt_timed_out{rec.id, rec.attempt});
}

/// The current attempt of a running job ended with `outcome`.
void end_attempt(self_ptr self, active_job& job, supervision::attempt_outcome outcome,
                 std::string reason, std::optional<std::string> result_json) {
  auto& st = self->state;
  auto& rec = *job.record;
  if (job.control) job.control->request_stop();
  job.control.reset();
  rec.process_group = 0;  // the tool reaps its own processes before it returns
  rec.process_start = 0;
  auto d = supervision::decide(rec.retry, rec.attempt - rec.retry_base, outcome, st.rng);
  if (outcome != supervision::attempt_outcome::completed) {
    rec.error = reason;
    auto [it, inserted] = st.intensity.try_emplace(
      rec.tool, st.deps.config.max_failures, st.deps.config.failure_window);
    if (it->second.record_failure(steady::now()) && st.paused.insert(rec.tool).second) {
      std::fprintf(stderr, "overseer: pausing tool %s: more than %d failures within %lld ms\n",
                   rec.tool.c_str(), st.deps.config.max_failures,
                   static_cast<long long>(st.deps.config.failure_window.count()));
    }
  }
  if (d.next == job_status::retrying) {
    rec.next_attempt_at = clock::now() + d.delay;
    reason += "; retrying in " + std::to_string(d.delay.count()) + " ms";
  }
  change_status(st, job, d.next, std::move(reason), std::move(result_json));
  if (d.next == job_status::retrying)
    self->delayed_send(self, d.delay, backoff_elapsed{rec.id, rec.attempt});
  if (is_terminal(d.next)) st.active.erase(rec.id);
}

active_job* running_attempt(scheduler_data& st, const std::string& id, int attempt) {
  auto it = st.active.find(id);
  if (it == st.active.end()) return nullptr;
  auto& rec = *it->second.record;
  return rec.status == job_status::running && rec.attempt == attempt ? &it->second : nullptr;
}

change_result conflict(const job_record& r, std::string_view what) {
  return {errc::conflict,
          "job " + r.id + " is " + std::string{to_string(r.status)} + "; " + std::string{what}, {}};
}

void recover(self_ptr self, std::vector<job_record>& jobs) {
  auto& st = self->state;
  const auto now = clock::now();
  for (auto& r : jobs) {
    auto rec = std::make_shared<job_record>(std::move(r));
    auto& job = st.active[rec->id] = active_job{rec, nullptr};
    switch (rec->status) {
      case job_status::running:
        // It was running when the engine went away: a new attempt resumes
        // from the last checkpoint.
        change_status(st, job, job_status::pending, "interrupted");
        enqueue(self, job);
        break;
      case job_status::pending:
        enqueue(self, job);
        break;
      case job_status::retrying:
        if (rec->next_attempt_at && *rec->next_attempt_at > now) {
          self->delayed_send(self, *rec->next_attempt_at - now, backoff_elapsed{rec->id, rec->attempt});
        } else {
          change_status(st, job, job_status::pending, "backoff elapsed");
          enqueue(self, job);
        }
        break;
      case job_status::completed:
      case job_status::failed:
      case job_status::cancelled:
      case job_status::timed_out:
        st.active.erase(rec->id);
        break;
    }
  }
}

caf::behavior running_behavior(self_ptr self);

caf::behavior stopping_behavior(self_ptr self) {
  // Only durability notices still matter: the writer is drained by the engine.
  return {
    [=](writes_committed& c) {
      auto it = self->state.waiting.find(c.token);
      if (it == self->state.waiting.end()) return;
      auto conts = std::move(it->second);
      self->state.waiting.erase(it);
      for (auto& f : conts) f(c.ok);
    },
    [=](submit_job& m) { m.reply({errc::not_running, {}, "the engine is stopping", {}, 0, false}); },
    [=](cancel_job& m) { m.reply({errc::not_running, "the engine is stopping", {}}); },
    [=](retry_job& m) { m.reply({errc::not_running, "the engine is stopping", {}}); },
    [=](save_checkpoint& m) { m.done(false); },
    [=](record_process& m) { m.done(false); },
    [=](get_stats& m) { m.reply({}); },
    [=](resume_tool& m) { m.reply(false); },
  };
}

caf::behavior running_behavior(self_ptr self) {
  return {
    [=](recover_jobs& m) {
      recover(self, m.jobs);
      dispatch(self);
      flush(self);
    },
    [=](submit_job& m) {
      auto& st = self->state;
      auto rec = m.record;
      rec->status = job_status::pending;
      auto& job = st.active[rec->id] = active_job{rec, nullptr};
      job_write w;
      w.record = std::make_shared<job_record>(*rec);
      w.created = true;
      w.events.push_back(transition_event(*rec, std::nullopt, "submitted"));
      st.outbox.push_back(std::move(w));
      after(st, [self, id = rec->id, reply = std::move(m.reply)](bool ok) {
        if (!ok) {
          reply({errc::store_failure, {}, "the store could not make the job durable", {}, 0, false});
          return;
        }
        auto& st = self->state;
        std::size_t position = 0;
        // A cancel may have overtaken the write; only a still-pending job queues.
        if (auto it = st.active.find(id); it != st.active.end() &&
                                          it->second.record->status == job_status::pending &&
                                          !st.queue.queued(id)) {
          position = st.queue.enqueue(id, it->second.record->tool, it->second.record->priority);
          dispatch(self);
        }
        reply({errc::ok, id, {}, {}, position, false});
      });
      (void) job;
      flush(self);
    },
    [=](cancel_job& m) {
      auto& st = self->state;
      auto it = st.active.find(m.job_id);
      if (it == st.active.end()) {
        // Not active: finished or unknown. Ask the store, behind our writes.
        st.deps.writer->read([store = st.deps.store, id = m.job_id, reply = std::move(m.reply)] {
          auto rec = store->get_job(id);
          if (!rec) reply({errc::not_found, "no job " + id, {}});
          else reply(conflict(*rec, "only pending, retrying or running jobs can be cancelled"));
        });
        return;
      }
      auto& job = it->second;
      st.queue.remove(m.job_id);
      // Decided now: any result of the attempt that arrives later is stale.
      if (job.control) job.control->request_stop();
      job.control.reset();
      auto rec = job.record;
      change_status(st, job, job_status::cancelled, "cancelled by client");
      st.active.erase(it);
      after(st, [rec, reply = std::move(m.reply)](bool ok) {
        if (!ok) reply({errc::store_failure, "the store could not make the cancel durable", {}});
        else reply({errc::ok, {}, persistence::to_view(*rec, std::nullopt)});
      });
      flush(self);
    },
    [=](retry_job& m) {
      auto& st = self->state;
      if (auto it = st.active.find(m.job_id); it != st.active.end()) {
        m.reply(conflict(*it->second.record, "only failed, timed_out or cancelled jobs can be retried"));
        return;
      }
      if (!st.retry_loading.insert(m.job_id).second) {
        m.reply({errc::conflict, "a retry of job " + m.job_id + " is already in progress", {}});
        return;
      }
      caf::actor me = caf::actor_cast<caf::actor>(self);
      st.deps.writer->read([me, store = st.deps.store, id = m.job_id, reply = std::move(m.reply)] {
        caf::anon_send(me, retry_loaded{id, store->get_job(id), reply});
      });
    },
    [=](retry_loaded& m) {
      auto& st = self->state;
      st.retry_loading.erase(m.job_id);
      if (!m.record) {
        m.reply({errc::not_found, "no job " + m.job_id, {}});
        return;
      }
      if (st.active.contains(m.job_id) || !is_terminal(m.record->status) ||
          m.record->status == job_status::completed) {
        m.reply(conflict(*m.record, "only failed, timed_out or cancelled jobs can be retried"));
        return;
      }
      auto rec = std::make_shared<job_record>(std::move(*m.record));
      rec->retry_base = rec->attempt;  // the retry budget starts afresh
      rec->completed_at.reset();
      rec->started_at.reset();
      auto& job = st.active[rec->id] = active_job{rec, nullptr};
      change_status(st, job, job_status::pending, "retried by client");
      auto snapshot = std::make_shared<job_record>(*rec);
      after(st, [self, snapshot, reply = std::move(m.reply)](bool ok) {
        if (!ok) {
          reply({errc::store_failure, "the store could not make the retry durable", {}});
          return;
        }
        auto& st = self->state;
        if (auto it = st.active.find(snapshot->id); it != st.active.end() &&
                                                    it->second.record->status == job_status::pending) {
          enqueue(self, it->second);
          dispatch(self);
        }
        reply({errc::ok, {}, persistence::to_view(*snapshot, std::nullopt)});
      });
      flush(self);
    },
    [=](attempt_finished& m) {
      auto& st = self->state;
      for (auto& [addr, r] : st.runners)
        if (r.job_id == m.job_id && r.attempt == m.attempt) r.reported = true;
      auto* job = running_attempt(st, m.job_id, m.attempt);
      if (!job) return;  // stale: the attempt was cancelled, timed out or superseded
      using supervision::attempt_outcome;
      switch (m.result->what()) {
        case tool_result::kind::value:
          job->record->error.clear();
          end_attempt(self, *job, attempt_outcome::completed, "completed",
                      boost::json::serialize(m.result->value()));
          break;
        case tool_result::kind::failure:
          end_attempt(self, *job, attempt_outcome::failed, m.result->message(), std::nullopt);
          break;
        case tool_result::kind::stopped:
          end_attempt(self, *job, attempt_outcome::failed, "tool stopped without a stop request",
                      std::nullopt);
          break;
      }
      flush(self);
    },
    [=](progress_reported& m) {
      auto& st = self->state;
      auto* job = running_attempt(st, m.job_id, m.attempt);
      if (!job) return;
      job->record->progress = m.value;
      event e;
      e.job_id = m.job_id;
      e.kind = event_kind::progress;
      e.at = clock::now();
      e.attempt = m.attempt;
      e.to = job_status::running;
      e.progress = std::move(m.value);
      e.tool = job->record->tool;
      job_write w;
      w.record = std::make_shared<job_record>(*job->record);
      w.previous_status = job_status::running;
      w.events.push_back(std::move(e));
      st.outbox.push_back(std::move(w));
      flush(self);
    },
    [=](log_reported& m) {
      auto& st = self->state;
      auto* job = running_attempt(st, m.job_id, m.attempt);
      if (!job) return;
      event e;
      e.job_id = m.job_id;
      e.kind = event_kind::log;
      e.at = clock::now();
      e.attempt = m.attempt;
      e.to = job_status::running;
      e.level = m.level;
      e.message = std::move(m.message);
      e.tool = job->record->tool;
      job_write w;
      w.events.push_back(std::move(e));
      st.outbox.push_back(std::move(w));
      flush(self);
    },
    [=](save_checkpoint& m) {
      auto& st = self->state;
      auto* job = running_attempt(st, m.job_id, m.attempt);
      if (!job) {
        m.done(false);
        return;
      }
      job->record->checkpoint = std::move(m.bytes);
      job_write w;
      w.record = std::make_shared<job_record>(*job->record);
      w.previous_status = job_status::running;
      st.outbox.push_back(std::move(w));
      after(st, std::move(m.done));
      flush(self);
    },
    [=](record_process& m) {
      auto& st = self->state;
      auto* job = running_attempt(st, m.job_id, m.attempt);
      if (!job) {
        m.done(false);
        return;
      }
      job->record->process_group = m.process_group;
      job->record->process_start = m.start_time;
      job_write w;
      w.record = std::make_shared<job_record>(*job->record);
      w.previous_status = job_status::running;
      st.outbox.push_back(std::move(w));
      after(st, std::move(m.done));
      flush(self);
    },
    [=](attempt_timed_out& m) {
      auto& st = self->state;
      auto* job = running_attempt(st, m.job_id, m.attempt);
      if (!job) return;
      end_attempt(self, *job, supervision::attempt_outcome::timed_out,
                  "timed out after " + std::to_string(job->record->timeout_ms / 1000.0).substr(0, 6) + " s",
                  std::nullopt);
      flush(self);
    },
    [=](backoff_elapsed& m) {
      auto& st = self->state;
      auto it = st.active.find(m.job_id);
      if (it == st.active.end() || it->second.record->status != job_status::retrying ||
          it->second.record->attempt != m.attempt)
        return;  // cancelled meanwhile
      change_status(st, it->second, job_status::pending, "backoff elapsed");
      enqueue(self, it->second);
      dispatch(self);
      flush(self);
    },
    [=](writes_committed& c) {
      auto& st = self->state;
      auto it = st.waiting.find(c.token);
      if (it == st.waiting.end()) return;
      auto conts = std::move(it->second);
      st.waiting.erase(it);
      for (auto& f : conts) f(c.ok);
      flush(self);  // continuations may have started attempts
    },
    [=](get_stats& m) {
      auto& st = self->state;
      engine_stats s;
      s.pending = st.queue.queue_size();
      s.running = static_cast<std::size_t>(st.queue.running());
      for (const auto& [id, job] : st.active)
        if (job.record->status == job_status::retrying) ++s.waiting;
      for (const auto& def : st.deps.tools->list()) {
        tool_health h{def.name, st.paused.contains(def.name), st.queue.running(def.name), 0};
        if (auto it = st.intensity.find(def.name); it != st.intensity.end())
          h.recent_failures = it->second.recent(steady::now());
        s.tools.push_back(std::move(h));
      }
      m.reply(std::move(s));
    },
    [=](resume_tool& m) {
      auto& st = self->state;
      const bool known = st.deps.tools->find(m.name) != nullptr;
      if (known) {
        st.paused.erase(m.name);
        if (auto it = st.intensity.find(m.name); it != st.intensity.end()) it->second.reset();
        dispatch(self);
        flush(self);
      }
      m.reply(known);
    },
    [=](shut_down) {
      auto& st = self->state;
      // Attempts stay "running" in the store; the next start re-queues them
      // as interrupted. Their results, if any arrive, are no longer wanted.
      for (auto& [id, job] : st.active)
        if (job.control) job.control->request_stop();
      self->set_default_handler(caf::drop);  // late reports of stopped attempts
      self->become(stopping_behavior(self));
    },
  };
}

}  // namespace

namespace {

caf::behavior scheduler(self_ptr self, scheduler_deps deps) {
    auto& st = self->state;
    st.deps = std::move(deps);
    st.queue = scheduler_state{std::max(1, st.deps.config.max_concurrent)};
    self->set_down_handler([self](caf::down_msg& dm) {
      auto& st = self->state;
      auto it = st.runners.find(dm.source);
      if (it == st.runners.end()) return;
      auto r = std::move(it->second);
      st.runners.erase(it);
      st.queue.finished(r.tool);
      if (!r.reported) {
        if (auto* job = running_attempt(st, r.job_id, r.attempt))
          end_attempt(self, *job, supervision::attempt_outcome::failed,
                      "job actor exited without a result: " + caf::to_string(dm.reason), std::nullopt);
      }
      dispatch(self);
      flush(self);
    });
    return running_behavior(self);
}

}  // namespace

caf::actor spawn_scheduler(caf::actor_system& system, scheduler_deps deps) {
  return system.spawn(scheduler, std::move(deps));
}

}  // namespace overseer::actors
