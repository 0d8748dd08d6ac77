// The HTTP side of the server: one request, one answer, over Beast. A
// request that cannot reach the server (refused, unresolvable, no answer
// within the deadline) throws `unreachable`; every answer the server gives,
// error statuses included, is returned for the caller to read.
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>

namespace overseer::cli {

/// Where the server is: from --url / OVERSEER_URL, "http://HOST:PORT" with
/// an optional path prefix (a reverse proxy's mount point).
struct endpoint {
  std::string host;
  std::string port;
  std::string prefix;  ///< "" or "/overseer", without a trailing slash
};

/// Parses "http://127.0.0.1:8080", "localhost:8080" (scheme optional) or
/// "http://host/prefix" (port 80). Throws std::invalid_argument naming what
/// is wrong, for example an https:// URL (no TLS in this client).
[[nodiscard]] endpoint parse_endpoint(const std::string& url);
/// The Host field for `e`: its host, bracketed if IPv6, and its port unless 80.
[[nodiscard]] std::string host_field(const endpoint& e);

struct unreachable : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct http_answer {
  unsigned status = 0;
  std::string content_type;
  std::string body;
};

class api_client {
public:
  api_client(endpoint where, std::string token, std::chrono::milliseconds deadline = std::chrono::seconds(30));

  /// `target` is the path and query under the prefix ("/v1/jobs?limit=5").
  /// A body is sent as application/json.
  http_answer request(const std::string& method, const std::string& target, const std::string& body = {});
  http_answer get(const std::string& target) { return request("GET", target); }

  [[nodiscard]] const endpoint& where() const noexcept { return where_; }
  [[nodiscard]] const std::string& token() const noexcept { return token_; }
  /// The longest wait for the server at each step of a request: connect,
  /// send, answer (--request-timeout).
  [[nodiscard]] std::chrono::milliseconds deadline() const noexcept { return deadline_; }

private:
  endpoint where_;
  std::string token_;
  std::chrono::milliseconds deadline_;
};

/// A wait as people read it in a message: "30 s", "0.5 s".
[[nodiscard]] std::string seconds_text(std::chrono::milliseconds wait);

/// `s` percent-encoded for a query value or a path segment.
[[nodiscard]] std::string url_encode(const std::string& s);

}  // namespace overseer::cli
