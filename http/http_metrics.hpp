// The HTTP front's figures for GET /metrics and its access log: requests by
// route template and status class with a latency histogram, WebSocket
// sessions and frames. Updated with relaxed atomic adds, no lock.
#pragma once

#include <array>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "http/router.hpp"
#include "metrics/engine_metrics.hpp"
#include "metrics/exposition.hpp"
#include "metrics/instruments.hpp"
#include "overseer/log_sink.hpp"

namespace overseer::http {

class http_metrics {
public:
  http_metrics();

  /// One answered request; `route` empty for a path no route matches.
  void request_done(std::optional<route_id> route, unsigned status, std::chrono::steady_clock::duration took);

  metrics::counter ws_sessions;        ///< WebSocket sessions opened
  metrics::counter ws_frames_sent;     ///< messages written to clients
  metrics::counter ws_coalesced;       ///< progress updates replaced by a newer one before they were sent
  metrics::counter ws_laggards;        ///< sessions closed for being too far behind
  metrics::counter idle_polls_caught;  ///< an I/O thread out of work found more while it polled
  metrics::counter idle_polls_expected;  ///< found it polling on past idle_spin while an answer was due
  metrics::counter idle_polls_missed;  ///< one polled for all of server_config::idle_spin, then slept

  void collect(metrics::exposition& out, std::size_t open_connections, std::size_t open_streams) const;

private:
  struct per_route {
    std::string pattern;
    std::string method;
    std::array<metrics::counter, 5> by_class;  ///< 1xx..5xx
    metrics::histogram latency{metrics::duration_buckets()};
  };
  std::vector<std::unique_ptr<per_route>> routes_;  ///< by route_id, then one for "unmatched"
};

}  // namespace overseer::http
