#include "actors/idempotency_claims.hpp"

namespace overseer::actors {

bool idempotency_claims::enqueue(const std::string& key, submit_job m) {
  auto [it, fresh] = claims_.try_emplace(key);
  it->second.waiters.push_back(std::move(m));
  return fresh;
}

std::vector<submit_job> idempotency_claims::take(const std::string& key) {
  auto it = claims_.find(key);
  if (it == claims_.end()) return {};
  auto waiters = std::move(it->second.waiters);
  it->second.waiters.clear();
  if (it->second.owner.empty()) claims_.erase(it);
  return waiters;
}

void idempotency_claims::claim(const std::string& key, std::string owner, std::uint64_t hash) {
  auto& c = claims_[key];
  c.owner = std::move(owner);
  c.hash = hash;
}

std::optional<idempotency_claims::settled> idempotency_claims::settle(const std::string& key) {
  auto it = claims_.find(key);
  if (it == claims_.end()) return std::nullopt;
  settled out{std::move(it->second.owner), it->second.hash, std::move(it->second.waiters)};
  claims_.erase(it);
  return out;
}

submit_result idempotency_claims::answer(const submit_job& m, const std::string& owner, std::uint64_t owner_hash,
                                         std::optional<job_status> status) {
  if (owner_hash == m.record->spec_hash) return {errc::ok, owner, {}, {}, 0, true, status};
  return {errc::conflict, owner,
          "idempotency key \"" + m.record->idempotency_key + "\" was used by job " + owner + " with a different spec",
          {{"idempotency_key", "already used by " + owner + " with a different spec"}}, 0, false, std::nullopt};
}

}  // namespace overseer::actors
