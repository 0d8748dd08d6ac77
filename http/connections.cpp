#include "http/connections.hpp"

#include <utility>
#include <vector>

namespace overseer::http {

connections::ticket& connections::ticket::operator=(ticket&& other) noexcept {
  if (this != &other) {
    if (count_) count_->fetch_sub(1);
    count_ = std::exchange(other.count_, nullptr);
  }
  return *this;
}

connections::ticket::~ticket() {
  if (count_) count_->fetch_sub(1);
}

std::optional<connections::ticket> connections::take(std::atomic<std::size_t>& count, std::size_t max) {
  auto n = count.load();
  do {
    if (n >= max) return std::nullopt;
  } while (!count.compare_exchange_weak(n, n + 1));
  return ticket{count};
}

void connections::hold(std::shared_ptr<http_session> s) {
  std::lock_guard lock{mutex_};
  const auto* key = s.get();
  held_.emplace(key, std::move(s));
}

void connections::release(const http_session* s) {
  std::shared_ptr<http_session> last;  // destroyed outside the lock
  std::lock_guard lock{mutex_};
  if (auto it = held_.find(s); it != held_.end()) {
    last = std::move(it->second);
    held_.erase(it);
  }
}

void connections::release_all() {
  std::unordered_map<const http_session*, std::shared_ptr<http_session>> all;
  {
    std::lock_guard lock{mutex_};
    all.swap(held_);
  }
}

}  // namespace overseer::http
