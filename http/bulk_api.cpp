// POST /v1/jobs/cancel and POST /v1/jobs/purge: an operator's action on
// every job that matches the filters of GET /v1/jobs, with a dry run.
//
// The filters come in the query or in a JSON body (not both). The work runs
// on the operator's thread (ops_context::blocking): listing the matches
// reads the store, and a purge waits for its deletions to be durable, so
// neither may hold an I/O thread.
#include <algorithm>
#include <array>
#include <atomic>
#include <limits>
#include <memory>
#include <span>
#include <unordered_set>

#include <boost/asio/post.hpp>

#include "http/api.hpp"
#include "http/json_mapping.hpp"
#include "http/ops_context.hpp"

namespace overseer::http {

namespace json = boost::json;

namespace {

struct bulk_request {
  list_query filters;
  bool dry_run = false;
  std::string reason;  ///< the operator's, for a cancel; empty for none
};

/// A JSON body's members as query keys: strings as they are, `labels` as
/// label.NAME, booleans as "true"/"false". Anything else is an error naming
/// the member.
void body_as_query(const json::object& body, query_map& out, std::vector<field_error>& errors) {
  for (const auto& [key, value] : body) {
    const std::string name{key};
    if (name == "labels") {
      if (!value.is_object()) {
        errors.push_back({"labels", "must be an object of strings"});
        continue;
      }
      for (const auto& [label, v] : value.get_object()) {
        if (v.is_string()) out["label." + std::string{label}] = std::string{v.get_string()};
        else errors.push_back({"labels." + std::string{label}, "must be a string"});
      }
    } else if (name == "dry_run" || name == "all") {
      if (value.is_bool()) out[name] = value.get_bool() ? "true" : "false";
      else errors.push_back({name, "must be true or false"});
    } else if (name.starts_with("label.")) {
      errors.push_back({name, "labels go in \"labels\": {\"NAME\": \"VALUE\"}"});
    } else if (value.is_string()) {
      out[name] = std::string{value.get_string()};
    } else {
      out[name] = "";  // named by check_query_keys if unknown
      if (name == "status" || name == "tool" || name == "batch_id" || name == "trace_id" || name == "name_contains" ||
          name == "created_after" || name == "created_before" || name == "reason")
        errors.push_back({name, "must be a string"});
    }
  }
}

bool flag(const query_map& q, std::string_view key, std::vector<field_error>& errors) {
  const auto it = q.find(key);
  if (it == q.end()) return false;
  if (it->second == "true") return true;
  if (it->second != "false") errors.push_back({std::string{key}, "must be true or false, not \"" + it->second + "\""});
  return false;
}

/// The filters and dry_run of the request (and the operator's reason, when
/// `takes_reason`: a cancel), or nothing with a 400 (or 415) answered that
/// names every bad field.
std::optional<bulk_request> read_bulk_request(const call& c, const replier& r, bool takes_reason = false) {
  query_map query = c.query;
  std::vector<field_error> errors = c.query_errors;
  // The keys every bulk change takes, then the one only a cancel takes.
  static constexpr std::array<std::string_view, 11> keys{
    "status", "tool", "batch_id", "trace_id", "name_contains", "created_after", "created_before", "label.",
    "dry_run", "all", "reason"};
  const auto allowed = std::span{keys}.first(takes_reason ? keys.size() : keys.size() - 1);
  bool from_body = false;
  if (!c.req.body().empty()) {
    auto body = read_json_body(c, r, errors);
    if (!body) return std::nullopt;
    if (!body->is_object()) {
      errors.push_back({"body", "must be an object"});
      merge_field_errors(errors, check_query_keys(query, allowed));  // named together
      r.problem(400, "the body must be a JSON object of filters", errors);
      return std::nullopt;
    }
    // "{}" is no filter at all: the query's stand.
    if (!body->get_object().empty()) {
      if (!query.empty()) {
        errors.push_back({"body", "give the filters in the query or in the body, not both"});
        merge_field_errors(errors, check_query_keys(query, allowed));  // the query's own unknown keys too
      }
      query.clear();
      body_as_query(body->get_object(), query, errors);
      from_body = true;
    }
  }
  auto key_errors = check_query_keys(query, allowed);
  if (from_body)  // the body's members are fields, not query parameters
    for (auto& e : key_errors)
      if (e.message.starts_with("unknown query parameter")) e.message.replace(0, 23, "unknown field");
  merge_field_errors(errors, std::move(key_errors));
  bulk_request out;
  if (const auto it = query.find("reason"); takes_reason && it != query.end()) {
    const bool named = std::any_of(errors.begin(), errors.end(), [](const field_error& e) { return e.field == "reason"; });
    if (!named && check_reason(it->second, errors)) out.reason = it->second;
  }
  // A body's member of the wrong type is named already ("must be a string"):
  // not a second time for the empty text it stands for.
  std::vector<field_error> filter_errors;
  read_job_filters(query, out.filters, filter_errors);
  add_unreported(errors, filter_errors);
  out.dry_run = flag(query, "dry_run", errors);
  const bool all = flag(query, "all", errors);
  const auto& f = out.filters;
  const bool filtered = f.status || !f.tool.empty() || !f.batch_id.empty() || !f.trace_id.empty() ||
                        !f.name_contains.empty() || !f.labels.empty() || f.created_after || f.created_before;
  if (!filtered && !all && errors.empty())
    errors.push_back({"all", "name at least one filter, or say all=true to touch every job"});
  if (!errors.empty()) {
    r.problem(400, "invalid filters", errors);
    return std::nullopt;
  }
  out.filters.limit = std::numeric_limits<std::size_t>::max();
  out.filters.offset = 0;
  return out;
}

/// The ids of the unfinished jobs matching `filters`.
std::vector<std::string> unfinished_matches(engine& eng, list_query filters) {
  std::vector<job_status> statuses;
  if (!filters.status) statuses = {job_status::pending, job_status::running, job_status::retrying};
  else if (!is_terminal(*filters.status)) statuses = {*filters.status};
  // One read per status: a job that moves on between two reads (pending to
  // running, as an admitted job does at once) is found twice, and counted once.
  std::vector<std::string> ids;
  std::unordered_set<std::string> seen;
  for (auto s : statuses) {
    filters.status = s;
    auto found = eng.list(filters);
    for (auto& v : found.jobs)
      if (seen.insert(v.id).second) ids.push_back(std::move(v.id));
  }
  return ids;
}

}  // namespace

void cancel_jobs(api_context& ctx, const call& c, const replier& r) {
  auto asked = read_bulk_request(c, r, true);
  if (!asked) return;
  asked->filters.owner = c.who.scope();  // a user's own jobs only
  auto by = by_with_reason(c, asked->reason);
  boost::asio::post(ctx.ops->blocking, [&ctx, req = std::move(*asked), by = std::move(by), r] {
    std::vector<std::string> ids;
    try {
      ids = unfinished_matches(ctx.eng, req.filters);
    } catch (const overseer::error& e) {
      return r.failed(e);
    }
    const auto matched = ids.size();
    auto answer = [r, matched, dry_run = req.dry_run](std::size_t cancelled) {
      r.json(200, json::object{{"matched", matched}, {"cancelled", cancelled}, {"dry_run", dry_run}});
    };
    if (req.dry_run || ids.empty()) return answer(0);
    // Each cancel answers once durable; the last one answers the request. A
    // job that finished meanwhile is matched but not cancelled.
    struct tally {
      std::atomic<std::size_t> left;
      std::atomic<std::size_t> cancelled{0};
    };
    auto t = std::make_shared<tally>();
    t->left = ids.size();
    for (const auto& id : ids) {
      ctx.eng.cancel_async(
        id,
        [t, answer](const change_result& res) {
          if (res.code == errc::ok) ++t->cancelled;
          if (--t->left == 0) answer(t->cancelled.load());
        },
        by);
    }
  });
}

void purge_jobs(api_context& ctx, const call& c, const replier& r) {
  auto asked = read_bulk_request(c, r);
  if (!asked) return;
  asked->filters.owner = c.who.scope();  // a user's own jobs only
  boost::asio::post(ctx.ops->blocking, [&ctx, req = std::move(*asked), r, by = c.by()] {
    if (req.dry_run == false) report(ctx.ops->log, log_level::info, "http", "purge by " + by);
    try {
      const auto res = ctx.eng.purge(req.filters, req.dry_run);
      r.json(200, json::object{{"matched", res.matched}, {"deleted", res.deleted}, {"dry_run", req.dry_run}});
    } catch (const overseer::error& e) {
      r.failed(e);
    }
  });
}

}  // namespace overseer::http
