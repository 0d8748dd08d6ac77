// One access-log line and one metrics count per answered request, and one
// line per WebSocket session when it ends (docs/operations.md, "Logs").
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "http/api.hpp"

namespace overseer::http {

/// Follows one request from its dispatch to its answer.
class access_probe {
public:
  access_probe(api_context& ctx, const request& req, const std::string& peer);
  /// Set once the route is known; until then the request counts as unmatched.
  std::optional<route_id> route;
  /// A principal of the tokens file: the log names it (instead of "none").
  void named(const std::string& principal) { principal_ = principal; }
  /// Counts the answer and logs its line; call once, before it is sent.
  void done(const response& res);
  /// An answer whose body is not a string (a file download): its status and byte count.
  void done(unsigned status, std::uint64_t bytes);

private:
  api_context& ctx_;
  std::string method_, path_, peer_, principal_, trace_id_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

/// Who a request acts as, for the log: "token:N" (the N-th configured
/// token, from 1), "anonymous" without tokens configured, or "none". A
/// principal of the tokens file is logged by its name (access_probe::named).
[[nodiscard]] std::string principal_of(const server_config& config, const request& req);

/// A WebSocket session's counts: the metrics as they happen, and its
/// access-log line when the session ends (destruction).
class stream_tally {
public:
  explicit stream_tally(api_context& ctx) : ctx_(ctx) {}
  ~stream_tally();
  stream_tally(const stream_tally&) = delete;
  stream_tally& operator=(const stream_tally&) = delete;

  void opened(const request& upgrade, std::string peer);
  /// A principal of the tokens file: the log names it.
  void named(const std::string& principal) { named_ = principal; }
  /// `n` frames left in one socket write (one count update per write).
  void frames_sent(std::uint64_t n);
  void coalesced();
  void laggard();
  void closing(int code) { if (close_code_ == 0) close_code_ = code; }

private:
  api_context& ctx_;
  bool opened_ = false;
  std::string peer_, principal_, named_;
  std::uint64_t frames_ = 0;
  int close_code_ = 0;  ///< the close we sent; 0: the client closed or the connection broke
  std::chrono::steady_clock::time_point started_{};
};

}  // namespace overseer::http
