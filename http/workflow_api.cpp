// /v1/batches and /v1/cache.
#include "http/api.hpp"
#include "http/json_mapping.hpp"
#include "http/problem.hpp"
#include "http/strict_json.hpp"

namespace overseer::http {

namespace json = boost::json;

namespace {

json::object render_batch(const batch_view& b) {
  json::object counts;
  for (const auto& [status, n] : b.counts) counts[status] = n;
  json::array jobs;
  for (const auto& [id, status] : b.jobs) jobs.push_back(json::object{{"job_id", id}, {"status", to_string(status)}});
  return {{"batch_id", b.id},
          {"name", b.name},
          {"batch_status", b.status},
          {"parallel_limit", b.parallel_limit},
          {"fail_fast", b.fail_fast},
          {"created_at", format_time(b.created_at)},
          {"total_jobs", b.jobs.size()},
          {"counts", std::move(counts)},
          {"jobs", std::move(jobs)}};
}

}  // namespace

void handle_workflow_api(api_context& ctx, const call& c, responder respond) {
  const auto version = c.req.version();
  const bool keep_alive = c.req.keep_alive();
  auto problem = [&](unsigned status, std::string detail, const std::vector<field_error>& errors = {}) {
    respond(problem_response(status, std::move(detail), version, keep_alive, errors));
  };
  auto ok = [&](unsigned status, const json::value& body) { respond(json_response(status, body, version, keep_alive)); };
  const auto id_it = c.params.find("id");
  const std::string id = id_it == c.params.end() ? std::string{} : id_it->second;

  switch (c.route) {
    case route_id::submit_batch: {
      if (auto errors = check_query_keys(c.query, {}); !errors.empty())
        return problem(400, "this endpoint takes no query parameters", errors);
      if (!is_json(c.req))
        return problem(415, "the body must be application/json, not \"" +
                              std::string{c.req[bhttp::field::content_type]} + "\"");
      auto body = parse_strict_json(c.req.body());
      if (!body.syntax_error.empty())
        return problem(400, "the body is not valid JSON: " + body.syntax_error, {{"body", body.syntax_error}});
      if (!body.duplicates.empty()) return problem(400, "the body repeats a key", body.duplicates);
      batch_spec spec;
      if (auto errors = parse_batch_spec(body.value, spec); !errors.empty()) {
        add_unreported(errors, ctx.eng.check(spec));
        return problem(400, "the batch is invalid", errors);
      }
      ctx.eng.submit_batch_async(std::move(spec), [respond, version, keep_alive](batch_submit_result r) {
        if (r.code != errc::ok)
          return respond(problem_response(status_of(r.code), r.message, version, keep_alive, r.errors));
        json::array ids;
        for (const auto& j : r.job_ids) ids.emplace_back(j);
        respond(json_response(202, json::object{{"batch_id", r.batch_id}, {"job_ids", std::move(ids)},
                                                {"links", json::object{{"self", "/v1/batches/" + r.batch_id}}}},
                              version, keep_alive));
      });
      return;
    }
    case route_id::get_batch: {
      if (auto errors = check_query_keys(c.query, {}); !errors.empty())
        return problem(400, "this endpoint takes no query parameters", errors);
      auto b = ctx.eng.get_batch(id);
      if (!b) return problem(404, "no batch " + id);
      return ok(200, render_batch(*b));
    }
    case route_id::cancel_batch: {
      if (auto errors = check_query_keys(c.query, {}); !errors.empty())
        return problem(400, "this endpoint takes no query parameters", errors);
      if (!ctx.eng.get_batch(id)) return problem(404, "no batch " + id);
      ctx.eng.cancel_batch_async(
        id,
        [respond, version, keep_alive, &ctx, id](change_result r) {
          if (r.code != errc::ok) return respond(problem_response(status_of(r.code), r.message, version, keep_alive));
          // On an engine thread: a failed store read must become an answer here.
          std::optional<batch_view> b;
          try {
            b = ctx.eng.get_batch(id);
          } catch (const overseer::error& e) {
            return respond(problem_response(status_of(e.code()), e.what(), version, keep_alive));
          }
          respond(json_response(200, b ? json::value(render_batch(*b)) : json::value(json::object{{"batch_id", id}}),
                                version, keep_alive));
        },
        c.peer);
      return;
    }
    case route_id::cache_stats: {
      if (auto errors = check_query_keys(c.query, {}); !errors.empty())
        return problem(400, "this endpoint takes no query parameters", errors);
      auto s = ctx.eng.cache_statistics();
      json::object body{{"total_cached_results", s.total_cached_results},
                        {"cache_hit_rate", s.hit_rate_percent},
                        {"cache_hits", s.hits},
                        {"cache_misses", s.misses},
                        {"total_cache_size_mb", static_cast<double>(s.total_size_bytes) / (1024.0 * 1024.0)},
                        {"oldest_cached_result", s.oldest ? json::value(format_time(*s.oldest)) : json::value(nullptr)},
                        {"newest_cached_result", s.newest ? json::value(format_time(*s.newest)) : json::value(nullptr)}};
      return ok(200, body);
    }
    case route_id::clear_cache: {
      auto errors = check_query_keys(c.query, {"confirm", "tool", "label."});
      auto confirm = c.query.find("confirm");
      if (confirm == c.query.end() || confirm->second != "true")
        errors.push_back({"confirm", "clearing the cache needs confirm=true"});
      if (!errors.empty()) return problem(400, "the cache was not cleared", errors);
      cache_filter f;
      if (auto t = c.query.find("tool"); t != c.query.end()) f.tool = t->second;
      for (const auto& [key, value] : c.query)
        if (key.starts_with("label.")) f.labels[key.substr(6)] = value;
      ctx.eng.clear_cache_async(f, [respond, version, keep_alive](std::optional<std::size_t> n) {
        if (!n) return respond(problem_response(503, "the store could not clear the cache", version, keep_alive));
        respond(json_response(200, json::object{{"cleared_results", *n}}, version, keep_alive));
      });
      return;
    }
    default:
      return problem(404, "no such resource");
  }
}

}  // namespace overseer::http
