#include "metrics/engine_metrics.hpp"

#include <chrono>

#include "actors/coordinator.hpp"
#include "persistence/commit_stats.hpp"
#include "webhooks/dispatcher.hpp"

namespace overseer::metrics {

namespace {

constexpr std::array<job_status, 4> finals{job_status::completed, job_status::failed, job_status::cancelled,
                                           job_status::timed_out};

double seconds_between(time_point from, time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

}  // namespace

engine_metrics::engine_metrics(engine& e) : eng_(e) {
  filter f = filter::all();
  f.include_logs = false;
  sub_ = eng_.subscribe(f, [this](const event& ev) { on_event(ev); });
}

engine_metrics::~engine_metrics() { sub_.reset(); }

engine_metrics::per_tool& engine_metrics::tool(const std::string& name) {
  std::lock_guard lock{mutex_};
  auto it = tools_.find(name);
  if (it == tools_.end()) it = tools_.emplace(name, std::make_unique<per_tool>()).first;
  return *it->second;
}

void engine_metrics::on_event(const event& e) {
  if (e.kind != event_kind::transition) return;
  auto& t = tool(e.tool);
  if (!e.from) {
    t.submitted.add();
    if (e.to == job_status::completed) t.cache_hits.add();
  }
  if (e.from == job_status::running) {
    if (auto it = running_since_.find(e.job_id); it != running_since_.end()) {
      t.run_time.observe(seconds_between(it->second, e.at));
      running_since_.erase(it);
    }
  }
  switch (e.to) {
    case job_status::pending: pending_since_[e.job_id] = e.at; break;
    case job_status::running:
      t.attempts.add();
      if (auto it = pending_since_.find(e.job_id); it != pending_since_.end()) {
        t.queue_wait.observe(seconds_between(it->second, e.at));
        pending_since_.erase(it);
      }
      running_since_[e.job_id] = e.at;
      break;
    case job_status::retrying: t.retries.add(); break;
    case job_status::timed_out: t.timeouts.add(); break;
    case job_status::cancelled: t.cancellations.add(); break;
    default: break;
  }
  for (std::size_t i = 0; i < finals.size(); ++i)
    if (e.to == finals[i]) {
      t.finished[i].add();
      pending_since_.erase(e.job_id);
      running_since_.erase(e.job_id);
    }
}

void engine_metrics::collect(exposition& out, const engine_stats& stats) const {
  {
    std::lock_guard lock{mutex_};
    auto each = [&](std::string_view name, std::string_view help, auto value) {
      out.family(name, help, "counter");
      for (const auto& [tool, t] : tools_) out.sample(name, {{"tool", tool}}, value(*t).value());
    };
    each("overseer_jobs_submitted_total", "Jobs accepted (made durable), by tool; cache hits included.",
         [](const per_tool& t) -> const counter& { return t.submitted; });
    out.family("overseer_jobs_finished_total", "Jobs that reached a final status, by tool and status.", "counter");
    for (const auto& [tool, t] : tools_)
      for (std::size_t i = 0; i < finals.size(); ++i)
        out.sample("overseer_jobs_finished_total", {{"tool", tool}, {"status", to_string(finals[i])}},
                   t->finished[i].value());
    each("overseer_job_attempts_total", "Attempts started, by tool.",
         [](const per_tool& t) -> const counter& { return t.attempts; });
    each("overseer_job_retries_total", "Failed attempts that were retried (running -> retrying), by tool.",
         [](const per_tool& t) -> const counter& { return t.retries; });
    each("overseer_job_timeouts_total", "Jobs that ended timed_out, by tool.",
         [](const per_tool& t) -> const counter& { return t.timeouts; });
    each("overseer_job_cancellations_total", "Jobs cancelled, by tool.",
         [](const per_tool& t) -> const counter& { return t.cancellations; });
    each("overseer_job_cache_hits_total", "Submits answered from the result cache, by tool.",
         [](const per_tool& t) -> const counter& { return t.cache_hits; });
    out.family("overseer_job_queue_wait_seconds", "From pending to running, per attempt, by tool.", "histogram");
    for (const auto& [tool, t] : tools_) out.histogram("overseer_job_queue_wait_seconds", {{"tool", tool}}, t->queue_wait.read());
    out.family("overseer_job_run_seconds", "From running to the attempt's end, by tool.", "histogram");
    for (const auto& [tool, t] : tools_) out.histogram("overseer_job_run_seconds", {{"tool", tool}}, t->run_time.read());
  }

  out.family("overseer_jobs_queued", "Jobs ready and waiting for a slot, by tool.", "gauge");
  for (const auto& t : stats.tools) out.sample("overseer_jobs_queued", {{"tool", t.name}}, static_cast<std::uint64_t>(t.queued));
  out.family("overseer_jobs_running", "Attempts running now, by tool.", "gauge");
  for (const auto& t : stats.tools)
    out.sample("overseer_jobs_running", {{"tool", t.name}}, static_cast<std::uint64_t>(t.running < 0 ? 0 : t.running));
  out.family("overseer_jobs_retrying", "Jobs waiting for their backoff, by tool.", "gauge");
  for (const auto& t : stats.tools) out.sample("overseer_jobs_retrying", {{"tool", t.name}}, static_cast<std::uint64_t>(t.retrying));
  out.family("overseer_job_actors",
             "Job actors alive: one per admitted job, and ended jobs still finishing their writes.", "gauge");
  out.sample("overseer_job_actors", {}, static_cast<std::uint64_t>(stats.job_actors));
  out.family("overseer_worker_idle_polling",
             "1 while idle engine threads poll before they sleep (--idle-spin-us, and the queue keeps up with the "
             "slots); 0 while they sleep at once.",
             "gauge");
  out.sample("overseer_worker_idle_polling", {}, std::uint64_t{stats.idle_polling ? 1u : 0u});
  out.family("overseer_tool_paused", "1 while the tool is paused (by an operator or its restart intensity).", "gauge");
  for (const auto& t : stats.tools) out.sample("overseer_tool_paused", {{"tool", t.name}}, std::uint64_t{t.paused ? 1u : 0u});
  out.family("overseer_store_healthy", "1 while the store accepts writes; 0 after a fail-stop.", "gauge");
  out.sample("overseer_store_healthy", {}, std::uint64_t{stats.store_ok ? 1u : 0u});
  out.family("overseer_store_corrupt_records_total", "Unreadable records skipped since start.", "counter");
  out.sample("overseer_store_corrupt_records_total", {}, stats.corrupt_records);
  out.family("overseer_rocksdb_live_data_bytes", "RocksDB's estimate of its live data (rocksdb.estimate-live-data-size).",
             "gauge");
  out.sample("overseer_rocksdb_live_data_bytes", {}, stats.store_live_bytes);

  if (stats.running_ok && stats.store_ok) {
    try {
      const auto c = eng_.cache_statistics();
      out.family("overseer_cache_hits_total", "Result-cache look-ups that found a result, since start.", "counter");
      out.sample("overseer_cache_hits_total", {}, c.hits);
      out.family("overseer_cache_misses_total", "Result-cache look-ups that found none, since start.", "counter");
      out.sample("overseer_cache_misses_total", {}, c.misses);
      out.family("overseer_cache_entries", "Live (unexpired) result-cache entries.", "gauge");
      out.sample("overseer_cache_entries", {}, static_cast<std::uint64_t>(c.total_cached_results));
    } catch (const error&) {
      // A failed read: the store is failing, which overseer_store_healthy shows.
    }
  }

  const auto& cs = persistence::commit_statistics();
  out.family("overseer_group_commits_total", "Group commits (one synced RocksDB write batch each).", "counter");
  out.sample("overseer_group_commits_total", {}, cs.commits.value());
  out.family("overseer_store_rows_written_total",
             "RocksDB rows the group-commit writer wrote: puts, deletes and range deletes alike.", "counter");
  out.sample("overseer_store_rows_written_total", {}, cs.rows.value());
  out.family("overseer_group_commit_size", "Job writes per group commit.", "histogram");
  out.histogram("overseer_group_commit_size", {}, cs.batch_size.read());
  out.family("overseer_group_commit_seconds", "Time of one group commit's RocksDB write (WAL sync included).",
             "histogram");
  out.histogram("overseer_group_commit_seconds", {}, cs.latency.read());
  out.family("overseer_group_commit_delays_total",
             "Group commits of writes nobody waited for that first waited for one somebody waits for "
             "(at most one sync's time).",
             "counter");
  out.sample("overseer_group_commit_delays_total", {}, cs.delays.value());
  out.family("overseer_group_commit_delays_joined_total",
             "Of those, the commits such a write joined, sharing its sync.", "counter");
  out.sample("overseer_group_commit_delays_joined_total", {}, cs.joined.value());

  const auto& ws = actors::worker_statistics();
  out.family("overseer_worker_idle_polls_caught_total",
             "Times an idle engine worker thread found work while it polled (idle_spin), without sleeping.",
             "counter");
  out.sample("overseer_worker_idle_polls_caught_total", {}, ws.caught.value());
  out.family("overseer_worker_idle_polls_expected_total",
             "Times an idle engine worker thread found work polling on past idle_spin because a write somebody "
             "waits for was being synced (its answer was due).",
             "counter");
  out.sample("overseer_worker_idle_polls_expected_total", {}, ws.expected.value());
  out.family("overseer_worker_idle_polls_missed_total",
             "Times an idle engine worker thread polled for all of idle_spin and found nothing, then slept.",
             "counter");
  out.sample("overseer_worker_idle_polls_missed_total", {}, ws.missed.value());

  const auto& wh = webhooks::statistics();
  out.family("overseer_webhook_deliveries_ok", "Webhook deliveries answered with a 2xx, since start.", "gauge");
  out.sample("overseer_webhook_deliveries_ok", {}, wh.delivered.load());
  out.family("overseer_webhook_deliveries_failed", "Webhook deliveries given up after their last attempt, since start.",
             "gauge");
  out.sample("overseer_webhook_deliveries_failed", {}, wh.failed.load());
  out.family("overseer_webhook_deliveries_pending", "Webhook deliveries waiting in the outbox.", "gauge");
  out.sample("overseer_webhook_deliveries_pending", {}, static_cast<std::uint64_t>(std::max<std::int64_t>(0, wh.pending.load())));
  out.family("overseer_webhook_attempts_total", "Webhook POSTs made, since start.", "counter");
  out.sample("overseer_webhook_attempts_total", {}, wh.attempts.load());
}

}  // namespace overseer::metrics
