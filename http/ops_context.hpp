// What the operator's side of a server shares (docs/operations.md): the
// metrics of GET /metrics, the access log, a thread for the engine calls
// that block (pause and resume a tool, bulk cancels and purges), so no I/O
// thread ever waits on them, a thread for the listings, whose total_count
// reads every match, and a thread that renders GET /metrics.
#pragma once

#include <csignal>
#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include "http/http_metrics.hpp"
#include "metrics/engine_metrics.hpp"
#include "overseer/log_sink.hpp"
#include "tools/thread_name.hpp"

namespace overseer::http {

struct ops_context {
  ops_context() {
    name(blocking, "ovs.ops");
    name(listings, "ovs.list");
    name(scrape, "ovs.metrics");
  }

  http_metrics http;
  /// Null when the server was built with metrics off.
  std::unique_ptr<metrics::engine_metrics> engine;
  log_sink log;
  /// Set by server::drain(): no new streams, no new jobs (503).
  std::atomic<bool> draining{false};
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  /// The engine calls that block: pause, resume, bulk cancel and purge.
  boost::asio::thread_pool blocking{1};
  /// GET /v1/jobs and GET /v1/batches: their total_count reads every
  /// matching record (seconds for a million jobs), which on an I/O thread
  /// would hold up every other connection of that thread. One thread, so
  /// listings take at most one core from the engine; they wait for each
  /// other, not behind a bulk call on `blocking`.
  boost::asio::thread_pool listings{1};
  /// How many listings may wait for `listings` (beside the one running).
  /// Each can take seconds over a million jobs; past this bound a listing
  /// is answered 503 (with Retry-After) at once rather than queued behind
  /// minutes of others, and the queue cannot grow without end.
  static constexpr int max_listings = 64;

  /// Queues `work` on `listings` and returns nothing, or returns how many
  /// listings wait (and the caller answers 503) when max_listings already
  /// do. A listing stops waiting as it starts, before it answers anyone.
  template <class Work>
  [[nodiscard]] std::optional<int> post_listing(Work work) {
    if (const int waiting = listings_waiting_.fetch_add(1, std::memory_order_relaxed); waiting >= max_listings) {
      listings_waiting_.fetch_sub(1, std::memory_order_relaxed);
      return waiting;
    }
    boost::asio::post(listings, [this, work = std::move(work)]() mutable {
      listings_waiting_.fetch_sub(1, std::memory_order_relaxed);
      work();
    });
    return std::nullopt;
  }
  /// Renders GET /metrics (the engine's figures, /proc, the data
  /// directory's files): not on the CAF worker the figures arrive on, which
  /// runs the scheduler and the job actors, nor on an I/O thread, whose
  /// other connections would wait, nor behind a long bulk call on
  /// `blocking`.
  boost::asio::thread_pool scrape{1};

private:
  std::atomic<int> listings_waiting_{0};

  // The pool's one thread runs this first, before the server serves (a
  // name seen in top -H from the start). Signals are for the thread that
  // waits for them (overseerd's sigwait).
  static void name(boost::asio::thread_pool& pool, const char* text) {
    std::promise<void> named;
    boost::asio::post(pool, [text, &named] {
      sigset_t all;
      sigfillset(&all);
      pthread_sigmask(SIG_BLOCK, &all, nullptr);
      tools::name_this_thread(text);
      named.set_value();
    });
    named.get_future().wait();
  }
};

}  // namespace overseer::http
