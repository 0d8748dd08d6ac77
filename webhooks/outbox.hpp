// The webhook outbox: rows of the `webhooks` column family
// (docs/architecture.md, "Storage layout" and "Webhook outbox").
//
//   n:<job id>                        -> the job's notify settings (JSON)
//   o:<job id> be64(seq) u8(target)   -> a pending delivery: its state (JSON),
//                                        '\n', the event (codec bytes)
//   d:<job id> be64(seq) u8(target)   -> a finished delivery: its state (JSON)
//
// target 0 is the job's own notify.url, 1 the daemon-wide --webhook. The
// writer side (outbox_writer) runs on the group-commit thread and adds the
// o: rows of a commit's events to that commit's WriteBatch; the delivery
// side (webhooks/dispatcher) reads them in pages and rewrites or moves them
// through the writer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "overseer/event.hpp"
#include "overseer/job.hpp"
#include "overseer/webhooks.hpp"

namespace rocksdb {
class WriteBatch;
}

namespace overseer::persistence {
class store;
struct kv_op;
}  // namespace overseer::persistence

namespace overseer::webhooks {

inline constexpr std::uint8_t job_target = 0;
inline constexpr std::uint8_t daemon_target = 1;

namespace keys {
[[nodiscard]] std::string notify(std::string_view job_id);
[[nodiscard]] std::string pending(std::string_view job_id, std::uint64_t seq, std::uint8_t target);
[[nodiscard]] std::string finished(std::string_view job_id, std::uint64_t seq, std::uint8_t target);
/// The range of a job's o: (or d:) rows: [prefix + id, prefix + id + 0xff...).
[[nodiscard]] std::string job_begin(char kind, std::string_view job_id);
[[nodiscard]] std::string job_end(char kind, std::string_view job_id);
inline constexpr std::string_view pending_prefix = "o:";
/// Splits an o:/d: key; false if it is not one.
bool split(std::string_view key, std::string& job_id, std::uint64_t& seq, std::uint8_t& target);
}  // namespace keys

/// "dlv_<seq>_job" / "dlv_<seq>_all": the Overseer-Delivery header.
[[nodiscard]] std::string delivery_id(std::uint64_t seq, std::uint8_t target);

[[nodiscard]] std::string encode_notify(const notify_spec& n);
[[nodiscard]] std::optional<notify_spec> decode_notify(std::string_view bytes);
[[nodiscard]] bool wanted(const event_kinds& k, event_kind e) noexcept;

/// A delivery's state, as the o: and d: rows keep it.
struct delivery_state {
  std::string url;
  event_kind kind = event_kind::transition;
  int attempts = 0;
  std::string status = "pending";
  int last_status_code = 0;
  std::string last_error;
  std::optional<time_point> next_attempt_at;
  std::optional<time_point> delivered_at;
};

[[nodiscard]] std::string encode_state(const delivery_state& s);
[[nodiscard]] std::optional<delivery_state> decode_state(std::string_view json);
/// An o: row: the state, '\n', the event bytes.
[[nodiscard]] std::string encode_pending(const delivery_state& s, std::string_view event_bytes);
/// Splits an o: row; false if it is not one.
bool split_pending(std::string_view value, delivery_state& s, std::string_view& event_bytes);

/// The writer's side: which jobs want their events, and the o: rows of a
/// commit. Group-commit thread only, except configure (before any write).
class outbox_writer {
public:
  explicit outbox_writer(persistence::store& db);
  /// The daemon-wide receiver (empty url: none).
  void configure(std::string url, event_kinds kinds);
  /// A kv_op of the commit: notes notify rows put or erased.
  void on_op(const persistence::kv_op& op);
  /// Adds the o: rows of `e` (seq set) to `wb`. Throws overseer::error when
  /// the store cannot be read (a job's notify row).
  void on_event(const event& e, rocksdb::WriteBatch& wb);
  /// Rows added since the last call.
  [[nodiscard]] std::size_t take_added() noexcept;

private:
  const std::optional<notify_spec>& notify_of(const std::string& job_id);

  persistence::store& db_;
  std::string daemon_url_;
  event_kinds daemon_kinds_;
  bool any_notify_ = false;  ///< some n: row exists: look jobs up
  /// Jobs looked up (nullopt: no notify). A cache: cleared when large, an
  /// entry dropped when its job ends or is deleted.
  std::unordered_map<std::string, std::optional<notify_spec>> known_;
  std::size_t added_ = 0;
};

}  // namespace overseer::webhooks
