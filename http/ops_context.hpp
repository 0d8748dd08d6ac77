// What the operator's side of a server shares (docs/operations.md): the
// metrics of GET /metrics, the access log, and a thread for the engine calls
// that block (pause and resume a tool), so no I/O thread ever waits on them.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include <boost/asio/thread_pool.hpp>

#include "http/http_metrics.hpp"
#include "metrics/engine_metrics.hpp"
#include "overseer/log_sink.hpp"

namespace overseer::http {

struct ops_context {
  http_metrics http;
  /// Null when the server was built with metrics off.
  std::unique_ptr<metrics::engine_metrics> engine;
  log_sink log;
  /// Set by server::drain(): no new streams, no new jobs (503).
  std::atomic<bool> draining{false};
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  boost::asio::thread_pool blocking{1};
};

}  // namespace overseer::http
