#include "http/http_metrics.hpp"

#include <algorithm>

namespace overseer::http {

http_metrics::http_metrics() {
  std::size_t n = 0;
  for (const auto& r : routes()) n = std::max(n, static_cast<std::size_t>(r.id) + 1);
  routes_.resize(n + 1);
  for (const auto& r : routes()) {
    auto& slot = routes_[static_cast<std::size_t>(r.id)];
    slot = std::make_unique<per_route>();
    slot->pattern = r.pattern;
    slot->method = r.method;
  }
  routes_[n] = std::make_unique<per_route>();
  routes_[n]->pattern = "unmatched";
  for (auto& r : routes_)
    if (!r) r = std::make_unique<per_route>();
}

void http_metrics::request_done(std::optional<route_id> route, unsigned status,
                                std::chrono::steady_clock::duration took) {
  const std::size_t i = route ? static_cast<std::size_t>(*route) : routes_.size() - 1;
  auto& r = *routes_[std::min(i, routes_.size() - 1)];
  const unsigned cls = std::clamp(status / 100, 1u, 5u) - 1;
  r.by_class[cls].add();
  r.latency.observe(std::chrono::duration<double>(took).count());
}

void http_metrics::collect(metrics::exposition& out, std::size_t open_connections, std::size_t open_streams) const {
  static constexpr std::array<std::string_view, 5> classes{"1xx", "2xx", "3xx", "4xx", "5xx"};
  out.family("overseer_http_requests_total", "HTTP requests answered, by method, route template and status class.",
             "counter");
  for (const auto& r : routes_) {
    if (r->pattern.empty()) continue;
    for (std::size_t c = 0; c < classes.size(); ++c)
      if (const auto v = r->by_class[c].value(); v > 0)
        out.sample("overseer_http_requests_total",
                   {{"method", r->method.empty() ? "any" : r->method}, {"route", r->pattern}, {"code", classes[c]}}, v);
  }
  out.family("overseer_http_request_seconds", "From a request's dispatch to its answer, by route template.",
             "histogram");
  for (const auto& r : routes_) {
    if (r->pattern.empty()) continue;
    auto h = r->latency.read();
    std::uint64_t n = 0;
    for (auto c : h.counts) n += c;
    if (n > 0)
      out.histogram("overseer_http_request_seconds",
                    {{"method", r->method.empty() ? "any" : r->method}, {"route", r->pattern}}, h);
  }
  out.family("overseer_http_connections", "Open connections, HTTP and WebSocket.", "gauge");
  out.sample("overseer_http_connections", {}, static_cast<std::uint64_t>(open_connections));
  out.family("overseer_websocket_sessions", "Open WebSocket sessions.", "gauge");
  out.sample("overseer_websocket_sessions", {}, static_cast<std::uint64_t>(open_streams));
  out.family("overseer_websocket_sessions_total", "WebSocket sessions opened.", "counter");
  out.sample("overseer_websocket_sessions_total", {}, ws_sessions.value());
  out.family("overseer_websocket_frames_sent_total", "Messages sent to WebSocket clients.", "counter");
  out.sample("overseer_websocket_frames_sent_total", {}, ws_frames_sent.value());
  out.family("overseer_websocket_frames_coalesced_total",
             "Progress messages replaced by a newer one of the same job before they were sent.", "counter");
  out.sample("overseer_websocket_frames_coalesced_total", {}, ws_coalesced.value());
  out.family("overseer_websocket_laggards_closed_total", "WebSocket sessions closed for being too far behind.",
             "counter");
  out.sample("overseer_websocket_laggards_closed_total", {}, ws_laggards.value());
  out.family("overseer_http_idle_polls_caught_total",
             "Times an I/O thread out of work found more while it polled (--idle-spin-us), without sleeping.",
             "counter");
  out.sample("overseer_http_idle_polls_caught_total", {}, idle_polls_caught.value());
  out.family("overseer_http_idle_polls_expected_total",
             "Times an idle HTTP I/O thread found work polling on past idle_spin because a write somebody waits "
             "for was being synced (an answer was due).",
             "counter");
  out.sample("overseer_http_idle_polls_expected_total", {}, idle_polls_expected.value());
  out.family("overseer_http_idle_polls_missed_total",
             "Times an I/O thread polled for all of --idle-spin-us, found nothing and slept.", "counter");
  out.sample("overseer_http_idle_polls_missed_total", {}, idle_polls_missed.value());
}

}  // namespace overseer::http
