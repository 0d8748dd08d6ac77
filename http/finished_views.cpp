#include "http/finished_views.hpp"

#include <functional>

namespace overseer::http {

finished_views::finished_views(std::size_t max_bytes) : max_bytes_per_shard_(max_bytes / shard_count) {}

std::size_t finished_views::shard_of(std::string_view id) {
  return std::hash<std::string_view>{}(id) % shard_count;
}

std::size_t finished_views::cost(const std::string& id, const entry& e) {
  // The strings and about what the list node, the map node and the shared
  // entry's control block take.
  return id.size() + e.owner.size() + e.body.size() + 160;
}

void finished_views::drop(shard& s, decltype(shard::lru)::iterator it) {
  s.bytes -= cost(it->first, *it->second);
  s.index.erase(std::string_view{it->first});
  s.lru.erase(it);
}

std::shared_ptr<const finished_views::entry> finished_views::find(std::string_view id) {
  if (max_bytes_per_shard_ == 0) return nullptr;
  auto& s = shards_[shard_of(id)];
  std::lock_guard lock{s.mutex};
  const auto it = s.index.find(id);
  if (it == s.index.end()) {
    misses.add();
    return nullptr;
  }
  s.lru.splice(s.lru.begin(), s.lru, it->second);
  hits.add();
  return it->second->second;
}

finished_views::ticket finished_views::before_read(std::string_view id) {
  const auto n = shard_of(id);
  std::lock_guard lock{shards_[n].mutex};
  return {n, shards_[n].generation};
}

void finished_views::keep(std::string_view id, ticket t, std::string owner, std::string body) {
  if (max_bytes_per_shard_ == 0 || t.shard != shard_of(id)) return;
  auto e = std::make_shared<const entry>(entry{std::move(owner), std::move(body)});
  std::string key{id};
  const auto size = cost(key, *e);
  if (size > max_bytes_per_shard_) return;
  auto& s = shards_[t.shard];
  std::lock_guard lock{s.mutex};
  // Changed since the reader took its ticket: what it read may be older
  // than the change.
  if (s.generation != t.generation) return;
  if (const auto it = s.index.find(id); it != s.index.end()) drop(s, it->second);
  while (!s.lru.empty() && s.bytes + size > max_bytes_per_shard_) drop(s, std::prev(s.lru.end()));
  s.lru.emplace_front(std::move(key), std::move(e));
  s.index.emplace(std::string_view{s.lru.front().first}, s.lru.begin());
  s.bytes += size;
}

void finished_views::changed(std::span<const std::string_view> ids, bool any) {
  if (any) {
    for (auto& s : shards_) {
      std::lock_guard lock{s.mutex};
      ++s.generation;
      s.index.clear();
      s.lru.clear();
      s.bytes = 0;
    }
    return;
  }
  for (const auto id : ids) {
    auto& s = shards_[shard_of(id)];
    std::lock_guard lock{s.mutex};
    ++s.generation;
    if (const auto it = s.index.find(id); it != s.index.end()) drop(s, it->second);
  }
}

std::size_t finished_views::entries() const {
  std::size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard lock{s.mutex};
    n += s.index.size();
  }
  return n;
}

std::size_t finished_views::bytes() const {
  std::size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard lock{s.mutex};
    n += s.bytes;
  }
  return n;
}

void collect_finished_views(metrics::exposition& out, const finished_views& views) {
  out.family("overseer_http_finished_cache_hits_total",
             "GET /v1/jobs/{id} answered from a finished job's kept answer, without reading the store.", "counter");
  out.sample("overseer_http_finished_cache_hits_total", {}, views.hits.value());
  out.family("overseer_http_finished_cache_misses_total",
             "GET /v1/jobs/{id} for a job with no kept answer (unfinished, changed, evicted or not read since it "
             "finished): read from the store.",
             "counter");
  out.sample("overseer_http_finished_cache_misses_total", {}, views.misses.value());
  out.family("overseer_http_finished_cache_entries", "Finished jobs whose answer is kept.", "gauge");
  out.sample("overseer_http_finished_cache_entries", {}, static_cast<std::uint64_t>(views.entries()));
  out.family("overseer_http_finished_cache_bytes", "What the kept answers take, about (at most --finished-cache).", "gauge");
  out.sample("overseer_http_finished_cache_bytes", {}, static_cast<std::uint64_t>(views.bytes()));
}

}  // namespace overseer::http
