// Versioned binary encoding of everything the store keeps.
//
// Each value is: a one-byte record tag, a one-byte format version, the
// fields (fixed-width little-endian integers, length-prefixed strings), and a
// CRC-32 of all preceding bytes. Decoding checks every length against the
// bytes that remain, the tag, the version and the checksum, so a torn or
// corrupted value is reported as an error, never read past or trusted. A
// version newer than this build knows is refused with a message saying so.
//
// Each type's fields and their order are listed once, in codec.cpp (one
// `fields` function template a type, visited by the writer to encode and by
// the reader to decode), so encode and decode cannot disagree.
// tests/unit/persistence/codec_layout_test.cpp pins the bytes of each type.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "overseer/event.hpp"
#include "overseer/job.hpp"
#include "overseer/retry_policy.hpp"

namespace overseer::persistence {

/// The stored form of a job: its spec as validated, and its mutable state.
struct job_record {
  std::string id;
  std::string tool;
  std::string tool_version;
  std::string name;
  std::string params_json;  ///< validated params, defaults filled, serialized
  int priority = 5;
  std::map<std::string, std::string> labels;
  std::int64_t timeout_ms = 0;  ///< 0 = no timeout
  retry_policy retry;
  int ttl_hours = 24;
  std::string idempotency_key;

  job_status status = job_status::pending;
  int attempt = 0;
  /// Attempts made before the latest explicit retry: the retry budget
  /// counts from here, so an explicit retry starts it afresh.
  int retry_base = 0;
  overseer::progress progress;
  std::string error;
  time_point created_at;
  std::optional<time_point> started_at;
  std::optional<time_point> completed_at;
  std::optional<time_point> next_attempt_at;
  std::optional<std::string> checkpoint;
  /// The external process group of the running attempt, and its leader's
  /// start time, so orphans can be found (and only they killed) after a crash.
  int process_group = 0;
  std::uint64_t process_start = 0;

  std::string batch_id;                 ///< empty unless submitted in a batch
  std::vector<std::string> depends_on;  ///< jobs that must complete first
  std::optional<time_point> run_at;     ///< not started before this
  bool use_cache = false;
  std::string cache_key;                ///< hash of tool, version, canonical params
  std::optional<time_point> cached_at;  ///< set on a cache hit
  std::string cache_source;             ///< the job whose result was reused
  std::uint64_t spec_hash = 0;          ///< tells idempotent repeats from conflicts (0 without an idempotency key)
  /// The principal it belongs to (job_spec::owner); "" for a record written
  /// before owners existed (format 2 and older), which is the single tenant.
  std::string owner;
  /// Its W3C trace id (job_spec::trace_id); "" for none and before format 4.
  std::string trace_id;
  /// Its transitions after the creation, oldest first (format 5; a store of
  /// schema 1 is migrated at open, and a migrated record's history starts
  /// with its creation). The creation itself is implied by the record
  /// (creation_transition), so a queued job carries no history.
  std::vector<transition> history;
  /// The result of a completed job when it is small (inline_result_limit
  /// bytes or less); larger results are in the results family.
  std::optional<std::string> result;
  /// In a cluster (format 6): the node of its latest attempt, and the node
  /// labels it requires (job_spec::node_selector).
  std::string node;
  std::map<std::string, std::string> node_selector;

  friend bool operator==(const job_record&, const job_record&) = default;
};

/// Results up to this size are kept in the job's record (one row fewer per
/// job, and a view reads one row); larger ones in the results family,
/// compressed.
inline constexpr std::size_t inline_result_limit = 1024;

/// The transition that created the job: `submitted` into pending, or a cache
/// hit into completed, at created_at.
[[nodiscard]] transition creation_transition(const job_record& r);
/// Its whole history: the creation, then the stored transitions.
[[nodiscard]] std::vector<transition> full_history(const job_record& r);

/// A batch: jobs submitted together, with a parallel limit and fail-fast.
struct batch_record {
  std::string id;
  std::string name;
  std::vector<std::string> job_ids;  ///< in submission (start) order
  int parallel_limit = 0;            ///< 0 = no limit beyond the engine's
  bool fail_fast = false;
  time_point created_at;
  bool cancelled = false;            ///< cancelled by a client
  std::string owner;                 ///< its principal; "" before format 3
  friend bool operator==(const batch_record&, const batch_record&) = default;
};

/// A result-cache entry: which completed job answers this key, until when.
struct cache_entry {
  std::string source_job_id;
  std::string tool;
  time_point stored_at;
  time_point expires_at;
  std::uint64_t result_bytes = 0;
  friend bool operator==(const cache_entry&, const cache_entry&) = default;
};

/// The outcome of decoding: a value, or the reason the bytes were refused.
template <class T>
struct decoded {
  std::optional<T> value;
  std::string error;
  explicit operator bool() const noexcept { return value.has_value(); }
};

[[nodiscard]] std::string encode(const job_record& r);
[[nodiscard]] decoded<job_record> decode_job(std::string_view bytes);
/// Decodes into `out`, which must be a default job_record (the fields an
/// older format lacks keep their defaults), with no copy or move of the
/// record: why the bytes were refused, or empty. On a refusal `out` holds
/// whatever was read.
[[nodiscard]] std::string decode_job_into(std::string_view bytes, job_record& out);

[[nodiscard]] std::string encode(const transition& t);
[[nodiscard]] decoded<transition> decode_transition(std::string_view bytes);

[[nodiscard]] std::string encode(const log_line& l);
[[nodiscard]] decoded<log_line> decode_log(std::string_view bytes);

[[nodiscard]] std::string encode(const batch_record& b);
[[nodiscard]] decoded<batch_record> decode_batch(std::string_view bytes);

[[nodiscard]] std::string encode(const cache_entry& c);
[[nodiscard]] decoded<cache_entry> decode_cache_entry(std::string_view bytes);

/// Events are stored with their seq (the key also holds it).
[[nodiscard]] std::string encode(const event& e);
[[nodiscard]] decoded<event> decode_event(std::string_view bytes);
/// Several events of one commit, in seq order, as one value: events[first,
/// first + count). The events family stores blocks (format 5) and, written
/// by older builds, single events: decode_events reads both.
[[nodiscard]] std::string encode_event_block(const std::vector<event>& events, std::size_t first,
                                             std::size_t count);
[[nodiscard]] decoded<std::vector<event>> decode_events(std::string_view bytes);

/// CRC-32 (IEEE) of `bytes`; exposed for tests.
[[nodiscard]] std::uint32_t crc32(std::string_view bytes) noexcept;

}  // namespace overseer::persistence
