#include "actors/scheduler.hpp"

#include <limits>
#include <random>
#include <unordered_map>
#include <set>
#include <unordered_set>

#include "actors/batch_admission.hpp"
#include "actors/dependency_graph.hpp"
#include "actors/held_record.hpp"
#include "actors/idempotency_claims.hpp"
#include "actors/job_actor.hpp"
#include "actors/job_writes.hpp"
#include "actors/node_table.hpp"
#include "actors/pending_writes.hpp"
#include "actors/scheduler_state.hpp"
#include "actors/supervision.hpp"
#include "persistence/key_layout.hpp"
#include "persistence/record_view.hpp"

namespace overseer::actors {

namespace {

using persistence::job_record;
using persistence::job_write;
using persistence::kv_op;
using steady = std::chrono::steady_clock;

/// An unfinished job as the scheduler knows it.
struct job_entry {
  /// The job's record. Once its job actor holds it (admitted), the actor
  /// alone changes it and the scheduler reads only what never changes after
  /// creation (id, tool, batch, priority, dependencies, run_at). Packed
  /// while the job waits deep in the queue (make_ready): read it through
  /// record().
  held_record held;
  /// The status as the scheduler knows it: its own changes, then what the
  /// job actor reports (attempt_ended, job_ready).
  job_status status = job_status::pending;
  job_actor actor;            ///< its job actor, once admitted
  bool deps_loading = false;  ///< a store read of dependencies is under way
  bool timer_set = false;     ///< a run_at timer is pending
  bool admitted = false;      ///< holds one of its batch's places
  bool restarting = false;    ///< its actor died; its snapshot is being read
  /// An attempt of it was started here (or it was retried): the body of an
  /// ended attempt may still be running.
  bool ran = false;
  int restarts = 0;           ///< times its actor was restarted
  /// Cancels that arrived while restarting: (reason, reply).
  std::vector<std::pair<std::string, change_reply>> held_cancels;

  const std::shared_ptr<job_record>& record() { return held.get(); }
};

/// An attempt whose tool body has not returned yet: it holds a slot, even
/// after its job ended (a cancelled or timed-out body keeps it until it
/// returns).
struct runner {
  std::string job_id;
  std::string tool;
  std::shared_ptr<attempt_control> control;
  std::string owner{};  ///< the job's principal: its slot counts toward its max_running
  bool immediate = false;  ///< holds a slot of the immediate pool
  std::string node{};      ///< in a cluster: the node whose slot it holds
  std::uint64_t session = 0;  ///< that node's membership
};

}  // namespace

struct scheduler_data {
  static inline const char* name = "overseer.scheduler";

  std::shared_ptr<const scheduler_deps> deps;
  scheduler_state queue{1};
  std::unordered_map<std::string, job_entry> active;
  std::unordered_map<caf::actor_id, std::string> actors;  ///< job actor -> its job
  std::unordered_map<std::uint64_t, runner> runners;
  std::uint64_t next_runner = 0;
  std::unordered_set<std::string> retry_loading;
  /// Pending jobs held out of the queue until the body of their last
  /// attempt returns (attempt_exited).
  std::unordered_set<std::string> awaiting_exit;
  std::unordered_map<std::string, supervision::restart_intensity> intensity;
  /// Paused tools: why, and since when.
  std::unordered_map<std::string, std::pair<std::string, time_point>> paused;
  batch_admission batches;
  dependency_graph graph;
  idempotency_claims keys;
  pending_writes writes;
  /// Messages to job actors, sent after the flush of the writes decided
  /// with them: a job actor's own writes must come after ours.
  std::vector<std::function<void()>> sends;
  bool stopping = false;  ///< no new attempts; running ones stay "running" in the store
  bool holding = false;   ///< a drain: no new attempts; running ones go on (hold_attempts)
  /// In a cluster (config.cluster.listen set): the nodes, this one included,
  /// whose capacities are the slots.
  bool clustered = false;
  node_table nodes;
  /// Jobs taken off the queue whose node_selector no node with room
  /// matched: queued again when a node joins or a slot frees.
  std::set<std::string> waiting_node;
};

namespace {

using self_ptr = scheduler_actor::stateful_pointer<scheduler_data>;

const scheduler_deps& deps(self_ptr self) { return *self->state.deps; }

void flush(self_ptr self) {
  auto& st = self->state;
  st.writes.flush(*st.deps->writer, caf::actor_cast<scheduler_actor>(self));
  while (!st.sends.empty()) {
    auto sends = std::exchange(st.sends, {});
    for (auto& s : sends) s();
  }
}

template <class Message>
void tell(self_ptr self, const job_actor& actor, Message m) {
  self->state.sends.push_back([self, actor, m = std::move(m)]() mutable { self->send(actor, std::move(m)); });
}

/// Changes a job the scheduler holds (never one a job actor holds).
/// `said`: the engine's lines about the change, written ahead of it.
bool change(self_ptr self, job_entry& e, job_status to, std::string reason, std::vector<engine_says> said = {}) {
  auto w = change_status(*e.record(), to, std::move(reason));
  if (!w) return false;
  say_before(*w, *e.record(), std::move(said));
  e.status = to;
  self->state.writes.add(std::move(*w));
  return true;
}

void line(self_ptr self, const job_record& rec, log_level level, std::string message) {
  self->state.writes.add(engine_line(rec, level, std::move(message)));
}

scheduler_state::tool_rules tool_rules(self_ptr self, const std::string& tool) {
  auto entry = deps(self).tools->find(tool);
  if (!entry) return {};
  return {entry->definition.max_concurrent, entry->definition.mode == tool_mode::immediate};
}

/// In a cluster, whether only this node may run `tool`: an immediate tool,
/// or one that reads or writes the stored files of this node (a param of
/// type "file", declared outputs).
bool local_only(const tool_definition& def) {
  if (def.mode == tool_mode::immediate || !def.outputs.empty()) return true;
  for (const auto& [name, entry] : def.params) {
    const auto* type = entry.is_object() ? entry.get_object().if_contains("type") : nullptr;
    if (type && type->is_string() && type->get_string() == "file") return true;
  }
  return false;
}

/// In a cluster, the node the next attempt of `tool` goes to; none while
/// no node has room for it.
const node_table::node* node_for(self_ptr self, const std::string& tool,
                                 const std::map<std::string, std::string>& selector = {}) {
  auto entry = deps(self).tools->find(tool);
  if (!entry) return self->state.nodes.pick(tool, {}, true);  // fails before it runs, here
  return self->state.nodes.pick(tool, entry->definition.version, local_only(entry->definition), selector);
}

/// The nodes changed (`change`, if one joined or was lost): the engine's
/// copy (job views' waiting_on) and its watchers (the stream) follow.
void nodes_changed(self_ptr self, std::optional<node_change> change = std::nullopt) {
  if (const auto& f = deps(self).on_nodes) f(self->state.nodes.views(), std::move(change));
}

/// Hands the job's record to a new job actor and supervises it; `first`:
/// the slot of the attempt it starts at once.
void spawn(self_ptr self, job_entry& e, std::optional<start_attempt> first = std::nullopt) {
  auto& st = self->state;
  e.actor = spawn_job_actor(*self,
                            {st.deps, caf::actor_cast<scheduler_actor>(self), e.record(), std::move(first)});
  self->monitor(e.actor);
  st.actors[e.actor.id()] = e.record()->id;
}

/// Grants `id` a slot: its job actor starts the next attempt.
void start(self_ptr self, const std::string& id) {
  auto& st = self->state;
  auto it = st.active.find(id);
  if (it == st.active.end()) return;
  auto& e = it->second;
  const bool immediate = tool_rules(self, e.record()->tool).immediate;
  const node_table::node* n = nullptr;
  if (st.clustered && !immediate) {
    // dispatch popped it only if some node has room for its tool; its
    // node_selector may still rule every such node out: then it waits
    // aside until a node joins or a slot frees.
    n = node_for(self, e.record()->tool, e.record()->node_selector);
    if (!n) {
      st.waiting_node.insert(id);
      return;
    }
  }
  auto control = std::make_shared<attempt_control>();
  const auto runner_id = ++st.next_runner;
  start_attempt grant{runner_id, control};
  if (n) {
    if (!n->view.local) {
      grant.node = n->view.name;
      grant.worker = n->worker;
      grant.session = n->session;
    } else {
      grant.node = n->view.name;
    }
    st.nodes.started(grant.node, grant.session);
  }
  st.runners.emplace(runner_id,
                     runner{id, e.record()->tool, control, e.record()->owner, immediate, grant.node, grant.session});
  st.queue.started(e.record()->tool, e.record()->owner, immediate);
  e.status = job_status::running;
  e.ran = true;
  if (e.actor) {
    tell(self, e.actor, std::move(grant));
    return;
  }
  // Admission: the scheduler writes the first start of a job it holds (so
  // starts granted together are stored in the order granted), then hands
  // the running record to the job's new actor, which runs the attempt at
  // once. Spawned after the flush, as any message to a job actor: its own
  // writes must come after ours.
  e.record()->node = grant.node;  // where the attempt runs, in its transition
  if (auto w = begin_attempt(*e.record())) st.writes.add(std::move(*w));
  st.sends.push_back([self, id, first = std::move(grant)]() mutable {
    auto& st = self->state;
    auto it = st.active.find(id);
    if (it == st.active.end() || st.stopping) {
      // Gone meanwhile, or the engine stops: the slot goes back unused.
      self->send(self, attempt_exited{first.runner, 0, false, std::nullopt, nullptr});
      return;
    }
    spawn(self, it->second, std::move(first));
  });
}


std::optional<std::size_t> make_ready(self_ptr self, job_entry& e, std::string* as_encoded = nullptr);

/// Whether a tool body of job `id` has not returned yet: an ended attempt's
/// (timed out, cancelled, its job actor restarted), told to stop and still
/// within its kill grace. Its runner holds a slot until it returns.
bool body_running(const scheduler_data& st, const std::string& id) {
  for (const auto& [runner_id, r] : st.runners)
    if (r.job_id == id) return true;
  return false;
}

/// A job queued while this many others wait is held encoded until it
/// starts (a cancel or another read decodes it sooner). Many enough that a
/// queue kept short by a fast drain (a burst of submits in flight) never
/// pays for an encode and a decode per job, few enough that the records
/// held whole cost a few MiB at most. The whole queue counts, not the
/// job's position: with many principals a job's position (its own
/// principal's jobs ahead) stays small in a queue of millions.
constexpr std::size_t pack_when_waiting = 4096;

void dispatch(self_ptr self) {
  auto& st = self->state;
  if (st.stopping || st.holding) return;
  // Jobs set aside for their node_selector try again (a node joined, a slot
  // freed); those still without a node are set aside again below.
  for (const auto& id : std::exchange(st.waiting_node, {}))
    if (auto it = st.active.find(id); it != st.active.end()) make_ready(self, it->second);
  // Fail-stop: an attempt could never record its end.
  if (!deps(self).writer->healthy()) return;
  auto rules = [&](const std::string& tool) { return tool_rules(self, tool); };
  auto paused = [&](const std::string& tool) {
    // In a cluster a tool that no node has room for waits like a paused one.
    return st.paused.contains(tool) ||
           (st.clustered && !tool_rules(self, tool).immediate && !node_for(self, tool));
  };
  if (const auto& shares = deps(self).config.shares) st.queue.refresh(*shares);
  while (auto id = st.queue.pop_next(rules, paused)) start(self, *id);
  // Idle workers poll only while the queue keeps up: while a long queue
  // drains their polls take the cores from the writer and the tools.
  if (const auto& gate = deps(self).idle_spin_gate)
    gate->store(st.queue.queue_size() < static_cast<std::size_t>(st.queue.max_running()), std::memory_order_relaxed);
}

/// Queues a pending job unless something still holds it back: unmet
/// dependencies, a run_at in the future, or its batch at its parallel limit.
/// Returns the position in the queue (jobs ahead), if it was queued.
/// `as_encoded`, if given: the record's encoded bytes as it is now.
std::optional<std::size_t> make_ready(self_ptr self, job_entry& e, std::string* as_encoded) {
  auto& st = self->state;
  // Packed only while queued: no need to decode it to find that out.
  if (e.status != job_status::pending || e.restarting || e.held.packed()) return std::nullopt;
  auto& rec = *e.record();
  if (st.queue.queued(rec.id)) return std::nullopt;
  if (st.graph.waiting(rec.id) || e.deps_loading) return std::nullopt;
  // One attempt of a job at a time: the next one waits until the last one's
  // body has returned, so two never write the same work directory or output
  // at once, and the process group recorded for recovery is the one running.
  if (e.ran && body_running(st, rec.id)) {
    // Retried while its cancelled attempt's body still runs: the job's log
    // says why it stays pending. (A job actor says so itself.)
    if (st.awaiting_exit.insert(rec.id).second && !e.actor)
      line(self, rec, log_level::warning, waits_for_body(rec.attempt));
    return std::nullopt;
  }
  if (!e.actor && rec.run_at) {
    const auto now = clock::now();
    if (*rec.run_at > now) {
      if (!e.timer_set) {
        e.timer_set = true;
        self->delayed_send(self, *rec.run_at - now, run_at_reached{rec.id});
      }
      return std::nullopt;
    }
  }
  if (!rec.batch_id.empty() && !e.admitted) {
    if (!st.batches.admit(rec.batch_id, rec.id)) return std::nullopt;
    e.admitted = true;
  }
  const auto position = st.queue.enqueue(rec.id, rec.tool, rec.priority, rec.owner);
  // Behind a long queue it waits long: it waits encoded (held_record). In a
  // short one it starts soon, and decoding it then would be wasted work.
  if (!e.actor && st.queue.queue_size() > pack_when_waiting) {
    if (as_encoded && !as_encoded->empty()) e.held.pack(std::move(*as_encoded));
    else e.held.pack();
  }
  return position;
}

void on_terminal(self_ptr self, const job_record& rec, bool admitted);

/// Ends a job the scheduler holds that never ran (a failed dependency).
void fail_pending(self_ptr self, const std::string& id, std::string reason) {
  auto& st = self->state;
  auto it = st.active.find(id);
  if (it == st.active.end() || it->second.actor || it->second.restarting) return;
  auto& e = it->second;
  auto rec = e.record();
  const bool admitted = e.admitted;
  rec->error = reason;
  st.queue.remove(rec->id);
  std::string text = "failed before it ran: " + reason;
  if (!change(self, e, job_status::failed, std::move(reason), {{log_level::error, std::move(text)}})) return;
  st.active.erase(it);
  on_terminal(self, *rec, admitted);
}

/// Cancels an unfinished job: the scheduler's own, or through its actor.
/// `reply` (may be empty) gets the answer once the cancel is durable.
void cancel_active(self_ptr self, const std::string& id, std::string reason, change_reply reply = {}) {
  auto& st = self->state;
  auto it = st.active.find(id);
  if (it == st.active.end()) return;
  auto& e = it->second;
  if (e.restarting) {
    e.held_cancels.emplace_back(std::move(reason), std::move(reply));
    return;
  }
  st.queue.remove(id);
  if (e.actor) {
    // Answered even if the actor has finished and gone meanwhile.
    guarded_reply guarded;
    if (reply)
      guarded = guarded_reply{std::move(reply),
                              {errc::conflict,
                               "job " + id + " has finished; only pending, retrying or running jobs can be cancelled",
                               std::nullopt}};
    tell(self, e.actor, stop_job{std::move(reason), std::move(guarded)});
    return;
  }
  auto rec = e.record();
  const bool admitted = e.admitted;
  std::string text = reason;
  if (!change(self, e, job_status::cancelled, std::move(reason), {{log_level::warning, std::move(text)}})) {
    if (reply) reply(conflict(*rec, "only pending, retrying or running jobs can be cancelled"));
    return;
  }
  st.active.erase(it);
  on_terminal(self, *rec, admitted);
  if (reply)
    st.writes.after([rec, reply = std::move(reply)](bool ok) {
      if (!ok) reply({errc::store_failure, "the store could not make the cancel durable", {}});
      else reply({errc::ok, {}, persistence::to_view(*rec, std::nullopt)});
    });
}

/// Whatever follows a job becoming terminal: its batch place, fail-fast,
/// and the jobs that depend on it. The job is no longer in `active`.
void on_terminal(self_ptr self, const job_record& rec, bool admitted) {
  auto& st = self->state;
  st.graph.forget(rec.id);
  if (!rec.batch_id.empty()) {
    // Cancelling the others re-enters here for each of them.
    const auto ending = st.batches.finished(rec.batch_id, rec.status, admitted);
    for (const auto& other : ending.cancel)
      if (other != rec.id)
        cancel_active(self, other, "batch fail-fast: job " + rec.id + " " + std::string{to_string(rec.status)});
    // Admit the next jobs of the batch, in list order.
    while (auto next = st.batches.next_admissible(rec.batch_id))
      if (auto j = st.active.find(*next); j != st.active.end()) make_ready(self, j->second);
  }
  const bool completed = rec.status == job_status::completed;
  for (const auto& id : st.graph.resolve(rec.id, completed)) {
    auto j = st.active.find(id);
    if (j == st.active.end()) continue;
    if (completed) make_ready(self, j->second);
    // And so on down the chain: this failure ends its own dependents.
    else fail_pending(self, id, "dependency " + rec.id + " " + std::string{to_string(rec.status)});
  }
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

/// The tool's own supervision strategy, or the engine's.
supervision_strategy strategy_of(self_ptr self, const std::string& tool) {
  const auto& cfg = deps(self).config;
  if (auto entry = deps(self).tools->find(tool); entry && entry->definition.supervision)
    return *entry->definition.supervision;
  return {cfg.max_failures, cfg.failure_window, cfg.intensity};
}

/// Pauses `tool` (false: it was paused already) and stores the pause, so
/// that it outlives a restart. A pause it had is stored again, unchanged:
/// whoever waits for this write waits for the first one too.
bool pause(self_ptr self, const std::string& tool, std::string why) {
  auto& st = self->state;
  const auto [it, paused] = st.paused.try_emplace(tool, std::move(why), clock::now());
  job_write w;
  w.ops.push_back(kv_op{kv_op::kind::put, persistence::family::index, persistence::keys::tool_pause(tool),
                        persistence::keys::tool_pause_value(it->second.second, it->second.first)});
  st.writes.add(std::move(w));
  return paused;
}

/// Supervision: an attempt of `tool` ended with `outcome`. Trips the tool's
/// restart intensity into a pause when its strategy counts it.
void count_ending(self_ptr self, const attempt_ended& m) {
  auto& st = self->state;
  const auto& cfg = deps(self).config;
  const auto strategy = strategy_of(self, m.tool);
  if (!supervision::counts_toward_intensity(m.outcome, strategy.counts)) return;
  auto [it, inserted] = st.intensity.try_emplace(m.tool, strategy.max_failures, strategy.window);
  if (!it->second.record_failure(steady::now())) return;
  const auto why = "more than " + std::to_string(strategy.max_failures) + " " + counted_text(strategy.counts) +
                   " within " + std::to_string(strategy.window.count()) + " ms";
  if (st.paused.contains(m.tool) || !pause(self, m.tool, why)) return;
  report(cfg.log, log_level::warning, "scheduler", "pausing a tool: " + why, {{"tool", m.tool}, {"job_id", m.job_id}});
  job_record about;
  about.id = m.job_id;
  about.tool = m.tool;
  about.attempt = m.attempt;
  about.status = m.next;
  if (auto a = st.active.find(m.job_id); a != st.active.end()) {
    about.batch_id = a->second.record()->batch_id;
    about.owner = a->second.record()->owner;
  }
  line(self, about, log_level::warning,
       "tool " + m.tool + " is paused: " + why + "; queued jobs of this tool wait until it is resumed");
}

/// Registers the job's dependencies: active ones are waited on; the others
/// are finished (or gone) and are looked up in the store behind our writes.
void track_dependencies(self_ptr self, job_entry& e) {
  auto& st = self->state;
  std::vector<std::string> inactive;
  for (const auto& dep : e.record()->depends_on) {
    if (st.active.contains(dep)) st.graph.add(e.record()->id, dep);
    else inactive.push_back(dep);
  }
  if (inactive.empty()) return;
  e.deps_loading = true;
  auto me = caf::actor_cast<scheduler_actor>(self);
  deps(self).writer->read([me, store = deps(self).store, id = e.record()->id, inactive] {
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
  auto w = creation(*rec, std::move(m.cached_result), std::move(m.ops));
  // Behind a long queue it will be packed: with the bytes encoded for its
  // write, as nothing changes a pending job the scheduler holds before it
  // is queued (a cancel or a failed dependency takes it out of `active`).
  std::string as_created = !hit && st.queue.queue_size() >= pack_when_waiting ? w.record->bytes : std::string{};
  st.writes.add(std::move(w));
  if (!hit) {
    auto& e = st.active[rec->id] = job_entry{rec};
    track_dependencies(self, e);
  }
  st.writes.after([self, rec, created = rec->status, as_created = std::move(as_created),
                   reply = std::move(m.reply)](bool ok) mutable {
    if (!ok) return reply({errc::store_failure, {}, "the store could not make the job durable", {}, 0, false});
    std::optional<std::size_t> position;
    auto& st = self->state;
    // A cancel may have overtaken the write; only a still-pending job queues.
    if (auto it = st.active.find(rec->id); it != st.active.end()) position = make_ready(self, it->second, &as_created);
    // The answer first: the caller goes on while the job starts (its
    // running transition is published only once that start is durable).
    reply({errc::ok, rec->id, {}, {}, position.value_or(0), false, created});
    if (position) dispatch(self);
  });
}

void recover(self_ptr self, recover_jobs& m) {
  auto& st = self->state;
  const auto now = clock::now();
  std::unordered_map<std::string, std::size_t> unfinished;
  for (const auto& r : m.jobs)
    if (!r.batch_id.empty() && !is_terminal(r.status)) ++unfinished[r.batch_id];
  for (auto& b : m.batches) {
    const auto n = unfinished[b.id];
    st.batches.add(std::move(b), n);
  }
  // Paused before the restart: still paused, since then, for the same reason.
  for (auto& [tool, p] : m.paused) st.paused.insert_or_assign(tool, std::move(p));
  std::vector<std::string> pending;
  for (auto& r : m.jobs) {
    auto rec = std::make_shared<job_record>(std::move(r));
    if (is_terminal(rec->status)) continue;
    auto& e = st.active[rec->id] = job_entry{rec};
    e.status = rec->status;
    // Queued, running or retrying jobs held a place before the crash.
    if (!rec->batch_id.empty() && st.batches.find(rec->batch_id) &&
        (rec->status != job_status::pending || rec->attempt > 0)) {
      e.admitted = true;
      st.batches.readmit(rec->batch_id);
    }
  }
  std::vector<std::pair<std::string, std::string>> broken;  // (job, dependency that did not complete)
  for (auto& [id, e] : st.active) {
    for (const auto& dep : e.record()->depends_on) {
      if (st.active.contains(dep)) {
        st.graph.add(id, dep);
      } else if (auto f = m.finished_deps.find(dep); f == m.finished_deps.end() || f->second != job_status::completed) {
        broken.emplace_back(id, dep);
        st.graph.add(id, dep);  // holds it back until it is failed below
      }
    }
  }
  for (auto& [id, e] : st.active) {
    auto& rec = *e.record();
    switch (rec.status) {
      case job_status::running:
        // It was running when the engine went away: a new attempt resumes
        // from the last checkpoint. The engine's crash is not the job's
        // failure, so the interrupted attempt does not use up its retries.
        rec.retry_base += 1;
        change(self, e, job_status::pending, "interrupted");
        line(self, rec, log_level::warning,
             "attempt " + std::to_string(rec.attempt) + " was interrupted by an engine restart; it runs again" +
               (rec.checkpoint ? " from its last checkpoint" : " from the start (no checkpoint was saved)") +
               ", without using up a retry");
        pending.push_back(id);
        break;
      case job_status::pending:
        pending.push_back(id);
        break;
      case job_status::retrying:
        if (rec.next_attempt_at && *rec.next_attempt_at > now) {
          spawn(self, e);  // its actor waits out the backoff
        } else {
          change(self, e, job_status::pending, "backoff elapsed");
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
  // A dependency that finished without completing fails its dependents.
  for (const auto& [id, dep] : broken) {
    auto j = st.active.find(id);
    if (j == st.active.end() || j->second.status != job_status::pending) continue;
    auto f = m.finished_deps.find(dep);
    fail_pending(self, id,
                 "dependency " + dep + " " +
                   std::string{f == m.finished_deps.end() ? "no longer exists" : to_string(f->second)});
  }
  // Oldest first, so FIFO order survives the restart.
  std::sort(pending.begin(), pending.end());
  for (const auto& id : pending)
    if (auto j = st.active.find(id); j != st.active.end()) make_ready(self, j->second);
}

/// A job actor died unexpectedly: stop its attempt, then restart it from
/// the job's last durable snapshot (read behind every write it queued).
void on_job_actor_down(self_ptr self, const caf::down_msg& dm) {
  auto& st = self->state;
  auto a = st.actors.find(dm.source.id());
  if (a == st.actors.end()) return;
  const auto id = a->second;
  st.actors.erase(a);
  auto it = st.active.find(id);
  if (it == st.active.end() || !it->second.actor || it->second.actor.address() != dm.source) return;
  auto& e = it->second;
  e.actor = nullptr;
  if (st.stopping) return;
  for (auto& [runner_id, r] : st.runners)
    if (r.job_id == id) r.control->request_stop();
  st.queue.remove(id);
  e.restarting = true;
  ++e.restarts;
  const auto reason = caf::to_string(dm.reason);
  report(deps(self).config.log, log_level::error, "scheduler",
         "a job actor died unexpectedly; restarting it from the job's last durable snapshot",
         {{"job_id", id}, {"reason", reason}, {"restarts", std::to_string(e.restarts)}});
  auto me = caf::actor_cast<scheduler_actor>(self);
  deps(self).writer->read([me, store = deps(self).store, id, reason] {
    snapshot_loaded m{id, std::nullopt, {}, reason};
    try {
      m.record = store->get_job(id);
    } catch (const overseer::error& err) {
      m.error = err.what();
    }
    caf::anon_send(me, std::move(m));
  });
}

void restart_from(self_ptr self, snapshot_loaded& m) {
  auto& st = self->state;
  auto it = st.active.find(m.job_id);
  if (it == st.active.end()) return;
  auto& e = it->second;
  e.restarting = false;
  auto cancels = std::exchange(e.held_cancels, {});
  if (!m.error.empty() || !m.record) {
    // The store failed (the engine fail-stops) or lost the job: leave it to
    // recovery at the next start.
    for (auto& [reason, reply] : cancels)
      if (reply) reply({errc::store_failure, m.error.empty() ? "job " + m.job_id + " is missing" : m.error, {}});
    return;
  }
  auto rec = std::make_shared<job_record>(std::move(*m.record));
  const bool admitted = e.admitted;
  if (is_terminal(rec->status)) {
    // It died after its end was written: finish its supervision.
    st.active.erase(it);
    on_terminal(self, *rec, admitted);
    for (auto& [reason, reply] : cancels)
      if (reply) reply(conflict(*rec, "only pending, retrying or running jobs can be cancelled"));
    return;
  }
  e.held.set(rec);
  e.status = rec->status;
  if (e.restarts > max_job_actor_restarts) {
    const auto reason = "the engine could not supervise this job: its actor failed " + std::to_string(e.restarts) +
                        " times (last: " + m.reason + ")";
    rec->error = reason;
    // retrying may not fail directly (the state machine): back to pending first.
    if (rec->status == job_status::retrying) (void)change(self, e, job_status::pending, "restart limit reached");
    if (change(self, e, job_status::failed, reason, {{log_level::critical, reason}})) {
      st.active.erase(it);
      on_terminal(self, *rec, admitted);
    }
    for (auto& [r, reply] : cancels)
      if (reply) reply(conflict(*rec, "only pending, retrying or running jobs can be cancelled"));
    return;
  }
  switch (rec->status) {
    case job_status::running:
      rec->retry_base += 1;  // the engine's defect is not the job's failure
      change(self, e, job_status::pending, "interrupted");
      line(self, *rec, log_level::warning,
           "attempt " + std::to_string(rec->attempt) + " was interrupted: the engine's job actor failed (" + m.reason +
             "); it runs again" +
             (rec->checkpoint ? " from its last checkpoint" : " from the start (no checkpoint was saved)") +
             ", without using up a retry");
      break;
    case job_status::retrying:
      spawn(self, e);
      break;
    default:
      break;
  }
  for (auto& [reason, reply] : cancels) cancel_active(self, m.job_id, std::move(reason), std::move(reply));
  if (auto j = st.active.find(m.job_id); j != st.active.end()) make_ready(self, j->second);
}

}  // namespace

namespace {

scheduler_actor::behavior_type scheduler_behavior(self_ptr self, scheduler_deps d) {
  auto& st = self->state;
  if (!d.work_root) d.work_root = std::make_shared<const std::filesystem::path>(d.config.data_dir / "work");
  st.deps = std::make_shared<const scheduler_deps>(std::move(d));
  st.queue = scheduler_state{std::max(1, st.deps->config.max_concurrent),
                             std::max(1, st.deps->config.immediate_concurrent)};
  if (!st.deps->config.cluster.listen.empty()) {
    // The nodes' capacities are the slots: the queue's own global limit
    // steps aside (its per-tool and per-principal limits stay).
    st.clustered = true;
    st.queue = scheduler_state{std::numeric_limits<int>::max() / 2,
                               std::max(1, st.deps->config.immediate_concurrent)};
    const auto& c = st.deps->config.cluster;
    node_table::node local;
    local.view.name = c.node_name;
    local.view.address = "local";
    local.view.labels = c.labels;
    local.view.capacity = c.local_capacity >= 0 ? c.local_capacity : std::max(1, st.deps->config.max_concurrent);
    local.view.local = true;
    local.view.joined_at = local.view.last_heartbeat = clock::now();
    for (const auto& def : st.deps->tools->list()) local.view.tools[def.name] = def.version;
    st.nodes.add(std::move(local));
    nodes_changed(self);
  }
  self->set_down_handler([self](caf::down_msg& dm) {
    on_job_actor_down(self, dm);
    flush(self);
  });
  const auto stopping = [self] { return self->state.stopping; };
  const std::string stopping_text = "the engine is stopping";
  return {
    // CAF tries the handlers in this order, comparing each one's type with
    // the message's (a type_info name compare for our types): the messages
    // every job sends come first.
    [=](writes_committed& c) {
      self->state.writes.committed(c);
      flush(self);  // continuations may have started attempts
    },
    [=](submit_job& m) {
      if (stopping()) return m.reply({errc::not_running, {}, stopping_text, {}, 0, false});
      auto& st = self->state;
      const auto key = m.record->idempotency_key.empty()
                         ? std::string{}
                         : persistence::keys::idempotency_scope(m.record->owner, m.record->idempotency_key);
      if (key.empty()) {
        create_job(self, std::move(m));
        return flush(self);
      }
      // Submits with the same key are answered in order, against the one
      // job that owns it: look the key up behind our writes, once.
      if (!st.keys.enqueue(key, std::move(m))) return;
      auto me = caf::actor_cast<scheduler_actor>(self);
      deps(self).writer->read([me, store = deps(self).store, key] {
        key_loaded loaded{key, std::nullopt, {}};
        try {
          if (auto id = store->index_value(persistence::keys::idempotency(key))) loaded.owner = store->get_job(*id);
        } catch (const overseer::error& e) {
          loaded.error = e.what();
        }
        caf::anon_send(me, std::move(loaded));
      });
    },
    [=](attempt_exited& m) {
      auto& st = self->state;
      if (m.result && m.job)
        self->send(caf::actor_cast<job_actor>(std::move(m.job)), attempt_finished{m.attempt, std::move(m.result)});
      auto it = st.runners.find(m.runner);
      if (it == st.runners.end()) return;
      auto r = std::move(it->second);
      st.runners.erase(it);
      st.queue.finished(r.tool, r.owner, r.immediate);
      if (st.clustered && !r.node.empty()) st.nodes.finished(r.node, r.session);
      if (m.had_process) {
        // The tool returned, so its process group is gone.
        job_write w;
        w.ops.push_back(kv_op{kv_op::kind::erase, persistence::family::index,
                              std::string{persistence::keys::process_prefix} + r.job_id, {}});
        st.writes.add(std::move(w));
      }
      // Its job's next attempt may start now (its process record erased first).
      if (!st.awaiting_exit.empty() && st.awaiting_exit.erase(r.job_id) > 0)
        if (auto a = st.active.find(r.job_id); a != st.active.end()) make_ready(self, a->second);
      dispatch(self);
      flush(self);
    },
    [=](job_finished& m) {
      auto& st = self->state;
      const auto& rec = *m.record;
      if (m.outcome) count_ending(self, {rec.id, rec.tool, rec.attempt, *m.outcome, rec.status});
      auto it = st.active.find(rec.id);
      if (it == st.active.end()) return flush(self);
      const bool admitted = it->second.admitted;
      if (auto actor = it->second.actor) {
        // It goes by itself once its attempt has reported: no down_msg wanted.
        st.actors.erase(actor.id());
        self->demonitor(actor.address());
      }
      st.active.erase(it);
      on_terminal(self, *m.record, admitted);
      dispatch(self);
      flush(self);
    },
    [=](attempt_ended& m) {
      auto& st = self->state;
      if (auto it = st.active.find(m.job_id); it != st.active.end()) it->second.status = m.next;
      count_ending(self, m);
      flush(self);
    },
    [=](job_ready& m) {
      auto& st = self->state;
      auto it = st.active.find(m.job_id);
      if (it == st.active.end()) return;
      it->second.status = job_status::pending;
      if (make_ready(self, it->second)) dispatch(self);
      flush(self);
    },
    [=](recover_jobs& m) {
      recover(self, m);
      if (m.done) self->state.writes.after(std::move(m.done));
      dispatch(self);
      flush(self);
    },
    [=](key_loaded& m) {
      auto& st = self->state;
      auto waiters = st.keys.take(m.key);
      if (waiters.empty()) return;
      if (!m.error.empty()) {
        for (auto& w : waiters) w.reply({errc::store_failure, {}, m.error, {}, 0, false});
        return;
      }
      if (m.owner) {
        for (auto& w : waiters) w.reply(idempotency_claims::answer(w, m.owner->id, m.owner->spec_hash, m.owner->status));
        return;
      }
      // The first submit creates the job; the rest are answered against it
      // once it is durable, and then the store answers for the key.
      st.keys.claim(m.key, waiters.front().record->id, waiters.front().record->spec_hash);
      auto owner = waiters.front().record;
      create_job(self, std::move(waiters.front()));
      waiters.erase(waiters.begin());
      st.writes.after([self, key = m.key, created = owner->status, rest = std::move(waiters)](bool ok) mutable {
        auto& st = self->state;
        auto settled = st.keys.settle(key);
        if (!settled) return;
        for (auto& w : settled->waiters) rest.push_back(std::move(w));
        if (!ok) {
          // The owner never became durable: nobody may be told it exists.
          const submit_result failed{errc::store_failure, {}, "the store could not make the job durable", {}, 0, false};
          for (auto& w : rest) w.reply(failed);
          return;
        }
        // The owner's status as the scheduler knows it, else as created (a
        // cache hit is created completed and never becomes active).
        std::optional<job_status> status = created;
        if (auto a = st.active.find(settled->owner); a != st.active.end()) status = a->second.status;
        for (auto& w : rest) w.reply(idempotency_claims::answer(w, settled->owner, settled->hash, status));
      });
      flush(self);
    },
    [=](submit_batch& m) {
      if (stopping()) return m.reply({errc::not_running, {}, {}, stopping_text, {}});
      auto& st = self->state;
      job_write bw;
      bw.ops.push_back(kv_op{kv_op::kind::put, persistence::family::batches, m.batch.id, persistence::encode(m.batch)});
      st.writes.add(std::move(bw));
      st.batches.add(m.batch, m.jobs.size());
      std::vector<std::string> ids;
      for (std::size_t i = 0; i < m.jobs.size(); ++i) {
        auto& rec = m.jobs[i];
        ids.push_back(rec->id);
        create_job(self, submit_job{rec, [](submit_result) {}, std::nullopt,
                                    i < m.job_ops.size() ? std::move(m.job_ops[i]) : std::vector<kv_op>{}});
      }
      st.writes.after([reply = std::move(m.reply), id = m.batch.id, ids](bool ok) {
        if (!ok) return reply({errc::store_failure, {}, {}, "the store could not make the batch durable", {}});
        reply({errc::ok, id, ids, {}, {}});
      });
      flush(self);
    },
    [=](cancel_job& m) {
      if (stopping()) return m.reply({errc::not_running, stopping_text, {}});
      auto& st = self->state;
      if (!st.active.contains(m.job_id)) {
        // Not active: finished or unknown. Ask the store, behind our writes.
        deps(self).writer->read([store = deps(self).store, id = m.job_id, reply = std::move(m.reply)] {
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
      cancel_active(self, m.job_id, "cancelled by " + m.by, std::move(m.reply));
      flush(self);
    },
    [=](cancel_batch& m) {
      if (stopping()) return m.reply({errc::not_running, stopping_text, {}});
      auto& st = self->state;
      const auto* found = st.batches.find(m.batch_id);
      if (!found) {
        deps(self).writer->read([store = deps(self).store, id = m.batch_id, reply = std::move(m.reply)] {
          try {
            if (!store->get_batch(id)) reply({errc::not_found, "no batch " + id, {}});
            else reply({errc::conflict, "every job of batch " + id + " has finished", {}});
          } catch (const overseer::error& e) {
            reply({errc::store_failure, e.what(), {}});
          }
        });
        return;
      }
      auto record = *found;
      record.cancelled = true;
      job_write bw;
      bw.ops.push_back(kv_op{kv_op::kind::put, persistence::family::batches, record.id, persistence::encode(record)});
      st.writes.add(std::move(bw));
      st.batches.cancel(record.id);
      // Answered once the batch record and every job's cancel are durable,
      // whether the scheduler or a job actor writes it.
      struct join {
        std::atomic<std::size_t> remaining;
        std::atomic<bool> ok{true};
        change_reply reply;
        void done(bool durable) {
          if (!durable) ok = false;
          if (--remaining == 0) {
            if (ok) reply({errc::ok, {}, std::nullopt});
            else reply({errc::store_failure, "the store could not make the cancel durable", {}});
          }
        }
      };
      std::vector<std::string> unfinished;
      for (const auto& id : record.job_ids)
        if (st.active.contains(id)) unfinished.push_back(id);
      auto j = std::make_shared<join>();
      j->remaining = unfinished.size() + 1;
      j->reply = std::move(m.reply);
      for (const auto& id : unfinished)
        cancel_active(self, id, "batch cancelled by " + m.by, [j](change_result r) {
          j->done(r.code != errc::store_failure);
        });
      st.writes.after([j](bool ok) { j->done(ok); });
      flush(self);
    },
    [=](deps_loaded& m) {
      auto& st = self->state;
      auto it = st.active.find(m.job_id);
      if (it == st.active.end()) return;
      it->second.deps_loading = false;
      for (const auto& [dep, status] : m.deps) {
        if (st.active.contains(dep)) {
          // Retried meanwhile: wait for it like any active dependency.
          st.graph.add(m.job_id, dep);
        } else if (!status || *status != job_status::completed) {
          fail_pending(self, m.job_id,
                       "dependency " + dep + " " +
                         (status ? std::string{to_string(*status)} : std::string{"no longer exists"}));
          return flush(self);
        }
      }
      if (make_ready(self, it->second)) dispatch(self);
      flush(self);
    },
    [=](expire_jobs& m) {
      if (stopping()) return m.done(0);
      auto& st = self->state;
      std::size_t n = 0;
      for (std::size_t i = 0; i < m.ids.size(); ++i) {
        // Revived by an explicit retry since the janitor read it: keep it.
        if (st.active.contains(m.ids[i]) || st.retry_loading.contains(m.ids[i])) continue;
        st.writes.add(std::move(m.deletions[i]));
        ++n;
      }
      st.writes.after([n, done = std::move(m.done)](bool ok) { done(ok ? n : 0); });
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
      if (stopping()) return m.reply({errc::not_running, stopping_text, {}});
      auto& st = self->state;
      if (auto it = st.active.find(m.job_id); it != st.active.end()) {
        m.reply(conflict(m.job_id, it->second.status, "only failed, timed_out or cancelled jobs can be retried"));
        return;
      }
      if (!st.retry_loading.insert(m.job_id).second) {
        m.reply({errc::conflict, "a retry of job " + m.job_id + " is already in progress", {}});
        return;
      }
      auto me = caf::actor_cast<scheduler_actor>(self);
      deps(self).writer->read([me, store = deps(self).store, id = m.job_id, reply = std::move(m.reply), by = m.by] {
        retry_loaded loaded{id, std::nullopt, reply, std::nullopt, by, {}};
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
      if (!m.error.empty()) return m.reply({errc::store_failure, m.error, {}});
      if (!m.record) return m.reply({errc::not_found, "no job " + m.job_id, {}});
      if (st.active.contains(m.job_id) || !is_terminal(m.record->status) ||
          m.record->status == job_status::completed)
        return m.reply(conflict(*m.record, "only failed, timed_out or cancelled jobs can be retried"));
      auto rec = std::make_shared<job_record>(std::move(*m.record));
      rec->retry_base = rec->attempt;  // the retry budget starts afresh
      rec->completed_at.reset();
      rec->started_at.reset();
      rec->depends_on.clear();  // an explicit retry runs now, whatever its dependencies did
      auto& e = st.active[rec->id] = job_entry{rec};
      e.ran = true;  // a cancelled or timed-out attempt's body may not have returned yet
      // Back in its batch: counted as unfinished, subject to its limit again.
      if (!rec->batch_id.empty()) st.batches.reopen(rec->batch_id, std::move(m.batch));
      change(self, e, job_status::pending, "retried by " + m.by);
      line(self, *rec, log_level::info,
           "retried by " + m.by + ": a new retry budget of " + std::to_string(rec->retry.max_attempts) + " attempts");
      auto snapshot = std::make_shared<job_record>(*rec);
      st.writes.after([self, snapshot, reply = std::move(m.reply)](bool ok) {
        if (!ok) return reply({errc::store_failure, "the store could not make the retry durable", {}});
        auto& st = self->state;
        if (auto it = st.active.find(snapshot->id); it != st.active.end())
          if (make_ready(self, it->second)) dispatch(self);
        reply({errc::ok, {}, persistence::to_view(*snapshot, std::nullopt)});
      });
      flush(self);
    },
    [=](snapshot_loaded& m) {
      restart_from(self, m);
      dispatch(self);
      flush(self);
    },
    [=](crash_job_actor& m) {
      auto& st = self->state;
      if (auto it = st.active.find(m.job_id); it != st.active.end() && it->second.actor)
        self->send(it->second.actor, inject_fault{});
    },
    [=](get_stats& m) {
      auto& st = self->state;
      engine_stats s;
      s.pending = st.queue.queue_size();
      s.running = static_cast<std::size_t>(st.queue.running());
      // A retrying job waits out its backoff in its actor, so the actors
      // name them all (but one whose actor is being restarted): walking
      // them costs the jobs admitted, not the whole queue, which a
      // scrape of /metrics would otherwise walk on this actor's turn.
      std::unordered_map<std::string, std::size_t> retrying;
      for (const auto& [actor, id] : st.actors)
        if (auto it = st.active.find(id); it != st.active.end() && it->second.status == job_status::retrying) {
          ++s.waiting;
          ++retrying[it->second.record()->tool];  // held by its actor: never packed
        }
      for (const auto& def : deps(self).tools->list()) {
        tool_health h;
        h.name = def.name;
        h.running = st.queue.running(def.name);
        h.queued = st.queue.queued_count(def.name);
        if (auto p = st.paused.find(def.name); p != st.paused.end()) {
          h.paused = true;
          h.paused_reason = p->second.first;
          h.paused_since = p->second.second;
        }
        if (auto it = st.intensity.find(def.name); it != st.intensity.end())
          h.recent_failures = it->second.recent(steady::now());
        if (auto r = retrying.find(def.name); r != retrying.end()) h.retrying = r->second;
        s.tools.push_back(std::move(h));
      }
      // Stored pauses of tools this start's registry lacks: listed, so that
      // an operator sees them and can lift them (resume_tool).
      for (const auto& [name, stored] : st.paused)
        if (deps(self).tools->find(name) == nullptr)
          s.tools.push_back({.name = name,
                             .paused = true,
                             .paused_reason = stored.first,
                             .paused_since = stored.second,
                             .registered = false});
      m.reply(std::move(s));
    },
    [=](pause_tool& m) {
      auto& st = self->state;
      const bool known = !stopping() && deps(self).tools->find(m.name) != nullptr;
      if (!known) return m.reply(false);
      if (pause(self, m.name, m.reason))
        report(deps(self).config.log, log_level::warning, "scheduler", "pausing a tool: " + m.reason,
               {{"tool", m.name}});
      // Answered once the pause is durable (a repeated pause: once the
      // first one is), so an acknowledged pause survives a crash.
      st.writes.after(std::move(m.reply));  // reply(durable)
      flush(self);
    },
    [=](hold_attempts& m) {
      self->state.holding = true;
      m.reply();
    },
    [=](resume_tool& m) {
      auto& st = self->state;
      // A tool gone from the registry since its pause was stored can still
      // be resumed: its stored pause would otherwise stay for good.
      const bool known =
        !stopping() && (deps(self).tools->find(m.name) != nullptr || st.paused.contains(m.name));
      if (!known) return m.reply(false);
      // Erased even if not paused: the answer then also waits for an
      // earlier resume's erase.
      st.paused.erase(m.name);
      job_write w;
      w.ops.push_back(kv_op{kv_op::kind::erase, persistence::family::index, persistence::keys::tool_pause(m.name), {}});
      st.writes.add(std::move(w));
      if (auto it = st.intensity.find(m.name); it != st.intensity.end()) it->second.reset();
      st.writes.after(std::move(m.reply));  // reply(durable)
      dispatch(self);
      flush(self);
    },
    [=](node_joined& m) {
      auto& st = self->state;
      if (!st.clustered) return;
      auto name = m.view.name;
      const int capacity = m.view.capacity;
      st.nodes.add({std::move(m.view), std::move(m.worker), m.session});
      report(deps(self).config.log, log_level::info, "cluster", "node joined",
             {{"node", name}, {"capacity", std::to_string(capacity)}});
      nodes_changed(self, node_change{name, true, {}, capacity, clock::now()});
      dispatch(self);
      flush(self);
    },
    [=](node_lost& m) {
      auto& st = self->state;
      // Its attempts' proxies release their slots (attempt_exited) and
      // interrupt their jobs; the node takes none from now on.
      if (auto n = st.nodes.remove(m.name, m.session)) {
        report(deps(self).config.log, log_level::warning, "cluster", "node lost",
               {{"node", m.name}, {"reason", m.reason}});
        nodes_changed(self, node_change{m.name, false, m.reason, n->view.capacity, clock::now()});
      }
    },
    [=](node_seen& m) {
      if (auto* n = self->state.nodes.find(m.name); n && n->session == m.session) n->view.last_heartbeat = m.at;
    },
    [=](get_nodes& m) {
      auto& st = self->state;
      if (st.clustered) return m.reply(st.nodes.views());
      node_view local;
      local.name = deps(self).config.cluster.node_name;
      local.address = "local";
      local.local = true;
      local.capacity = st.queue.max_running();
      local.running = st.queue.running();
      local.last_heartbeat = clock::now();
      for (const auto& def : deps(self).tools->list()) local.tools[def.name] = def.version;
      m.reply({std::move(local)});
    },
    [=](shut_down) {
      auto& st = self->state;
      // Attempts stay "running" in the store; the next start re-queues them
      // as interrupted. Their results, if any arrive, are no longer wanted.
      st.stopping = true;
      for (auto& [id, e] : st.active)
        if (e.actor) self->send(e.actor, shut_down{});
      for (auto& [id, r] : st.runners) r.control->request_stop();
    },
  };
}

}  // namespace

scheduler_actor spawn_scheduler(caf::actor_system& system, scheduler_deps deps) {
  return system.spawn(scheduler_behavior, std::move(deps));
}

}  // namespace overseer::actors
