#include "http/router.hpp"

#include <boost/url/pct_string_view.hpp>

#include "http/api.hpp"
#include "overseer/http/server.hpp"

namespace overseer::http {

const std::vector<route>& routes() {
  static const std::vector<route> table = {
    {"POST", "/v1/jobs", route_id::submit_job, submit_job, access::token, query_rule::own},
    {"GET", "/v1/jobs", route_id::list_jobs, list_jobs, access::token, query_rule::own},
    // Before /v1/jobs/{id}: a match stops at the first route of the method.
    {"POST", "/v1/jobs/cancel", route_id::cancel_jobs, cancel_jobs, access::token, query_rule::own},
    {"POST", "/v1/jobs/purge", route_id::purge_jobs, purge_jobs, access::token, query_rule::own},
    {"GET", "/v1/jobs/{id}", route_id::get_job, get_job, access::token, query_rule::own},
    {"DELETE", "/v1/jobs/{id}", route_id::cancel_job, cancel_job, access::token, query_rule::named_with_body},
    {"GET", "/v1/jobs/{id}/result", route_id::get_result, get_result},
    {"GET", "/v1/jobs/{id}/logs", route_id::get_logs, get_logs, access::token, query_rule::own},
    {"GET", "/v1/jobs/{id}/history", route_id::get_history, get_history},
    {"GET", "/v1/jobs/{id}/deliveries", route_id::get_deliveries, get_deliveries},
    {"POST", "/v1/jobs/{id}/cancel", route_id::cancel_job_post, cancel_job, access::token, query_rule::named_with_body},
    {"POST", "/v1/jobs/{id}/retry", route_id::retry_job, retry_job, access::token, query_rule::named_with_body},
    {"GET", "/v1/tools", route_id::list_tools, list_tools},
    // A tool is every principal's: only admins pause or resume it.
    {"POST", "/v1/tools/{name}/pause", route_id::pause_tool, pause_tool, access::token, query_rule::named_with_body, true,
     roles::admins},
    {"POST", "/v1/tools/{name}/resume", route_id::resume_tool, resume_tool, access::token, query_rule::named_with_body, true,
     roles::admins},
    {"GET", "/v1/health", route_id::health, health, access::anyone, query_rule::own},
    // The cluster's nodes (docs/cluster.md): admins and readers.
    {"GET", "/v1/nodes", route_id::list_nodes, list_nodes, access::token, query_rule::none, true, roles::observers},
    // Figures over every principal's jobs: admins and readers.
    {"GET", "/v1/metrics", route_id::windowed_metrics, windowed_metrics, access::token, query_rule::own, true,
     roles::observers},
    {"GET", "/v1/openapi.yaml", route_id::openapi_document, openapi_document},
    // A WebSocket upgrade is taken before routing (http_session::upgrade);
    // what reaches the table is a plain GET.
    {"GET", "/v1/stream", route_id::stream, refuse_plain_stream, access::token, query_rule::ignored},
    {"POST", "/v1/batches", route_id::submit_batch, submit_batch, access::token, query_rule::named_with_body},
    {"GET", "/v1/batches", route_id::list_batches, list_batches, access::token, query_rule::own},
    {"GET", "/v1/batches/{id}", route_id::get_batch, get_batch},
    {"DELETE", "/v1/batches/{id}", route_id::cancel_batch, cancel_batch, access::token,
     query_rule::named_with_body},
    // The same as a POST: a client or proxy that drops a DELETE's body
    // (and the operator's reason in it) has a route that keeps it.
    {"POST", "/v1/batches/{id}/cancel", route_id::cancel_batch_post, cancel_batch, access::token,
     query_rule::named_with_body},
    {"GET", "/v1/cache/stats", route_id::cache_stats, cache_stats, access::token, query_rule::none, true,
     roles::observers},
    {"DELETE", "/v1/cache", route_id::clear_cache, clear_cache, access::token, query_rule::own},
    // Files (docs/api.md, "Files"). An upload's body streams to disk: the
    // session reads it itself (http_session::begin_upload), after these
    // same checks on its headers.
    {"POST", "/v1/files", route_id::upload_file, upload_file, access::token, query_rule::own},
    {"GET", "/v1/files", route_id::list_files, list_files, access::token, query_rule::own},
    {"GET", "/v1/files/{id}", route_id::get_file, get_file},
    {"DELETE", "/v1/files/{id}", route_id::delete_file, delete_file},
    // The dashboard (docs/dashboard.md), served without a token: its files
    // hold no data; every API call it makes needs one.
    {"GET", "/", route_id::dashboard, serve_dashboard, access::anyone, query_rule::ignored, false},
    {"GET", "/assets/{build}/{name}", route_id::dashboard_asset, serve_dashboard, access::anyone,
     query_rule::ignored, false},
    // Prometheus text, not JSON (docs/operations.md); it needs a token like
    // the API.
    {"GET", "/metrics", route_id::metrics, prometheus_metrics, access::token, query_rule::none, false,
     roles::observers},
  };
  return table;
}

namespace {

std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t start = 1;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

bool matches(std::string_view pattern, const std::vector<std::string>& s,
             std::map<std::string, std::string>& params) {
  auto p = segments(pattern);
  if (p.size() != s.size()) return false;
  std::map<std::string, std::string> found;
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (p[i].starts_with('{')) {
      if (s[i].empty()) return false;
      found.emplace(std::string{p[i].substr(1, p[i].size() - 2)}, s[i]);
    } else if (p[i] != s[i]) {
      return false;
    }
  }
  params = std::move(found);
  return true;
}

}  // namespace

std::optional<std::vector<std::string>> decoded_segments(std::string_view encoded_path) {
  if (encoded_path.empty() || encoded_path.front() != '/') return std::nullopt;
  std::vector<std::string> out;
  for (auto seg : segments(encoded_path)) {
    auto pct = boost::urls::make_pct_string_view(seg);
    if (!pct) return std::nullopt;
    out.push_back(pct->decode());
  }
  return out;
}

bool path_is(std::string_view encoded_path, std::string_view plain) {
  const auto s = decoded_segments(encoded_path);
  return s && *s == decoded_segments(plain);
}

match_result match(std::string_view method, std::string_view encoded_path) {
  match_result out;
  const auto path = decoded_segments(encoded_path);
  if (!path) return out;
  // HEAD is GET without the body (RFC 9110 9.3.2): every GET route takes it.
  const std::string_view wanted = method == "HEAD" ? "GET" : method;
  for (const auto& r : routes()) {
    std::map<std::string, std::string> params;
    if (!matches(r.pattern, *path, params)) continue;
    out.path_known = true;
    if (r.method == wanted) {
      out.found = &r;
      out.params = std::move(params);
      return out;
    }
    if (!out.allowed.empty()) out.allowed += ", ";
    out.allowed += r.method;
    if (r.method == "GET") out.allowed += ", HEAD";
  }
  return out;
}

bool permits(const route& to, role r) {
  switch (to.roles) {
    case roles::by_method: return to.method == "GET" || r != role::reader;
    case roles::observers: return r != role::user;
    case roles::admins: return r == role::admin;
  }
  return false;
}

}  // namespace overseer::http
