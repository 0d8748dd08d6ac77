#include "http/http_session.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/url/parse.hpp>

#include "http/stream_session.hpp"

namespace overseer::http {

namespace beast = boost::beast;
namespace net = boost::asio;

namespace {
constexpr auto read_timeout = std::chrono::seconds(60);
}

/// Answers a request exactly once: by its responder, or, if every copy of
/// the responder dies unanswered (the engine dropped the request while
/// stopping), with a 503.
class http_session::answer_guard {
public:
  answer_guard(std::weak_ptr<http_session> session, std::shared_ptr<slot> s, unsigned version)
    : session_(std::move(session)), slot_(std::move(s)), version_(version) {}
  ~answer_guard() {
    if (!answered_) answer(problem_response(503, "the engine is stopping", version_, false));
  }
  void answer(response res) {
    if (answered_) return;
    answered_ = true;
    if (auto session = session_.lock()) session->answer(slot_, std::move(res));
  }

private:
  std::weak_ptr<http_session> session_;
  std::shared_ptr<slot> slot_;
  unsigned version_;
  bool answered_ = false;
};

http_session::http_session(net::ip::tcp::socket socket, api_context& ctx)
  : stream_(std::move(socket)), ctx_(ctx) {}

void http_session::run() {
  // Start on the connection's strand: everything below runs there.
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->do_read(); });
}

void http_session::do_read() {
  if (reading_ || closing_ || queue_.size() >= max_in_flight) return;
  reading_ = true;
  parser_.emplace();
  parser_->body_limit(ctx_.config.body_limit);
  parser_->header_limit(64 * 1024);
  stream_.expires_after(read_timeout);
  bhttp::async_read(stream_, buffer_, *parser_,
                    beast::bind_front_handler(&http_session::on_read, shared_from_this()));
}

void http_session::on_read(beast::error_code ec, std::size_t) {
  reading_ = false;
  if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout || ec == net::error::operation_aborted ||
      ec == net::error::connection_reset) {
    closing_ = true;
    if (queue_.empty()) do_close();
    return;
  }
  if (ec) {
    // A request we cannot read (oversized, malformed) is answered, then the
    // connection closes: the rest of the byte stream cannot be trusted.
    const bool too_big = ec == bhttp::error::body_limit || ec == bhttp::error::header_limit;
    const std::string limit = ec == bhttp::error::header_limit
                                ? "the request headers are larger than the limit of 65536 bytes"
                                : "the request is larger than the limit of " +
                                    std::to_string(ctx_.config.body_limit) + " bytes";
    auto s = std::make_shared<slot>();
    queue_.push_back(s);
    closing_ = true;
    answer(s, problem_response(too_big ? 413 : 400, too_big ? limit : "malformed HTTP request: " + ec.message(),
                               11, false));
    return;
  }
  auto req = parser_->release();
  if (beast::websocket::is_upgrade(req)) {
    auto target = boost::urls::parse_origin_form(req.target());
    // A browser cannot set headers on a WebSocket: the stream also takes
    // the token as ?access_token=.
    std::string token;
    if (target)
      if (auto it = target->params().find("access_token"); it != target->params().end()) token = (*it).value;
    if (target && target->path() == "/v1/stream" && req.method() == bhttp::verb::get && queue_.empty() &&
        (authorized(req) || (!token.empty() && token_ok(token)))) {
      std::make_shared<stream_session>(stream_.release_socket(), ctx_)->run(std::move(req));
      return;
    }
  }
  dispatch(std::move(req));
  do_read();
}

bool http_session::token_ok(std::string_view token) const {
  for (const auto& t : ctx_.config.tokens)
    if (token == t) return true;
  return false;
}

bool http_session::authorized(const request& req) const {
  if (ctx_.config.tokens.empty()) return true;
  auto auth = req[bhttp::field::authorization];
  return auth.starts_with("Bearer ") && token_ok(auth.substr(7));
}

void http_session::dispatch(request req) {
  auto s = std::make_shared<slot>();
  queue_.push_back(s);
  if (!req.keep_alive()) closing_ = true;
  auto guard = std::make_shared<answer_guard>(weak_from_this(), s, req.version());
  responder respond = [guard](response res) { guard->answer(std::move(res)); };
  const unsigned version = req.version();
  const bool keep_alive = req.keep_alive();

  auto target = boost::urls::parse_origin_form(req.target());
  if (!target) return respond(problem_response(400, "malformed request target", version, keep_alive));
  auto m = match(req.method_string(), target->path());
  if (!m.id) {
    if (m.path_known) {
      auto res = problem_response(405, std::string{req.method_string()} + " is not allowed here; allowed: " + m.allowed,
                                  version, keep_alive);
      res.set(bhttp::field::allow, m.allowed);
      return respond(std::move(res));
    }
    return respond(problem_response(404, "no route for " + std::string{target->path()}, version, keep_alive));
  }
  if (*m.id != route_id::health && !authorized(req)) {
    {
      auto res = problem_response(401, "a valid bearer token is required", version, keep_alive);
      res.set(bhttp::field::www_authenticate, "Bearer");
      return respond(std::move(res));
    }
  }
  if (*m.id == route_id::stream)
    return respond(problem_response(426, "GET /v1/stream must be a WebSocket upgrade", version, keep_alive));
  query_map q;
  for (auto p : target->params()) q.emplace(p.key, p.has_value ? p.value : std::string{});
  call c{req, *m.id, std::move(m.params), std::move(q)};
  // A handler may fail on something we did not foresee; the client still
  // gets an answer, and the connection lives on.
  try {
    switch (*m.id) {
      case route_id::list_tools:
      case route_id::health: handle_system_api(ctx_, c, respond); break;
      case route_id::submit_batch:
      case route_id::get_batch:
      case route_id::cancel_batch:
      case route_id::cache_stats:
      case route_id::clear_cache: handle_workflow_api(ctx_, c, respond); break;
      case route_id::submit_job:
      case route_id::get_job:
      case route_id::get_result:
      case route_id::get_logs:
      case route_id::get_history:
      case route_id::cancel_job:
      case route_id::cancel_job_post:
      case route_id::retry_job:
      case route_id::list_jobs:
      case route_id::stream: handle_jobs_api(ctx_, c, respond); break;
    }
  } catch (const std::exception& e) {
    respond(problem_response(500, std::string{"internal error: "} + e.what(), version, keep_alive));
  }
}

void http_session::answer(const std::shared_ptr<slot>& s, response res) {
  // Handlers answer from engine threads; the session's state lives on its strand.
  net::post(stream_.get_executor(), [self = shared_from_this(), s, res = std::move(res)]() mutable {
    s->res = std::move(res);
    self->do_write();
  });
}

void http_session::do_write() {
  if (writing_ || queue_.empty() || !queue_.front()->res) return;
  writing_ = true;
  auto& res = *queue_.front()->res;
  const bool close = res.need_eof() || (closing_ && queue_.size() == 1);
  if (close) res.keep_alive(false);
  bhttp::async_write(stream_, res,
                     beast::bind_front_handler(&http_session::on_write, shared_from_this(), close));
}

void http_session::on_write(bool close, beast::error_code ec, std::size_t) {
  writing_ = false;
  queue_.pop_front();
  if (ec || close) return do_close();
  do_write();
  do_read();  // reading may have paused at the in-flight limit
}

void http_session::do_close() {
  beast::error_code ignored;  // the peer may be gone already
  stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
}

}  // namespace overseer::http
