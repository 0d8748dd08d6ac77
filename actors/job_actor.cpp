#include "actors/job_actor.hpp"

#include <random>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "actors/attempt.hpp"
#include "actors/cluster.hpp"
#include "actors/file_service.hpp"
#include "persistence/file_store.hpp"
#include "actors/job_writes.hpp"
#include "actors/pending_writes.hpp"
#include "actors/supervision.hpp"
#include "persistence/key_layout.hpp"
#include "persistence/record_view.hpp"
#include "tools/time_text.hpp"

namespace overseer::actors {

using persistence::job_record;
using persistence::kv_op;
using supervision::attempt_outcome;

struct job_state {
  static inline const char* name = "overseer.job";

  job_actor_args args;
  std::shared_ptr<attempt_control> control;  ///< the current attempt's, while it runs
  pending_writes writes;
  bool finished = false;  ///< terminal (durable or on its way)
  bool awaiting_report = false;  ///< an attempt started and its attempt_finished has not come
  bool stopping = false;  ///< the engine stops: no more writes, go when idle
  bool reported = false;  ///< the scheduler was told of the end (job_finished)
  /// How the attempt that ended the job ended, told with job_finished.
  std::optional<attempt_outcome> ending;
};

namespace {

using self_ptr = job_actor::stateful_pointer<job_state>;

job_record& rec(self_ptr self) { return *self->state.args.record; }
const scheduler_deps& deps(self_ptr self) { return *self->state.args.deps; }

/// Hands this handler's writes to the writer; then, once the job's end is
/// among them, tells the scheduler. Its own writes (the dependents it
/// starts, ...) are queued behind ours, so in the store nothing acts on the
/// end before the end itself; replies and events still wait for durability.
void flush(self_ptr self) {
  auto& st = self->state;
  st.writes.flush(*st.args.deps->writer, caf::actor_cast<job_actor>(self));
  if (st.finished && !st.reported) {
    st.reported = true;
    self->send(st.args.scheduler, job_finished{st.args.record, st.ending});
  }
}

/// Goes once nothing it waits for can still arrive: the writer has
/// answered every write it waits for (replies hang on that), and either the
/// job's end is reported and its last attempt has reported too (a stopped
/// tool's last words still belong in the job's log), or the engine stops.
/// A cancel the scheduler forwarded meanwhile is answered by its
/// guarded_reply when the dropped message goes.
void maybe_quit(self_ptr self) {
  auto& st = self->state;
  if (st.writes.idle() && ((st.reported && !st.awaiting_report) || st.stopping)) self->quit();
}

/// `said`: the engine's lines about the change, written ahead of it.
bool change(self_ptr self, job_status to, std::string reason, std::vector<engine_says> said = {},
            std::optional<std::string> result_json = std::nullopt, std::vector<kv_op> ops = {}) {
  auto w = change_status(rec(self), to, std::move(reason), std::move(result_json), std::move(ops));
  if (!w) return false;
  say_before(*w, rec(self), std::move(said));
  self->state.writes.add(std::move(*w));
  return true;
}

void line(self_ptr self, log_level level, std::string message) {
  self->state.writes.add(engine_line(rec(self), level, std::move(message)));
}

/// The job is terminal: the next flush tells the scheduler. The record is
/// not changed any more, so the scheduler may read it.
void finish(self_ptr self) { self->state.finished = true; }

/// Ends a job that never started an attempt (its tool is gone, its stored
/// params are unreadable).
void fail_before_run(self_ptr self, std::string reason) {
  rec(self).error = reason;
  std::string text = "failed before it ran: " + reason;
  if (!change(self, job_status::failed, std::move(reason), {{log_level::error, std::move(text)}})) return;
  finish(self);
}

/// Whether `attempt` is the job's current, running attempt. Never while the
/// engine stops: the job must stay "running" in the store, for the next
/// start to resume it as interrupted, whatever its stopped tool reports.
bool running(self_ptr self, int attempt) {
  const auto& r = rec(self);
  return !self->state.stopping && r.status == job_status::running && r.attempt == attempt;
}

/// The cache entry a completed use_cache job leaves behind.
std::vector<kv_op> cache_ops(self_ptr self, const std::string& result_json) {
  const auto& r = rec(self);
  if (!r.use_cache || r.cache_key.empty()) return {};
  const auto now = clock::now();
  persistence::cache_entry entry{r.id, r.tool, now, now + deps(self).config.cache_ttl, result_json.size()};
  return {kv_op{kv_op::kind::put, persistence::family::cache, r.cache_key, persistence::encode(entry)}};
}

/// The current attempt ended with `outcome`: the retry policy decides what
/// follows; the scheduler hears how it ended (its restart intensity).
void end_attempt(self_ptr self, attempt_outcome outcome, std::string reason,
                 std::optional<std::string> result_json) {
  auto& st = self->state;
  auto& r = rec(self);
  if (st.control) st.control->request_stop();
  st.control.reset();
  r.process_group = 0;  // the tool reaps its own processes before it returns
  r.process_start = 0;
  // Jitter needs no cryptographic seed, only draws that differ per job: one
  // generator per worker thread (seeding one per job cost more than the job).
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const auto d = supervision::decide(r.retry, r.attempt - r.retry_base, outcome, rng);
  if (outcome != attempt_outcome::completed) r.error = reason;
  std::string text;
  switch (outcome) {
    case attempt_outcome::completed: break;
    case attempt_outcome::failed: text = attempt_text(r) + " failed: " + reason; break;
    case attempt_outcome::crashed: text = attempt_text(r) + " crashed: " + reason; break;
    case attempt_outcome::timed_out: text = attempt_text(r) + " " + reason; break;
  }
  if (d.next == job_status::retrying) {
    r.next_attempt_at = clock::now() + d.delay;
    reason += "; retrying in " + std::to_string(d.delay.count()) + " ms";
  }
  const auto level = outcome == attempt_outcome::completed ? log_level::info : log_level::error;
  std::vector<engine_says> said;
  if (d.next == job_status::retrying) {
    said.push_back({level, text});
    said.push_back({log_level::warning, "retry scheduled at " + tools::format_rfc3339(*r.next_attempt_at) + " (in " +
                                          std::to_string(d.delay.count()) + " ms, attempt " +
                                          std::to_string(r.attempt + 1) + ")"});
  } else if (outcome == attempt_outcome::timed_out && !r.retry.retry_on_timeout &&
             r.attempt - r.retry_base < r.retry.max_attempts) {
    said.push_back({level, text + "; not retried: the retry policy does not retry timeouts"});
  } else if (outcome != attempt_outcome::completed) {
    said.push_back({level, text + "; no attempts left"});
  }  // a completed attempt's transition says all there is: no line, no extra rows
  auto ops = result_json ? cache_ops(self, *result_json) : std::vector<kv_op>{};
  change(self, d.next, std::move(reason), std::move(said), std::move(result_json), std::move(ops));
  if (d.next == job_status::retrying) self->delayed_send(self, d.delay, backoff_elapsed{r.attempt});
  if (is_terminal(d.next)) {
    st.ending = outcome;  // job_finished tells the scheduler how it ended
    finish(self);
    return flush(self);
  }
  // After our writes are queued, so that anything the scheduler writes
  // about this ending (a paused tool) is ordered after the ending itself.
  flush(self);
  self->send(st.args.scheduler, attempt_ended{r.id, r.tool, r.attempt, outcome, d.next});
}

/// What an attempt of `r` needs to run, or why it cannot: then the job
/// fails before it runs.
struct prepared_attempt {
  std::optional<attempt_args> args;
  std::string error;
};

prepared_attempt prepare_attempt(const scheduler_deps& d, const job_record& r,
                                 const std::shared_ptr<attempt_control>& control) {
  auto tool = d.tools->find(r.tool);
  // Only possible for a recovered job whose tool is no longer registered.
  if (!tool) return {std::nullopt, "tool \"" + r.tool + "\" is not registered"};
  boost::system::error_code ec;
  auto params = boost::json::parse(r.params_json, ec);
  if (ec || !params.is_object()) return {std::nullopt, "stored params are unreadable: " + ec.message()};
  // A param of type "file" reaches the body as the stored file's read-only
  // path, never as anything the client chose.
  auto& values = params.as_object();
  for (const auto& [name, entry] : tool->definition.params) {
    const auto* type = entry.is_object() ? entry.get_object().if_contains("type") : nullptr;
    auto* v = values.if_contains(name);
    if (type && type->is_string() && type->get_string() == "file" && v && v->is_string())
      *v = persistence::files::stored_path(d.config.data_dir, v->get_string()).string();
  }
  attempt_args args{{}, tool, r.id, r.attempt, std::move(values), r.checkpoint, control,
                    d.config.progress_interval, d.work_root, r.trace_id};
  if (!tool->definition.outputs.empty())
    args.collect_outputs = [store = d.store, writer = d.writer, data_dir = d.config.data_dir,
                            workdir = args.workdir(), patterns = tool->definition.outputs, job = r.id,
                            owner = r.owner,
                            keep_free = persistence::files::keep_free(d.config.min_free_bytes)](tool_result res) {
      return with_output_files(*store, *writer, data_dir, workdir, patterns, job, owner, std::move(res), keep_free);
    };
  return {std::move(args), {}};
}

/// Hands the attempt to the worker node `grant` names, through an attempt
/// proxy (actors/cluster.hpp), which reports to the scheduler as a pool task
/// would.
void launch_remote(const scheduler_deps& d, attempt_args args, const start_attempt& grant, scheduler_actor scheduler) {
  run_remote run;
  run.job_id = args.job_id;
  run.attempt = args.attempt;
  run.tool = args.tool->definition.name;
  run.tool_version = args.tool->definition.version;
  run.params_json = boost::json::serialize(args.params);
  run.has_checkpoint = args.checkpoint.has_value();
  if (args.checkpoint) run.checkpoint = *args.checkpoint;
  run.trace_id = args.trace_id;
  run.progress_interval_ms = args.progress_interval.count();
  auto& system = args.job->home_system();
  spawn_attempt_proxy(system, {std::move(args.job), std::move(scheduler), grant.runner, grant.node, grant.session,
                               grant.worker, d.cluster, grant.control, std::move(run)});
}

/// Runs the attempt's body on the pool. Its pool task reports last, to the
/// scheduler (attempt_exited), which frees the slot `runner`.
void launch_attempt(const scheduler_deps& d, attempt_args args, const start_attempt& grant,
                    scheduler_actor scheduler) {
  if (grant.worker) return launch_remote(d, std::move(args), grant, std::move(scheduler));
  const auto runner = grant.runner;
  ++*d.live_attempts;
  d.pool->run([args = std::move(args), runner, scheduler = std::move(scheduler), live = d.live_attempts]() mutable {
    attempt_exited exited{runner, args.attempt, false, std::nullopt, nullptr};
    try {
      const tool_body_scope body{live.get()};
      auto end = run_attempt(args);
      if (end.told_job) {
        caf::anon_send(args.job, attempt_finished{args.attempt, std::move(end.result)});  // behind its reports
      } else {
        exited.result = std::move(end.result);  // the scheduler hands it on
        exited.job = caf::actor_cast<caf::strong_actor_ptr>(args.job);
      }
    } catch (...) {
      // run_attempt turns every outcome into a result, a throwing tool
      // included, so this is a defect of the engine: still, the job must
      // not stay running.
      caf::anon_send(args.job, attempt_finished{args.attempt, tool_result::crashed("the attempt ended without a result")});
    }
    exited.had_process = args.control->has_process();
    caf::anon_send(scheduler, std::move(exited));
    --*live;
  });
}

/// The attempt holding slot `m` runs: the actor waits for its report and
/// for its timeout.
void attempt_started(self_ptr self, const start_attempt& m) {
  auto& st = self->state;
  const auto& r = rec(self);
  st.control = m.control;
  st.awaiting_report = true;
  if (r.timeout_ms > 0)
    self->delayed_send(self, std::chrono::milliseconds{r.timeout_ms}, attempt_timed_out{r.attempt});
}

void start(self_ptr self, const start_attempt& m) {
  auto& st = self->state;
  auto& r = rec(self);
  auto release = [&] { self->send(st.args.scheduler, attempt_exited{m.runner, 0, false, std::nullopt, nullptr}); };  // the slot
  if (st.stopping || st.finished || st.control) return release();
  // A job the scheduler has just admitted arrives running (the scheduler
  // wrote its first start, so that admissions are stored in the order they
  // were granted); after a backoff it is pending and starts here.
  if (r.status == job_status::pending) {
    r.node = m.node;  // where the attempt runs, in its transition
    if (auto w = begin_attempt(r)) st.writes.add(std::move(*w));
  }
  if (r.status != job_status::running) return release();
  auto p = prepare_attempt(deps(self), r, m.control);
  if (!p.args) {
    fail_before_run(self, std::move(p.error));
    return release();
  }
  p.args->job = caf::actor_cast<job_actor>(self);
  launch_attempt(deps(self), std::move(*p.args), m, st.args.scheduler);
  attempt_started(self, m);
}

void arm_backoff(self_ptr self) {
  const auto& r = rec(self);
  auto delay = std::chrono::milliseconds{0};
  if (r.next_attempt_at && *r.next_attempt_at > clock::now())
    delay = std::chrono::duration_cast<std::chrono::milliseconds>(*r.next_attempt_at - clock::now());
  self->delayed_send(self, delay, backoff_elapsed{r.attempt});
}

}  // namespace

job_actor::behavior_type job_behavior(self_ptr self, job_actor_args args) {
  self->state.args = std::move(args);
  // A handler that throws is a defect of the engine: the actor dies with
  // the exception's message (CAF would also print it to stderr, which an
  // embedded engine must not do), and the scheduler restarts it.
  self->set_exception_handler([](caf::scheduled_actor*, std::exception_ptr& eptr) -> caf::error {
    try {
      std::rethrow_exception(eptr);
    } catch (const std::exception& e) {
      return caf::make_error(caf::sec::runtime_error, std::string{"exception in a job actor: "} + e.what());
    } catch (...) {
      return caf::make_error(caf::sec::runtime_error, "non-standard exception in a job actor");
    }
  });
  if (rec(self).status == job_status::retrying) arm_backoff(self);
  if (auto first = std::exchange(self->state.args.first, std::nullopt)) {
    if (self->state.args.first_launched) {
      attempt_started(self, *first);  // spawn_job_actor started its body
    } else {
      start(self, *first);
      flush(self);
    }
  }
  // CAF tries the handlers in order (a type_info name compare each): the
  // messages of every attempt first.
  return {
    [=](writes_committed& c) {
      self->state.writes.committed(c);
      flush(self);  // continuations may have queued writes
      maybe_quit(self);
    },
    [=](start_attempt& m) {
      start(self, m);
      flush(self);
      maybe_quit(self);
    },
    [=](attempt_finished& m) {
      auto& r = rec(self);
      if (m.attempt == r.attempt) self->state.awaiting_report = false;
      if (self->state.stopping) return maybe_quit(self);  // stopped by the engine: the job stays running
      if (!running(self, m.attempt)) {
        // Stale: the attempt was cancelled, timed out or superseded. How its
        // tool stopped (killed after the grace period?) still belongs in the
        // job's log.
        if (m.result->what() == tool_result::kind::stopped && !m.result->message().empty()) {
          auto w = engine_line(r, log_level::warning,
                               "attempt " + std::to_string(m.attempt) + " stopped: " + m.result->message());
          w.events.front().attempt = m.attempt;
          self->state.writes.add(std::move(w));
          flush(self);
        }
        return maybe_quit(self);
      }
      switch (m.result->what()) {
        case tool_result::kind::value:
          r.error.clear();
          end_attempt(self, attempt_outcome::completed, "completed", boost::json::serialize(m.result->value()));
          break;
        case tool_result::kind::failure:
          end_attempt(self, attempt_outcome::failed, m.result->message(), std::nullopt);
          break;
        case tool_result::kind::crashed:
          end_attempt(self, attempt_outcome::crashed, m.result->message(), std::nullopt);
          break;
        case tool_result::kind::stopped:
          end_attempt(self, attempt_outcome::failed, "tool stopped without a stop request", std::nullopt);
          break;
      }
      maybe_quit(self);
    },
    [=](progress_reported& m) {
      if (!running(self, m.attempt)) return;
      auto& r = rec(self);
      r.progress = m.value;
      auto e = make_event(r, event_kind::progress);
      e.progress = std::move(m.value);
      persistence::job_write w;
      w.record.emplace(r);
      w.previous_status = job_status::running;
      w.events.push_back(std::move(e));
      self->state.writes.add(std::move(w));
      flush(self);
    },
    [=](log_reported& m) {
      const auto bytes = m.message.size();
      if (!running(self, m.attempt)) {
        if (m.credit) m.credit->give_back_line(bytes);
        return;
      }
      auto e = make_event(rec(self), event_kind::log);
      e.level = m.level;
      e.message = std::move(m.message);
      e.component = "tool";
      persistence::job_write w;
      w.events.push_back(std::move(e));
      self->state.writes.add(std::move(w));
      if (m.credit) self->state.writes.on_written([credit = std::move(m.credit), bytes] { credit->give_back_line(bytes); });
      flush(self);
    },
    [=](log_barrier& m) {
      // Behind every write queued so far, this actor's log lines included
      // (each handler flushes): answered once they are committed.
      deps(self).writer->read([done = std::move(m.done)] { done(true); });
    },
    [=](save_checkpoint& m) {
      if (!running(self, m.attempt)) return m.done(false);
      auto& r = rec(self);
      r.checkpoint = std::move(m.bytes);
      persistence::job_write w;
      w.record.emplace(r);
      w.previous_status = job_status::running;
      self->state.writes.add(std::move(w));
      self->state.writes.after(std::move(m.done));
      flush(self);
    },
    [=](record_process& m) {
      if (!running(self, m.attempt)) return m.done(false);
      auto& r = rec(self);
      r.process_group = m.process_group;
      r.process_start = m.start_time;
      persistence::job_write w;
      w.record.emplace(r);
      w.previous_status = job_status::running;
      // Kept until the tool returns, whatever happens to the job meanwhile
      // (the scheduler erases it on attempt_exited): after a crash, recovery
      // kills what this names. Not for a process on a worker node: this
      // node must never kill a local group of that number.
      if (!m.remote)
        w.ops.push_back(kv_op{kv_op::kind::put, persistence::family::index,
                              std::string{persistence::keys::process_prefix} + r.id,
                              std::to_string(m.process_group) + " " + std::to_string(m.start_time)});
      self->state.writes.add(std::move(w));
      self->state.writes.after(std::move(m.done));
      flush(self);
    },
    [=](attempt_interrupted& m) {
      auto& st = self->state;
      auto& r = rec(self);
      if (m.attempt == r.attempt) st.awaiting_report = false;
      if (st.stopping || !running(self, m.attempt)) return maybe_quit(self);
      // The node's loss is not the job's failure: back to pending, without
      // using up a retry, to run again from its last checkpoint.
      if (st.control) st.control->request_stop();
      st.control.reset();
      r.process_group = 0;
      r.process_start = 0;
      r.retry_base += 1;
      change(self, job_status::pending, "interrupted: " + m.reason);
      line(self, log_level::warning,
           "attempt " + std::to_string(r.attempt) + " was interrupted: " + m.reason + "; it runs again" +
             (r.checkpoint ? " from its last checkpoint" : " from the start (no checkpoint was saved)") +
             ", without using up a retry");
      flush(self);
      self->send(st.args.scheduler, job_ready{r.id});
    },
    [=](attempt_timed_out& m) {
      if (!running(self, m.attempt)) return;
      end_attempt(self, attempt_outcome::timed_out,
                  "timed out after " + std::to_string(rec(self).timeout_ms / 1000.0).substr(0, 6) + " s",
                  std::nullopt);
      maybe_quit(self);
    },
    [=](backoff_elapsed& m) {
      auto& r = rec(self);
      if (self->state.stopping || r.status != job_status::retrying || r.attempt != m.attempt)
        return;  // stopping, or cancelled meanwhile
      change(self, job_status::pending, "backoff elapsed");
      // The scheduler starts the next attempt only once the last one's body
      // has returned: say why the job stays pending past its retry time.
      if (self->state.awaiting_report) line(self, log_level::warning, waits_for_body(r.attempt));
      flush(self);
      self->send(self->state.args.scheduler, job_ready{r.id});
    },
    [=](stop_job& m) {
      auto& st = self->state;
      auto& r = rec(self);
      if (st.stopping) {
        if (m.reply) m.reply({errc::not_running, "the engine is stopping", {}});
        return;
      }
      if (st.finished || is_terminal(r.status)) {
        if (m.reply) m.reply(conflict(r, "only pending, retrying or running jobs can be cancelled"));
        return;
      }
      const bool was_running = r.status == job_status::running;
      // Decided now: any result of the attempt that arrives later is stale.
      if (st.control) st.control->request_stop();
      st.control.reset();
      std::string text = m.reason;
      if (was_running) text += "; attempt " + std::to_string(r.attempt) + " is told to stop";
      if (!change(self, job_status::cancelled, std::move(m.reason), {{log_level::warning, std::move(text)}})) {
        if (m.reply) m.reply(conflict(r, "only pending, retrying or running jobs can be cancelled"));
        return;
      }
      finish(self);
      if (m.reply)
        st.writes.after([self, reply = std::move(m.reply)](bool ok) {
          if (!ok) reply({errc::store_failure, "the store could not make the cancel durable", {}});
          else reply({errc::ok, {}, persistence::to_view(rec(self), std::nullopt)});
        });
      flush(self);
      maybe_quit(self);
    },
    [=](shut_down) {
      // The job stays as it is in the store; the next start recovers it.
      auto& st = self->state;
      st.stopping = true;
      if (st.control) st.control->request_stop();
      maybe_quit(self);
    },
    [=](inject_fault) -> void { throw std::logic_error("injected fault: a defect in the job actor"); },
  };
}

job_actor spawn_job_actor(caf::local_actor& parent, job_actor_args args) {
  // The first attempt of an admitted job starts now, in the scheduler's
  // turn, not in the new actor's first one, which comes only after the
  // scheduler's turn ends: with few slots, the cycle of a slot (granted,
  // body runs, slot back) bounds the engine's throughput. The actor takes
  // the running attempt over on its first turn; the attempt's reports wait
  // in its mailbox until then.
  std::optional<attempt_args> body;
  if (args.first && args.record->status == job_status::running) {
    auto p = prepare_attempt(*args.deps, *args.record, args.first->control);
    if (p.args) {  // else the actor fails the job on its first turn
      body = std::move(p.args);
      args.first_launched = true;
    }
  }
  auto grant = args.first ? *args.first : start_attempt{};
  const auto deps = args.deps;
  const auto scheduler = args.scheduler;
  auto actor = parent.spawn(job_behavior, std::move(args));
  if (deps->job_actors) deps->job_actors->add(actor);
  if (body) {
    body->job = actor;
    launch_attempt(*deps, std::move(*body), grant, scheduler);
  }
  return actor;
}

}  // namespace overseer::actors
