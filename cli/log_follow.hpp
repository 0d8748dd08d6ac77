// What `overseer logs -f` does with each message of /v1/stream. Pure (no
// I/O): the loop in job_commands.cpp feeds it messages and quiet ticks, and
// prints or stops as it is told.
//
// The follow subscribes with `since` (0 at first), so the server replays
// the job's retained events from the start, then goes live. Where it ends:
// - the first subscription's snapshot is not terminal: at the first terminal
//   transition newer than that snapshot. An older one in the replay was
//   followed by a retry, since the job was not over at the snapshot;
// - the first subscription's snapshot is terminal (the job ended between
//   the command's first look and its subscription): at once, with the
//   stored lines printed instead, as for a job that had already ended;
// - a resubscription's snapshot is terminal (the job ended while the
//   connection was down): at the `caught_up` that follows the replay, once
//   every retained event of the job has been printed. A daemon older than
//   `caught_up` never sends it: then at the snapshot's final transition (the
//   last transition, to the snapshot's status and attempt, at or below its
//   `seq`) followed by a quiet tick, or at an event newer than the snapshot.
//   The server replays events back to back, so quiet after that transition
//   means the replay is done. A daemon that sent `caught_up` once (after
//   the first subscription's replay) is waited for, up to 10 s of quiet
//   after that final transition: a short stall of its replay does not end
//   the follow, and one replaced meanwhile by an older build does not hang
//   it;
// - the stream's early events are gone (the caller prints the stored lines,
//   then subscribes without `since`) and the new snapshot is terminal: at
//   once, since the stored lines were all there is.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace overseer::cli {

class log_follow {
public:
  enum class step {
    skip,                   ///< nothing to print
    print,                  ///< print this log line
    end,                    ///< the job has ended: stop
    print_stored_and_end,   ///< print the stored lines, then stop
  };

  /// `min_level`: the lowest level printed (0 = debug … 4 = critical).
  explicit log_follow(std::string job_id, int min_level = 0) : job_id_(std::move(job_id)), min_level_(min_level) {}

  /// The subscribe message for a new connection: with `since` while the
  /// replay from the start is still whole.
  [[nodiscard]] boost::json::object subscription() const;
  step apply(const boost::json::value& message);
  /// The stream was quiet for a while (the caller's tick: 250 ms).
  step quiet();
  /// Quiet ticks in a row that end the follow at a final transition once
  /// the daemon has shown it sends `caught_up`: 10 s at 250 ms.
  static constexpr int patient_quiet_ticks = 40;
  /// The caller printed the stored lines because the early events are gone,
  /// and subscribes afresh without `since`.
  void printed_stored() { from_start_ = false; }

  /// 0 (debug) … 4 (critical); an unknown level counts as debug.
  static int level_rank(std::string_view level);

private:
  struct final_transition {
    std::uint64_t snapshot_seq;
    std::string status;
    std::int64_t attempt;
    bool seen = false;  ///< the latest transition replayed matches
  };

  std::string job_id_;
  int min_level_;
  std::uint64_t last_seq_ = 0;                 ///< the newest event handled
  std::optional<std::uint64_t> first_snapshot_;  ///< the first subscription's seq
  bool from_start_ = true;                     ///< the next subscription replays with since
  std::optional<final_transition> ending_;     ///< a resubscription found the job ended
  bool caught_up_seen_ = false;                ///< the daemon marks the end of a replay
  int quiet_ticks_ = 0;                        ///< quiet() calls since the last message
};

}  // namespace overseer::cli
