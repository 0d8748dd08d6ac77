// What `overseer watch` knows about the jobs it watches, built from the
// messages of /v1/stream. Pure (no I/O): the loop in watch.cpp feeds it
// messages and prints the notes it returns.
//
// Exactly-once across reconnections: each job remembers the `seq` of the
// last event applied to it (or of its first snapshot), a new connection
// subscribes with `since` that seq, and an event at or below it is
// dropped. The server replays every retained event after `since` before
// going live, so no transition is lost and none is shown twice; its
// `caught_up` says where the replay ended, and its seq becomes the resume
// point (the replay may have read past this job's last event).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "cli/exit_status.hpp"
#include "cli/text.hpp"

namespace overseer::cli {

struct watched_job {
  std::string job_id;
  std::string tool;
  std::string name;
  std::string status;  ///< "" until the first snapshot or transition
  std::int64_t attempt = 0;
  double percent = 0;
  std::int64_t current_step = 0;
  std::int64_t total_steps = 0;
  std::string step_name;
  std::optional<wall_clock::time_point> started_at;
  std::optional<wall_clock::time_point> completed_at;
  std::optional<wall_clock::time_point> estimated_completion;
  std::optional<wall_clock::time_point> progress_at;  ///< when the latest progress was reported
  /// The percentage when this attempt started: an attempt resumed from a
  /// checkpoint starts part-way, and only its own progress measures its rate.
  double attempt_base_percent = 0;
  std::string error;        ///< the last failure reason
  std::uint64_t seq = 0;    ///< the last event applied, or the first snapshot's seq
  bool seen = false;        ///< a snapshot or an event has been applied
};

/// A line the watcher prints above the progress bars; `text` is terminal_safe.
struct watch_note {
  /// caught_up: a resumed subscription's replay is over (text is empty).
  enum kind_t { snapshot, transition, log, error, caught_up } kind;
  std::string job_id;
  std::string text;
  std::string at;  ///< the event's timestamp as sent, "" for snapshots and errors
};

class watch_state {
public:
  /// `all`: every job, as events arrive (no end of its own).
  explicit watch_state(bool all = false) : all_(all) {}

  void add_job(const std::string& job_id);

  /// The subscribe messages for a new connection: with `since` for every
  /// subscription that has a resume point.
  [[nodiscard]] std::vector<boost::json::object> subscriptions(bool logs) const;

  /// Applies one stream message; returns what to print.
  std::vector<watch_note> apply(const boost::json::value& message);

  /// Forgets the resume points (the server no longer retains the events
  /// after them); the next subscriptions take fresh snapshots.
  void drop_resume_points();

  /// Every watched job is terminal (never true for `all`).
  [[nodiscard]] bool finished() const;
  /// The exit status: ok if every job completed, else the worst outcome.
  [[nodiscard]] exit_status outcome() const;
  [[nodiscard]] const std::vector<watched_job>& jobs() const noexcept { return jobs_; }
  [[nodiscard]] bool all() const noexcept { return all_; }

private:
  watched_job* find(const std::string& job_id);

  bool all_;
  std::uint64_t all_seq_ = 0;  ///< resume point of the `all` subscription
  std::vector<watched_job> jobs_;
};

}  // namespace overseer::cli
