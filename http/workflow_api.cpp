// /v1/batches and /v1/cache.
#include "http/api.hpp"
#include "http/json_mapping.hpp"

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

void submit_batch(api_context& ctx, const call& c, const replier& r) {
  auto spec = read_batch_spec(ctx, c, r);
  if (!spec) return;
  ctx.eng.submit_batch_async(std::move(*spec), [r](batch_submit_result b) {
    if (b.code != errc::ok) return r.refused(b.code, b.message, b.errors);
    json::array ids;
    for (const auto& j : b.job_ids) ids.emplace_back(j);
    r.json(202, json::object{{"batch_id", b.batch_id}, {"job_ids", std::move(ids)},
                             {"links", json::object{{"self", "/v1/batches/" + b.batch_id}}}});
  });
}

void get_batch(api_context& ctx, const call& c, const replier& r) {
  const auto id = c.param("id");
  auto b = ctx.eng.get_batch(id);
  if (!b) return r.refused(b.code(), b.message());  // 404, or 503 when the store cannot be read
  r.json(200, render_batch(*b));
}

void cancel_batch(api_context& ctx, const call& c, const replier& r) {
  const auto id = c.param("id");
  if (auto b = ctx.eng.get_batch(id); !b) return r.refused(b.code(), b.message());
  ctx.eng.cancel_batch_async(
    id,
    [r, &ctx, id](change_result res) {
      if (res.code != errc::ok) return r.refused(res.code, res.message);
      auto b = ctx.eng.get_batch(id);
      if (!b && b.code() != errc::not_found) return r.refused(b.code(), b.message());
      r.json(200, b ? json::value(render_batch(*b)) : json::value(json::object{{"batch_id", id}}));
    },
    c.peer);
}

void cache_stats(api_context& ctx, const call&, const replier& r) {
  auto s = ctx.eng.cache_statistics();
  r.json(200, json::object{
                {"total_cached_results", s.total_cached_results},
                {"cache_hit_rate", s.hit_rate_percent},
                {"cache_hits", s.hits},
                {"cache_misses", s.misses},
                {"total_cache_size_mb", static_cast<double>(s.total_size_bytes) / (1024.0 * 1024.0)},
                {"oldest_cached_result", s.oldest ? json::value(format_time(*s.oldest)) : json::value(nullptr)},
                {"newest_cached_result", s.newest ? json::value(format_time(*s.newest)) : json::value(nullptr)}});
}

void clear_cache(api_context& ctx, const call& c, const replier& r) {
  auto errors = check_query_keys(c.query, {"confirm", "tool", "label."});
  auto confirm = c.query.find("confirm");
  if (confirm == c.query.end() || confirm->second != "true")
    errors.push_back({"confirm", "clearing the cache needs confirm=true"});
  if (!errors.empty()) return r.problem(400, "the cache was not cleared", errors);
  cache_filter f;
  if (auto t = c.query.find("tool"); t != c.query.end()) f.tool = t->second;
  f.labels = label_filter(c.query);
  ctx.eng.clear_cache_async(f, [r](result<std::size_t> n) {
    if (!n) return r.refused(n.code(), n.message());
    r.json(200, json::object{{"cleared_results", *n}});
  });
}

}  // namespace overseer::http
