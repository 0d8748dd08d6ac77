#include "persistence/group_commit.hpp"

#include <algorithm>
#include <utility>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "persistence/commit_stats.hpp"
#include "overseer/errc.hpp"
#include "persistence/key_layout.hpp"
#include "tools/thread_name.hpp"

namespace overseer::persistence {

namespace {

/// GET /metrics: one commit, its job writes, and its RocksDB write's time.
void count_commit(std::size_t writes, std::uint32_t rows, std::chrono::steady_clock::duration took) {
  auto& stats = commit_statistics();
  stats.commits.add();
  stats.rows.add(rows);
  stats.batch_size.observe(static_cast<double>(writes));
  stats.latency.observe(std::chrono::duration<double>(took).count());
}

log_line to_log_line(const event& e) { return {e.at, e.level, e.message, e.component.empty() ? "tool" : e.component}; }

}  // namespace

group_commit::group_commit(store& db, publish_fn publish, failed_fn failed)
  : db_(db),
    publish_(std::move(publish)),
    failed_fn_(std::move(failed)),
    next_seq_(db.next_seq()),
    rollups_(db),
    outbox_(db),
    compactor_(db, [this](std::string why) { fail(std::move(why)); }),
    thread_([this] {
      tools::name_this_thread("ovs.writer");
      run();
    }) {
  register_rollup_store(db_);
  db_.on_background_error([this](const std::string& why) { fail(why); });
  // One that came before we listened, while recovery was reading.
  if (auto why = db_.background_error()) fail(std::move(*why));
}

group_commit::~group_commit() { stop(); }

void group_commit::set_webhooks(std::string url, event_kinds kinds, std::function<void(std::size_t)> outbox_added) {
  // Before the first write: write() and the writer's drain both take
  // mutex_, which orders these stores before the writer's reads.
  std::lock_guard lock{mutex_};
  outbox_.configure(std::move(url), kinds);
  outbox_added_ = std::move(outbox_added);
}

void group_commit::fail(std::string why) {
  {
    std::lock_guard lock{mutex_};
    if (failed_) return;
    error_ = std::move(why);
    unreported_ = true;
    failed_ = true;
  }
  cv_.notify_one();
}

std::string group_commit::error() const {
  std::lock_guard lock{mutex_};
  return error_;
}

void group_commit::stop() {
  db_.on_background_error(nullptr);
  unregister_rollup_store(db_);
  {
    std::lock_guard lock{mutex_};
    if (stopping_) {
      if (!thread_.joinable()) return;
    }
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
  compactor_.stop();
}

void group_commit::write(std::vector<job_write> writes, done_fn done, bool awaited) {
  awaited = awaited && done != nullptr;
  {
    std::lock_guard lock{mutex_};
    queue_.push_back({std::move(writes), std::move(done), nullptr, awaited});
    queued_awaited_ += awaited;
    // A writer waiting for company waits on for more of the same.
    if (delaying_ && !awaited) return;
  }
  cv_.notify_one();
}

void group_commit::read(std::function<void()> fn) {
  {
    std::lock_guard lock{mutex_};
    queue_.push_back({{}, nullptr, std::move(fn)});
    ++queued_awaited_;
  }
  cv_.notify_one();
}

void group_commit::delay_commits_for(std::chrono::nanoseconds wait) {
  std::lock_guard lock{mutex_};
  delay_.fix(wait);
}

bool group_commit::waiting_for_company() const {
  std::lock_guard lock{mutex_};
  return delaying_;
}

void group_commit::gather_company(std::unique_lock<std::mutex>& lock, std::deque<request>& batch) {
  if (batch.empty() || stopping_ || failed_ || !db_.sync()) return;
  for (const auto& r : batch)
    if (r.awaited || r.read) return;
  const auto wait = delay_.next();
  if (wait <= std::chrono::nanoseconds{0}) return;
  delaying_ = true;
  const bool company = cv_.wait_for(lock, wait, [this] { return stopping_ || unreported_ || queued_awaited_ > 0; });
  delaying_ = false;
  delay_.waited(company);
  delayed_.fetch_add(1, std::memory_order_relaxed);
  if (company) joined_.fetch_add(1, std::memory_order_relaxed);
  commit_statistics().delays.add();
  if (company) commit_statistics().joined.add();
  queued_awaited_ = 0;
  for (auto& r : queue_) batch.push_back(std::move(r));
  queue_.clear();
}

void group_commit::run() {
  std::deque<request> batch;
  std::vector<event> published;
  for (;;) {
    std::optional<std::string> report;
    {
      std::unique_lock lock{mutex_};
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty() || unreported_; });
      if (std::exchange(unreported_, false)) report = error_;
      if (queue_.empty() && !report) return;  // stopping, and everything is drained
      batch.swap(queue_);
      queued_awaited_ = 0;
      if (!report) gather_company(lock, batch);
    }
    if (report && failed_fn_) failed_fn_(*report);
    // Reads must see every write queued before them, so a read splits the
    // drained requests: commit the writes ahead of it, then run it.
    while (!batch.empty()) {
      std::deque<request> writes;
      while (!batch.empty() && !batch.front().read) {
        writes.push_back(std::move(batch.front()));
        batch.pop_front();
      }
      if (!writes.empty()) {
        published.clear();
        bool ok = false;
        if (!failed_) {
          if (auto why = check_space()) fail(std::move(*why));
          else ok = commit(writes, published);
        }
        if (ok) tell_watchers(writes);
        // Publish only after the batch is synced: a subscriber must never
        // see a transition that a crash could undo.
        if (ok && !published.empty()) publish_(std::move(published));
        if (const auto rows = outbox_.take_added(); ok && rows > 0 && outbox_added_) outbox_added_(rows);
        for (auto& r : writes)
          if (r.done) r.done(ok);
      }
      if (!batch.empty()) {
        batch.front().read();
        batch.pop_front();
      }
    }
  }
}

std::optional<std::string> group_commit::check_space() {
  using namespace std::chrono_literals;
  const auto now = std::chrono::steady_clock::now();
  if (now - space_checked_ < 10ms && written_since_check_ < (1u << 20)) return std::nullopt;
  space_checked_ = now;
  written_since_check_ = 0;
  return db_.space_error();
}

void group_commit::watch_changes(changes_fn fn) {
  std::lock_guard lock{watchers_mutex_};
  watchers_.push_back(std::move(fn));
  watched_.store(true, std::memory_order_release);
}

void group_commit::tell_watchers(const std::deque<request>& committed) {
  if (!watched_.load(std::memory_order_acquire)) return;
  changed_.clear();
  bool any = false;
  for (const auto& r : committed)
    for (const auto& w : r.writes) {
      if (w.record) changed_.emplace_back(w.record->id);
      for (const auto& op : w.ops) {
        if (op.f != family::jobs && op.f != family::open_jobs && op.f != family::results) continue;
        if (op.what == kv_op::kind::erase_range) any = true;
        else changed_.emplace_back(op.key);
      }
    }
  if (changed_.empty() && !any) return;
  std::lock_guard lock{watchers_mutex_};
  for (const auto& fn : watchers_) fn(changed_, any);
}

record_image::record_image(const job_record& r)
  : id(r.id),
    bytes(encode(r)),
    status(r.status),
    created_at(r.created_at),
    started_at(r.started_at),
    tool(r.tool),
    batch_id(r.batch_id),
    idempotency_key(r.idempotency_key.empty() ? std::string{} : keys::idempotency_scope(r.owner, r.idempotency_key)),
    trace_id(r.trace_id) {}

bool group_commit::job_kept(const std::string& id) const {
  if (deleted_in_commit_.contains(id)) return false;
  std::string ignored;
  for (auto f : {family::open_jobs, family::jobs}) {
    const auto s = db_.db().Get({}, db_.handle(f), id, &ignored);
    if (s.ok()) return true;
    if (!s.IsNotFound()) throw overseer::error{errc::store_failure, "cannot read job " + id + ": " + s.ToString()};
  }
  return false;
}

bool group_commit::commit(std::deque<request>& requests, std::vector<event>& published) {
  rocksdb::WriteBatch wb;
  const auto first_seq = next_seq_;
  auto seq = next_seq_;
  std::uint32_t shared_rows = 0;  // written once for the commit, not for a job
  std::uint64_t open_deleted = 0;  // keys of open_jobs deleted
  auto put = [&](family f, const std::string& k, const std::string& v) {
    // Batch puts only fail on corrupt batches, which cannot happen here.
    wb.Put(db_.handle(f), k, v).PermitUncheckedError();
  };
  // Only retention deletes jobs: most commits find the set empty, and
  // clear() would zero every bucket it ever grew to.
  if (!deleted_in_commit_.empty()) deleted_in_commit_.clear();
  try {
  for (auto& r : requests) {
    for (auto& w : r.writes) {
      if (!w.only_if_job_kept.empty() && !job_kept(w.only_if_job_kept)) continue;
      if (const auto* rec = w.record ? &*w.record : nullptr) {
        if (!deleted_in_commit_.empty()) deleted_in_commit_.erase(rec->id);
        // An unfinished job's record is in open_jobs, a finished one's in
        // jobs: it moves when the job finishes (or an explicit retry reopens it).
        const bool open = !is_terminal(rec->status);
        put(open ? family::open_jobs : family::jobs, rec->id, rec->bytes);
        const bool was_open = w.previous_status ? !is_terminal(*w.previous_status) : open;
        if (!w.created && was_open != open) {
          wb.Delete(db_.handle(was_open ? family::open_jobs : family::jobs), rec->id).PermitUncheckedError();
          open_deleted += was_open;
        }
        // Status entries only for failed, cancelled and timed-out jobs.
        const auto now_listed = keys::status_entry_prefix(rec->status);
        const auto was_listed = w.previous_status ? keys::status_entry_prefix(*w.previous_status) : std::nullopt;
        if (!w.created && was_listed != now_listed && was_listed)
          wb.Delete(db_.handle(family::index), keys::index_entry(*was_listed, rec->created_at, rec->id))
            .PermitUncheckedError();
        if ((w.created || was_listed != now_listed) && now_listed)
          put(family::index, keys::index_entry(*now_listed, rec->created_at, rec->id), {});
        if (w.created) {
          put(family::index, keys::index_entry(keys::tool_prefix(rec->tool), rec->created_at, rec->id), {});
          if (!rec->batch_id.empty())
            put(family::index, keys::index_entry(keys::batch_prefix(rec->batch_id), rec->created_at, rec->id), {});
          if (!rec->idempotency_key.empty()) put(family::index, keys::idempotency(rec->idempotency_key), rec->id);
          if (!rec->trace_id.empty())
            put(family::index, keys::index_entry(keys::trace_prefix(rec->trace_id), rec->created_at, rec->id), {});
        }
      }
      for (const auto& op : w.ops) {
        outbox_.on_op(op);
        switch (op.what) {
          case kv_op::kind::put: put(op.f, op.key, op.value); break;
          case kv_op::kind::erase:
            wb.Delete(db_.handle(op.f), op.key).PermitUncheckedError();
            if (op.f == family::jobs || op.f == family::open_jobs) deleted_in_commit_.insert(op.key);
            open_deleted += op.f == family::open_jobs;
            break;
          case kv_op::kind::erase_range:
            wb.DeleteRange(db_.handle(op.f), op.key, op.value).PermitUncheckedError();
            break;
        }
      }
      if (w.result_json && w.record) put(family::results, w.record->id, *w.result_json);
      for (auto& e : w.events) {
        e.seq = seq++;
        const auto before = wb.Count();
        rollups_.count(e, w.record ? w.record->started_at : std::nullopt, wb);
        shared_rows += wb.Count() - before;  // a new minute's expiry
        // The event's webhook deliveries, in the write that makes it durable.
        outbox_.on_event(e, wb);
        // Transitions are in the job's record (its history); log lines get
        // their own rows, for paging through a job's logs.
        if (e.kind == event_kind::log)
          put(family::logs, keys::job_seq(e.job_id, e.seq), encode(to_log_line(e)));
        published.push_back(e);
      }
    }
  }
  } catch (const overseer::error& e) {
    // A job's notify row could not be read: the store is failing.
    published.clear();
    fail(e.what());
    return false;
  }
  const auto job_rows = wb.Count() - shared_rows;
  // The commit's events in blocks of at most event_block_size, each keyed by
  // its last seq: `since` seeks to the block holding the next event, and the
  // newest key is the newest seq.
  for (std::size_t i = 0; i < published.size(); i += event_block_size) {
    const auto n = std::min(event_block_size, published.size() - i);
    put(family::events, keys::event(published[i + n - 1].seq), encode_event_block(published, i, n));
  }
  rollups_.write_changed(wb);
  std::string next;
  keys::append_be64(next, seq);
  put(family::meta, std::string{keys::next_seq_key}, next);

  rocksdb::WriteOptions opts;
  opts.sync = db_.sync();
  const auto started = std::chrono::steady_clock::now();
  auto s = db_.db().Write(opts, &wb);
  std::size_t writes = 0;
  for (const auto& r : requests) writes += r.writes.size();
  const auto took = std::chrono::steady_clock::now() - started;
  count_commit(writes, wb.Count(), took);
  if (opts.sync) delay_.observe_sync(std::chrono::duration_cast<std::chrono::nanoseconds>(took));
  rows_.fetch_add(wb.Count(), std::memory_order_relaxed);
  job_rows_.fetch_add(job_rows, std::memory_order_relaxed);
  if (!s.ok()) {
    next_seq_ = first_seq;
    published.clear();
    fail("group commit failed: " + s.ToString());
    return false;
  }
  next_seq_ = seq;
  compactor_.deleted(open_deleted);
  written_since_check_ += wb.GetDataSize();
  ++commits_;
  return true;
}

}  // namespace overseer::persistence
