#include "http/router.hpp"

namespace overseer::http {

const std::vector<route>& routes() {
  static const std::vector<route> table = {
    {"POST", "/v1/jobs", route_id::submit_job},
    {"GET", "/v1/jobs", route_id::list_jobs},
    {"GET", "/v1/jobs/{id}", route_id::get_job},
    {"DELETE", "/v1/jobs/{id}", route_id::cancel_job},
    {"GET", "/v1/jobs/{id}/result", route_id::get_result},
    {"GET", "/v1/jobs/{id}/logs", route_id::get_logs},
    {"GET", "/v1/jobs/{id}/history", route_id::get_history},
    {"POST", "/v1/jobs/{id}/cancel", route_id::cancel_job_post},
    {"POST", "/v1/jobs/{id}/retry", route_id::retry_job},
    {"GET", "/v1/tools", route_id::list_tools},
    {"POST", "/v1/tools/{name}/pause", route_id::pause_tool},
    {"POST", "/v1/tools/{name}/resume", route_id::resume_tool},
    {"GET", "/v1/health", route_id::health},
    {"GET", "/v1/metrics", route_id::windowed_metrics},
    {"GET", "/v1/stream", route_id::stream},
    {"POST", "/v1/batches", route_id::submit_batch},
    {"GET", "/v1/batches/{id}", route_id::get_batch},
    {"DELETE", "/v1/batches/{id}", route_id::cancel_batch},
    {"GET", "/v1/cache/stats", route_id::cache_stats},
    {"DELETE", "/v1/cache", route_id::clear_cache},
    // The dashboard (docs/dashboard.md), served without a token: its files
    // hold no data; every API call it makes needs one.
    {"GET", "/", route_id::dashboard, false},
    {"GET", "/assets/{build}/{name}", route_id::dashboard_asset, false},
    // Prometheus text, not JSON (docs/operations.md); it needs a token
    // like the API.
    {"GET", "/metrics", route_id::metrics, false},
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

bool matches(std::string_view pattern, std::string_view path,
             std::map<std::string, std::string>& params) {
  auto p = segments(pattern), s = segments(path);
  if (p.size() != s.size()) return false;
  std::map<std::string, std::string> found;
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (p[i].starts_with('{')) {
      if (s[i].empty()) return false;
      found.emplace(std::string{p[i].substr(1, p[i].size() - 2)}, std::string{s[i]});
    } else if (p[i] != s[i]) {
      return false;
    }
  }
  params = std::move(found);
  return true;
}

}  // namespace

match_result match(std::string_view method, std::string_view path) {
  match_result out;
  if (path.empty() || path.front() != '/') return out;
  // HEAD is GET without the body (RFC 9110 9.3.2): every GET route takes it.
  const std::string_view wanted = method == "HEAD" ? "GET" : method;
  for (const auto& r : routes()) {
    std::map<std::string, std::string> params;
    if (!matches(r.pattern, path, params)) continue;
    out.path_known = true;
    if (r.method == wanted) {
      out.id = r.id;
      out.params = std::move(params);
      return out;
    }
    if (!out.allowed.empty()) out.allowed += ", ";
    out.allowed += r.method;
    if (r.method == "GET") out.allowed += ", HEAD";
  }
  return out;
}

}  // namespace overseer::http
