#include "cli/watch_state.hpp"

#include "cli/json_read.hpp"

#include <algorithm>

namespace overseer::cli {

namespace {

std::optional<wall_clock::time_point> time_of(const boost::json::value& v, std::string_view key) {
  return parse_rfc3339(text_of(v, key));
}

std::uint64_t seq_of(const boost::json::value& v) {
  const auto n = integer_of(v, "seq", -1);
  return n < 0 ? 0 : static_cast<std::uint64_t>(n);
}

void take_progress(watched_job& job, const boost::json::value& progress) {
  job.percent = number_of(progress, "percent", job.percent);
  job.current_step = integer_of(progress, "current_step", job.current_step);
  job.total_steps = integer_of(progress, "total_steps", job.total_steps);
  if (member(progress, "step_name")) job.step_name = terminal_safe(text_of(progress, "step_name"));
  job.estimated_completion = time_of(progress, "estimated_completion");
}

void take_snapshot(watched_job& job, const boost::json::value& view) {
  job.tool = terminal_safe(text_of(view, "tool"));
  job.name = terminal_safe(text_of(view, "name"));
  job.status = terminal_safe(text_of(view, "status"));
  job.attempt = integer_of(view, "attempt");
  if (const auto* p = member(view, "progress")) take_progress(job, *p);
  job.started_at = time_of(view, "started_at");
  job.completed_at = time_of(view, "completed_at");
  job.error = terminal_safe(text_of(view, "error"));
}

}  // namespace

void watch_state::add_job(const std::string& job_id) {
  if (!find(job_id)) jobs_.push_back({.job_id = job_id});
}

watched_job* watch_state::find(const std::string& job_id) {
  for (auto& j : jobs_)
    if (j.job_id == job_id) return &j;
  return nullptr;
}

std::vector<boost::json::object> watch_state::subscriptions(bool logs) const {
  std::vector<boost::json::object> out;
  if (all_) {
    boost::json::object m{{"op", "subscribe"}, {"all", true}, {"logs", logs}};
    if (all_seq_ > 0) m["since"] = all_seq_;
    out.push_back(std::move(m));
    return out;
  }
  for (const auto& j : jobs_) {
    boost::json::object m{{"op", "subscribe"}, {"job_id", j.job_id}, {"logs", logs}};
    if (j.seen) m["since"] = j.seq;
    out.push_back(std::move(m));
  }
  return out;
}

void watch_state::drop_resume_points() {
  all_seq_ = 0;
  for (auto& j : jobs_) j.seen = false;
}

std::vector<watch_note> watch_state::apply(const boost::json::value& message) {
  std::vector<watch_note> notes;
  const std::string type = text_of(message, "type");
  if (type == "error") {
    notes.push_back({watch_note::error, "", terminal_safe(text_of(message, "message")), ""});
    return notes;
  }
  const std::string job_id = text_of(message, "job_id");
  if (type == "subscribed") {
    if (member(message, "all")) {
      if (all_seq_ == 0) all_seq_ = seq_of(message);
      return notes;
    }
    watched_job* job = find(job_id);
    // A resumed subscription's snapshot is newer than the events replayed
    // after it; those events tell the story, so the snapshot is not used.
    if (!job || job->seen) return notes;
    if (const auto* view = member(message, "snapshot")) take_snapshot(*job, *view);
    job->seq = seq_of(message);
    job->seen = true;
    std::string text = job->status;
    if (job->attempt > 0) text += ", attempt " + std::to_string(job->attempt);
    if (!job->error.empty() && job->status != "completed") text += ": " + job->error;
    notes.push_back({watch_note::snapshot, job_id, text, ""});
    return notes;
  }
  if (type == "caught_up") {
    // Every event up to its seq has been sent: resume from there.
    const std::uint64_t seq = seq_of(message);
    if (all_ && member(message, "all")) {
      all_seq_ = std::max(all_seq_, seq);
    } else if (watched_job* job = all_ ? nullptr : find(job_id); job && job->seen) {
      job->seq = std::max(job->seq, seq);
    } else {
      return notes;
    }
    notes.push_back({watch_note::caught_up, job_id, "", ""});
    return notes;
  }
  if (type != "transition" && type != "progress" && type != "log") return notes;
  const std::uint64_t seq = seq_of(message);
  watched_job* job = find(job_id);
  if (all_) {
    if (seq <= all_seq_) return notes;
    all_seq_ = seq;
    if (!job && !job_id.empty()) {
      jobs_.push_back({.job_id = job_id, .seen = true});
      job = &jobs_.back();
    }
  }
  if (!job) return notes;
  if (!all_) {
    if (job->seen && seq <= job->seq) return notes;  // already applied before a reconnect
    job->seq = seq;
    job->seen = true;
  }
  const std::string at = terminal_safe(text_of(message, "at"));
  if (type == "progress") {
    if (const auto* p = member(message, "progress")) take_progress(*job, *p);
    job->progress_at = parse_rfc3339(at);
    if (job->status.empty()) job->status = "running";
    return notes;
  }
  if (type == "log") {
    std::string level = terminal_safe(text_of(message, "level"));
    const std::string component = text_of(message, "component");
    std::string text = level + (component == "engine" ? " [engine] " : " ") + terminal_safe(text_of(message, "message"));
    notes.push_back({watch_note::log, job_id, std::move(text), at});
    return notes;
  }
  const std::string from = terminal_safe(text_of(message, "from"));
  const std::string to = terminal_safe(text_of(message, "to"));
  job->status = to;
  job->attempt = integer_of(message, "attempt", job->attempt);
  const auto when = parse_rfc3339(at);
  if (to == "running") {
    job->started_at = when;
    job->progress_at.reset();
    job->attempt_base_percent = job->percent;
    job->completed_at.reset();
    job->error.clear();
  }
  if (is_terminal(to)) job->completed_at = when;
  const std::string reason = terminal_safe(text_of(message, "reason"));
  if (to == "failed" || to == "retrying" || to == "timed_out") job->error = reason;
  std::string text = (from.empty() ? std::string{"(new)"} : from) + " -> " + to;
  text += " (attempt " + std::to_string(job->attempt) + (reason.empty() ? "" : ": " + reason) + ")";
  notes.push_back({watch_note::transition, job_id, std::move(text), at});
  return notes;
}

bool watch_state::finished() const {
  if (all_ || jobs_.empty()) return false;
  for (const auto& j : jobs_)
    if (!j.seen || !is_terminal(j.status)) return false;
  return true;
}

exit_status watch_state::outcome() const {
  exit_status s = exit_status::ok;
  for (const auto& j : jobs_) s = worse(s, for_job_status(j.status));
  return s;
}

}  // namespace overseer::cli
