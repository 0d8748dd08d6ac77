// /v1/tools and /v1/health.
#include "http/api.hpp"
#include "http/json_mapping.hpp"

namespace overseer::http {

namespace json = boost::json;


void list_tools(api_context& ctx, const call&, const replier& r) {
  json::array tools;
  for (const auto& d : ctx.eng.tools().list()) tools.push_back(render_tool(d));
  r.json(200, json::object{{"tools", std::move(tools)}});
}

void health(api_context& ctx, const call& c, const replier& r) {
  // Without a token health is a liveness probe: the tools, queue figures and
  // error texts are for callers that hold one.
  const bool details = authorized(ctx.config, c.req);
  ctx.eng.stats_async([r, details](engine_stats s) {
    const bool healthy = s.running_ok && s.store_ok;
    if (!details) return r.json(healthy ? 200 : 503, json::object{{"status", healthy ? "ok" : "unhealthy"}});
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
    const char* status = !healthy ? "unhealthy" : (paused || s.corrupt_records > 0) ? "degraded" : "healthy";
    json::object body{
      {"status", status},
      {"components", json::object{{"store", std::move(store)},
                                  {"scheduler", component(s.running_ok, s.running_ok ? "" : "not answering")},
                                  {"tools", std::move(tools)}}},
      {"queue_stats", json::object{{"pending_jobs", s.pending},
                                   {"running_jobs", s.running},
                                   {"retrying_jobs", s.waiting}}}};
    r.json(healthy ? 200 : 503, body);
  });
}

}  // namespace overseer::http
