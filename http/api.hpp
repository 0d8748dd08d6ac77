// What the REST handlers share: request and response types, the context
// they run in, the one way a handler answers (replier), and the handlers
// themselves, which the route table (http/router.cpp) names.
//
// A handler answers exactly once through its replier, from any thread; the
// session writes responses in request order.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/http.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <boost/url/url_view.hpp>

#include "http/file_transfer.hpp"
#include "http/router.hpp"
#include "http/tenants.hpp"
#include "overseer/engine.hpp"
#include "overseer/errc.hpp"
#include "overseer/http/server.hpp"

namespace overseer::http {

namespace bhttp = boost::beast::http;
using request = bhttp::request<bhttp::string_body>;
using response = bhttp::response<bhttp::string_body>;
using responder = std::function<void(response)>;
/// How a download is answered: a file streamed from disk (http/file_transfer.hpp).
using file_responder = std::function<void(file_response)>;

/// Decoded query parameters, each key once (see read_query).
using query_map = std::map<std::string, std::string, std::less<>>;

class connections;
class stream_hub;
struct ops_context;
class sync_waits;
class finished_views;

struct api_context {
  engine& eng;
  const server_config& config;
  stream_hub& hub;
  connections& open;
  ops_context* ops = nullptr;  ///< metrics, access log, drain (http/ops_context.hpp)
  http::tenants* tenancy = nullptr;  ///< principals and quotas; none: no tokens, anyone is admin
  sync_waits* waits = nullptr;       ///< requests waiting for their job to end (`?wait=`)
  finished_views* finished = nullptr;  ///< finished jobs' answers, kept rendered; none: none kept
};

/// A handled request: its route, path parameters and query.
struct call {
  const request& req;
  route_id route;
  std::map<std::string, std::string> params;
  query_map query;
  const std::string& peer;  ///< "client 127.0.0.1": who asks, for cancel and retry reasons
  identity who{};  ///< the principal asking (the anonymous admin without tokens)
  /// The query's keys given more than once (read_query): answered with the
  /// handler's own bad fields, in one problem (check_query_keys).
  std::vector<field_error> query_errors{};

  /// Who did it, for a transition reason or a log line ("alice (client 127.0.0.1)").
  [[nodiscard]] std::string by() const { return who.by(peer); }

  /// The path parameter `name` ("id" of /v1/jobs/{id}); empty when absent.
  [[nodiscard]] std::string param(const std::string& name) const {
    const auto it = params.find(name);
    return it == params.end() ? std::string{} : it->second;
  }
};

/// A problem document (make_problem) as application/problem+json; a 503
/// carries Retry-After. `extra` members are added to the document.
[[nodiscard]] response problem_response(unsigned status, std::string detail, unsigned version,
                                        bool keep_alive, const std::vector<field_error>& errors = {},
                                        const boost::json::object& extra = {});

/// How a handler answers, the one way: a JSON document, a problem document,
/// or (the dashboard's files) a response built whole. Copyable; the copies
/// share the one answer (the session answers a request once).
class replier {
public:
  replier(const request& req, responder respond, file_responder respond_file = {})
    : version_(req.version()),
      keep_alive_(req.keep_alive()),
      respond_(std::move(respond)),
      respond_file_(std::move(respond_file)) {}

  void json(unsigned status, const boost::json::value& body) const;
  /// A JSON answer already rendered (to_json_text: valid UTF-8).
  void json_text(unsigned status, std::string body) const;
  void problem(unsigned status, std::string detail, const std::vector<field_error>& errors = {},
               const boost::json::object& extra = {}) const;
  /// An engine refusal: its errc's status (status_of), message and field errors.
  void refused(errc code, std::string message, const std::vector<field_error>& errors = {}) const;
  /// A failure thrown by the engine (a failed store read): never a 404.
  void failed(const overseer::error& e) const { refused(e.code(), e.what()); }
  void send(response res) const { respond_(std::move(res)); }
  /// A file download (streamed by the session); a 500 where the session
  /// cannot stream one.
  void send_file(file_response res) const {
    if (respond_file_) return respond_file_(std::move(res));
    problem(500, "this connection cannot stream a file");
  }

  [[nodiscard]] unsigned version() const noexcept { return version_; }
  [[nodiscard]] bool keep_alive() const noexcept { return keep_alive_; }

private:
  unsigned version_;
  bool keep_alive_;
  responder respond_;
  file_responder respond_file_;
};

/// The principal of a request: the anonymous admin when no token is
/// configured; the principal of its "Authorization: Bearer <token>";
/// nothing for a missing or unknown token.
[[nodiscard]] std::optional<identity> identify(const api_context& ctx, const request& req);
/// The job `id` if the caller may see it; otherwise answers 404 (another
/// user's job is not found, so ids do not leak) or the read's failure, and
/// returns nothing.
/// Takes `jobs` submits of the caller against its quotas (max_queued,
/// submits_per_second); false with a 429 and Retry-After answered when a
/// quota is reached (nothing is created). Each true is settled
/// (tenants::settle) once the engine answers.
[[nodiscard]] bool admit_submits(api_context& ctx, const call& c, const replier& r, std::size_t jobs);
[[nodiscard]] std::optional<job_view> visible_job(api_context& ctx, const call& c, const replier& r,
                                                  const std::string& id);

/// Whether the body is declared application/json (parameters allowed).
[[nodiscard]] bool is_json(const request& req);
/// The request's body as strict JSON (strict_json.hpp), or nothing with the
/// refusal answered: 415 unless it is declared application/json, 400 for
/// text that is not JSON or repeats a key.
[[nodiscard]] std::optional<boost::json::value> read_json_body(const call& c, const replier& r,
                                                               const std::vector<field_error>& also = {});
/// The longest reason an operator may give a change, in bytes.
inline constexpr std::size_t max_reason_bytes = 500;
/// The optional body of a pause, cancel or retry, {"reason": "..."}: the
/// operator's reason (empty for no body, or for {}), or nothing with the
/// refusal answered: 415 unless application/json, else one 400 ("the
/// `change` is invalid") naming every bad field (an unknown one, a reason
/// that is not a string, empty, over max_reason_bytes or not one line).
[[nodiscard]] std::optional<std::string> read_reason(const call& c, const replier& r, std::string_view change);
/// Whether `text` is a reason read_reason takes; if not, the error is added.
bool check_reason(std::string_view text, std::vector<field_error>& errors);
/// Whether UTF-8 `text` holds a control character (C0, DEL, C1 such as NEL)
/// or a line or paragraph separator (U+2028, U+2029).
[[nodiscard]] bool has_line_break_or_control(std::string_view utf8);
/// Who asks, as the engine records it ("alice (client 127.0.0.1)"), with
/// ": REASON" after it when the operator gave one.
[[nodiscard]] std::string by_with_reason(const call& c, std::string_view reason);
/// The body as a job spec (POST /v1/jobs) or a batch (POST /v1/batches), or
/// nothing with the refusal answered: a body read_json_body refuses, or one
/// 400 with every problem the JSON reader and the engine's checks find.
/// `errors`: the request's other bad fields (its query's), answered in the
/// same problem document as the body's.
[[nodiscard]] std::optional<job_spec> read_job_spec(api_context& ctx, const call& c, const replier& r,
                                                    std::vector<field_error> errors = {});
[[nodiscard]] std::optional<batch_spec> read_batch_spec(api_context& ctx, const call& c, const replier& r);
/// The "label.NAME=VALUE" keys of a query, as {NAME: VALUE}.
[[nodiscard]] std::map<std::string, std::string> label_filter(const query_map& q);
/// The job filters of GET /v1/jobs (status, tool, batch_id, created_after,
/// created_before, label.NAME) from `query` into `q`; a bad value is an
/// error naming its key.
void read_job_filters(const query_map& query, list_query& q, std::vector<field_error>& errors);

/// The handlers, one a route (the route table in http/router.cpp maps each
/// route to one). The session has read the query (and refused its keys for a
/// route that takes none) and checked the token before a handler runs.
/// http/jobs_api.cpp
void submit_job(api_context& ctx, const call& c, const replier& r);
void list_jobs(api_context& ctx, const call& c, const replier& r);
void get_job(api_context& ctx, const call& c, const replier& r);
void get_result(api_context& ctx, const call& c, const replier& r);
void get_logs(api_context& ctx, const call& c, const replier& r);
void get_history(api_context& ctx, const call& c, const replier& r);
void cancel_job(api_context& ctx, const call& c, const replier& r);
void retry_job(api_context& ctx, const call& c, const replier& r);
/// http/bulk_api.cpp: POST /v1/jobs/cancel and /v1/jobs/purge
void cancel_jobs(api_context& ctx, const call& c, const replier& r);
void purge_jobs(api_context& ctx, const call& c, const replier& r);
/// http/webhooks_api.cpp: GET /v1/jobs/{id}/deliveries
void get_deliveries(api_context& ctx, const call& c, const replier& r);
/// GET /v1/stream that is not a WebSocket upgrade: 426.
void refuse_plain_stream(api_context& ctx, const call& c, const replier& r);
/// http/system_api.cpp
void list_tools(api_context& ctx, const call& c, const replier& r);
void list_nodes(api_context& ctx, const call& c, const replier& r);
void health(api_context& ctx, const call& c, const replier& r);
/// http/workflow_api.cpp
void submit_batch(api_context& ctx, const call& c, const replier& r);
void list_batches(api_context& ctx, const call& c, const replier& r);
void get_batch(api_context& ctx, const call& c, const replier& r);
void cancel_batch(api_context& ctx, const call& c, const replier& r);
void cache_stats(api_context& ctx, const call& c, const replier& r);
void clear_cache(api_context& ctx, const call& c, const replier& r);
/// http/files_api.cpp: GET /v1/files, GET and DELETE /v1/files/{id}. POST
/// /v1/files is read by the session itself (http_session::begin_upload):
/// upload_file answers only if the table's handler is called at all (a 500).
void list_files(api_context& ctx, const call& c, const replier& r);
void get_file(api_context& ctx, const call& c, const replier& r);
void delete_file(api_context& ctx, const call& c, const replier& r);
void upload_file(api_context& ctx, const call& c, const replier& r);
/// A complete upload (its query checked by begin_upload): made durable by
/// the engine, then 201 with the file.
void finish_upload(api_context& ctx, const call& c, const replier& r, upload_body::value_type body);
/// The query and access problems of an upload, checked on its headers,
/// before the body is read: the refusal's status and document, if any.
struct upload_refusal {
  unsigned status = 400;
  std::string detail;
  std::vector<field_error> errors;
};
[[nodiscard]] std::optional<upload_refusal> check_upload(const api_context& ctx, const call& c);
/// The ids of stored files a spec names in params of type "file" that the
/// caller may not see (another user's), as "no file ID" errors naming the param.
void hidden_files(api_context& ctx, const call& c, const job_spec& spec, const std::string& prefix,
                  std::vector<field_error>& errors);
/// http/dashboard.cpp
void serve_dashboard(api_context& ctx, const call& c, const replier& r);
/// http/ops_api.cpp: GET /metrics, GET /v1/metrics, GET /v1/openapi.yaml,
/// POST /v1/tools/{name}/pause and /resume
void prometheus_metrics(api_context& ctx, const call& c, const replier& r);
void windowed_metrics(api_context& ctx, const call& c, const replier& r);
void openapi_document(api_context& ctx, const call& c, const replier& r);
void pause_tool(api_context& ctx, const call& c, const replier& r);
void resume_tool(api_context& ctx, const call& c, const replier& r);

/// A listing (GET /v1/jobs, GET /v1/batches) that found `waiting` listings
/// already waiting (ops_context::post_listing): 503 with Retry-After.
void refuse_listing(const replier& r, int waiting);

/// Decodes the query of `target` into `out`. A key given more than once is
/// an error naming it: which value was meant cannot be known.
[[nodiscard]] std::vector<field_error> read_query(const boost::urls::url_view& target, query_map& out);
/// Refuses query keys outside `allowed` (a key may also be a prefix ending
/// in '.', e.g. "label."), naming the nearest allowed key.
[[nodiscard]] std::vector<field_error> check_query_keys(const query_map& q,
                                                        std::initializer_list<std::string_view> allowed);
[[nodiscard]] std::vector<field_error> check_query_keys(const query_map& q, std::span<const std::string_view> allowed);
/// Adds `more` to `into`, one entry per field: a field already named gets
/// the new message after its own ("given more than once; unknown ...").
void merge_field_errors(std::vector<field_error>& into, std::vector<field_error> more);
/// The same for a call's query, after its repeated keys (call::query_errors):
/// every handler that reads its query starts its errors with this.
[[nodiscard]] std::vector<field_error> check_query_keys(const call& c, std::initializer_list<std::string_view> allowed);
/// An integer query value in [min, max]; records an error naming `key`
/// otherwise. Absent: `fallback`.
[[nodiscard]] std::int64_t query_int(const query_map& q, std::string_view key, std::int64_t fallback,
                                     std::int64_t min, std::int64_t max, std::vector<field_error>& errors);

}  // namespace overseer::http
