#include "actors/job_writes.hpp"

#include "actors/job_lifecycle.hpp"

namespace overseer::actors {

using persistence::job_record;
using persistence::job_write;

event make_event(const job_record& r, event_kind kind) {
  event e;
  e.job_id = r.id;
  e.kind = kind;
  e.at = clock::now();
  e.attempt = r.attempt;
  e.to = r.status;
  e.tool = r.tool;
  e.batch_id = r.batch_id;
  e.owner = r.owner;
  e.trace_id = r.trace_id;
  return e;
}

namespace {

event transition_event(const job_record& r, std::optional<job_status> from, std::string reason) {
  auto e = make_event(r, event_kind::transition);
  e.from = from;
  e.reason = std::move(reason);
  return e;
}

}  // namespace

std::optional<job_write> change_status(job_record& rec, job_status to, std::string reason,
                                       std::optional<std::string> result_json, std::vector<persistence::kv_op> ops) {
  const auto from = rec.status;
  if (!can_transition(from, to)) return std::nullopt;
  rec.status = to;
  const auto now = clock::now();
  if (to == job_status::running) {
    rec.started_at = now;
    rec.next_attempt_at.reset();
  }
  if (is_terminal(to)) rec.completed_at = now;
  job_write w;
  auto e = transition_event(rec, from, std::move(reason));
  // The record keeps its history: the transition is in the same row write.
  rec.history.push_back({e.from, e.to, e.at, e.attempt, e.reason});
  // A transition into or out of running is of an attempt: where it ran.
  if (from == job_status::running || to == job_status::running) rec.history.back().node = rec.node;
  if (to == job_status::completed) {
    // A small result rides in the record; a large one has its own row.
    rec.result.reset();
    if (result_json && result_json->size() <= persistence::inline_result_limit) {
      rec.result = std::move(result_json);
      result_json.reset();
    }
  }
  w.record.emplace(rec);  // encoded now: later changes must not race the writer
  w.previous_status = from;
  w.result_json = std::move(result_json);
  w.events.push_back(std::move(e));
  w.ops = std::move(ops);
  return w;
}

job_write creation(const job_record& rec, std::optional<std::string> cached_result,
                   std::vector<persistence::kv_op> ops) {
  job_write w;
  w.ops = std::move(ops);
  w.created = true;
  // The creation transition is implied by the record (creation_transition):
  // its event carries the same time, created_at.
  auto e = transition_event(rec, std::nullopt, cached_result ? "cache hit" : "submitted");
  e.at = rec.created_at;
  w.events.push_back(std::move(e));
  if (cached_result && cached_result->size() <= persistence::inline_result_limit) {
    auto inlined = rec;
    inlined.result = std::move(cached_result);
    w.record.emplace(inlined);
  } else {
    w.record.emplace(rec);
    w.result_json = std::move(cached_result);
  }
  return w;
}

namespace {

event engine_event(const job_record& rec, log_level level, std::string message) {
  auto e = make_event(rec, event_kind::log);
  e.level = level;
  e.message = std::move(message);
  e.component = "engine";
  return e;
}

}  // namespace

job_write engine_line(const job_record& rec, log_level level, std::string message) {
  job_write w;
  w.events.push_back(engine_event(rec, level, std::move(message)));
  return w;
}

void say_before(job_write& w, const job_record& rec, std::vector<engine_says> lines) {
  std::vector<event> said;
  said.reserve(lines.size() + w.events.size());
  for (auto& l : lines) {
    said.push_back(engine_event(rec, l.level, std::move(l.message)));
    if (!w.events.empty()) said.back().at = w.events.front().at;  // the change's time: seq and time agree
  }
  for (auto& e : w.events) said.push_back(std::move(e));
  w.events = std::move(said);
}

std::optional<job_write> begin_attempt(job_record& rec) {
  if (rec.status != job_status::pending) return std::nullopt;
  rec.attempt += 1;
  auto w = change_status(rec, job_status::running, rec.attempt > 1 ? "attempt " + std::to_string(rec.attempt) : "started");
  if (!w) {
    rec.attempt -= 1;
    return std::nullopt;
  }
  // The engine's line rides in the transition's write, after it: the same
  // rows and the same order as a write of its own, with one write less to
  // carry from the actor to the writer.
  w->events.push_back(engine_event(rec, log_level::info,
                                   attempt_text(rec) + " started" +
                                     (rec.checkpoint ? ", resuming from the checkpoint of an earlier attempt (" +
                                                         std::to_string(rec.checkpoint->size()) + " bytes)"
                                                     : "")));
  return w;
}

std::string waits_for_body(int last) {
  return "attempt " + std::to_string(last + 1) + " waits for attempt " + std::to_string(last) +
         " to return: its tool was told to stop and is still running";
}

std::string attempt_text(const job_record& rec) {
  return "attempt " + std::to_string(rec.attempt) + " (" + std::to_string(rec.attempt - rec.retry_base) + " of " +
         std::to_string(rec.retry.max_attempts) + " allowed)";
}

change_result conflict(const job_record& r, std::string_view what) { return conflict(r.id, r.status, what); }

change_result conflict(const std::string& job_id, job_status status, std::string_view what) {
  return {errc::conflict, "job " + job_id + " is " + std::string{to_string(status)} + "; " + std::string{what}, {}};
}

}  // namespace overseer::actors
