// /v1/batches and /v1/cache.
#include "http/api.hpp"
#include "http/json_mapping.hpp"
#include "http/ops_context.hpp"

namespace overseer::http {

namespace json = boost::json;

namespace {

json::object render_batch_fields(const batch_view& b) {
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

/// With its owner when it has one (a principal's batch).
json::object render_batch(const batch_view& b) {
  auto out = render_batch_fields(b);
  if (!b.owner.empty()) out["owner"] = b.owner;
  return out;
}

/// A batch in GET /v1/batches: the view without its list of jobs (counts
/// and total_jobs stay), so a page of large batches stays small.
json::object render_batch_summary(const batch_view& b) {
  auto out = render_batch(b);
  out.erase("jobs");
  return out;
}

}  // namespace

void submit_batch(api_context& ctx, const call& c, const replier& r) {
  auto spec = read_batch_spec(ctx, c, r);
  if (!spec) return;
  spec->owner = c.who.owner;
  const auto jobs = spec->jobs.size();
  if (!admit_submits(ctx, c, r, jobs)) return;
  ctx.eng.submit_batch_async(std::move(*spec), [r, &ctx, who = c.who, jobs](batch_submit_result b) {
    if (ctx.tenancy) ctx.tenancy->settle(who, jobs);
    if (b.code != errc::ok) return r.refused(b.code, b.message, b.errors);
    json::array ids;
    for (const auto& j : b.job_ids) ids.emplace_back(j);
    r.json(202, json::object{{"batch_id", b.batch_id}, {"job_ids", std::move(ids)},
                             {"links", json::object{{"self", "/v1/batches/" + b.batch_id}}}});
  });
}

void list_batches(api_context& ctx, const call& c, const replier& r) {
  auto errors = check_query_keys(c, {"status", "name", "created_after", "created_before", "limit", "offset"});
  batch_list_query q;
  if (auto it = c.query.find("status"); it != c.query.end()) {
    q.status = it->second;
    if (q.status != "pending" && q.status != "running" && q.status != "completed" && q.status != "failed" &&
        q.status != "cancelled")
      errors.push_back({"status", "\"" + it->second +
                                    "\" is not a batch status (pending, running, completed, failed, cancelled)"});
  }
  if (auto it = c.query.find("name"); it != c.query.end()) q.name = it->second;
  for (auto key : {"created_after", "created_before"}) {
    if (auto it = c.query.find(key); it != c.query.end()) {
      auto t = parse_time(it->second);
      if (!t) errors.push_back({key, "\"" + it->second + "\" is not an RFC 3339 timestamp"});
      (std::string_view{key} == "created_after" ? q.created_after : q.created_before) = t;
    }
  }
  q.limit = static_cast<std::size_t>(query_int(c.query, "limit", 100, 1, 1000, errors));
  q.offset = static_cast<std::size_t>(query_int(c.query, "offset", 0, 0, 1'000'000'000, errors));
  if (!errors.empty()) return r.problem(400, "invalid query", errors);
  q.owner = c.who.scope();
  // total_count reads every batch (and a status filter each batch's jobs):
  // on the listings' thread, never on an I/O thread.
  const auto busy = ctx.ops->post_listing([&ctx, q = std::move(q), r] {
    try {
      const batch_list_result found = ctx.eng.list_batches(q);
      json::array batches;
      for (const auto& b : found.batches) batches.push_back(render_batch_summary(b));
      r.json(200, json::object{{"batches", std::move(batches)},
                               {"total_count", found.total_count},
                               {"has_next", q.offset + found.batches.size() < found.total_count},
                               {"limit", q.limit},
                               {"offset", q.offset}});
    } catch (const overseer::error& e) {
      r.failed(e);
    } catch (const std::exception& e) {
      r.problem(500, std::string{"internal error: "} + e.what());
    }
  });
  if (busy) refuse_listing(r, *busy);
}

void get_batch(api_context& ctx, const call& c, const replier& r) {
  const auto id = c.param("id");
  auto b = ctx.eng.get_batch(id);
  if (!b) return r.refused(b.code(), b.message());  // 404, or 503 when the store cannot be read
  if (!c.who.sees(b->owner)) return r.refused(errc::not_found, "no batch " + id);
  r.json(200, render_batch(*b));
}

void cancel_batch(api_context& ctx, const call& c, const replier& r) {
  const auto id = c.param("id");
  const auto why = read_reason(c, r, "cancel");
  if (!why) return;  // refused, nothing changed
  if (auto b = ctx.eng.get_batch(id); !b) return r.refused(b.code(), b.message());
  else if (!c.who.sees(b->owner)) return r.refused(errc::not_found, "no batch " + id);
  ctx.eng.cancel_batch_async(
    id,
    [r, &ctx, id](change_result res) {
      if (res.code != errc::ok) return r.refused(res.code, res.message);
      auto b = ctx.eng.get_batch(id);
      if (!b && b.code() != errc::not_found) return r.refused(b.code(), b.message());
      r.json(200, b ? json::value(render_batch(*b)) : json::value(json::object{{"batch_id", id}}));
    },
    by_with_reason(c, *why));
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
  auto errors = check_query_keys(c, {"confirm", "tool", "label."});
  auto confirm = c.query.find("confirm");
  if (confirm == c.query.end() || confirm->second != "true")
    errors.push_back({"confirm", "clearing the cache needs confirm=true"});
  if (!errors.empty()) return r.problem(400, "the cache was not cleared", errors);
  cache_filter f;
  if (auto t = c.query.find("tool"); t != c.query.end()) f.tool = t->second;
  f.labels = label_filter(c.query);
  // A user clears the entries of its own jobs only.
  f.owner = c.who.scope();
  ctx.eng.clear_cache_async(f, [r, &ctx, by = c.by(), tool = f.tool](result<std::size_t> n) {
    if (!n) return r.refused(n.code(), n.message());
    if (ctx.ops)
      report(ctx.ops->log, log_level::info, "http", "result cache cleared by " + by,
             {{"cleared_results", std::to_string(*n)}, {"tool", tool}});
    r.json(200, json::object{{"cleared_results", *n}});
  });
}

}  // namespace overseer::http
