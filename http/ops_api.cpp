// GET /metrics, GET /v1/metrics, GET /v1/openapi.yaml, and POST
// /v1/tools/{name}/pause and /resume.
#include <cmath>

#include <boost/asio/post.hpp>

#include "http/finished_views.hpp"
#include "http/api.hpp"
#include "http/connections.hpp"
#include "http/json_mapping.hpp"
#include "http/ops_context.hpp"
#include "metrics/process_metrics.hpp"
#include "persistence/rollups.hpp"

namespace overseer::http {

namespace json = boost::json;

/// docs/openapi.yaml, embedded at build time (cmake/embed_text.cmake).
std::string_view openapi_yaml();

namespace {

/// A rate or a duration, to the microsecond; null when nothing was counted.
json::value rounded(std::optional<double> v) {
  if (!v || !std::isfinite(*v)) return nullptr;
  return std::round(*v * 1e6) / 1e6;
}

std::optional<double> ratio(std::uint64_t part, std::uint64_t whole) {
  if (whole == 0) return std::nullopt;
  return static_cast<double>(part) / static_cast<double>(whole);
}

json::object render_window(const persistence::rollup_cell& c) {
  const auto total = c.total();
  return {{"total_jobs", total},
          {"completed", c.completed},
          {"failed", c.failed},
          {"cancelled", c.cancelled},
          {"timed_out", c.timed_out},
          {"success_rate", rounded(ratio(c.completed, total))},
          {"error_rate", rounded(ratio(c.failed + c.timed_out, total))},
          {"cache_hit_rate", rounded(ratio(c.cache_hits, total))},
          {"average_duration_seconds",
           rounded(c.timed ? std::optional<double>{static_cast<double>(c.duration_micros) / 1e6 /
                                                   static_cast<double>(c.timed)}
                           : std::nullopt)},
          {"p50_duration_seconds", rounded(c.quantile(0.5))},
          {"p95_duration_seconds", rounded(c.quantile(0.95))}};
}

json::object render_state(const tool_health& t) {
  return {{"name", t.name},
          {"paused", t.paused},
          {"paused_reason", t.paused ? json::value(t.paused_reason) : json::value(nullptr)},
          {"paused_since", t.paused && t.paused_since ? json::value(format_time(*t.paused_since)) : json::value(nullptr)},
          {"running", t.running},
          {"queued", t.queued},
          {"retrying", t.retrying},
          {"recent_failures", t.recent_failures}};
}

void pause_or_resume(api_context& ctx, const call& c, const replier& r, bool pause) {
  auto reason = read_reason(c, r, pause ? "pause" : "resume");
  if (!reason) return;  // refused, nothing changed
  std::string why = std::move(*reason);
  // pause_tool and resume_tool wait for the scheduler: never on an I/O thread.
  boost::asio::post(ctx.ops->blocking, [&ctx, pause, name = c.param("name"), by = c.by(), why = std::move(why), r] {
    try {
      const auto done = pause ? ctx.eng.pause_tool(name, by, why) : ctx.eng.resume_tool(name);
      if (done.code() == errc::not_found) return r.problem(404, "no tool named \"" + name + "\"");
      if (!done) return r.refused(done.code(), done.message());
      // The audit: who paused (also the tool's paused_reason) or resumed
      // it, and why.
      std::vector<std::pair<std::string_view, std::string>> fields{{"tool", name}};
      if (!why.empty()) fields.emplace_back("reason", why);
      report(ctx.ops->log, log_level::info, "http",
             std::string{"tool "} + (pause ? "paused" : "resumed") + " by " + by, std::move(fields));
      for (const auto& t : ctx.eng.stats().tools)
        if (t.name == name) return r.json(200, render_state(t));
      // A stored pause of a tool no longer registered, lifted: not in stats.
      tool_health gone;
      gone.name = name;
      r.json(200, render_state(gone));
    } catch (const overseer::error& e) {
      r.failed(e);
    }
  });
}

}  // namespace

namespace {

/// The cluster's nodes (docs/cluster.md): how many are connected, and each
/// one's capacity, running attempts and seconds since its last heartbeat.
void collect_nodes(metrics::exposition& out, const std::vector<node_view>& nodes) {
  out.family("overseer_cluster_nodes", "Nodes of the cluster connected now, this one included.", "gauge");
  out.sample("overseer_cluster_nodes", {}, static_cast<std::uint64_t>(nodes.size()));
  out.family("overseer_node_capacity", "Attempts a node runs at once (--capacity).", "gauge");
  out.family("overseer_node_running", "Attempts a node runs now.", "gauge");
  out.family("overseer_node_heartbeat_age_seconds", "Seconds since a node's last heartbeat.", "gauge");
  const auto now = clock::now();
  for (const auto& n : nodes) {
    const metrics::labels l{{"node", n.name}};
    out.sample("overseer_node_capacity", l, static_cast<std::uint64_t>(std::max(0, n.capacity)));
    out.sample("overseer_node_running", l, static_cast<std::uint64_t>(std::max(0, n.running)));
    out.sample("overseer_node_heartbeat_age_seconds", l,
               n.local ? 0.0 : std::max(0.0, std::chrono::duration<double>(now - n.last_heartbeat).count()));
  }
}

/// Writes /metrics: the process, the engine's figures, the cluster's nodes
/// (when there is a cluster) and the HTTP front.
void send_metrics(api_context& ctx, const replier& r, const engine_stats& s, const std::vector<node_view>* nodes) {
  try {
    metrics::exposition out;
    metrics::collect_process(out, ctx.eng.config().data_dir);
    if (ctx.ops->engine) ctx.ops->engine->collect(out, s);
    if (nodes) collect_nodes(out, *nodes);
    ctx.ops->http.collect(out, ctx.open.connection_count(), ctx.open.stream_count());
    if (ctx.finished) collect_finished_views(out, *ctx.finished);
    if (ctx.config.log_lines_dropped) {
      out.family("overseer_log_lines_dropped_total",
                 "Log lines below warning dropped because the log's reader did not keep up.", "counter");
      out.sample("overseer_log_lines_dropped_total", {}, ctx.config.log_lines_dropped());
    }
    response res{bhttp::status::ok, r.version()};
    res.set(bhttp::field::content_type, metrics::content_type);
    res.keep_alive(r.keep_alive());
    res.body() = out.text();
    res.prepare_payload();
    r.send(std::move(res));
  } catch (const std::exception& e) {
    r.problem(500, std::string{"cannot collect the metrics: "} + e.what());
  }
}

}  // namespace

void prometheus_metrics(api_context& ctx, const call&, const replier& r) {
  // The figures arrive on a CAF worker; the page is rendered on the
  // server's metrics thread (ops_context::scrape).
  ctx.eng.stats_async([&ctx, r](engine_stats s) {
    if (ctx.eng.config().cluster.listen.empty())
      return boost::asio::post(ctx.ops->scrape, [&ctx, r, s = std::move(s)] { send_metrics(ctx, r, s, nullptr); });
    ctx.eng.nodes_async([&ctx, r, s = std::move(s)](std::vector<node_view> nodes) {
      boost::asio::post(ctx.ops->scrape,
                        [&ctx, r, s, nodes = std::move(nodes)] { send_metrics(ctx, r, s, &nodes); });
    });
  });
}

void windowed_metrics(api_context& ctx, const call& c, const replier& r) {
  if (auto errors = check_query_keys(c, {"time_range"}); !errors.empty())
    return r.problem(400, "invalid query", errors);
  std::string range = "24h";
  if (auto it = c.query.find("time_range"); it != c.query.end()) range = it->second;
  const int hours = range == "1h" ? 1 : range == "24h" ? 24 : range == "7d" ? 168 : 0;
  if (hours == 0)
    return r.problem(400, "invalid query", {{"time_range", "must be 1h, 24h or 7d, not \"" + range + "\""}});
  const auto now = clock::now();
  persistence::rollup_window w;
  const bool found = persistence::with_rollup_store(ctx.eng.config().data_dir, [&](persistence::store& db) {
    w = persistence::read_rollups(db, now, std::chrono::hours(hours));
  });
  if (!found) return r.problem(503, "the engine is not running");
  json::object body = render_window(w.all);
  json::object by_tool;
  for (const auto& [tool, cell] : w.by_tool) by_tool[tool] = render_window(cell);
  body["by_tool"] = std::move(by_tool);
  body["time_range"] = range;
  body["from"] = format_time(now - std::chrono::hours(hours));
  body["to"] = format_time(now);
  r.json(200, body);
}

void openapi_document(api_context&, const call&, const replier& r) {
  response res{bhttp::status::ok, r.version()};
  res.set(bhttp::field::content_type, "application/yaml");
  res.keep_alive(r.keep_alive());
  res.body() = std::string{openapi_yaml()};
  res.prepare_payload();
  r.send(std::move(res));
}

void pause_tool(api_context& ctx, const call& c, const replier& r) { pause_or_resume(ctx, c, r, true); }

void resume_tool(api_context& ctx, const call& c, const replier& r) { pause_or_resume(ctx, c, r, false); }

}  // namespace overseer::http
