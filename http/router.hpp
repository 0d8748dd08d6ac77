// The route table of the HTTP API, and matching a request against it.
//
// Paths are patterns with "{name}" segments. A path that matches no pattern
// is 404; one that matches under another method only is 405 with the
// allowed methods. HEAD matches every GET route. The routes marked `api` are
// also what the OpenAPI document is checked against.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace overseer::http {

enum class route_id {
  submit_job, get_job, get_result, get_logs, get_history, cancel_job, cancel_job_post,
  retry_job, list_jobs, list_tools, health, stream,
  submit_batch, get_batch, cancel_batch, cache_stats, clear_cache,
  dashboard, dashboard_asset,
  metrics, pause_tool, resume_tool, windowed_metrics,
};

struct route {
  std::string method;   ///< "GET", "POST", "DELETE"
  std::string pattern;  ///< "/v1/jobs/{id}"
  route_id id;
  /// Part of the API that docs/openapi.yaml describes (and the clients
  /// cover); false for the dashboard's page and files (docs/dashboard.md).
  bool api = true;
};

[[nodiscard]] const std::vector<route>& routes();

struct match_result {
  std::optional<route_id> id;
  std::map<std::string, std::string> params;  ///< the {name} segments
  bool path_known = false;  ///< some route has this path (405, not 404)
  std::string allowed;      ///< "GET, DELETE" when path_known and no id
};

[[nodiscard]] match_result match(std::string_view method, std::string_view path);

}  // namespace overseer::http
