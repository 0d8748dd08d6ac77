// /v1/tools, /v1/nodes and /v1/health.
#include <algorithm>
#include <chrono>
#include <cmath>

#include "http/api.hpp"
#include "http/json_mapping.hpp"
#include "http/ops_context.hpp"
#include "metrics/process_metrics.hpp"

namespace overseer::http {

namespace json = boost::json;


void list_tools(api_context& ctx, const call&, const replier& r) {
  // Each tool with its pause state (an operator's or the restart
  // intensity's, with the reason), which only the scheduler knows.
  ctx.eng.stats_async([&ctx, r](engine_stats s) {
    json::array tools;
    for (const auto& d : ctx.eng.tools().list()) {
      auto t = render_tool(d);
      const auto it = std::find_if(s.tools.begin(), s.tools.end(), [&](const tool_health& h) { return h.name == d.name; });
      const bool paused = it != s.tools.end() && it->paused;
      t["paused"] = paused;
      t["paused_reason"] = paused ? json::value(it->paused_reason) : json::value(nullptr);
      t["paused_since"] = paused && it->paused_since ? json::value(format_time(*it->paused_since)) : json::value(nullptr);
      tools.push_back(std::move(t));
    }
    r.json(200, json::object{{"tools", std::move(tools)}});
  });
}

void list_nodes(api_context& ctx, const call&, const replier& r) {
  ctx.eng.nodes_async([r](std::vector<node_view> nodes) {
    json::array out;
    for (const auto& n : nodes) {
      json::object labels;
      for (const auto& [k, v] : n.labels) labels[k] = v;
      json::array tools;
      for (const auto& [name, version] : n.tools) tools.push_back(json::object{{"name", name}, {"version", version}});
      out.push_back(json::object{{"name", n.name},
                                 {"address", n.address},
                                 {"local", n.local},
                                 {"labels", std::move(labels)},
                                 {"capacity", n.capacity},
                                 {"running", n.running},
                                 {"joined_at", format_time(n.joined_at)},
                                 {"last_heartbeat", format_time(n.last_heartbeat)},
                                 {"tools", std::move(tools)}});
    }
    r.json(200, json::object{{"nodes", std::move(out)}});
  });
}

void health(api_context& ctx, const call& c, const replier& r) {
  if (auto errors = check_query_keys(c, {"probe"}); !errors.empty()) return r.problem(400, "invalid query", errors);
  // ?probe=live: the process answers (liveness); ?probe=ready: it takes work
  // (readiness: 503 while it drains or when unhealthy). Without: the document.
  std::string probe;
  if (auto it = c.query.find("probe"); it != c.query.end()) probe = it->second;
  if (!probe.empty() && probe != "live" && probe != "ready")
    return r.problem(400, "invalid query", {{"probe", "must be live or ready, not \"" + probe + "\""}});
  if (probe == "live") return r.json(200, json::object{{"status", "ok"}});
  const bool draining = ctx.ops && ctx.ops->draining;
  const double uptime =
    ctx.ops ? std::chrono::duration<double>(std::chrono::steady_clock::now() - ctx.ops->started).count() : 0;
  // Without a token health is a liveness probe: the tools, queue figures and
  // error texts are for callers that hold one.
  const bool details = identify(ctx, c.req).has_value();
  ctx.eng.stats_async([r, details, draining, uptime, probe,
                       data_dir = ctx.eng.config().data_dir.string()](engine_stats s) {
    const bool healthy = s.running_ok && s.store_ok;
    const bool ready = healthy && !draining;
    // Readiness: a balancer stops sending work while the daemon drains.
    const unsigned code = (probe == "ready" ? ready : healthy) ? 200 : 503;
    if (!details) return r.json(code, json::object{{"status", code == 200 ? "ok" : "unhealthy"}});
    auto component = [](bool ok, std::string detail = {}) {
      json::object o{{"status", ok ? "healthy" : "unhealthy"}};
      if (!detail.empty()) o["detail"] = detail;
      return o;
    };
    json::object tools;
    bool paused = false;
    for (const auto& t : s.tools) {
      json::object o{{"status", t.paused ? "paused" : "healthy"},
                     {"running", t.running},
                     {"recent_failures", t.recent_failures}};
      // A stored pause of a tool this start does not have: lift it with a
      // resume, or it holds the tool's jobs when the tool comes back.
      if (!t.registered) {
        o["registered"] = false;
        o["paused_reason"] = t.paused_reason;
      }
      tools[t.name] = std::move(o);
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
    r.json(code, body);
  });
}

}  // namespace overseer::http
