// The rendered answers of GET /v1/jobs/{id} for finished jobs, kept until
// the job changes.
//
// A finished job's view changes only when the job is retried, deleted or
// purged, and every such change goes through the store's one writer, which
// names the changed jobs after its commit and before anybody is told of it
// (engine::watch_job_changes). So the answer rendered from the store is
// kept, by job id, and dropped when the writer names the job: a client that
// was told of a change (a retry's answer, an event) never reads the older
// view from here.
//
// A reader that missed takes a ticket before it reads the store and keeps
// what it rendered only if the job's shard saw no change since: a change
// committed while it read (the read may have seen the old record) is never
// kept. Shards are small LRU lists under their own mutex; the whole cache
// holds at most `max_bytes` of answers.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "metrics/exposition.hpp"
#include "metrics/instruments.hpp"

namespace overseer::http {

class finished_views {
public:
  struct entry {
    std::string owner;  ///< for the reader's visibility check
    std::string body;   ///< the rendered view, JSON text
  };
  /// Read before the store: what keep() compares.
  struct ticket {
    std::size_t shard = 0;
    std::uint64_t generation = 0;
  };

  /// 0 keeps nothing (find always misses, keep does nothing).
  explicit finished_views(std::size_t max_bytes);

  /// The kept answer for `id`, or null.
  [[nodiscard]] std::shared_ptr<const entry> find(std::string_view id);
  /// Taken before reading the job from the store.
  [[nodiscard]] ticket before_read(std::string_view id);
  /// Keeps a finished job's answer, unless the job changed since `t`.
  void keep(std::string_view id, ticket t, std::string owner, std::string body);
  /// The writer's report (engine::watch_job_changes): drops the named jobs,
  /// or every answer when `any`.
  void changed(std::span<const std::string_view> ids, bool any);

  [[nodiscard]] std::size_t entries() const;
  [[nodiscard]] std::size_t bytes() const;
  metrics::counter hits;
  metrics::counter misses;

private:
  static constexpr std::size_t shard_count = 16;
  struct shard {
    mutable std::mutex mutex;
    std::uint64_t generation = 0;  ///< bumped by every change of one of its jobs
    /// Most recently used first; the map's keys view the list's ids.
    std::list<std::pair<std::string, std::shared_ptr<const entry>>> lru;
    std::unordered_map<std::string_view, decltype(lru)::iterator> index;
    std::size_t bytes = 0;
  };
  [[nodiscard]] static std::size_t shard_of(std::string_view id);
  static std::size_t cost(const std::string& id, const entry& e);
  static void drop(shard& s, decltype(shard::lru)::iterator it);

  std::size_t max_bytes_per_shard_;
  std::array<shard, shard_count> shards_;
};

/// Its figures for GET /metrics: hits, misses, entries and bytes kept.
void collect_finished_views(metrics::exposition& out, const finished_views& views);

}  // namespace overseer::http
