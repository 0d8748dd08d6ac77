// The /v1/jobs handlers.
#include <boost/beast/core/string.hpp>
#include <boost/json/parse.hpp>

#include "actors/job_id.hpp"
#include "http/api.hpp"
#include "http/json_mapping.hpp"
#include "http/problem.hpp"
#include "http/strict_json.hpp"

namespace overseer::http {

namespace {

namespace json = boost::json;

struct replier {
  unsigned version;
  bool keep_alive;
  responder respond;

  void json(unsigned status, const json::value& body) const {
    respond(json_response(status, body, version, keep_alive));
  }
  void problem(unsigned status, std::string detail, const std::vector<field_error>& errors = {}) const {
    respond(problem_response(status, std::move(detail), version, keep_alive, errors));
  }
  void no_job(const std::string& id) const { problem(404, "no job " + id); }
  /// An engine refusal, with its field errors.
  void refused(errc code, const std::string& message, const std::vector<field_error>& errors = {}) const {
    problem(status_of(code), message, errors);
  }
};

json::object links(const std::string& id) {
  const std::string self = "/v1/jobs/" + id;
  return {{"self", self}, {"result", self + "/result"}, {"logs", self + "/logs"}, {"history", self + "/history"}};
}

void submit(api_context& ctx, const call& c, const replier& r) {
  if (!is_json(c.req)) {
    r.problem(415, "the body must be application/json, not \"" +
                     std::string{c.req[bhttp::field::content_type]} + "\"");
    return;
  }
  auto body = parse_strict_json(c.req.body());
  if (!body.syntax_error.empty()) {
    r.problem(400, "the body is not valid JSON: " + body.syntax_error, {{"body", body.syntax_error}});
    return;
  }
  if (!body.duplicates.empty()) return r.problem(400, "the body repeats a key", body.duplicates);
  job_spec spec;
  if (auto errors = parse_job_spec(body.value, spec); !errors.empty()) {
    add_unreported(errors, ctx.eng.check(spec));  // e.g. params errors too: every problem in one answer
    r.problem(400, "the job spec is invalid", errors);
    return;
  }
  ctx.eng.submit_async(std::move(spec), [r](submit_result s) {
    if (s.code != errc::ok) return r.refused(s.code, s.message, s.errors);
    // pending; completed for a cache hit; the earlier job's for a repeat.
    const std::string status{to_string(s.status.value_or(job_status::pending))};
    json::object body{{"job_id", s.job_id},
                      {"status", status},
                      {"position_in_queue", s.position_in_queue},
                      {"links", links(s.job_id)}};
    if (s.existing) body["existing"] = true;
    r.json(s.existing ? 200 : 202, body);
  });
}

/// The view, or a 404 already answered.
std::optional<job_view> find(api_context& ctx, const std::string& id, const replier& r) {
  std::optional<job_view> v;
  if (actors::looks_like_job_id(id)) v = ctx.eng.get(id);
  if (!v) r.no_job(id);
  return v;
}

void list(api_context& ctx, const call& c, const replier& r) {
  auto errors = check_query_keys(c.query, {"status", "tool", "batch_id", "created_after", "created_before",
                                           "limit", "offset", "page", "page_size", "label."});
  list_query q;
  if (auto it = c.query.find("status"); it != c.query.end()) {
    q.status = parse_job_status(it->second);
    if (!q.status)
      errors.push_back({"status", "\"" + it->second +
                                    "\" is not a status (pending, running, retrying, completed, failed, "
                                    "cancelled, timed_out)"});
  }
  if (auto it = c.query.find("tool"); it != c.query.end()) q.tool = it->second;
  for (auto key : {"created_after", "created_before"}) {
    if (auto it = c.query.find(key); it != c.query.end()) {
      auto t = parse_time(it->second);
      if (!t) errors.push_back({key, "\"" + it->second + "\" is not an RFC 3339 timestamp"});
      (std::string_view{key} == "created_after" ? q.created_after : q.created_before) = t;
    }
  }
  for (const auto& [key, value] : c.query)
    if (key.starts_with("label.")) q.labels[key.substr(6)] = value;
  const bool paged = c.query.contains("page") || c.query.contains("page_size");
  if (paged && (c.query.contains("limit") || c.query.contains("offset")))
    errors.push_back({"page", "use either page/page_size or limit/offset, not both"});
  const auto page = query_int(c.query, "page", 1, 1, 1'000'000, errors);
  const auto page_size = query_int(c.query, "page_size", 100, 1, 1000, errors);
  q.limit = static_cast<std::size_t>(paged ? page_size : query_int(c.query, "limit", 100, 1, 1000, errors));
  q.offset = static_cast<std::size_t>(paged ? (page - 1) * page_size
                                            : query_int(c.query, "offset", 0, 0, 1'000'000'000, errors));
  if (!errors.empty()) return r.problem(400, "invalid query", errors);

  list_result found;
  if (auto it = c.query.find("batch_id"); it != c.query.end()) q.batch_id = it->second;
  found = ctx.eng.list(q);
  json::array jobs;
  for (const auto& v : found.jobs) jobs.push_back(render_view(v));
  json::object out{{"jobs", std::move(jobs)},
                   {"total_count", found.total_count},
                   {"has_next", q.offset + found.jobs.size() < found.total_count},
                   {"limit", q.limit},
                   {"offset", q.offset}};
  if (paged) {
    out["page"] = page;
    out["page_size"] = page_size;
  }
  r.json(200, out);
}

void logs(api_context& ctx, const call& c, const replier& r, const std::string& id) {
  auto errors = check_query_keys(c.query, {"level", "limit", "offset"});
  auto level = log_level::debug;
  if (auto it = c.query.find("level"); it != c.query.end()) {
    if (auto l = parse_log_level(it->second)) level = *l;
    else errors.push_back({"level", "\"" + it->second + "\" is not a level (debug, info, warning, error, critical)"});
  }
  const auto limit = query_int(c.query, "limit", 100, 1, 1000, errors);
  const auto offset = query_int(c.query, "offset", 0, 0, 1'000'000'000, errors);
  if (!errors.empty()) return r.problem(400, "invalid query", errors);
  if (!find(ctx, id, r)) return;
  std::size_t total = 0;
  json::array lines;
  for (const auto& l : ctx.eng.logs(id, level, static_cast<std::size_t>(limit), static_cast<std::size_t>(offset), &total))
    lines.push_back(render_log(l));
  r.json(200, json::object{{"job_id", id}, {"logs", std::move(lines)}, {"total", total},
                           {"limit", limit}, {"offset", offset}});
}

}  // namespace

bool is_json(const request& req) {
  auto type = req[bhttp::field::content_type];
  auto semi = type.find(';');
  auto mime = type.substr(0, semi == boost::beast::string_view::npos ? type.size() : semi);
  while (!mime.empty() && mime.back() == ' ') mime.remove_suffix(1);
  return boost::beast::iequals(mime, "application/json");
}

void handle_jobs_api(api_context& ctx, const call& c, responder respond) {
  const replier r{c.req.version(), c.req.keep_alive(), std::move(respond)};
  const auto id_it = c.params.find("id");
  const std::string id = id_it == c.params.end() ? std::string{} : id_it->second;
  if (c.route != route_id::list_jobs && c.route != route_id::get_logs) {
    if (auto errors = check_query_keys(c.query, {}); !errors.empty())
      return r.problem(400, "this endpoint takes no query parameters", errors);
  }
  switch (c.route) {
    case route_id::submit_job: return submit(ctx, c, r);
    case route_id::list_jobs: return list(ctx, c, r);
    case route_id::get_job:
      if (auto v = find(ctx, id, r)) r.json(200, render_view(*v));
      return;
    case route_id::get_result:
      if (auto v = find(ctx, id, r)) {
        if (v->status == job_status::completed && v->result)
          return r.json(200, json::object{{"job_id", id}, {"result", *v->result}});
        auto res = problem_response(409, "job " + id + " is " + std::string{to_string(v->status)} +
                                           "; a result exists only once it is completed",
                                    c.req.version(), c.req.keep_alive());
        // Say the status in the document too, so a client need not ask again.
        auto doc = json::parse(res.body()).as_object();
        doc["job_status"] = to_string(v->status);
        res.body() = to_json_text(doc);
        res.prepare_payload();
        r.respond(std::move(res));
      }
      return;
    case route_id::get_logs: return logs(ctx, c, r, id);
    case route_id::get_history:
      if (find(ctx, id, r)) {
        json::array ts;
        for (const auto& t : ctx.eng.history(id)) ts.push_back(render_transition(t));
        r.json(200, json::object{{"job_id", id}, {"transitions", std::move(ts)}});
      }
      return;
    case route_id::cancel_job:
    case route_id::cancel_job_post:
    case route_id::retry_job: {
      if (!actors::looks_like_job_id(id)) return r.no_job(id);
      const bool retry = c.route == route_id::retry_job;
      auto done = [r, retry](change_result res) {
        if (res.code != errc::ok) return r.refused(res.code, res.message);
        r.json(retry ? 202 : 200, render_view(*res.view));
      };
      if (retry) ctx.eng.retry_async(id, std::move(done), c.peer);
      else ctx.eng.cancel_async(id, std::move(done), c.peer);
      return;
    }
    case route_id::list_tools:
    case route_id::health:
    case route_id::stream:
    case route_id::submit_batch:
    case route_id::get_batch:
    case route_id::cancel_batch:
    case route_id::cache_stats:
    case route_id::clear_cache:
    case route_id::dashboard:
    case route_id::dashboard_asset:
    case route_id::metrics:
    case route_id::pause_tool:
    case route_id::resume_tool:
    case route_id::windowed_metrics:
      break;
  }
  r.problem(404, "no such resource");
}

}  // namespace overseer::http
