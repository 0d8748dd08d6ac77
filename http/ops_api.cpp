// GET /metrics, and POST /v1/tools/{name}/pause and /resume.
#include <boost/asio/post.hpp>

#include "http/api.hpp"
#include "http/connections.hpp"
#include "http/json_mapping.hpp"
#include "http/ops_context.hpp"
#include "http/problem.hpp"
#include "metrics/process_metrics.hpp"

namespace overseer::http {

namespace json = boost::json;

namespace {

void scrape(api_context& ctx, const call& c, responder respond) {
  const auto version = c.req.version();
  const bool keep_alive = c.req.keep_alive();
  ctx.eng.stats_async([&ctx, respond, version, keep_alive](engine_stats s) {
    try {
      metrics::exposition out;
      metrics::collect_process(out, ctx.eng.config().data_dir);
      if (ctx.ops->engine) ctx.ops->engine->collect(out, s);
      ctx.ops->http.collect(out, ctx.open.connection_count(), ctx.open.stream_count());
      response res{bhttp::status::ok, version};
      res.set(bhttp::field::content_type, metrics::content_type);
      res.keep_alive(keep_alive);
      res.body() = out.text();
      res.prepare_payload();
      respond(std::move(res));
    } catch (const std::exception& e) {
      respond(problem_response(500, std::string{"cannot collect the metrics: "} + e.what(), version, keep_alive));
    }
  });
}

json::object render_state(const tool_health& t) {
  return {{"name", t.name},
          {"paused", t.paused},
          {"paused_reason", t.paused ? json::value(t.paused_reason) : json::value(nullptr)},
          {"running", t.running},
          {"queued", t.queued},
          {"retrying", t.retrying},
          {"recent_failures", t.recent_failures}};
}

void pause_or_resume(api_context& ctx, const call& c, responder respond) {
  const auto version = c.req.version();
  const bool keep_alive = c.req.keep_alive();
  const bool pause = c.route == route_id::pause_tool;
  // pause_tool and resume_tool wait for the scheduler: never on an I/O thread.
  boost::asio::post(ctx.ops->blocking, [&ctx, pause, name = c.params.at("name"), by = c.peer, respond, version,
                                        keep_alive] {
    try {
      const bool known = pause ? ctx.eng.pause_tool(name, by) : ctx.eng.resume_tool(name);
      if (!known) return respond(problem_response(404, "no tool named \"" + name + "\"", version, keep_alive));
      for (const auto& t : ctx.eng.stats().tools)
        if (t.name == name) return respond(json_response(200, render_state(t), version, keep_alive));
      respond(json_response(200, json::object{{"name", name}, {"paused", pause}}, version, keep_alive));
    } catch (const overseer::error& e) {
      respond(problem_response(status_of(e.code()), e.what(), version, keep_alive));
    }
  });
}

}  // namespace

void handle_ops_api(api_context& ctx, const call& c, responder respond) {
  if (auto errors = check_query_keys(c.query, {}); !errors.empty())
    return respond(problem_response(400, "this endpoint takes no query parameters", c.req.version(),
                                    c.req.keep_alive(), errors));
  if (c.route == route_id::metrics) return scrape(ctx, c, std::move(respond));
  pause_or_resume(ctx, c, std::move(respond));
}

}  // namespace overseer::http
