// The route table of the HTTP API, and matching a request against it.
//
// The table is the one place a route is defined: its method and path, the
// handler that answers it, whether it needs a token and whether it takes a
// query. Paths are patterns with "{name}" segments. A path that matches no
// pattern is 404; one that matches under another method only is 405 with the
// allowed methods. HEAD matches every GET route. The routes marked `api` are
// also what the OpenAPI document is checked against.
#pragma once

#include <optional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace overseer::http {

enum class route_id {
  submit_job, get_job, get_result, get_logs, get_history, cancel_job, cancel_job_post,
  retry_job, list_jobs, list_tools, health, stream,
  submit_batch, get_batch, cancel_batch, cache_stats, clear_cache,
  dashboard, dashboard_asset,
  metrics, pause_tool, resume_tool, windowed_metrics, openapi_document,
  list_batches, cancel_jobs, get_deliveries, purge_jobs,
  list_nodes, cancel_batch_post,
  upload_file, list_files, get_file, delete_file,  // keep last: the router test counts up to it
};

struct api_context;
struct call;
class replier;
using handler = void (*)(api_context&, const call&, const replier&);

/// Who may call a route.
enum class access {
  token,   ///< a bearer token, when the server has any (401 otherwise)
  anyone,  ///< health (which shows details to token holders only) and the dashboard's files
};

/// What the session does with a route's query before the handler runs.
enum class query_rule {
  none,     ///< any key is refused: 400 "this endpoint takes no query parameters"
  /// Any key is refused, named in the same answer as the body's errors: the
  /// handler reads call::query_errors (read_reason, read_batch_spec).
  named_with_body,
  own,      ///< the handler checks its keys (a repeated key is refused before)
  ignored,  ///< not looked at (the dashboard: a page URL may carry what a browser adds)
};

/// Which roles may call a route (docs/api.md, "Principals and roles"); a
/// role outside gets 403. What a user may see of the data is the handler's
/// (its own jobs and batches; others' are 404).
enum class roles : std::uint8_t {
  by_method,  ///< a GET for every role; a POST or DELETE changes something: admins and users
  observers,  ///< admins and readers: figures about every principal's jobs
  admins,     ///< admins only: acts on what every principal shares (a tool)
};

struct route {
  std::string method;   ///< "GET", "POST", "DELETE"
  std::string pattern;  ///< "/v1/jobs/{id}"
  route_id id;
  http::handler handler;
  http::access access = access::token;
  query_rule query = query_rule::none;
  /// Part of the API that docs/openapi.yaml describes (and the clients
  /// cover); false for the dashboard's page and files (docs/dashboard.md).
  bool api = true;
  http::roles roles = roles::by_method;
};

[[nodiscard]] const std::vector<route>& routes();

struct match_result {
  const route* found = nullptr;  ///< the route, or none
  std::map<std::string, std::string> params;  ///< the {name} segments
  bool path_known = false;  ///< some route has this path (405, not 404)
  std::string allowed;      ///< "GET, DELETE" when path_known and nothing found
};

/// The route for `method` and a path as it was sent (percent-encoded): the
/// path is split at its slashes first and each segment decoded after, so an
/// encoded slash (%2F) is a character of its segment, never a separator
/// (`/v1/tools/noop%2Fpause` names a tool "noop/pause"), as RFC 3986 3.3 has it.
[[nodiscard]] match_result match(std::string_view method, std::string_view encoded_path);
/// The segments of a percent-encoded path, each decoded; none for a path that
/// does not start with '/' or is not validly encoded.
[[nodiscard]] std::optional<std::vector<std::string>> decoded_segments(std::string_view encoded_path);
/// Whether a percent-encoded path names the same segments as `plain`.
[[nodiscard]] bool path_is(std::string_view encoded_path, std::string_view plain);

enum class role : std::uint8_t;
/// Whether `r` may call `to` (its roles rule).
[[nodiscard]] bool permits(const route& to, role r);

}  // namespace overseer::http
