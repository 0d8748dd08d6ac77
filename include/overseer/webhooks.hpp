// Webhooks: a job's events POSTed to a URL, durably (docs/operations.md,
// "Webhooks"; docs/architecture.md, "Webhook outbox").
//
// A job may name a receiver (job_spec::notify), and the engine may have a
// receiver for every job (webhook_config::url). Each event of such a job is
// put into an outbox in the same RocksDB write that makes the event durable,
// and a delivery thread of its own POSTs it, at least once, in seq order per
// job, retrying with exponential backoff and jitter until a 2xx answer or
// max_attempts.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "overseer/event.hpp"
#include "overseer/job.hpp"

namespace overseer {

struct webhook_config {
  /// Every job's events also go here (overseerd --webhook); empty: none.
  /// Not subject to `allow`: the operator chose it.
  std::string url{};
  /// The kinds `url` receives.
  event_kinds events{};
  /// HMAC-SHA256 key of the Overseer-Signature header; empty: no signature.
  std::string secret{};
  /// Hosts (exact, case-insensitive) a job's notify.url may name. Empty:
  /// every notify is refused.
  std::vector<std::string> allow{};
  /// Attempts of one delivery before it is given up (1-1000).
  int max_attempts = 10;
  /// One attempt's time limit: connect, send, answer (100 ms - 10 min).
  std::chrono::milliseconds timeout{10000};
  /// The wait before the second attempt; it doubles per attempt (with
  /// jitter: between half and all of it) up to max_backoff.
  std::chrono::milliseconds initial_backoff{1000};
  std::chrono::milliseconds max_backoff{600000};
  /// Deliveries in flight at once (one per job at most), 1-256.
  int concurrency = 8;
  /// The request body of an event; overseerd renders the WebSocket
  /// stream's JSON. Empty: {"type","seq","job_id"} only.
  std::function<std::string(const event&)> render{};
};

/// One delivery of one event to one URL (engine::deliveries).
struct delivery_view {
  std::string id{};  ///< the Overseer-Delivery header: same on every attempt
  std::uint64_t seq = 0;
  event_kind event = event_kind::transition;
  std::string url{};
  int attempts = 0;
  std::string status{};  ///< pending, delivered or failed
  int last_status_code = 0;  ///< 0: no HTTP answer (yet)
  std::string last_error{};
  std::optional<time_point> next_attempt_at{};  ///< while pending
  std::optional<time_point> delivered_at{};     ///< once delivered
};

/// "transition", "progress", "log" -> the kind.
[[nodiscard]] std::optional<event_kind> parse_event_kind(std::string_view s) noexcept;

/// Why `url` cannot be a webhook target: not http(s), no host, bad port,
/// control characters; nullopt when it can.
[[nodiscard]] std::optional<std::string> check_webhook_url(std::string_view url);
/// As check_webhook_url, and its host must be on `allow`.
[[nodiscard]] std::optional<std::string> check_webhook_url(std::string_view url,
                                                           const std::vector<std::string>& allow);

}  // namespace overseer
