#include "http/tenants.hpp"

#include <algorithm>
#include <cmath>

namespace overseer::http {

namespace {

/// Equal, in time that depends on the lengths only.
bool same(const unsigned char* a, const unsigned char* b, std::size_t n) {
  unsigned char diff = 0;
  for (std::size_t i = 0; i < n; ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

bool waiting(job_status s) { return s == job_status::pending || s == job_status::retrying; }

}  // namespace

tenants::tenants(engine& e, const std::vector<std::string>& admin_tokens, std::vector<principal> principals)
  : eng_(e) {
  auto t = std::make_shared<table>();
  t->admin_tokens = admin_tokens;
  t->principals = std::move(principals);
  table_ = t;
  share(t->principals);
  for (const auto& p : t->principals)
    if (p.quotas.max_queued > 0) track(p.name);
}

bool tenants::locked() const {
  std::lock_guard lock{mutex_};
  return !table_->admin_tokens.empty() || !table_->principals.empty();
}

std::optional<identity> tenants::authenticate(std::string_view token) const {
  std::shared_ptr<const table> t;
  {
    std::lock_guard lock{mutex_};
    t = table_;
  }
  if (t->admin_tokens.empty() && t->principals.empty()) return identity{};
  // Every hash and every admin token is compared, whichever matches: the
  // time taken says nothing about which principal (or prefix) was close.
  const auto hash = sha256(token);
  const principal* found = nullptr;
  for (const auto& p : t->principals)
    if (same(hash.data(), p.token_sha256.data(), hash.size()) && !found) found = &p;
  bool admin = false;
  for (const auto& a : t->admin_tokens) {
    const auto h = sha256(a);
    admin = same(hash.data(), h.data(), h.size()) || admin;
  }
  if (found) return identity{found->name, found->role, found->name, found->quotas, true, found->token_sha256};
  if (admin) return identity{"admin", role::admin, {}, {}, false};
  return std::nullopt;
}

bool tenants::still_valid(const identity& who) const {
  if (!who.listed) return true;
  std::shared_ptr<const table> t;
  {
    std::lock_guard lock{mutex_};
    t = table_;
  }
  for (const auto& p : t->principals)
    if (p.token_sha256 == who.token_sha256) return p.name == who.name && p.role == who.role;
  return false;
}

void tenants::set(std::vector<principal> principals) {
  std::vector<std::string> to_track;
  std::shared_ptr<table> t;
  {
    std::lock_guard lock{mutex_};
    t = std::make_shared<table>(*table_);
    t->principals = std::move(principals);
    table_ = t;
    for (const auto& p : t->principals)
      if (p.quotas.max_queued > 0 && !counts_.contains(p.name)) to_track.push_back(p.name);
    // Buckets restart full at the new rates.
    buckets_.clear();
  }
  share(t->principals);
  for (const auto& name : to_track) track(name);
}

void tenants::share(const std::vector<principal>& principals) {
  const auto& shares = eng_.config().shares;
  if (!shares) return;
  std::map<std::string, principal_share> out;
  for (const auto& p : principals) out[p.name] = principal_share{p.weight, p.quotas.max_running};
  shares->set(std::move(out));
}

void tenants::track(const std::string& owner) {
  // Counted in the store once; the events keep it from here. A job that
  // changes status during this scan may be counted one off (documented).
  long n = 0;
  try {
    for (auto s : {job_status::pending, job_status::retrying}) {
      list_query q;
      q.status = s;
      q.owner = owner;
      q.limit = 0;
      n += static_cast<long>(eng_.list(q).total_count);
    }
  } catch (const overseer::error&) {
    // Not started, or the store failed: counted from the events alone.
  }
  std::lock_guard lock{mutex_};
  counts_[owner].queued = n;
}

std::optional<quota_refusal> tenants::admit(const identity& who, std::size_t jobs) {
  const auto& q = who.quotas;
  if (q.max_queued == 0 && q.submits_per_second <= 0) return std::nullopt;
  std::lock_guard lock{mutex_};
  count* c = nullptr;
  if (q.max_queued > 0) {
    auto it = counts_.find(who.owner);
    if (it != counts_.end()) {
      c = &it->second;
      const auto now = static_cast<std::size_t>(std::max(0L, c->queued + c->reserved));
      if (now + jobs > q.max_queued)
        return quota_refusal{who.name + " has " + std::to_string(now) + " jobs queued; its max_queued is " +
                               std::to_string(q.max_queued) + (jobs > 1 ? " (this batch has " + std::to_string(jobs) + ")" : ""),
                             "max_queued", 5};
    }
  }
  if (q.submits_per_second > 0) {
    auto& b = buckets_[who.name];
    const auto now = std::chrono::steady_clock::now();
    const double burst = std::max(1.0, q.submits_per_second);
    if (!b.primed) b = bucket{burst, now, true};
    const double elapsed = std::chrono::duration<double>(now - b.at).count();
    b.tokens = std::min(burst, b.tokens + elapsed * q.submits_per_second);
    b.at = now;
    // A batch takes one token per job and may go into debt, so a batch
    // larger than the burst is possible, and what follows it waits.
    if (b.tokens < 1.0) {
      const int after = static_cast<int>(std::ceil((1.0 - b.tokens) / q.submits_per_second));
      return quota_refusal{who.name + " submits more than " + std::to_string(q.submits_per_second).substr(0, 12) +
                             " jobs per second",
                           "submits_per_second", std::max(1, after)};
    }
    b.tokens -= static_cast<double>(jobs);
  }
  if (c) c->reserved += static_cast<long>(jobs);
  return std::nullopt;
}

void tenants::settle(const identity& who, std::size_t jobs) {
  if (who.quotas.max_queued == 0) return;
  std::lock_guard lock{mutex_};
  if (auto it = counts_.find(who.owner); it != counts_.end())
    it->second.reserved = std::max(0L, it->second.reserved - static_cast<long>(jobs));
}

void tenants::observe(const event& e) {
  if (e.kind != event_kind::transition) return;
  const long delta = (waiting(e.to) ? 1 : 0) - (e.from && waiting(*e.from) ? 1 : 0);
  if (delta == 0) return;
  std::lock_guard lock{mutex_};
  if (auto it = counts_.find(e.owner); it != counts_.end()) it->second.queued += delta;
}

std::size_t tenants::queued(const std::string& owner) const {
  std::lock_guard lock{mutex_};
  auto it = counts_.find(owner);
  return it == counts_.end() ? 0 : static_cast<std::size_t>(std::max(0L, it->second.queued + it->second.reserved));
}

}  // namespace overseer::http
