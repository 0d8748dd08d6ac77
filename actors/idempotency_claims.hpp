// Submits that share an idempotency key, without actors: while the key is
// being resolved (looked up in the store, or its first job made durable),
// later submits with the key wait here and are answered in order against
// the one job that owns it. Not thread-safe: the scheduler owns it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/messages.hpp"

namespace overseer::actors {

class idempotency_claims {
public:
  /// Queues `m` under `key`. True if it is the first: look the key up.
  bool enqueue(const std::string& key, submit_job m);
  /// Takes every submit waiting for `key` (the look-up answered).
  std::vector<submit_job> take(const std::string& key);
  /// The look-up found nothing: the job `owner` (spec hash `hash`) is being
  /// created for the key; submits that arrive meanwhile keep waiting.
  void claim(const std::string& key, std::string owner, std::uint64_t hash);

  struct settled {
    std::string owner;
    std::uint64_t hash = 0;
    std::vector<submit_job> waiters;
  };
  /// The owner is durable (or failed): forgets the key and hands back who
  /// is still waiting, to answer.
  std::optional<settled> settle(const std::string& key);

  /// The answer to a submit whose key belongs to `owner`: the same job if
  /// the specs match, a conflict naming the field if not.
  [[nodiscard]] static submit_result answer(const submit_job& m, const std::string& owner, std::uint64_t owner_hash,
                                            std::optional<job_status> status);

  [[nodiscard]] std::size_t size() const noexcept { return claims_.size(); }

private:
  struct claim_state {
    std::vector<submit_job> waiters;
    std::string owner;
    std::uint64_t hash = 0;
  };
  std::unordered_map<std::string, claim_state> claims_;
};

}  // namespace overseer::actors
