#include "actors/scheduler.hpp"

#include <random>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "actors/job_actor.hpp"
#include "actors/job_lifecycle.hpp"
#include "actors/messages.hpp"
#include "actors/scheduler_state.hpp"
#include "actors/supervision.hpp"
#include "persistence/key_layout.hpp"
#include "persistence/record_view.hpp"
#include "tools/time_text.hpp"

namespace overseer::actors {

namespace {

using persistence::job_record;
using persistence::job_write;
using persistence::kv_op;
using steady = std::chrono::steady_clock;

/// An unfinished job as the scheduler holds it.
struct active_job {
  std::shared_ptr<job_record> record;
  std::shared_ptr<attempt_control> control;  ///< set while an attempt runs
  std::set<std::string> waiting_on;          ///< dependencies not completed yet
  bool deps_loading = false;                 ///< a store read of dependencies is under way
  bool timer_set = false;                    ///< a run_at timer is pending
  bool admitted = false;                     ///< holds one of its batch's slots
};

/// An attempt whose tool body has not returned yet (it may outlive its job's
/// status: a cancelled or timed-out body keeps its slot until it returns).
struct runner {
  std::string job_id;
  int attempt;
  std::string tool;
  std::string batch_id;
  bool reported = false;  ///< attempt_finished arrived
  bool has_process = false;  ///< recorded an external process group
};

/// A batch with unfinished jobs.
struct batch_state {
  persistence::batch_record record;
  int admitted = 0;  ///< jobs holding a slot: queued, running or retrying
  std::set<std::pair<std::size_t, std::string>> waiting;  ///< (list index, id) held back by the limit
  std::size_t unfinished = 0;
};

/// Submits that share an idempotency key while the first one is resolved.
struct key_claim {
  std::vector<submit_job> waiters;
  std::string owner;      ///< the job that owns the key, once known
  std::uint64_t hash = 0;
};

}  // namespace

struct scheduler_data {
  static inline const char* name = "overseer.scheduler";

  scheduler_deps deps;
  scheduler_state queue{1};
  std::mt19937_64 rng{std::random_device{}()};
  std::unordered_map<std::string, active_job> active;
  std::unordered_map<std::uint64_t, runner> runners;
  std::uint64_t next_runner = 0;
  std::unordered_set<std::string> retry_loading;
  std::unordered_map<std::string, supervision::restart_intensity> intensity;
  std::unordered_map<std::string, std::string> paused;  ///< tool -> why
  std::unordered_map<std::string, batch_state> batches;
  std::unordered_map<std::string, std::vector<std::string>> dependents;  ///< dep -> jobs waiting on it
  std::unordered_map<std::string, key_claim> keys;
  bool stopping = false;  ///< no new attempts; running ones stay "running" in the store

  // Writes collected while handling one message, and what to do once they
  // are durable; flushed at the end of every handler.
  std::vector<job_write> outbox;
  std::vector<std::function<void(bool)>> after_commit;
  std::uint64_t next_token = 1;
  std::unordered_map<std::uint64_t, std::vector<std::function<void(bool)>>> waiting;
};

namespace {

using self_ptr = caf::stateful_actor<scheduler_data>*;

event make_event(const job_record& r, event_kind kind) {
  event e;
  e.job_id = r.id;
  e.kind = kind;
  e.at = clock::now();
  e.attempt = r.attempt;
  e.to = r.status;
  e.tool = r.tool;
  e.batch_id = r.batch_id;
  return e;
}

event transition_event(const job_record& r, std::optional<job_status> from, std::string reason) {
  auto e = make_event(r, event_kind::transition);
  e.from = from;
  e.reason = std::move(reason);
  return e;
}

/// Moves `job` to `to` in memory and queues the durable write. Refuses (and
/// returns false for) anything the state machine does not allow.
bool change_status(scheduler_data& st, active_job& job, job_status to, std::string reason,
                   std::optional<std::string> result_json = std::nullopt, std::vector<kv_op> ops = {}) {
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
  w.record.emplace(rec);  // encoded now: later changes must not race the writer
  w.previous_status = from;
  w.result_json = std::move(result_json);
  w.events.push_back(transition_event(rec, from, std::move(reason)));
  w.ops = std::move(ops);
  st.outbox.push_back(std::move(w));
  return true;
}

/// A line of the job's own log, written by the engine (component "engine")
/// in the same commit as the change it explains, so a user who looks at a
/// job's log sees why it is where it is.
void engine_log(scheduler_data& st, const job_record& rec, log_level level, std::string message) {
  auto e = make_event(rec, event_kind::log);
  e.level = level;
  e.message = std::move(message);
  e.component = "engine";
  job_write w;
  w.events.push_back(std::move(e));
  st.outbox.push_back(std::move(w));
}

/// "attempt 3 (2 of 4 allowed)": attempts since the last explicit retry or
/// interruption count against the retry policy.
std::string attempt_text(const job_record& rec) {
  return "attempt " + std::to_string(rec.attempt) + " (" + std::to_string(rec.attempt - rec.retry_base) + " of " +
         std::to_string(rec.retry.max_attempts) + " allowed)";
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
  if (st.stopping) return;
  // Fail-stop: an attempt could never record its end.
  if (!st.deps.writer->healthy()) return;
  auto limit = [&](const std::string& tool) { return tool_limit(st, tool); };
  auto paused = [&](const std::string& tool) { return st.paused.contains(tool); };
  while (auto id = st.queue.pop_next(limit, paused)) start_attempt(self, *id);
}

std::size_t batch_index(const batch_state& b, const std::string& id) {
  const auto& ids = b.record.job_ids;
  return static_cast<std::size_t>(std::find(ids.begin(), ids.end(), id) - ids.begin());
}

/// Queues a pending job unless something still holds it back: unmet
/// dependencies, a run_at in the future, or its batch at its parallel limit.
/// Returns the position in the queue (jobs ahead), if it was queued.
std::optional<std::size_t> make_ready(self_ptr self, active_job& job) {
  auto& st = self->state;
  auto& rec = *job.record;
  if (rec.status != job_status::pending || st.queue.queued(rec.id)) return std::nullopt;
  if (!job.waiting_on.empty() || job.deps_loading) return std::nullopt;
  if (rec.run_at) {
    const auto now = clock::now();
    if (*rec.run_at > now) {
      if (!job.timer_set) {
        job.timer_set = true;
        self->delayed_send(self, *rec.run_at - now, run_at_reached{rec.id});
      }
      return std::nullopt;
    }
  }
  if (!rec.batch_id.empty() && !job.admitted) {
    auto it = st.batches.find(rec.batch_id);
    if (it != st.batches.end()) {
      auto& b = it->second;
      if (b.record.parallel_limit > 0 && b.admitted >= b.record.parallel_limit) {
        b.waiting.emplace(batch_index(b, rec.id), rec.id);
        return std::nullopt;
      }
      ++b.admitted;
      job.admitted = true;
    }
  }
  return st.queue.enqueue(rec.id, rec.tool, rec.priority);
}

void on_terminal(self_ptr self, const job_record& rec, bool admitted);

/// Ends a job that never ran (a failed dependency, an unknown tool).
void fail_pending(self_ptr self, active_job& job, std::string reason) {
  auto& st = self->state;
  auto rec = job.record;
  const bool admitted = job.admitted;
  rec->error = reason;
  st.queue.remove(rec->id);
  const std::string line = "failed before it ran: " + reason;
  if (!change_status(st, job, job_status::failed, std::move(reason))) return;
  engine_log(st, *rec, log_level::error, line);
  st.active.erase(rec->id);
  on_terminal(self, *rec, admitted);
}

void cancel_active(self_ptr self, active_job& job, std::string reason);

/// Whatever follows a job becoming terminal: its batch slot, fail-fast, and
/// the jobs that depend on it.
void on_terminal(self_ptr self, const job_record& rec, bool admitted) {
  auto& st = self->state;
  if (auto it = st.batches.find(rec.batch_id); !rec.batch_id.empty() && it != st.batches.end()) {
    auto& b = it->second;
    if (admitted) --b.admitted;
    if (b.unfinished > 0) --b.unfinished;
    // Cancelling the others re-enters here for each of them: work on a copy
    // of the list, and look the batch up again afterwards.
    const auto batch_id = rec.batch_id;
    std::vector<std::string> to_admit;
    if (b.record.fail_fast && (rec.status == job_status::failed || rec.status == job_status::timed_out)) {
      b.waiting.clear();
      const auto ids = b.record.job_ids;
      for (const auto& other : ids)
        if (auto j = st.active.find(other); j != st.active.end())
          cancel_active(self, j->second, "batch fail-fast: job " + rec.id + " " + std::string{to_string(rec.status)});
    }
    if (auto again = st.batches.find(batch_id); again != st.batches.end()) {
      auto& bb = again->second;
      // Admit the next jobs of the batch, in list order.
      while (!bb.waiting.empty() && (bb.record.parallel_limit == 0 || bb.admitted < bb.record.parallel_limit)) {
        auto id = bb.waiting.begin()->second;
        bb.waiting.erase(bb.waiting.begin());
        if (auto j = st.active.find(id); j != st.active.end()) make_ready(self, j->second);
      }
      if (bb.unfinished == 0) st.batches.erase(again);
    }
  }
  if (auto it = st.dependents.find(rec.id); it != st.dependents.end()) {
    auto waiting = std::move(it->second);
    st.dependents.erase(it);
    for (const auto& id : waiting) {
      auto j = st.active.find(id);
      if (j == st.active.end()) continue;
      if (rec.status == job_status::completed) {
        j->second.waiting_on.erase(rec.id);
        make_ready(self, j->second);
      } else {
        // And so on down the chain: this failure ends its own dependents.
        fail_pending(self, j->second, "dependency " + rec.id + " " + std::string{to_string(rec.status)});
      }
    }
  }
}

void cancel_active(self_ptr self, active_job& job, std::string reason) {
  auto& st = self->state;
  auto rec = job.record;
  const bool admitted = job.admitted;
  st.queue.remove(rec->id);
  const bool was_running = rec->status == job_status::running;
  // Decided now: any result of the attempt that arrives later is stale.
  if (job.control) job.control->request_stop();
  job.control.reset();
  std::string line = reason;
  if (was_running) line += "; attempt " + std::to_string(rec->attempt) + " is told to stop";
  if (!change_status(st, job, job_status::cancelled, std::move(reason))) return;
  engine_log(st, *rec, log_level::warning, std::move(line));
  st.active.erase(rec->id);
  on_terminal(self, *rec, admitted);
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
    fail_pending(self, job, "tool \"" + rec.tool + "\" is not registered");
    return;
  }
  boost::system::error_code ec;
  auto params = boost::json::parse(rec.params_json, ec);
  if (ec || !params.is_object()) {
    fail_pending(self, job, "stored params are unreadable: " + ec.message());
    return;
  }
  rec.attempt += 1;
  change_status(st, job, job_status::running,
                rec.attempt > 1 ? "attempt " + std::to_string(rec.attempt) : "started");
  engine_log(st, rec, log_level::info,
             attempt_text(rec) + " started" +
               (rec.checkpoint ? ", resuming from the checkpoint of an earlier attempt (" +
                                   std::to_string(rec.checkpoint->size()) + " bytes)"
                               : ""));
  job.control = std::make_shared<attempt_control>();
  attempt_args args{caf::actor_cast<caf::actor>(self), std::move(tool), rec.id, rec.attempt,
                    std::move(params.as_object()), rec.checkpoint, job.control,
                    st.deps.config.progress_interval,
                    st.deps.config.data_dir / "work" / rec.id / std::to_string(rec.attempt)};
  const auto runner_id = ++st.next_runner;
  st.runners.emplace(runner_id, runner{rec.id, rec.attempt, rec.tool, rec.batch_id});
  ++*st.deps.live_attempts;
  st.deps.pool->run([args = std::move(args), runner_id, live = st.deps.live_attempts]() mutable {
    run_attempt(args);
    caf::anon_send(args.scheduler, attempt_exited{runner_id});
    --*live;
  });
  st.queue.started(rec.tool);
  if (rec.timeout_ms > 0)
    self->delayed_send(self, std::chrono::milliseconds{rec.timeout_ms}, attempt_timed_out{rec.id, rec.attempt});
}

/// The cache entry a completed use_cache job leaves behind.
std::vector<kv_op> cache_ops(const scheduler_data& st, const job_record& rec, const std::string& result_json) {
  if (!rec.use_cache || rec.cache_key.empty()) return {};
  const auto now = clock::now();
  persistence::cache_entry entry{rec.id, rec.tool, now, now + st.deps.config.cache_ttl, result_json.size()};
  return {kv_op{kv_op::kind::put, persistence::family::cache, rec.cache_key, persistence::encode(entry)}};
}

/// "crashed or timed-out attempts": what the restart intensity counts.
std::string counted_text(const intensity_counts& c) {
  std::vector<std::string> kinds;
  if (c.failures) kinds.emplace_back("failed");
  if (c.crashes) kinds.emplace_back("crashed");
  if (c.timeouts) kinds.emplace_back("timed-out");
  std::string text;
  for (std::size_t i = 0; i < kinds.size(); ++i)
    text += (i == 0 ? "" : i + 1 == kinds.size() ? " or " : ", ") + kinds[i];
  return text + " attempts";
}

/// The current attempt of a running job ended with `outcome`.
void end_attempt(self_ptr self, active_job& job, supervision::attempt_outcome outcome, std::string reason,
                 std::optional<std::string> result_json) {
  auto& st = self->state;
  auto rec_ptr = job.record;
  auto& rec = *rec_ptr;
  if (job.control) job.control->request_stop();
  job.control.reset();
  rec.process_group = 0;  // the tool reaps its own processes before it returns
  rec.process_start = 0;
  auto d = supervision::decide(rec.retry, rec.attempt - rec.retry_base, outcome, st.rng);
  bool paused_now = false;  // this ending paused the tool
  if (outcome != supervision::attempt_outcome::completed) rec.error = reason;
  if (supervision::counts_toward_intensity(outcome, st.deps.config.intensity)) {
    auto [it, inserted] =
      st.intensity.try_emplace(rec.tool, st.deps.config.max_failures, st.deps.config.failure_window);
    const auto why = "more than " + std::to_string(st.deps.config.max_failures) + " " +
                     counted_text(st.deps.config.intensity) + " within " +
                     std::to_string(st.deps.config.failure_window.count()) + " ms";
    if (it->second.record_failure(steady::now()) && st.paused.emplace(rec.tool, why).second) {
      paused_now = true;
      report(st.deps.config.log, log_level::warning, "scheduler", "pausing a tool: " + why,
             {{"tool", rec.tool}, {"job_id", rec.id}});
    }
  }
  std::string line;
  switch (outcome) {
    case supervision::attempt_outcome::completed: break;
    case supervision::attempt_outcome::failed: line = attempt_text(rec) + " failed: " + reason; break;
    case supervision::attempt_outcome::crashed: line = attempt_text(rec) + " crashed: " + reason; break;
    case supervision::attempt_outcome::timed_out: line = attempt_text(rec) + " " + reason; break;
  }
  if (d.next == job_status::retrying) {
    rec.next_attempt_at = clock::now() + d.delay;
    reason += "; retrying in " + std::to_string(d.delay.count()) + " ms";
  }
  auto ops = result_json ? cache_ops(st, rec, *result_json) : std::vector<kv_op>{};
  change_status(st, job, d.next, std::move(reason), std::move(result_json), std::move(ops));
  const auto level = outcome == supervision::attempt_outcome::completed ? log_level::info : log_level::error;
  if (d.next == job_status::retrying) {
    engine_log(st, rec, level, line);
    engine_log(st, rec, log_level::warning,
               "retry scheduled at " + tools::format_rfc3339(*rec.next_attempt_at) + " (in " +
                 std::to_string(d.delay.count()) + " ms, attempt " + std::to_string(rec.attempt + 1) + ")");
  } else if (outcome == supervision::attempt_outcome::timed_out && !rec.retry.retry_on_timeout &&
             rec.attempt - rec.retry_base < rec.retry.max_attempts) {
    engine_log(st, rec, level, line + "; not retried: the retry policy does not retry timeouts");
  } else if (outcome != supervision::attempt_outcome::completed) {
    engine_log(st, rec, level, line + "; no attempts left");
  }  // a completed attempt's transition says all there is: no line, no extra rows
  if (paused_now)
    engine_log(st, rec, log_level::warning,
               "tool " + rec.tool + " is paused: more than " + std::to_string(st.deps.config.max_failures) +
                 " " + counted_text(st.deps.config.intensity) + " within " +
                 std::to_string(st.deps.config.failure_window.count()) +
                 " ms; queued jobs of this tool wait until it is resumed");
  if (d.next == job_status::retrying) self->delayed_send(self, d.delay, backoff_elapsed{rec.id, rec.attempt});
  if (is_terminal(d.next)) {
    const bool admitted = job.admitted;
    st.active.erase(rec.id);
    on_terminal(self, *rec_ptr, admitted);
  }
}

active_job* running_attempt(scheduler_data& st, const std::string& id, int attempt) {
  auto it = st.active.find(id);
  if (it == st.active.end()) return nullptr;
  auto& rec = *it->second.record;
  return rec.status == job_status::running && rec.attempt == attempt ? &it->second : nullptr;
}

change_result conflict(const job_record& r, std::string_view what) {
  return {errc::conflict, "job " + r.id + " is " + std::string{to_string(r.status)} + "; " + std::string{what}, {}};
}

/// Registers `job`'s dependencies: active ones are waited on; the others
/// are finished (or gone) and are looked up in the store behind our writes.
void track_dependencies(self_ptr self, active_job& job) {
  auto& st = self->state;
  std::vector<std::string> inactive;
  for (const auto& dep : job.record->depends_on) {
    if (st.active.contains(dep)) {
      job.waiting_on.insert(dep);
      st.dependents[dep].push_back(job.record->id);
    } else {
      inactive.push_back(dep);
    }
  }
  if (inactive.empty()) return;
  job.deps_loading = true;
  caf::actor me = caf::actor_cast<caf::actor>(self);
  st.deps.writer->read([me, store = st.deps.store, id = job.record->id, inactive] {
    deps_loaded m{id, {}};
    try {
      for (const auto& dep : inactive) {
        auto r = store->get_job(dep);
        m.deps.emplace_back(dep, r ? std::optional<job_status>{r->status} : std::nullopt);
      }
    } catch (const overseer::error&) {
      return;  // the store failed and the engine fail-stops: the job waits for recovery
    }
    caf::anon_send(me, std::move(m));
  });
}

/// Creates a job (or a cache hit) and answers once durable.
void create_job(self_ptr self, submit_job m) {
  auto& st = self->state;
  auto rec = m.record;
  const bool hit = m.cached_result.has_value();
  rec->status = hit ? job_status::completed : job_status::pending;
  if (hit) rec->completed_at = rec->created_at;
  job_write w;
  w.record.emplace(*rec);
  w.created = true;
  w.result_json = m.cached_result;
  w.events.push_back(transition_event(*rec, std::nullopt, hit ? "cache hit" : "submitted"));
  st.outbox.push_back(std::move(w));
  if (!hit) {
    auto& job = st.active[rec->id] = active_job{rec, nullptr, {}, false, false, false};
    track_dependencies(self, job);
  }
  after(st, [self, rec, created = rec->status, reply = std::move(m.reply)](bool ok) {
    if (!ok) return reply({errc::store_failure, {}, "the store could not make the job durable", {}, 0, false});
    std::size_t position = 0;
    auto& st = self->state;
    // A cancel may have overtaken the write; only a still-pending job queues.
    if (auto it = st.active.find(rec->id); it != st.active.end())
      if (auto pos = make_ready(self, it->second)) {
        position = *pos;
        dispatch(self);
      }
    reply({errc::ok, rec->id, {}, {}, position, false, created});
  });
}

/// Answers a submit whose idempotency key already belongs to `owner`.
void answer_claimed(submit_job& m, const std::string& owner, std::uint64_t owner_hash,
                    std::optional<job_status> status) {
  if (owner_hash == m.record->spec_hash) {
    m.reply({errc::ok, owner, {}, {}, 0, true, status});
  } else {
    m.reply({errc::conflict, owner,
             "idempotency key \"" + m.record->idempotency_key + "\" was used by job " + owner +
               " with a different spec",
             {{"idempotency_key", "already used by " + owner + " with a different spec"}}, 0, false});
  }
}

void recover(self_ptr self, recover_jobs& m) {
  auto& st = self->state;
  const auto now = clock::now();
  for (auto& b : m.batches) {
    const auto id = b.id;  // the assignment's right side (the move) is evaluated first
    st.batches[id] = batch_state{std::move(b), 0, {}, 0};
  }
  std::vector<std::string> pending;
  for (auto& r : m.jobs) {
    auto rec = std::make_shared<job_record>(std::move(r));
    if (is_terminal(rec->status)) continue;
    auto& job = st.active[rec->id] = active_job{rec, nullptr, {}, false, false, false};
    if (auto b = st.batches.find(rec->batch_id); b != st.batches.end()) {
      ++b->second.unfinished;
      // Queued, running or retrying jobs held a slot before the crash.
      if (rec->status != job_status::pending || rec->attempt > 0) {
        job.admitted = true;
        ++b->second.admitted;
      }
    }
  }
  for (auto& [id, job] : st.active) {
    auto& rec = *job.record;
    for (const auto& dep : rec.depends_on) {
      if (st.active.contains(dep)) {
        job.waiting_on.insert(dep);
        st.dependents[dep].push_back(id);
      } else if (auto f = m.finished_deps.find(dep); f == m.finished_deps.end() || f->second != job_status::completed) {
        job.waiting_on.insert(dep);  // resolved just below
      }
    }
  }
  for (auto& [id, job] : st.active) {
    auto& rec = *job.record;
    switch (rec.status) {
      case job_status::running:
        // It was running when the engine went away: a new attempt resumes
        // from the last checkpoint. The engine's crash is not the job's
        // failure, so the interrupted attempt does not use up its retries.
        rec.retry_base += 1;
        change_status(st, job, job_status::pending, "interrupted");
        engine_log(st, rec, log_level::warning,
                   "attempt " + std::to_string(rec.attempt) +
                     " was interrupted by an engine restart; it runs again" +
                     (rec.checkpoint ? " from its last checkpoint" : " from the start (no checkpoint was saved)") +
                     ", without using up a retry");
        pending.push_back(id);
        break;
      case job_status::pending:
        pending.push_back(id);
        break;
      case job_status::retrying:
        if (rec.next_attempt_at && *rec.next_attempt_at > now) {
          self->delayed_send(self, *rec.next_attempt_at - now, backoff_elapsed{rec.id, rec.attempt});
        } else {
          change_status(st, job, job_status::pending, "backoff elapsed");
          pending.push_back(id);
        }
        break;
      case job_status::completed:
      case job_status::failed:
      case job_status::cancelled:
      case job_status::timed_out:
        break;
    }
  }
  // Oldest first, so FIFO order survives the restart.
  std::sort(pending.begin(), pending.end());
  // A dependency that finished without completing fails its dependents.
  for (const auto& id : pending) {
    auto j = st.active.find(id);
    if (j == st.active.end() || j->second.record->status != job_status::pending) continue;
    for (const auto& dep : j->second.waiting_on) {
      if (st.active.contains(dep)) continue;
      auto f = m.finished_deps.find(dep);
      fail_pending(self, j->second,
                   "dependency " + dep + " " +
                     std::string{f == m.finished_deps.end() ? "no longer exists" : to_string(f->second)});
      break;
    }
  }
  for (const auto& id : pending)
    if (auto j = st.active.find(id); j != st.active.end()) make_ready(self, j->second);
}

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
    [=](submit_batch& m) { m.reply({errc::not_running, {}, {}, "the engine is stopping", {}}); },
    [=](cancel_job& m) { m.reply({errc::not_running, "the engine is stopping", {}}); },
    [=](cancel_batch& m) { m.reply({errc::not_running, "the engine is stopping", {}}); },
    [=](retry_job& m) { m.reply({errc::not_running, "the engine is stopping", {}}); },
    [=](save_checkpoint& m) { m.done(false); },
    [=](record_process& m) { m.done(false); },
    [=](get_stats& m) { m.reply({}); },
    [=](resume_tool& m) { m.reply(false); },
    [=](pause_tool& m) { m.reply(false); },
    [=](expire_jobs& m) { m.done(0); },
  };
}

caf::behavior running_behavior(self_ptr self) {
  return {
    [=](recover_jobs& m) {
      recover(self, m);
      if (m.done) after(self->state, std::move(m.done));
      dispatch(self);
      flush(self);
    },
    [=](submit_job& m) {
      auto& st = self->state;
      const auto key = m.record->idempotency_key;
      if (key.empty()) {
        create_job(self, std::move(m));
        return flush(self);
      }
      // Submits with the same key are answered in order, against the one
      // job that owns it: look the key up behind our writes, once.
      auto [it, fresh] = st.keys.try_emplace(key);
      it->second.waiters.push_back(std::move(m));
      if (!fresh) return;
      caf::actor me = caf::actor_cast<caf::actor>(self);
      st.deps.writer->read([me, store = st.deps.store, key] {
        key_loaded loaded{key, std::nullopt, {}};
        try {
          if (auto id = store->index_value(persistence::keys::idempotency(key)))
            loaded.owner = store->get_job(*id);
        } catch (const overseer::error& e) {
          loaded.error = e.what();
        }
        caf::anon_send(me, std::move(loaded));
      });
    },
    [=](key_loaded& m) {
      auto& st = self->state;
      auto it = st.keys.find(m.key);
      if (it == st.keys.end()) return;
      auto waiters = std::move(it->second.waiters);
      if (!m.error.empty()) {
        st.keys.erase(it);
        for (auto& w : waiters) w.reply({errc::store_failure, {}, m.error, {}, 0, false});
        return;
      }
      if (m.owner) {
        st.keys.erase(it);
        for (auto& w : waiters) answer_claimed(w, m.owner->id, m.owner->spec_hash, m.owner->status);
        return;
      }
      // The first submit creates the job; the rest are answered against it
      // once it is durable, and then the store answers for the key.
      auto& claim = it->second;
      claim.owner = waiters.front().record->id;
      claim.hash = waiters.front().record->spec_hash;
      create_job(self, std::move(waiters.front()));
      after(st, [self, key = m.key, rest = std::vector<submit_job>(std::make_move_iterator(waiters.begin() + 1),
                                                                   std::make_move_iterator(waiters.end()))](
                  bool ok) mutable {
        auto& st = self->state;
        auto c = st.keys.find(key);
        if (c == st.keys.end()) return;
        if (!ok) {
          // The owner never became durable: nobody may be told it exists.
          const submit_result failed{errc::store_failure, {}, "the store could not make the job durable", {}, 0, false};
          for (auto& w : rest) w.reply(failed);
          for (auto& w : c->second.waiters) w.reply(failed);
          st.keys.erase(c);
          return;
        }
        std::optional<job_status> status;
        if (auto a = st.active.find(c->second.owner); a != st.active.end()) status = a->second.record->status;
        for (auto& w : rest) answer_claimed(w, c->second.owner, c->second.hash, status);
        for (auto& w : c->second.waiters) answer_claimed(w, c->second.owner, c->second.hash, status);
        st.keys.erase(c);
      });
      flush(self);
    },
    [=](submit_batch& m) {
      auto& st = self->state;
      batch_state b{m.batch, 0, {}, m.jobs.size()};
      job_write bw;
      bw.ops.push_back(kv_op{kv_op::kind::put, persistence::family::batches, m.batch.id, persistence::encode(m.batch)});
      st.outbox.push_back(std::move(bw));
      st.batches[m.batch.id] = std::move(b);
      std::vector<std::string> ids;
      for (auto& rec : m.jobs) {
        ids.push_back(rec->id);
        create_job(self, submit_job{rec, [](submit_result) {}, std::nullopt});
      }
      after(st, [reply = std::move(m.reply), id = m.batch.id, ids](bool ok) {
        if (!ok) return reply({errc::store_failure, {}, {}, "the store could not make the batch durable", {}});
        reply({errc::ok, id, ids, {}, {}});
      });
      flush(self);
    },
    [=](cancel_job& m) {
      auto& st = self->state;
      auto it = st.active.find(m.job_id);
      if (it == st.active.end()) {
        // Not active: finished or unknown. Ask the store, behind our writes.
        st.deps.writer->read([store = st.deps.store, id = m.job_id, reply = std::move(m.reply)] {
          try {
            auto rec = store->get_job(id);
            if (!rec) reply({errc::not_found, "no job " + id, {}});
            else reply(conflict(*rec, "only pending, retrying or running jobs can be cancelled"));
          } catch (const overseer::error& e) {
            reply({errc::store_failure, e.what(), {}});
          }
        });
        return;
      }
      auto rec = it->second.record;
      cancel_active(self, it->second, "cancelled by " + m.by);
      after(st, [rec, reply = std::move(m.reply)](bool ok) {
        if (!ok) reply({errc::store_failure, "the store could not make the cancel durable", {}});
        else reply({errc::ok, {}, persistence::to_view(*rec, std::nullopt)});
      });
      flush(self);
    },
    [=](cancel_batch& m) {
      auto& st = self->state;
      auto it = st.batches.find(m.batch_id);
      if (it == st.batches.end()) {
        st.deps.writer->read([store = st.deps.store, id = m.batch_id, reply = std::move(m.reply)] {
          try {
            if (!store->get_batch(id)) reply({errc::not_found, "no batch " + id, {}});
            else reply({errc::conflict, "every job of batch " + id + " has finished", {}});
          } catch (const overseer::error& e) {
            reply({errc::store_failure, e.what(), {}});
          }
        });
        return;
      }
      auto record = it->second.record;
      record.cancelled = true;
      job_write bw;
      bw.ops.push_back(kv_op{kv_op::kind::put, persistence::family::batches, record.id, persistence::encode(record)});
      st.outbox.push_back(std::move(bw));
      it->second.record.cancelled = true;
      it->second.waiting.clear();
      for (const auto& id : record.job_ids)
        if (auto j = st.active.find(id); j != st.active.end())
          cancel_active(self, j->second, "batch cancelled by " + m.by);
      after(st, [reply = std::move(m.reply)](bool ok) {
        if (!ok) reply({errc::store_failure, "the store could not make the cancel durable", {}});
        else reply({errc::ok, {}, std::nullopt});
      });
      flush(self);
    },
    [=](deps_loaded& m) {
      auto& st = self->state;
      auto it = st.active.find(m.job_id);
      if (it == st.active.end()) return;
      auto& job = it->second;
      job.deps_loading = false;
      for (const auto& [dep, status] : m.deps) {
        if (st.active.contains(dep)) {
          // Retried meanwhile: wait for it like any active dependency.
          job.waiting_on.insert(dep);
          st.dependents[dep].push_back(m.job_id);
        } else if (!status || *status != job_status::completed) {
          fail_pending(self, job, "dependency " + dep + " " +
                                    (status ? std::string{to_string(*status)} : std::string{"no longer exists"}));
          return flush(self);
        }
      }
      if (make_ready(self, job)) dispatch(self);
      flush(self);
    },
    [=](expire_jobs& m) {
      auto& st = self->state;
      std::size_t n = 0;
      for (std::size_t i = 0; i < m.ids.size(); ++i) {
        // Revived by an explicit retry since the janitor read it: keep it.
        if (st.active.contains(m.ids[i]) || st.retry_loading.contains(m.ids[i])) continue;
        st.outbox.push_back(std::move(m.deletions[i]));
        ++n;
      }
      after(st, [n, done = std::move(m.done)](bool ok) { done(ok ? n : 0); });
      flush(self);
    },
    [=](run_at_reached& m) {
      auto& st = self->state;
      if (auto it = st.active.find(m.job_id); it != st.active.end()) {
        it->second.timer_set = false;
        if (make_ready(self, it->second)) dispatch(self);
        flush(self);
      }
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
      st.deps.writer->read([me, store = st.deps.store, id = m.job_id, reply = std::move(m.reply), by = m.by] {
        retry_loaded loaded{id, std::nullopt, reply, std::nullopt, by};
        try {
          loaded.record = store->get_job(id);
          if (loaded.record && !loaded.record->batch_id.empty()) loaded.batch = store->get_batch(loaded.record->batch_id);
        } catch (const overseer::error& e) {
          loaded.error = e.what();
        }
        caf::anon_send(me, std::move(loaded));
      });
    },
    [=](retry_loaded& m) {
      auto& st = self->state;
      st.retry_loading.erase(m.job_id);
      if (!m.error.empty()) {
        m.reply({errc::store_failure, m.error, {}});
        return;
      }
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
      rec->depends_on.clear();  // an explicit retry runs now, whatever its dependencies did
      auto& job = st.active[rec->id] = active_job{rec, nullptr, {}, false, false, false};
      // Back in its batch: counted as unfinished, subject to its limit again.
      if (!rec->batch_id.empty()) {
        if (auto b = st.batches.find(rec->batch_id); b != st.batches.end()) ++b->second.unfinished;
        else if (m.batch) st.batches[rec->batch_id] = batch_state{std::move(*m.batch), 0, {}, 1};
      }
      change_status(st, job, job_status::pending, "retried by " + m.by);
      engine_log(st, *rec, log_level::info, "retried by " + m.by + ": a new retry budget of " +
                                               std::to_string(rec->retry.max_attempts) + " attempts");
      auto snapshot = std::make_shared<job_record>(*rec);
      after(st, [self, snapshot, reply = std::move(m.reply)](bool ok) {
        if (!ok) return reply({errc::store_failure, "the store could not make the retry durable", {}});
        auto& st = self->state;
        if (auto it = st.active.find(snapshot->id); it != st.active.end())
          if (make_ready(self, it->second)) dispatch(self);
        reply({errc::ok, {}, persistence::to_view(*snapshot, std::nullopt)});
      });
      flush(self);
    },
    [=](attempt_finished& m) {
      auto& st = self->state;
      const runner* reporter = nullptr;
      for (auto& [addr, r] : st.runners)
        if (r.job_id == m.job_id && r.attempt == m.attempt) {
          r.reported = true;
          reporter = &r;
        }
      auto* job = running_attempt(st, m.job_id, m.attempt);
      if (!job) {
        // Stale: the attempt was cancelled, timed out or superseded. How its
        // tool stopped (killed after the grace period?) still belongs in the
        // job's log.
        if (reporter && m.result->what() == tool_result::kind::stopped && !m.result->message().empty()) {
          event e;
          e.job_id = m.job_id;
          e.kind = event_kind::log;
          e.at = clock::now();
          e.attempt = m.attempt;
          e.tool = reporter->tool;
          e.batch_id = reporter->batch_id;
          e.level = log_level::warning;
          e.message = "attempt " + std::to_string(m.attempt) + " stopped: " + m.result->message();
          e.component = "engine";
          job_write w;
          w.events.push_back(std::move(e));
          st.outbox.push_back(std::move(w));
          flush(self);
        }
        return;
      }
      using supervision::attempt_outcome;
      switch (m.result->what()) {
        case tool_result::kind::value:
          job->record->error.clear();
          end_attempt(self, *job, attempt_outcome::completed, "completed", boost::json::serialize(m.result->value()));
          break;
        case tool_result::kind::failure:
          end_attempt(self, *job, attempt_outcome::failed, m.result->message(), std::nullopt);
          break;
        case tool_result::kind::crashed:
          end_attempt(self, *job, attempt_outcome::crashed, m.result->message(), std::nullopt);
          break;
        case tool_result::kind::stopped:
          end_attempt(self, *job, attempt_outcome::failed, "tool stopped without a stop request", std::nullopt);
          break;
      }
      flush(self);
    },
    [=](attempt_exited& m) {
      auto& st = self->state;
      auto it = st.runners.find(m.runner);
      if (it == st.runners.end()) return;
      auto r = std::move(it->second);
      st.runners.erase(it);
      st.queue.finished(r.tool);
      if (r.has_process) {
        // The tool returned, so its process group is gone.
        job_write w;
        w.ops.push_back(kv_op{kv_op::kind::erase, persistence::family::index,
                              std::string{persistence::keys::process_prefix} + r.job_id, {}});
        st.outbox.push_back(std::move(w));
      }
      // run_attempt reports every outcome, a throwing body included, so this
      // is a defect of the engine: still, the job must not stay running.
      if (!r.reported)
        if (auto* job = running_attempt(st, r.job_id, r.attempt))
          end_attempt(self, *job, supervision::attempt_outcome::crashed, "the attempt ended without a result",
                      std::nullopt);
      dispatch(self);
      flush(self);
    },
    [=](progress_reported& m) {
      auto& st = self->state;
      auto* job = running_attempt(st, m.job_id, m.attempt);
      if (!job) return;
      job->record->progress = m.value;
      auto e = make_event(*job->record, event_kind::progress);
      e.progress = std::move(m.value);
      job_write w;
      w.record.emplace(*job->record);
      w.previous_status = job_status::running;
      w.events.push_back(std::move(e));
      st.outbox.push_back(std::move(w));
      flush(self);
    },
    [=](log_reported& m) {
      auto& st = self->state;
      auto* job = running_attempt(st, m.job_id, m.attempt);
      if (!job) return;
      auto e = make_event(*job->record, event_kind::log);
      e.level = m.level;
      e.message = std::move(m.message);
      e.component = "tool";
      job_write w;
      w.events.push_back(std::move(e));
      st.outbox.push_back(std::move(w));
      flush(self);
    },
    [=](save_checkpoint& m) {
      auto& st = self->state;
      auto* job = running_attempt(st, m.job_id, m.attempt);
      if (!job) return m.done(false);
      job->record->checkpoint = std::move(m.bytes);
      job_write w;
      w.record.emplace(*job->record);
      w.previous_status = job_status::running;
      st.outbox.push_back(std::move(w));
      after(st, std::move(m.done));
      flush(self);
    },
    [=](record_process& m) {
      auto& st = self->state;
      auto* job = running_attempt(st, m.job_id, m.attempt);
      if (!job) return m.done(false);
      job->record->process_group = m.process_group;
      job->record->process_start = m.start_time;
      for (auto& [addr, r] : st.runners)
        if (r.job_id == m.job_id && r.attempt == m.attempt) r.has_process = true;
      job_write w;
      w.record.emplace(*job->record);
      w.previous_status = job_status::running;
      // Kept until the tool returns, whatever happens to the job meanwhile:
      // after a crash, recovery kills what this names.
      w.ops.push_back(kv_op{kv_op::kind::put, persistence::family::index,
                            std::string{persistence::keys::process_prefix} + m.job_id,
                            std::to_string(m.process_group) + " " + std::to_string(m.start_time)});
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
      if (make_ready(self, it->second)) dispatch(self);
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
      std::unordered_map<std::string, std::size_t> retrying;
      for (const auto& [id, job] : st.active)
        if (job.record->status == job_status::retrying) {
          ++s.waiting;
          ++retrying[job.record->tool];
        }
      for (const auto& def : st.deps.tools->list()) {
        tool_health h;
        h.name = def.name;
        h.running = st.queue.running(def.name);
        h.queued = st.queue.queued_count(def.name);
        if (auto p = st.paused.find(def.name); p != st.paused.end()) {
          h.paused = true;
          h.paused_reason = p->second;
        }
        if (auto it = st.intensity.find(def.name); it != st.intensity.end())
          h.recent_failures = it->second.recent(steady::now());
        if (auto r = retrying.find(def.name); r != retrying.end()) h.retrying = r->second;
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
    [=](pause_tool& m) {
      auto& st = self->state;
      const bool known = st.deps.tools->find(m.name) != nullptr;
      if (known && st.paused.emplace(m.name, m.reason).second)
        report(st.deps.config.log, log_level::warning, "scheduler", "pausing a tool: " + m.reason, {{"tool", m.name}});
      m.reply(known);
    },
    [=](shut_down) {
      auto& st = self->state;
      // Attempts stay "running" in the store; the next start re-queues them
      // as interrupted. Their results, if any arrive, are no longer wanted.
      st.stopping = true;
      for (auto& [id, job] : st.active)
        if (job.control) job.control->request_stop();
      self->set_default_handler(caf::drop);  // late reports of stopped attempts
      self->become(stopping_behavior(self));
    },
  };
}

caf::behavior scheduler(self_ptr self, scheduler_deps deps) {
  auto& st = self->state;
  st.deps = std::move(deps);
  st.queue = scheduler_state{std::max(1, st.deps.config.max_concurrent)};
  return running_behavior(self);
}

}  // namespace

caf::actor spawn_scheduler(caf::actor_system& system, scheduler_deps deps) {
  return system.spawn(scheduler, std::move(deps));
}

}  // namespace overseer::actors
