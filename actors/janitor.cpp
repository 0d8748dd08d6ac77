#include "actors/janitor.hpp"

#include <filesystem>
#include <utility>

#include "actors/await_callback.hpp"
#include "actors/job_id.hpp"
#include "actors/messages.hpp"
#include "overseer/errc.hpp"
#include "persistence/key_layout.hpp"
#include "tools/thread_name.hpp"
#include "webhooks/outbox.hpp"

namespace overseer::actors {

namespace {

using persistence::family;
using persistence::kv_op;

kv_op erase(family f, std::string key) { return {kv_op::kind::erase, f, std::move(key), {}}; }

/// Every row a job owns, as one write.
persistence::job_write deletion(const persistence::store& db, const persistence::job_record& r) {
  namespace keys = persistence::keys;
  persistence::job_write w;
  w.ops.push_back(erase(is_terminal(r.status) ? family::jobs : family::open_jobs, r.id));
  w.ops.push_back(erase(family::results, r.id));
  w.ops.push_back({kv_op::kind::erase_range, family::logs, r.id, keys::job_range_end(r.id)});
  if (auto listed = keys::status_entry_prefix(r.status))
    w.ops.push_back(erase(family::index, keys::index_entry(*listed, r.created_at, r.id)));
  w.ops.push_back(erase(family::index, keys::index_entry(keys::tool_prefix(r.tool), r.created_at, r.id)));
  if (!r.batch_id.empty())
    w.ops.push_back(erase(family::index, keys::index_entry(keys::batch_prefix(r.batch_id), r.created_at, r.id)));
  if (!r.trace_id.empty())
    w.ops.push_back(erase(family::index, keys::index_entry(keys::trace_prefix(r.trace_id), r.created_at, r.id)));
  if (!r.idempotency_key.empty()) {
    const auto key = keys::idempotency(keys::idempotency_scope(r.owner, r.idempotency_key));
    if (auto owner = db.index_value(key); owner && *owner == r.id) w.ops.push_back(erase(family::index, key));
  }
  // Its webhook rows: notify settings, pending and finished deliveries.
  w.ops.push_back(erase(family::webhooks, webhooks::keys::notify(r.id)));
  for (char kind : {'o', 'd'})
    w.ops.push_back({kv_op::kind::erase_range, family::webhooks, webhooks::keys::job_begin(kind, r.id),
                     webhooks::keys::job_end(kind, r.id)});
  if (!r.cache_key.empty())
    if (auto entry = db.get_cache(r.cache_key); entry && entry->source_job_id == r.id)
      w.ops.push_back(erase(family::cache, r.cache_key));
  return w;
}

/// Removes DATA_DIR/work/JOB_ID of every job that is no longer stored
/// (expired, purged), whatever removed it: an attempt's scratch is kept
/// while its job is, for a look at a failure. A directory that cannot be
/// removed now (a body still writing there) is tried again at the next pass.
void remove_work_of_deleted_jobs(const persistence::store& db, const std::filesystem::path& work) {
  std::vector<std::filesystem::path> gone;
  std::error_code ec;
  for (std::filesystem::directory_iterator it{work, ec}, end; !ec && it != end; it.increment(ec)) {
    const auto name = it->path().filename().string();
    if (looks_like_job_id(name) && !db.get_job(name)) gone.push_back(it->path());
  }
  for (const auto& dir : gone) {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
}

/// Writes and waits until durable.
bool write_sync(persistence::group_commit& writer, std::vector<persistence::job_write> writes) {
  return await_callback<bool>([&](auto done) { writer.write(std::move(writes), std::move(done)); }, false);
}

}  // namespace

janitor::janitor(persistence::store& db, persistence::group_commit& writer, scheduler_actor scheduler,
                 const engine_config& cfg, std::function<void()> after_pass)
  : db_(db),
    writer_(writer),
    scheduler_(std::move(scheduler)),
    cfg_(cfg),
    after_pass_(std::move(after_pass)),
    thread_([this] {
      tools::name_this_thread("ovs.janitor");
      loop();
    }) {}

janitor::~janitor() { stop(); }

void janitor::stop() {
  {
    std::lock_guard lock{mutex_};
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void janitor::loop() {
  std::unique_lock lock{mutex_};
  while (!cv_.wait_for(lock, cfg_.retention_interval, [this] { return stopping_; })) {
    lock.unlock();
    try {
      run_once();
    } catch (const overseer::error&) {
      // A store read failed; the store reported it and the engine is
      // fail-stopping. Nothing is deleted on a store that cannot be read.
    }
    lock.lock();
  }
}

namespace {

/// Sends `batch` to the scheduler and waits until its deletions are durable;
/// returns the jobs deleted and leaves `batch` empty.
std::size_t send_expiry(const scheduler_actor& scheduler, expire_jobs& batch) {
  if (batch.ids.empty()) return 0;
  // 0 when the scheduler is stopping; the next start tries again.
  return await_callback<std::size_t>(
    [&](auto done) {
      batch.done = std::move(done);
      caf::anon_send(scheduler, std::exchange(batch, expire_jobs{}));
    },
    0);
}

}  // namespace

std::size_t janitor::expire(const std::vector<persistence::job_record>& records) {
  std::lock_guard one_at_a_time{pass_};
  expire_jobs batch;
  std::size_t deleted = 0;
  for (const auto& r : records) {
    if (!is_terminal(r.status)) continue;  // the scheduler deletes no active job either
    batch.ids.push_back(r.id);
    batch.deletions.push_back(deletion(db_, r));
    if (batch.ids.size() >= 256) deleted += send_expiry(scheduler_, batch);
  }
  return deleted + send_expiry(scheduler_, batch);
}

std::size_t janitor::run_once() {
  std::lock_guard one_at_a_time{pass_};
  const auto now = clock::now();
  expire_jobs batch;
  std::size_t deleted = 0;
  auto flush = [&] { deleted += send_expiry(scheduler_, batch); };
  for (auto s : {job_status::completed, job_status::failed, job_status::cancelled, job_status::timed_out}) {
    db_.for_each_with_status(s, [&](persistence::job_record&& r) {
      if (!r.completed_at || *r.completed_at + std::chrono::hours(r.ttl_hours) > now) return;
      batch.ids.push_back(r.id);
      batch.deletions.push_back(deletion(db_, r));
      if (batch.ids.size() >= 256) flush();  // bounded memory; each job stays atomic
    });
  }
  flush();
  // Keep the newest events for resume; older `since` values are refused.
  const auto next = db_.next_seq();
  if (next > cfg_.event_retention + 1) {
    persistence::job_write w;
    w.ops.push_back({kv_op::kind::erase_range, family::events, persistence::keys::event(0),
                     persistence::keys::event(next - cfg_.event_retention)});
    write_sync(writer_, {std::move(w)});
  }
  writer_.purged(deleted);
  remove_work_of_deleted_jobs(db_, cfg_.data_dir / "work");
  // The output files of the jobs deleted now (actors/file_service.hpp).
  if (after_pass_) after_pass_();
  return deleted;
}

}  // namespace overseer::actors
