#include "cli/log_follow.hpp"

#include <algorithm>

#include "cli/exit_status.hpp"
#include "cli/json_read.hpp"

namespace overseer::cli {

int log_follow::level_rank(std::string_view level) {
  constexpr std::string_view levels[] = {"debug", "info", "warning", "error", "critical"};
  for (int i = 0; i < 5; ++i)
    if (levels[i] == level) return i;
  return 0;
}

boost::json::object log_follow::subscription() const {
  boost::json::object sub{{"op", "subscribe"}, {"job_id", job_id_}, {"logs", true}};
  if (from_start_) sub["since"] = last_seq_;
  return sub;
}

log_follow::step log_follow::apply(const boost::json::value& m) {
  quiet_ticks_ = 0;
  const std::string type = text_of(m, "type");
  if (type == "subscribed") {
    const auto seq = static_cast<std::uint64_t>(std::max<std::int64_t>(0, integer_of(m, "seq")));
    const auto* snapshot = member(m, "snapshot");
    const std::string status = snapshot ? text_of(*snapshot, "status") : std::string{};
    const bool first = !first_snapshot_;
    if (first) first_snapshot_ = seq;
    if (!from_start_) {
      // After the stored lines: only what is newer than this snapshot.
      from_start_ = true;
      last_seq_ = std::max(last_seq_, seq);
      return is_terminal(status) ? step::end : step::skip;
    }
    if (!is_terminal(status)) {
      // Running again (retried while we were away): an ending an earlier
      // resubscription found is no longer the job's end.
      ending_.reset();
      return step::skip;
    }
    // Nothing printed yet: the stored lines are exactly the job's lines.
    if (last_seq_ == 0) return step::print_stored_and_end;
    ending_ = final_transition{seq, status, snapshot ? integer_of(*snapshot, "attempt") : 0};
    return step::skip;
  }
  if (type == "caught_up") {
    // Every retained event of the job up to the present has been replayed.
    caught_up_seen_ = true;
    return ending_ ? step::end : step::skip;
  }
  if (type != "log" && type != "transition" && type != "progress") return step::skip;
  const auto seq = static_cast<std::uint64_t>(std::max<std::int64_t>(0, integer_of(m, "seq")));
  if (seq <= last_seq_) return step::skip;  // a repeat after a reconnect
  if (ending_ && seq > ending_->snapshot_seq) return step::end;  // past the snapshot the job ended in
  last_seq_ = seq;
  if (type == "log") return level_rank(text_of(m, "level")) >= min_level_ ? step::print : step::skip;
  if (type != "transition") return step::skip;
  if (ending_) {
    // A later transition means the one before was not the last; lines after
    // the last one (a paused tool's, say) are printed until the quiet.
    ending_->seen = text_of(m, "to") == ending_->status && integer_of(m, "attempt") == ending_->attempt;
    return step::skip;
  }
  if (!is_terminal(text_of(m, "to"))) return step::skip;
  return first_snapshot_ && seq > *first_snapshot_ ? step::end : step::skip;
}

log_follow::step log_follow::quiet() {
  // A daemon that marks the end of a replay is waited for, patiently; quiet
  // is the fallback for one that does not (older than caught_up).
  ++quiet_ticks_;
  const int needed = caught_up_seen_ ? patient_quiet_ticks : 1;
  return ending_ && ending_->seen && quiet_ticks_ >= needed ? step::end : step::skip;
}

}  // namespace overseer::cli
