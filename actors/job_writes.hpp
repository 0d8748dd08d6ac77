// What a change of one job writes: its transition (the record, checked
// against the state machine, with its event), and the engine's own lines in
// the job's log. Used by the scheduler (jobs it holds: queued, never
// started) and by job actors (jobs they hold), so a job's rows look the
// same whoever wrote them.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "overseer/engine.hpp"
#include "persistence/codec.hpp"
#include "persistence/group_commit.hpp"

namespace overseer::actors {

/// An event about `r` as it is now.
[[nodiscard]] event make_event(const persistence::job_record& r, event_kind kind);

/// Moves `rec` to `to` (stamping started_at / completed_at) and returns the
/// write that makes it durable with its transition event, or nullopt (and
/// changes nothing) if the state machine does not allow it.
[[nodiscard]] std::optional<persistence::job_write> change_status(
  persistence::job_record& rec, job_status to, std::string reason,
  std::optional<std::string> result_json = std::nullopt, std::vector<persistence::kv_op> ops = {});

/// The write of a job's creation (pending, or completed for a cache hit).
/// `ops` are written with it (its webhook notify row).
[[nodiscard]] persistence::job_write creation(const persistence::job_record& rec,
                                              std::optional<std::string> cached_result,
                                              std::vector<persistence::kv_op> ops = {});

/// A line of the job's own log written by the engine (component "engine"),
/// so a user who reads a job's log sees why it is where it is.
[[nodiscard]] persistence::job_write engine_line(const persistence::job_record& rec, log_level level,
                                                 std::string message);

/// A line the engine says about a change of status.
struct engine_says {
  log_level level;
  std::string message;
};

/// Puts the engine's `lines` about a change into its write `w`, ahead of
/// its transition: in the store and on every stream, what the engine says
/// about an ending comes before the ending, so a follower that stops at a
/// terminal status has read it.
void say_before(persistence::job_write& w, const persistence::job_record& rec, std::vector<engine_says> lines);

/// Starts the next attempt of a pending job: counts it, moves the record to
/// running and returns its write (the transition, then the engine's
/// "started" line), or nothing if the job is not pending.
[[nodiscard]] std::optional<persistence::job_write> begin_attempt(persistence::job_record& rec);

/// The log line of a job whose next attempt is due while the body of its
/// attempt `last`, told to stop, has not returned: the next one waits.
[[nodiscard]] std::string waits_for_body(int last);

/// "attempt 3 (2 of 4 allowed)": attempts since the last explicit retry or
/// interruption count against the retry policy.
[[nodiscard]] std::string attempt_text(const persistence::job_record& rec);

/// The answer to a cancel or retry that the job's status does not allow.
[[nodiscard]] change_result conflict(const persistence::job_record& r, std::string_view what);
[[nodiscard]] change_result conflict(const std::string& job_id, job_status status, std::string_view what);

}  // namespace overseer::actors
