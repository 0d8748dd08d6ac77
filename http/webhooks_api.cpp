// GET /v1/jobs/{id}/deliveries: a job's webhook deliveries
// (docs/api.md, "Webhooks").
#include "actors/job_id.hpp"
#include "http/api.hpp"
#include "http/json_mapping.hpp"

namespace overseer::http {

namespace json = boost::json;

namespace {

json::object render_delivery(const delivery_view& d) {
  json::object o{{"id", d.id},
                 {"seq", d.seq},
                 {"event", to_string(d.event)},
                 {"url", d.url},
                 {"attempts", d.attempts},
                 {"status", d.status},
                 {"last_status_code", d.last_status_code},
                 {"last_error", d.last_error}};
  o["next_attempt_at"] = d.next_attempt_at ? json::value(format_time(*d.next_attempt_at)) : json::value(nullptr);
  o["delivered_at"] = d.delivered_at ? json::value(format_time(*d.delivered_at)) : json::value(nullptr);
  return o;
}

}  // namespace

void get_deliveries(api_context& ctx, const call& c, const replier& r) {
  const auto id = c.param("id");
  if (!actors::looks_like_job_id(id)) return r.problem(404, "no job " + id);
  // 404 for no such job, or another principal's.
  if (!visible_job(ctx, c, r, id)) return;
  auto found = ctx.eng.deliveries(id);
  if (!found) return r.refused(found.code(), found.message());
  json::array out;
  for (const auto& d : *found) out.push_back(render_delivery(d));
  r.json(200, json::object{{"job_id", id}, {"deliveries", std::move(out)}});
}

}  // namespace overseer::http
