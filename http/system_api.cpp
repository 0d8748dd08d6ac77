// /v1/tools and /v1/health.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <string_view>

#include "http/api.hpp"
#include "http/json_mapping.hpp"
#include "http/ops_context.hpp"
#include "metrics/process_metrics.hpp"

namespace overseer::http {

namespace json = boost::json;

namespace {

/// Whether the request may see the full health document: no tokens are
/// configured, or it carries one (the session lets health through without).
bool sees_details(const server_config& config, const request& req) {
  if (config.tokens.empty()) return true;
  const auto field = req[bhttp::field::authorization];
  const std::string_view auth{field.data(), field.size()};
  if (!auth.starts_with("Bearer ")) return false;
  return std::find(config.tokens.begin(), config.tokens.end(), auth.substr(7)) != config.tokens.end();
}

}  // namespace

void handle_system_api(api_context& ctx, const call& c, responder respond) {
  const auto version = c.req.version();
  const bool keep_alive = c.req.keep_alive();
  if (c.route == route_id::health) {
    if (auto errors = check_query_keys(c.query, {"probe"}); !errors.empty())
      return respond(problem_response(400, "invalid query", version, keep_alive, errors));
  } else if (auto errors = check_query_keys(c.query, {}); !errors.empty())
    return respond(problem_response(400, "this endpoint takes no query parameters", version, keep_alive, errors));
  // ?probe=live: the process answers (liveness); ?probe=ready: it takes work
  // (readiness: 503 while it drains or when unhealthy). Without: the document.
  std::string probe;
  if (auto it = c.query.find("probe"); it != c.query.end()) probe = it->second;
  if (!probe.empty() && probe != "live" && probe != "ready")
    return respond(problem_response(400, "invalid query", version, keep_alive,
                                    {{"probe", "must be live or ready, not \"" + probe + "\""}}));
  if (probe == "live") return respond(json_response(200, json::object{{"status", "ok"}}, version, keep_alive));
  const bool draining = ctx.ops && ctx.ops->draining;
  const double uptime =
    ctx.ops ? std::chrono::duration<double>(std::chrono::steady_clock::now() - ctx.ops->started).count() : 0;
  if (c.route == route_id::list_tools) {
    json::array tools;
    for (const auto& d : ctx.eng.tools().list()) tools.push_back(render_tool(d));
    return respond(json_response(200, json::object{{"tools", std::move(tools)}}, version, keep_alive));
  }
  // Without a token health is a liveness probe: the tools, queue figures and
  // error texts are for callers that hold one.
  const bool details = sees_details(ctx.config, c.req);
  ctx.eng.stats_async([respond, version, keep_alive, details, draining, uptime, probe,
                       data_dir = ctx.eng.config().data_dir.string()](engine_stats s) {
    const bool healthy = s.running_ok && s.store_ok;
    const bool ready = healthy && !draining;
    // Readiness: a balancer stops sending work while the daemon drains.
    const unsigned code = (probe == "ready" ? ready : healthy) ? 200 : 503;
    if (!details)
      return respond(json_response(code, json::object{{"status", code == 200 ? "ok" : "unhealthy"}}, version, keep_alive));
    auto component = [](bool ok, std::string detail = {}) {
      json::object o{{"status", ok ? "healthy" : "unhealthy"}};
      if (!detail.empty()) o["detail"] = detail;
      return o;
    };
    json::object tools;
    bool paused = false;
    for (const auto& t : s.tools) {
      tools[t.name] = json::object{{"status", t.paused ? "paused" : "healthy"},
                                   {"running", t.running},
                                   {"recent_failures", t.recent_failures}};
      paused = paused || t.paused;
    }
    json::object store =
      component(s.store_ok, s.store_ok ? "" : s.store_error.empty() ? "the store has failed" : s.store_error);
    if (s.corrupt_records > 0) {
      store["status"] = s.store_ok ? "degraded" : "unhealthy";
      store["corrupt_records"] = s.corrupt_records;
    }
    const char* status = !healthy                                  ? "unhealthy"
                         : draining                                ? "draining"
                         : (paused || s.corrupt_records > 0) ? "degraded"
                                                                   : "healthy";
    json::object body{
      {"status", status},
      {"components", json::object{{"store", std::move(store)},
                                  {"scheduler", component(s.running_ok, s.running_ok ? "" : "not answering")},
                                  {"tools", std::move(tools)}}},
      {"queue_stats", json::object{{"pending_jobs", s.pending},
                                   {"running_jobs", s.running},
                                   {"retrying_jobs", s.waiting}}},
      {"ready", ready},
      {"version", metrics::version()},
      {"uptime_seconds", std::round(uptime * 1000) / 1000},
      {"data_dir", data_dir}};
    respond(json_response(code, body, version, keep_alive));
  });
}

}  // namespace overseer::http
