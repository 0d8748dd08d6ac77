// Who is asking, and what they may have (docs/api.md, "Principals and
// roles"; docs/operations.md, "Tenants").
//
// tenants holds the principals of a server (its tokens file and its admin
// tokens), finds the principal of a bearer token in constant time, and keeps
// the quota state: each principal's jobs pending or retrying (counted from
// the engine's events, which the stream hub hands it) and a token bucket of
// submits. Thread-safe: handlers on every I/O thread call it, the hub calls
// observe() from the engine's dispatch thread, set() comes from SIGHUP.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "overseer/engine.hpp"
#include "overseer/http/server.hpp"

namespace overseer::http {

/// The principal of a request.
struct identity {
  /// Its name: the tokens file's, "admin" for a --token token, empty when
  /// the server has no tokens at all (anyone is the single tenant's admin).
  std::string name{};
  http::role role = role::admin;
  /// Whose jobs it submits: its name, or empty for a --token admin and
  /// without tokens (the single tenant, as before principals existed).
  std::string owner{};
  principal_quotas quotas{};
  bool listed = false;  ///< a principal of the tokens file (not a --token admin)
  /// The SHA-256 of the token it came with (a listed principal's): what a
  /// reload checks to close the streams of a revoked token.
  std::array<unsigned char, 32> token_sha256{};

  /// The owner filter its reads and bulk actions get: its own jobs for a
  /// user, none (every owner) for an admin or a reader.
  [[nodiscard]] std::optional<std::string> scope() const {
    return role == role::user ? std::optional<std::string>{owner} : std::nullopt;
  }
  /// Whether it may see a job or batch of `job_owner` (others' are 404).
  [[nodiscard]] bool sees(const std::string& job_owner) const { return role != role::user || job_owner == owner; }
  /// Who did it, for a transition reason or a log line: "alice (client
  /// 127.0.0.1)", or the client alone without principals.
  [[nodiscard]] std::string by(const std::string& peer) const { return name.empty() ? peer : name + " (" + peer + ")"; }
};

/// A submit refused by a quota: 429 with Retry-After.
struct quota_refusal {
  std::string detail;
  std::string field;  ///< the quota: "max_queued" or "submits_per_second"
  int retry_after_s = 1;
};

class tenants {
public:
  tenants(engine& e, const std::vector<std::string>& admin_tokens, std::vector<principal> principals);

  /// Whether a request needs a token: any admin token or principal is set.
  [[nodiscard]] bool locked() const;
  /// The principal whose token this is, compared in time independent of
  /// the token and of which principal (if any) it belongs to. Without any
  /// token configured: the anonymous admin.
  [[nodiscard]] std::optional<identity> authenticate(std::string_view token) const;
  /// Replaces the principals (SIGHUP) and hands their weights and
  /// max_running to the engine's principal_shares.
  void set(std::vector<principal> principals);
  /// Whether `who` (authenticated earlier) still holds: its token still
  /// names the same principal with the same role. Always for a --token
  /// admin and without tokens (those do not change at run time).
  [[nodiscard]] bool still_valid(const identity& who) const;

  /// Takes `jobs` submits of `who` if its quotas leave room (a batch counts
  /// every job); a refusal otherwise, with nothing taken. Taken submits are
  /// counted as queued until settle() (the engine's answer).
  [[nodiscard]] std::optional<quota_refusal> admit(const identity& who, std::size_t jobs);
  /// The engine answered the submits admit() took: its events count them
  /// from here on.
  void settle(const identity& who, std::size_t jobs);
  /// An event from the engine (the stream hub's one subscription): keeps
  /// each principal's count of pending and retrying jobs.
  void observe(const event& e);
  /// The jobs of `owner` pending or retrying, as counted (tests, health).
  [[nodiscard]] std::size_t queued(const std::string& owner) const;

private:
  struct table {
    std::vector<std::string> admin_tokens;
    std::vector<principal> principals;
  };
  struct bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point at{};
    bool primed = false;
  };
  struct count {
    long queued = 0;    ///< from the events
    long reserved = 0;  ///< admitted, not answered yet
  };

  void share(const std::vector<principal>& principals);
  /// Counts `owner`'s pending and retrying jobs in the store, once.
  void track(const std::string& owner);

  engine& eng_;
  mutable std::mutex mutex_;
  std::shared_ptr<const table> table_;
  std::unordered_map<std::string, bucket> buckets_;
  std::unordered_map<std::string, count> counts_;  ///< only owners with a max_queued
};

}  // namespace overseer::http
