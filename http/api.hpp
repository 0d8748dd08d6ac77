// What the REST handlers share: request and response types, the context
// they run in, and the helpers every handler answers through.
//
// A handler answers exactly once through its responder, from any thread;
// the session writes responses in request order.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/http.hpp>
#include <boost/json/value.hpp>
#include <boost/url/url_view.hpp>

#include "http/router.hpp"
#include "overseer/engine.hpp"
#include "overseer/errc.hpp"
#include "overseer/http/server.hpp"

namespace overseer::http {

namespace bhttp = boost::beast::http;
using request = bhttp::request<bhttp::string_body>;
using response = bhttp::response<bhttp::string_body>;
using responder = std::function<void(response)>;

/// Decoded query parameters, each key once (see read_query).
using query_map = std::map<std::string, std::string, std::less<>>;

class connections;
class stream_hub;
struct ops_context;

struct api_context {
  engine& eng;
  const server_config& config;
  stream_hub& hub;
  connections& open;
  ops_context* ops = nullptr;  ///< metrics, access log (http/ops_context.hpp)
};

/// A handled request: its route, path parameters and query.
struct call {
  const request& req;
  route_id route;
  std::map<std::string, std::string> params;
  query_map query;
  const std::string& peer;  ///< "client 127.0.0.1": who asks, for cancel and retry reasons
};

void handle_jobs_api(api_context& ctx, const call& c, responder respond);
void handle_system_api(api_context& ctx, const call& c, responder respond);
void handle_workflow_api(api_context& ctx, const call& c, responder respond);
void handle_ops_api(api_context& ctx, const call& c, responder respond);

/// Whether the body is declared application/json (parameters allowed).
[[nodiscard]] bool is_json(const request& req);

/// The body is rendered by to_json_text, so it is valid UTF-8 even when a
/// string in it echoes client bytes that are not.
[[nodiscard]] response json_response(unsigned status, const boost::json::value& body,
                                     unsigned version, bool keep_alive);
[[nodiscard]] response problem_response(unsigned status, std::string detail, unsigned version,
                                        bool keep_alive, const std::vector<field_error>& errors = {});

/// Decodes the query of `target` into `out`. A key given more than once is
/// an error naming it: which value was meant cannot be known.
[[nodiscard]] std::vector<field_error> read_query(const boost::urls::url_view& target, query_map& out);
/// Refuses query keys outside `allowed` (a key may also be a prefix ending
/// in '.', e.g. "label."), naming the nearest allowed key.
[[nodiscard]] std::vector<field_error> check_query_keys(const query_map& q,
                                                        std::initializer_list<std::string_view> allowed);
/// An integer query value in [min, max]; records an error naming `key`
/// otherwise. Absent: `fallback`.
[[nodiscard]] std::int64_t query_int(const query_map& q, std::string_view key, std::int64_t fallback,
                                     std::int64_t min, std::int64_t max, std::vector<field_error>& errors);

}  // namespace overseer::http
