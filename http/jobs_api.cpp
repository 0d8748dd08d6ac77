// The /v1/jobs handlers.
#include <charconv>
#include <cmath>

#include "actors/job_id.hpp"
#include "http/finished_views.hpp"
#include "http/sync_waits.hpp"
#include "http/api.hpp"
#include "http/json_mapping.hpp"
#include "http/ops_context.hpp"
#include "tools/spec_limits.hpp"
#include "tools/trace_context.hpp"

namespace overseer::http {

namespace json = boost::json;

namespace {

json::object links(const std::string& id) {
  const std::string self = "/v1/jobs/" + id;
  return {{"self", self}, {"result", self + "/result"}, {"logs", self + "/logs"}, {"history", self + "/history"}};
}

void no_job(const replier& r, const std::string& id) { r.problem(404, "no job " + id); }

/// The view, or the refusal already answered: 404 for no such job (or
/// another user's), 503 for a store that cannot be read (never a 404).
std::optional<job_view> find(api_context& ctx, const call& c, const std::string& id, const replier& r) {
  if (!actors::looks_like_job_id(id)) {
    no_job(r, id);
    return std::nullopt;
  }
  return visible_job(ctx, c, r, id);
}

/// Cancel (200) or retry (202): the job's view once the change is durable.
void change_job(api_context& ctx, const call& c, const replier& r, bool retry) {
  const auto id = c.param("id");
  if (!actors::looks_like_job_id(id)) return no_job(r, id);
  const auto why = read_reason(c, r, retry ? "retry" : "cancel");
  if (!why) return;  // refused, nothing changed
  // A user acts on its own jobs only; another's is not found.
  if (c.who.scope() && !find(ctx, c, id, r)) return;
  auto done = [r, retry](change_result res) {
    if (res.code != errc::ok) return r.refused(res.code, res.message);
    r.json(retry ? 202 : 200, render_view(*res.view));
  };
  // The reason names the principal, and the operator's reason if given:
  // "cancelled by alice (client 127.0.0.1): wrong reference genome".
  if (retry) ctx.eng.retry_async(id, std::move(done), by_with_reason(c, *why));
  else ctx.eng.cancel_async(id, std::move(done), by_with_reason(c, *why));
}

/// `?wait=`: "30s", "1500ms", "2m" or plain seconds ("2.5"), 0 to a day;
/// none when absent. A longer wait than the server's max_wait waits that long.
std::optional<std::chrono::milliseconds> read_wait(const call& c, std::vector<field_error>& errors) {
  const auto it = c.query.find("wait");
  if (it == c.query.end()) return std::nullopt;
  const std::string& text = it->second;
  double scale = 1000;  // seconds
  std::string_view number{text};
  if (number.ends_with("ms")) scale = 1, number.remove_suffix(2);
  else if (number.ends_with("s")) number.remove_suffix(1);
  else if (number.ends_with("m")) scale = 60'000, number.remove_suffix(1);
  double value = -1;
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (number.empty() || ec != std::errc{} || end != number.data() + number.size() || !(value >= 0) ||
      value * scale > 86'400'000.0) {
    errors.push_back({"wait", "\"" + text + "\" is not a wait: give seconds (\"30\", \"30s\"), \"500ms\" or \"2m\", up to a day"});
    return std::nullopt;
  }
  return std::chrono::milliseconds{static_cast<std::int64_t>(std::llround(value * scale))};
}

/// Waits up to `wait` (at most the server's max_wait) for the job to end,
/// then answers `ended(view)` if it did, else `going_on(view now, if read)`.
/// A server drain answers `going_on` at once.
void answer_when_ended(api_context& ctx, const std::string& id, std::chrono::milliseconds wait,
                       std::function<void(const job_view&)> ended,
                       std::function<void(std::optional<job_view>)> going_on) {
  auto now = [&ctx, id]() -> std::optional<job_view> {
    auto v = ctx.eng.get(id);
    return v ? std::optional<job_view>{std::move(*v)} : std::nullopt;
  };
  auto ticket = ctx.waits->add([now, going_on] { going_on(now()); });
  ctx.eng.wait_async(id, std::min(wait, ctx.config.max_wait),
                     [&ctx, ticket, now, ended = std::move(ended), going_on](result<job_view> v) {
                       // Claimed by a drain: answered already, and the server may be gone.
                       if (!ticket->claim()) return;
                       ctx.waits->done(ticket);
                       if (v) return ended(*v);
                       going_on(now());
                     });
}

json::object submit_answer(const submit_result& s, job_status status) {
  json::object out{{"job_id", s.job_id},
                   {"status", to_string(status)},
                   {"position_in_queue", s.position_in_queue},
                   {"links", links(s.job_id)}};
  if (s.existing) out["existing"] = true;
  if (s.estimated_duration_s) out["estimated_duration_s"] = std::round(*s.estimated_duration_s * 1000) / 1000;
  return out;
}

}  // namespace

void submit_job(api_context& ctx, const call& c, const replier& r) {
  auto errors = check_query_keys(c, {"wait"});
  auto wait = read_wait(c, errors);
  auto spec = read_job_spec(ctx, c, r, std::move(errors));
  if (!spec) return;
  spec->owner = c.who.owner;
  // An immediate tool's submit waits for its end unless the client says otherwise.
  if (!wait)
    if (auto tool = ctx.eng.tools().find(spec->tool); tool && tool->definition.mode == tool_mode::immediate)
      wait = ctx.config.immediate_wait;
  if (!admit_submits(ctx, c, r, 1)) return;
  ctx.eng.submit_async(std::move(*spec), [r, &ctx, who = c.who, wait](submit_result s) {
    if (ctx.tenancy) ctx.tenancy->settle(who, 1);
    if (s.code != errc::ok) return r.refused(s.code, s.message, s.errors);
    // pending; completed for a cache hit; the earlier job's for a repeat.
    const auto status = s.status.value_or(job_status::pending);
    const unsigned accepted = s.existing ? 200 : 202;
    const bool waits = wait && wait->count() > 0;
    if (!waits || is_terminal(status)) {
      if (waits && is_terminal(status) && !s.existing) {
        // A cache hit is ended already: the synchronous answer is its view.
        if (auto v = ctx.eng.get(s.job_id)) return r.json(200, render_view(*v));
      }
      return r.json(accepted, submit_answer(s, status));
    }
    answer_when_ended(
      ctx, s.job_id, *wait, [r](const job_view& v) { r.json(200, render_view(v)); },
      [r, s, accepted, status](std::optional<job_view> now) {
        r.json(accepted, submit_answer(s, now ? now->status : status));
      });
  });
}

void read_job_filters(const query_map& query, list_query& q, std::vector<field_error>& errors) {
  if (auto it = query.find("status"); it != query.end()) {
    q.status = parse_job_status(it->second);
    if (!q.status)
      errors.push_back({"status", "\"" + it->second +
                                    "\" is not a status (pending, running, retrying, completed, failed, "
                                    "cancelled, timed_out)"});
  }
  if (auto it = query.find("tool"); it != query.end()) q.tool = it->second;
  if (auto it = query.find("batch_id"); it != query.end()) q.batch_id = it->second;
  if (auto it = query.find("name_contains"); it != query.end()) {
    // A name is at most max_name_chars: a longer text matches none.
    if (auto why = tools::text_problem(it->second, 1, tools::max_name_chars)) errors.push_back({"name_contains", *why});
    else q.name_contains = it->second;
  }
  if (auto it = query.find("trace_id"); it != query.end()) {
    if (tools::valid_trace_id(it->second)) q.trace_id = it->second;
    else errors.push_back({"trace_id", "\"" + it->second + "\" is not a W3C trace id (32 lowercase hex digits, not all zero)"});
  }
  for (auto key : {"created_after", "created_before"}) {
    if (auto it = query.find(key); it != query.end()) {
      auto t = parse_time(it->second);
      if (!t) errors.push_back({key, "\"" + it->second + "\" is not an RFC 3339 timestamp"});
      (std::string_view{key} == "created_after" ? q.created_after : q.created_before) = t;
    }
  }
  q.labels = label_filter(query);
}

void list_jobs(api_context& ctx, const call& c, const replier& r) {
  auto errors = check_query_keys(c, {"status", "tool", "batch_id", "trace_id", "name_contains", "created_after",
                                     "created_before", "limit", "offset", "page", "page_size", "label."});
  list_query q;
  read_job_filters(c.query, q, errors);
  q.owner = c.who.scope();
  const bool paged = c.query.contains("page") || c.query.contains("page_size");
  if (paged && (c.query.contains("limit") || c.query.contains("offset")))
    errors.push_back({"page", "use either page/page_size or limit/offset, not both"});
  // All four read, whichever style is used: one answer names every bad one.
  const auto page = query_int(c.query, "page", 1, 1, 1'000'000, errors);
  const auto page_size = query_int(c.query, "page_size", 100, 1, 1000, errors);
  const auto limit = query_int(c.query, "limit", 100, 1, 1000, errors);
  const auto offset = query_int(c.query, "offset", 0, 0, 1'000'000'000, errors);
  q.limit = static_cast<std::size_t>(paged ? page_size : limit);
  q.offset = static_cast<std::size_t>(paged ? (page - 1) * page_size : offset);
  if (!errors.empty()) return r.problem(400, "invalid query", errors);

  // total_count reads every match: on the listings' thread, so that the
  // other connections of this I/O thread are not held up meanwhile.
  const auto busy = ctx.ops->post_listing([&ctx, q = std::move(q), paged, page, page_size, r] {
    try {
      const list_result found = ctx.eng.list(q);
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
    } catch (const overseer::error& e) {
      r.failed(e);
    } catch (const std::exception& e) {
      r.problem(500, std::string{"internal error: "} + e.what());
    }
  });
  if (busy) refuse_listing(r, *busy);
}

void get_job(api_context& ctx, const call& c, const replier& r) {
  auto errors = check_query_keys(c, {"wait"});
  const auto wait = read_wait(c, errors);
  if (!errors.empty()) return r.problem(400, "invalid query", errors);
  const auto id = c.param("id");
  if (!actors::looks_like_job_id(id)) return no_job(r, id);
  // A finished job answers the same until it changes (retry, delete,
  // purge): its answer is kept rendered (http/finished_views.hpp).
  auto* kept = ctx.finished;
  if (kept)
    if (auto hit = kept->find(id)) {
      if (!c.who.sees(hit->owner)) return no_job(r, id);
      return r.json_text(200, hit->body);
    }
  const auto ticket = kept ? kept->before_read(id) : finished_views::ticket{};
  auto v = visible_job(ctx, c, r, id);
  if (!v) return;
  if (!wait || wait->count() == 0 || is_terminal(v->status)) {
    auto body = to_json_text(render_view(*v));
    // Not a view that reads the clock (a duration without an end).
    if (kept && is_terminal(v->status) && (!v->started_at || v->completed_at))
      kept->keep(id, ticket, v->owner, body);
    return r.json_text(200, std::move(body));
  }
  // A long poll: the view once the job has ended, or as it is at the deadline.
  auto answer = [r](const job_view& x) { r.json(200, render_view(x)); };
  answer_when_ended(ctx, v->id, *wait, answer, [r, answer, last = *v](std::optional<job_view> now) {
    answer(now ? *now : last);
  });
}

void get_result(api_context& ctx, const call& c, const replier& r) {
  const auto id = c.param("id");
  auto v = find(ctx, c, id, r);
  if (!v) return;
  if (v->status == job_status::completed && v->result)
    return r.json(200, json::object{{"job_id", id}, {"result", *v->result}});
  // Say the status in the document too, so a client need not ask again.
  r.problem(409, "job " + id + " is " + std::string{to_string(v->status)} +
                   "; a result exists only once it is completed",
            {}, json::object{{"job_status", to_string(v->status)}});
}

void get_logs(api_context& ctx, const call& c, const replier& r) {
  const auto id = c.param("id");
  auto errors = check_query_keys(c, {"level", "limit", "offset"});
  auto level = log_level::debug;
  if (auto it = c.query.find("level"); it != c.query.end()) {
    if (auto l = parse_log_level(it->second)) level = *l;
    else errors.push_back({"level", "\"" + it->second + "\" is not a level (debug, info, warning, error, critical)"});
  }
  const auto limit = query_int(c.query, "limit", 100, 1, 1000, errors);
  const auto offset = query_int(c.query, "offset", 0, 0, 1'000'000'000, errors);
  if (!errors.empty()) return r.problem(400, "invalid query", errors);
  if (!actors::looks_like_job_id(id)) return no_job(r, id);
  if (c.who.scope() && !find(ctx, c, id, r)) return;
  auto page = ctx.eng.logs(id, level, static_cast<std::size_t>(limit), static_cast<std::size_t>(offset));
  if (!page) return r.refused(page.code(), page.message());
  json::array lines;
  for (const auto& l : page->lines) lines.push_back(render_log(l));
  r.json(200, json::object{{"job_id", id}, {"logs", std::move(lines)}, {"total", page->total},
                           {"limit", limit}, {"offset", offset}});
}

void get_history(api_context& ctx, const call& c, const replier& r) {
  const auto id = c.param("id");
  if (!find(ctx, c, id, r)) return;
  json::array ts;
  for (const auto& t : ctx.eng.history(id)) ts.push_back(render_transition(t));
  r.json(200, json::object{{"job_id", id}, {"transitions", std::move(ts)}});
}

void cancel_job(api_context& ctx, const call& c, const replier& r) { change_job(ctx, c, r, false); }

void retry_job(api_context& ctx, const call& c, const replier& r) { change_job(ctx, c, r, true); }

void refuse_plain_stream(api_context&, const call&, const replier& r) {
  r.problem(426, "GET /v1/stream must be a WebSocket upgrade");
}

}  // namespace overseer::http
