// Keys of the RocksDB column families (docs/architecture.md, "Storage layout").
//
// Numbers inside keys are big-endian so that byte order is numeric order:
// history and logs of one job are a prefix scan in sequence order, events
// a range scan from any sequence number, and index entries sort by creation
// time. Job ids are fixed-length and time-ordered (ULIDs), so the jobs family
// itself iterates in creation order.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "overseer/job.hpp"

namespace overseer::persistence::keys {

inline constexpr std::string_view schema_version_key = "schema_version";
inline constexpr std::string_view next_seq_key = "next_seq";
/// The least job id whose millisecond is known never to be before its job's
/// created_at: empty in a store made by a build that reads the clock once for
/// both, past every id already there in a store that build first opened.
inline constexpr std::string_view exact_ids_from_key = "exact_ids_from";
/// 2: a job's history is in its record, status entries only for unfinished
/// jobs (`open:`) and failed/cancelled/timed-out ones, events in blocks.
inline constexpr int schema_version = 2;

void append_be64(std::string& out, std::uint64_t v);
[[nodiscard]] std::uint64_t read_be64(std::string_view bytes) noexcept;

/// history and logs: job id, then the event's global seq.
[[nodiscard]] std::string job_seq(std::string_view job_id, std::uint64_t seq);
/// events: the global seq.
[[nodiscard]] std::string event(std::uint64_t seq);

/// index entries: "status:<status>:" / "tool:<tool>:" + be64 created-ms + id.
[[nodiscard]] std::string status_prefix(job_status s);
/// The prefix of a job's status entry: status_prefix for failed, cancelled
/// and timed_out; nullopt for the others, which have none. An unfinished
/// job's record is in the open_jobs family, which lists them; completed, the
/// common end, is listed by walking the jobs family (ids are time-ordered).
[[nodiscard]] std::optional<std::string> status_entry_prefix(job_status s);
/// What a listing of status `s` walks, as store::scan_ids_newest_first
/// takes it: open_jobs_scan for an unfinished status, the status entries
/// for failed, cancelled and timed_out, nullopt (the jobs family) for
/// completed.
[[nodiscard]] std::optional<std::string> listing_prefix(job_status s);
/// Not a key: tells scan_ids_newest_first to walk the open_jobs family.
inline constexpr std::string_view open_jobs_scan = "\x01open_jobs";
[[nodiscard]] std::string tool_prefix(std::string_view tool);
[[nodiscard]] std::string index_entry(std::string_view prefix, time_point created,
                                      std::string_view job_id);
/// index: "trace:<trace id>:" prefix of the entries of a trace's jobs.
[[nodiscard]] std::string trace_prefix(std::string_view trace_id);
/// index: "batch:<batch id>:" prefix of a batch's entries.
[[nodiscard]] std::string batch_prefix(std::string_view batch_id);
/// index: "idem:<key>" -> the job id that owns an idempotency key.
[[nodiscard]] std::string idempotency(std::string_view key);
/// The key a job's idempotency key is claimed under: the key itself for a
/// job without owner, else "<owner>\n<key>", so that principals never see
/// each other's jobs through a key (a name has no control characters).
[[nodiscard]] std::string idempotency_scope(std::string_view owner, std::string_view key);
/// index: "proc:<job id>" -> "PGID START": an external process group that
/// may still be alive, from record_process until the tool returns.
inline constexpr std::string_view process_prefix = "proc:";
/// index: "pause:<tool>" -> "<since, ms since the epoch>\n<reason>": a
/// paused tool, from its pause (an operator's or its restart intensity's)
/// until it is resumed, so that a pause outlives a restart.
inline constexpr std::string_view pause_prefix = "pause:";
[[nodiscard]] std::string tool_pause(std::string_view tool);
[[nodiscard]] std::string tool_pause_value(time_point since, std::string_view reason);
/// The since and reason of a tool_pause_value; nullopt if it is not one.
[[nodiscard]] std::optional<std::pair<time_point, std::string>> read_tool_pause(std::string_view value);
/// The first key past every key that starts with `prefix` (its last byte
/// below 0xff incremented, the 0xff bytes after it dropped); empty when
/// there is none (a prefix of 0xff bytes only).
[[nodiscard]] std::string prefix_end(std::string_view prefix);
/// The end of a job's history or logs range: id followed by 0xff bytes.
[[nodiscard]] std::string job_range_end(std::string_view job_id);
/// The job id at the end of an index entry.
[[nodiscard]] std::string_view index_job_id(std::string_view entry) noexcept;

}  // namespace overseer::persistence::keys
