#include "http/http_session.hpp"

#include <algorithm>
#include <cctype>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/url/parse.hpp>

#include "http/access_log.hpp"
#include "http/dashboard.hpp"
#include "http/owed_answers.hpp"
#include "http/ops_context.hpp"
#include "http/problem.hpp"
#include "http/stream_session.hpp"

namespace overseer::http {

namespace beast = boost::beast;
namespace net = boost::asio;
namespace json = boost::json;
using tcp = net::ip::tcp;

namespace {

/// Bytes asked of the socket per read.
constexpr std::size_t read_chunk = 16 * 1024;
/// How long a closing connection reads and drops what the client still sends.
constexpr auto linger = std::chrono::seconds(2);
constexpr std::string_view continue_text = "HTTP/1.1 100 Continue\r\n\r\n";

/// The most bytes a body may leave unparsed: past the headers, only a chunk
/// line (size and extensions) or the trailer section can, and Beast bounds
/// neither. Without this a client sending one endless chunk extension grew
/// the buffer until the body timeout, by gigabytes.
constexpr std::size_t max_unparsed = http_session::header_limit;

/// The transfer codings of a request, lower-case, in order (every
/// Transfer-Encoding field, comma lists split).
std::vector<std::string> transfer_codings(const bhttp::fields& req) {
  std::vector<std::string> codings;
  const auto [first, last] = req.equal_range(bhttp::field::transfer_encoding);
  for (auto f = first; f != last; ++f) {
    std::string_view v{f->value().data(), f->value().size()};
    while (!v.empty()) {
      const auto comma = v.find(',');
      auto token = v.substr(0, comma);
      // Parameters (";q=...") are not ours to read: keep the coding's name.
      token = token.substr(0, token.find(';'));
      while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.remove_prefix(1);
      while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
      if (!token.empty()) {
        std::string lower{token};
        for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        codings.push_back(std::move(lower));
      }
      if (comma == std::string_view::npos) break;
      v.remove_prefix(comma + 1);
    }
  }
  return codings;
}

/// The request target as a URL: the origin form ("/v1/jobs?x=1"), or the
/// absolute form ("http://host/v1/jobs?x=1") that a server must accept too
/// (RFC 9112 3.2.2), whose path and query count the same. An error for
/// anything else (the asterisk form, an authority form, another scheme,
/// user:password@ in the authority).
boost::system::result<boost::urls::url_view> request_target(beast::string_view text) {
  const std::string_view t{text.data(), text.size()};
  if (t.starts_with('/')) return boost::urls::parse_origin_form(t);
  auto u = boost::urls::parse_absolute_uri(t);
  if (!u) return u;
  // Credentials in the target are an error (RFC 9110 4.2.4), and would be logged.
  if (!u->has_authority() || u->has_userinfo() ||
      (u->scheme_id() != boost::urls::scheme::http && u->scheme_id() != boost::urls::scheme::https))
    return boost::system::errc::make_error_code(boost::system::errc::invalid_argument);
  return u;
}

/// Why the request's Host field is refused (RFC 9112 3.2), or nothing: an
/// HTTP/1.1 request has exactly one; an HTTP/1.0 request may have none. Its
/// value is a host (a name, an IPv4 address or a bracketed IPv6 one) and an
/// optional port, or empty.
std::optional<std::string> bad_host(const bhttp::request_header<>& req) {
  const auto count = req.count(bhttp::field::host);
  if (count > 1) return "the Host header is given more than once";
  if (count == 0) {
    if (req.version() >= 11) return std::string{"an HTTP/1.1 request needs a Host header"};
    return std::nullopt;
  }
  const auto v = req[bhttp::field::host];
  const bool ok = std::all_of(v.begin(), v.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return std::isalnum(c) || std::string_view{"-._~!$&'()*+,;=:[]%"}.find(ch) != std::string_view::npos;
  });
  if (!ok) return "the Host header is not a host and port";
  return std::nullopt;
}

/// Drops the trailer fields Beast appended to the header of a chunked
/// request (those after the first `header_fields`): a field sent after the
/// body, Authorization above all, must not act as a header (RFC 9110 6.5.2).
void drop_trailer(bhttp::fields& req, std::size_t header_fields) {
  auto it = req.begin();
  for (std::size_t i = 0; i < header_fields && it != req.end(); ++i) ++it;
  while (it != req.end()) it = req.erase(it);
}

std::string describe(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + " s";
  return std::to_string(d.count()) + " ms";
}

struct handshake_error {
  unsigned status;
  std::string detail;
};

// What Beast's accept would refuse with a plain-text body, refused here
// first so the client gets a problem document. The caller has checked
// websocket::is_upgrade (HTTP/1.1, GET, Connection: upgrade, Upgrade:
// websocket).
std::optional<handshake_error> check_handshake(const request& req) {
  if (req.count(bhttp::field::host) == 0) return handshake_error{400, "a WebSocket upgrade needs a Host header"};
  const auto key = req[bhttp::field::sec_websocket_key];
  // The base64 of 16 bytes (RFC 6455 4.1): 22 characters of the alphabet,
  // the last of them holding 2 bits (A, Q, g or w), then "==".
  const auto b64 = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
  };
  if (key.size() != 24 || !std::all_of(key.begin(), key.begin() + 22, b64) ||
      std::string_view{"AQgw"}.find(key[21]) == std::string_view::npos || key.substr(22) != "==")
    return handshake_error{400, "Sec-WebSocket-Key must be the base64 of 16 random bytes"};
  const auto version = req[bhttp::field::sec_websocket_version];
  if (version.empty()) return handshake_error{400, "a WebSocket upgrade needs Sec-WebSocket-Version: 13"};
  if (version != "13")
    return handshake_error{426, "WebSocket version " + std::string{version} + " is not supported; use 13"};
  return std::nullopt;
}

}  // namespace

/// Answers a request exactly once: by its responder, or, if every copy of
/// the responder dies unanswered (the engine dropped the request while
/// stopping), with a 503. The session outlives it while the answer is owed
/// (it is held by ctx.open); once the socket failed the answer has nowhere
/// to go and the weak pointer lets it drop.
class http_session::answer_guard {
public:
  /// Counts the answer as owed on the session's I/O thread (owed_answers)
  /// until it has been handed back to that thread.
  answer_guard(std::weak_ptr<http_session> session, std::shared_ptr<slot> s, unsigned version,
               std::shared_ptr<std::atomic<int>> owed)
    : session_(std::move(session)), slot_(std::move(s)), version_(version), owed_(std::move(owed)) {
    owed_->fetch_add(1, std::memory_order_relaxed);
  }
  ~answer_guard() {
    if (!answered_) answer(problem_response(503, "the engine is stopping", version_, false));
  }
  void answer(response res) {
    if (answered_) return;
    answered_ = true;
    if (auto session = session_.lock()) session->answer(slot_, std::move(res));
    // After the post: a thread polling for it finds it before it sees nothing owed.
    owed_->fetch_sub(1, std::memory_order_relaxed);
  }
  void answer_file(file_response res) {
    if (answered_) return;
    answered_ = true;
    if (auto session = session_.lock()) session->answer_file(slot_, std::move(res));
    owed_->fetch_sub(1, std::memory_order_relaxed);
  }

private:
  std::weak_ptr<http_session> session_;
  std::shared_ptr<slot> slot_;
  unsigned version_;
  std::shared_ptr<std::atomic<int>> owed_;
  bool answered_ = false;
};

http_session::http_session(tcp::socket socket, api_context& ctx, connections::ticket ticket)
  : socket_(std::move(socket)),
    read_timer_(socket_.get_executor()),
    write_timer_(socket_.get_executor()),
    ctx_(ctx),
    ticket_(std::move(ticket)),
    owed_(net::use_service<owed_answers>(net::query(socket_.get_executor(), net::execution::context)).count) {
  beast::error_code ec;
  const auto remote = socket_.remote_endpoint(ec);
  peer_ = ec ? "client" : "client " + remote.address().to_string();
}

void http_session::run() {
  // Start on the connection's strand: everything below runs there.
  net::dispatch(socket_.get_executor(), [self = shared_from_this()] { self->do_read(); });
}

// ---- reading ---------------------------------------------------------------

void http_session::do_read() {
  if (reading_ || closing_ || upgrade_ || failed_ || queue_.size() >= max_in_flight) return;
  reading_ = true;
  parser_.emplace();
  upload_refusal_.reset();
  // Beast refuses a Content-Length above the limit with the headers; an
  // upload's limit is max_file_size, so the route decides (on_header).
  parser_->body_limit(std::max<std::uint64_t>(ctx_.config.body_limit, ctx_.config.max_file_size));
  parser_->header_limit(header_limit);
  parse();  // a pipelined request may be buffered already
}

// Feeds what is buffered to the parser; reads more only when it needs more.
void http_session::parse() {
  if (upload_) return parse_upload();
  beast::error_code ec;
  while (buffer_.size() > 0 && !parser_->is_done()) {
    const bool had_header = parser_->is_header_done();
    buffer_.consume(parser_->put(buffer_.data(), ec));
    if (ec == bhttp::error::need_more) break;
    if (ec) return on_read_error(ec);
    if (!had_header && parser_->is_header_done() && !on_header()) return;
    if (upload_) return parse_upload();
  }
  if (parser_->is_header_done() && !parser_->is_done() && buffer_.size() > max_unparsed)
    return refuse(400, "a chunk line or the trailer section is longer than " + std::to_string(max_unparsed) + " bytes");
  if (parser_->is_done()) {
    auto req = parser_->release();
    if (req.chunked()) drop_trailer(req.base(), header_fields_);
    return on_request(std::move(req));
  }
  read_more();
}

void http_session::read_more() {
  const auto now = upload_                      ? phase::body
                   : !parser_->got_some()        ? phase::idle
                   : !parser_->is_header_done() ? phase::header
                                                : phase::body;
  // A deadline runs from the start of its phase, not from each read: a
  // client sending a byte at a time does not extend it. An upload may take
  // longer than any fixed deadline: for it body_timeout is the longest
  // silence between two reads.
  if (now != phase_ || upload_) {
    phase_ = now;
    start_deadline();
  }
  socket_.async_read_some(buffer_.prepare(read_chunk),
                          beast::bind_front_handler(&http_session::on_bytes, shared_from_this()));
}

void http_session::on_bytes(beast::error_code ec, std::size_t bytes) {
  if (failed_) return;
  if (ec) return on_read_error(ec);
  buffer_.commit(bytes);
  parse();
}

bool http_session::on_header() {
  {
    const auto& req = parser_->get();
    // Beast accepts repeated equal lengths; an intermediary may not agree on
    // which one counts, so neither do we.
    if (req.count(bhttp::field::content_length) > 1 ||
        req[bhttp::field::content_length].find(',') != beast::string_view::npos) {
      refuse(400, "Content-Length is given more than once");
      return false;
    }
    // Fields that hold one value: a second one is not silently passed over
    // (which token, which media type?), it is refused.
    for (const auto& [f, name] : {std::pair{bhttp::field::authorization, "Authorization"},
                                 std::pair{bhttp::field::content_type, "Content-Type"}})
      if (req.count(f) > 1) {
        refuse(400, std::string{"the "} + name + " header is given more than once");
        return false;
      }
    // Only chunked is a transfer coding we read (RFC 9112 6.1). Beast reads a
    // request whose codings do not end in chunked as having no body, so its
    // body would be read as the next request: the framing is refused, and
    // the connection closed (RFC 9112 6.3), as with a Content-Length too.
    if (req.count(bhttp::field::transfer_encoding) > 0) {
      const auto codings = transfer_codings(req.base());
      if (req.count(bhttp::field::content_length) > 0) {
        refuse(400, "Content-Length and Transfer-Encoding are both given");
        return false;
      }
      if (codings.empty() || codings.back() != "chunked" || !parser_->chunked()) {
        refuse(400, "Transfer-Encoding must end in chunked");
        return false;
      }
      if (codings.size() > 1) {
        refuse(501, "Transfer-Encoding: only chunked is supported");
        return false;
      }
    }
    // RFC 9112 3.2: an HTTP/1.1 request without a Host, or with more than
    // one, or with one that is no host[:port], is refused with a 400.
    if (const auto bad = bad_host(req)) {
      refuse(400, *bad);
      return false;
    }
  }
  {
    auto& req = parser_->get();
    // Several Connection fields are one list (RFC 9110 5.3), but Beast's
    // keep_alive() reads only the first: join them, so that "close" in any
    // of them is heard.
    if (req.count(bhttp::field::connection) > 1) {
      std::string joined;
      const auto [first, last] = req.equal_range(bhttp::field::connection);
      for (auto it = first; it != last; ++it) {
        if (!joined.empty()) joined += ", ";
        joined.append(it->value().data(), it->value().size());
      }
      req.set(bhttp::field::connection, joined);
    }
    // An HTTP/1.0 message with Transfer-Encoding has faulty framing (RFC
    // 9112 6.1): it is answered, then the connection is closed.
    if (req.version() < 11 && req.count(bhttp::field::transfer_encoding) > 0) req.keep_alive(false);
    // Counted after the joining above, which removes fields: drop_trailer
    // keeps exactly these, and a trailer field never passes for a header.
    header_fields_ = static_cast<std::size_t>(std::distance(req.begin(), req.end()));
  }
  bool upload = false;
  if (parser_->get().method() == bhttp::verb::post) {
    auto target = request_target(parser_->get().target());
    upload = target && path_is(target->encoded_path(), "/v1/files");
  }
  if (upload) {
    if (!begin_upload()) return false;  // parser_ is upload_ from here on
  } else if (const auto length = parser_->content_length(); length && *length > ctx_.config.body_limit) {
    refuse(413, "the request is larger than the limit of " + std::to_string(ctx_.config.body_limit) + " bytes");
    return false;
  } else {
    parser_->body_limit(ctx_.config.body_limit);
  }
  const auto& req = upload_ ? upload_->get().base() : parser_->get().base();
  // HTTP/1.0 has no expectations (RFC 9110 10.1.1).
  const auto expect = req[bhttp::field::expect];
  if (req.version() < 11 || expect.empty()) return true;
  if (!beast::iequals(expect, "100-continue")) {
    refuse(417, "the only expectation supported is 100-continue, not \"" + std::string{expect} + "\"");
    return false;
  }
  if (upload_ ? upload_->is_done() : parser_->is_done()) return true;  // no body to wait for
  // The 100 goes out after the answers to earlier requests; the body is read
  // (with its deadline) once it is written.
  continue_ = true;
  phase_ = phase::none;
  disarm_read();
  do_write();
  return false;
}

bool http_session::begin_upload() {
  const auto& req = parser_->get();
  auto target = request_target(req.target());
  auto m = match("POST", target->encoded_path());
  const route& to = *m.found;
  auto who = identify(ctx_, req);
  if (to.access == access::token && !who) {
    return refuse_upload(401, "a valid bearer token is required", true);
  }
  if (!permits(to, who->role)) {
    return refuse_upload(403, who->name + " is " + (who->role == role::admin ? "an " : "a ") +
                                std::string{to_string(who->role)} + " and may not POST /v1/files");
  }
  query_map q;
  auto query_errors = read_query(*target, q);  // named with check_upload's findings
  if (ctx_.ops && ctx_.ops->draining) {
    return refuse_upload(503, "the daemon is stopping and takes no uploads; upload again once it is back");
  }
  if (const auto length = parser_->content_length(); length && *length > ctx_.config.max_file_size) {
    return refuse_upload(413, "the file is larger than the limit of " + std::to_string(ctx_.config.max_file_size) +
                                " bytes");
  }
  {
    const call c{req, route_id::upload_file, {}, q, peer_, *who, std::move(query_errors)};
    if (auto bad = check_upload(ctx_, c)) {
      return refuse_upload(bad->status, std::move(bad->detail), false, bad->errors);
    }
  }
  // An upload never takes the room the store needs: a file that fills the
  // disk would make the next commit fail-stop the daemon.
  const auto keep_free = persistence::files::keep_free(ctx_.eng.config().min_free_bytes);
  if (auto why = persistence::files::space_error(ctx_.eng.config().data_dir, parser_->content_length().value_or(0),
                                                 keep_free)) {
    return refuse_upload(507, std::move(*why));
  }
  upload_body::value_type body;
  try {
    body.open(ctx_.eng.config().data_dir, keep_free);
  } catch (const std::exception& e) {
    refuse(503, std::string{"the upload cannot be stored: "} + e.what());
    return false;
  }
  upload_.emplace(std::move(*parser_));
  parser_.reset();
  upload_->get().body() = std::move(body);
  upload_->body_limit(ctx_.config.max_file_size);
  upload_who_ = std::move(*who);
  upload_query_ = std::move(q);
  return true;
}

void http_session::parse_upload() {
  beast::error_code ec;
  while (buffer_.size() > 0 && !upload_->is_done()) {
    buffer_.consume(upload_->put(buffer_.data(), ec));
    if (ec == bhttp::error::need_more) break;
    if (ec) return on_read_error(ec);
  }
  if (!upload_->is_done() && buffer_.size() > max_unparsed)
    return refuse(400, "a chunk line or the trailer section is longer than " + std::to_string(max_unparsed) + " bytes");
  if (upload_->is_done()) return on_upload();
  read_more();
}

void http_session::on_upload() {
  reading_ = false;
  phase_ = phase::none;
  disarm_read();
  auto msg = upload_->release();
  upload_.reset();
  if (msg.chunked()) drop_trailer(msg.base(), header_fields_);
  request req;
  static_cast<bhttp::request_header<>&>(req) = msg.base();
  std::shared_ptr<access_probe> probe;
  auto r = answer_for(req, route_id::upload_file, &probe);
  if (upload_who_.listed) probe->named(upload_who_.name);
  const call c{req, route_id::upload_file, {}, std::move(upload_query_), peer_, std::move(upload_who_)};
  try {
    finish_upload(ctx_, c, r, std::move(msg.body()));
  } catch (const std::exception& e) {
    r.problem(500, std::string{"internal error: "} + e.what());
  }
  do_read();
}

void http_session::on_request(request req) {
  reading_ = false;
  phase_ = phase::none;
  disarm_read();
  if (!(beast::websocket::is_upgrade(req) && upgrade(req))) dispatch(std::move(req));
  do_read();
}

void http_session::on_read_error(beast::error_code ec) {
  if (failed_) return;
  reading_ = false;
  phase_ = phase::none;
  disarm_read();
  closing_ = true;
  const bool started = upload_ || (parser_ && parser_->got_some());
  const bool in_header = started && !upload_ && !parser_->is_header_done();
  // A refused or cut-off upload leaves nothing behind: its value removes
  // the temporary file.
  std::string write_error;
  if (upload_) write_error = upload_->get().body().error();
  // A Content-Length past both limits is refused by Beast with the headers,
  // before on_header: an upload's still gets the file limit's message.
  bool upload = upload_.has_value();
  if (!upload && ec == bhttp::error::body_limit && parser_ && parser_->get().method() == bhttp::verb::post) {
    auto target = request_target(parser_->get().target());
    upload = target && path_is(target->encoded_path(), "/v1/files");
  }
  upload_.reset();
  if (!write_error.empty()) {
    refuse(507, "the upload could not be written: " + write_error);
  } else if (upload_refusal_ && ec == bhttp::error::body_limit) {
    auto r = std::move(*upload_refusal_);
    refuse(r.status, std::move(r.detail), r.bearer, r.errors);
  } else if (upload && ec == bhttp::error::body_limit) {
    refuse(413, "the file is larger than the limit of " + std::to_string(ctx_.config.max_file_size) + " bytes");
  } else if (timed_out_ && started) {
    refuse(408, in_header ? "the request headers did not arrive within " + describe(ctx_.config.header_timeout)
                          : "the request body did not arrive within " + describe(ctx_.config.body_timeout));
  } else if (ec == bhttp::error::header_limit) {
    refuse(431, "the request headers are larger than the limit of " + std::to_string(header_limit) + " bytes");
  } else if (ec == bhttp::error::body_limit) {
    refuse(413, "the request is larger than the limit of " + std::to_string(ctx_.config.body_limit) + " bytes");
  } else if (ec.category() == bhttp::make_error_code(bhttp::error::need_more).category()) {
    // A request we cannot read is answered, then the connection closes:
    // the rest of the byte stream cannot be trusted.
    refuse(400, "malformed HTTP request: " + ec.message());
  } else if (started && ec == net::error::eof) {
    refuse(400, "the connection was closed in the middle of a request");
  } else if (queue_.empty()) {
    // Nothing of a request arrived (the client is done, idle or gone), and
    // nothing is owed: close. Otherwise the last answer closes.
    do_close();
  }
}

bool http_session::upgrade(request& req) {
  auto target = request_target(req.target());
  if (!target || !path_is(target->encoded_path(), "/v1/stream")) return false;
  // A browser cannot set headers on a WebSocket: the stream also takes the
  // token as ?access_token=. Without either, dispatch answers 401.
  std::string token;
  if (auto it = target->params().find("access_token"); it != target->params().end()) token = (*it).value;
  auto who = identify(ctx_, req);
  if (!who && !token.empty() && ctx_.tenancy) who = ctx_.tenancy->authenticate(token);
  if (!who) return false;

  auto problem = [&](unsigned status, std::string detail, const std::vector<field_error>& errors = {}) {
    auto res = problem_response(status, std::move(detail), req.version(), req.keep_alive(), errors);
    if (status == 426) res.set(bhttp::field::sec_websocket_version, "13");
    reply(owe(req.version(), req.keep_alive(), false), std::move(res));
    return true;
  };
  if (auto bad = check_handshake(req)) return problem(bad->status, std::move(bad->detail));
  query_map q;
  auto errors = read_query(*target, q);
  json::object subscribe;
  merge_field_errors(errors, parse_stream_query(q, subscribe));
  if (!errors.empty()) return problem(400, "invalid stream query", errors);
  if (ctx_.ops && ctx_.ops->draining) return problem(503, "the daemon is stopping; connect again once it is back");
  auto ticket = ctx_.open.open_stream(ctx_.config.max_streams);
  if (!ticket)
    return problem(503, "too many WebSocket sessions are open (the limit is " +
                          std::to_string(ctx_.config.max_streams) + "); try again later");
  upgrade_ = std::move(req);
  upgrade_who_ = std::move(*who);
  subscribe_ = std::move(subscribe);
  stream_ticket_.emplace(std::move(*ticket));
  do_write();  // hands off at once unless earlier answers are owed
  return true;
}

replier http_session::answer_for(const request& req, std::optional<route_id> route,
                                 std::shared_ptr<access_probe>* probe_out) {
  const unsigned version = req.version();
  auto s = owe(version, req.keep_alive(), req.method() == bhttp::verb::head);
  auto guard = std::make_shared<answer_guard>(weak_from_this(), s, version, owed_);
  // The access log and the request counters see every answer (access_log.hpp).
  auto probe = std::make_shared<access_probe>(ctx_, req, peer_);
  probe->route = route;
  *probe_out = probe;
  return replier{req,
                 [guard, probe](response res) {
                   probe->done(res);
                   guard->answer(std::move(res));
                 },
                 [guard, probe](file_response res) {
                   probe->done(res.result_int(), res.body().length());
                   guard->answer_file(std::move(res));
                 }};
}

void http_session::dispatch(request req) {
  const unsigned version = req.version();
  const bool keep_alive = req.keep_alive();
  std::shared_ptr<access_probe> probe;
  const replier r = answer_for(req, std::nullopt, &probe);

  auto target = request_target(req.target());
  if (!target) return r.problem(400, "malformed request target");
  // An absolute-form target may have an empty path: it is "/" (RFC 9112 3.2.2).
  const auto path = target->encoded_path().empty() ? std::string_view{"/"} : std::string_view{target->encoded_path()};
  auto m = match(req.method_string(), path);
  if (!m.found) {
    if (m.path_known) {
      auto res = problem_response(405, std::string{req.method_string()} + " is not allowed here; allowed: " + m.allowed,
                                  version, keep_alive);
      res.set(bhttp::field::allow, m.allowed);
      return r.send(std::move(res));
    }
    return r.problem(404, "no route for " + std::string{path});
  }
  const route& to = *m.found;
  probe->route = to.id;
  auto who = identify(ctx_, req);
  if (to.access == access::token && !who) {
    auto res = problem_response(401, "a valid bearer token is required", version, keep_alive);
    res.set(bhttp::field::www_authenticate, "Bearer");
    return r.send(std::move(res));
  }
  if (who && who->listed) probe->named(who->name);
  // The route's roles rule (http/router.cpp): a reader changes nothing, a
  // user neither pauses tools nor reads every principal's figures.
  if (to.access == access::token && !permits(to, who->role))
    return r.problem(403, who->name + " is " + (who->role == role::admin ? "an " : "a ") +
                            std::string{to_string(who->role)} + " and may not " + std::string{req.method_string()} +
                            " " + std::string{path});
  query_map q;
  // A repeated key is named with the handler's own findings (call::query_errors).
  auto query_errors = read_query(*target, q);
  if (to.query == query_rule::ignored) query_errors.clear();
  if (to.query == query_rule::none || to.query == query_rule::named_with_body)
    merge_field_errors(query_errors, check_query_keys(q, {}));
  if (to.query == query_rule::none && !query_errors.empty())
    return r.problem(400, "this endpoint takes no query parameters", query_errors);
  // Draining (a SIGTERM): no new jobs; everything else is answered.
  if (ctx_.ops && ctx_.ops->draining &&
      (to.id == route_id::submit_job || to.id == route_id::submit_batch || to.id == route_id::retry_job))
    return r.problem(503, "the daemon is stopping and takes no new jobs; submit again once it is back");
  const call c{req, to.id, std::move(m.params), std::move(q), peer_, who.value_or(identity{}), std::move(query_errors)};
  // A handler may fail on something we did not foresee; the client still
  // gets an answer, and the connection lives on.
  try {
    to.handler(ctx_, c, r);
  } catch (const overseer::error& e) {
    // A store read that failed (the engine fail-stops): 503, never a 404.
    r.failed(e);
  } catch (const std::exception& e) {
    r.problem(500, std::string{"internal error: "} + e.what());
  }
}

// ---- answering -------------------------------------------------------------

std::shared_ptr<http_session::slot> http_session::owe(unsigned version, bool keep_alive, bool head) {
  auto s = std::make_shared<slot>();
  s->version = version;
  s->keep_alive = keep_alive;
  s->head = head;
  // A request that closes the connection is the last one read.
  if (!keep_alive) closing_ = true;
  queue_.push_back(s);
  if (!held_) {
    held_ = true;
    ctx_.open.hold(shared_from_this());
  }
  return s;
}

bool http_session::refuse_upload(unsigned status, std::string detail, bool bearer,
                                 const std::vector<field_error>& errors) {
  const auto length = parser_->content_length();
  // Declared within the body limit, or chunked (the body limit then bounds it as it is read).
  if ((!length || *length <= ctx_.config.body_limit) && parser_->get()[bhttp::field::expect].empty()) {
    parser_->body_limit(ctx_.config.body_limit);
    // A chunked body past the body limit gets this answer, not the file
    // limit's: the file was never going to be taken.
    upload_refusal_ = refusal{status, std::move(detail), bearer, errors};
    return true;
  }
  refuse(status, std::move(detail), bearer, errors);
  return false;
}

void http_session::refuse(unsigned status, std::string detail, bool bearer, const std::vector<field_error>& errors) {
  reading_ = false;
  phase_ = phase::none;
  disarm_read();
  closing_ = true;
  const unsigned version = parser_ && parser_->is_header_done() ? parser_->get().version()
                           : upload_                              ? upload_->get().version()
                                                                  : 11;
  // A refused HEAD (its framing, its size, a header too large or too slow)
  // is answered without a body: a client reads none, and would take the
  // problem document for the next answer. Beast sets the method once the
  // whole request line is valid, so an unknown or broken line is no HEAD.
  const bool head = parser_ && parser_->get().method() == bhttp::verb::head;
  upload_.reset();
  auto res = problem_response(status, std::move(detail), version, false, errors);
  if (bearer) res.set(bhttp::field::www_authenticate, "Bearer");
  reply(owe(version, false, head), std::move(res));
}

void http_session::reply(const std::shared_ptr<slot>& s, response res) {
  s->res = std::move(res);
  do_write();
}

void http_session::answer(const std::shared_ptr<slot>& s, response res) {
  // Handlers answer from engine threads; the session's state lives on its strand.
  net::post(socket_.get_executor(), [self = shared_from_this(), s, res = std::move(res)]() mutable {
    self->reply(s, std::move(res));
  });
}

void http_session::answer_file(const std::shared_ptr<slot>& s, file_response res) {
  net::post(socket_.get_executor(), [self = shared_from_this(), s, res = std::move(res)]() mutable {
    s->file_res.emplace(std::move(res));
    self->do_write();
  });
}

void http_session::settle() {
  if (!queue_.empty() || !held_) return;
  held_ = false;
  ctx_.open.release(this);
}

void http_session::do_write() {
  if (writing_ || failed_) return;
  if (queue_.empty()) {
    if (continue_) return write_continue();
    if (upgrade_) return hand_off();
    return;
  }
  auto& s = *queue_.front();
  if (!s.res && !s.file_res) return;
  writing_ = true;
  // The session, not the handler, says whether the connection stays open.
  const bool close = !s.keep_alive || (closing_ && queue_.size() == 1);
  arm_write();
  auto done = beast::bind_front_handler(&http_session::on_write, shared_from_this(), close);
  if (s.file_res) {
    // A download: streamed from the file in chunks (file_range_body).
    s.file_res->version(s.version);
    s.file_res->keep_alive(!close);
    s.file_writer = std::make_unique<bhttp::response_serializer<file_range_body>>(*s.file_res);
    if (s.head) bhttp::async_write_header(socket_, *s.file_writer, std::move(done));
    else bhttp::async_write(socket_, *s.file_writer, std::move(done));
    return;
  }
  s.res->version(s.version);
  s.res->keep_alive(!close);
  s.writer.emplace(*s.res);
  // HEAD: the same status and headers, Content-Length included, no body.
  if (s.head) bhttp::async_write_header(socket_, *s.writer, std::move(done));
  else bhttp::async_write(socket_, *s.writer, std::move(done));
}

void http_session::on_write(bool close, beast::error_code ec, std::size_t) {
  if (failed_) return;
  writing_ = false;
  ++write_deadline_;
  write_timer_.cancel();
  if (ec) return fail();
  queue_.pop_front();
  settle();
  if (close || (closing_ && queue_.empty())) return do_close();
  // Nothing owed any more: a pending read now waits for an idle client.
  if (queue_.empty() && phase_ == phase::idle) start_deadline();
  do_write();
  do_read();  // reading may have paused at the in-flight limit
}

void http_session::write_continue() {
  continue_ = false;
  writing_ = true;
  arm_write();
  net::async_write(socket_, net::buffer(continue_text.data(), continue_text.size()),
                   [self = shared_from_this()](beast::error_code ec, std::size_t) {
                     if (self->failed_) return;
                     self->writing_ = false;
                     ++self->write_deadline_;
                     self->write_timer_.cancel();
                     if (ec) return self->fail();
                     self->parse();  // the body, with its deadline from now
                   });
}

void http_session::hand_off() {
  auto req = std::move(*upgrade_);
  upgrade_.reset();
  failed_ = true;  // the socket is the stream's from here on
  disarm_read();
  auto ws = std::make_shared<stream_session>(std::move(socket_), ctx_, std::move(ticket_), std::move(*stream_ticket_));
  stream_ticket_.reset();
  ws->set_identity(std::move(upgrade_who_));
  // Reading stopped at the upgrade: what is buffered came after it.
  if (buffer_.size() > 0) ws->preload({static_cast<const char*>(buffer_.data().data()), buffer_.size()});
  ws->run(std::move(req), std::move(subscribe_));
}

// ---- deadlines and closing -------------------------------------------------

void http_session::start_deadline() {
  switch (phase_) {
    case phase::idle:
      // A client waiting for its answers is not idle.
      if (queue_.empty()) arm_read(ctx_.config.idle_timeout);
      else disarm_read();
      break;
    case phase::header: arm_read(ctx_.config.header_timeout); break;
    case phase::body: arm_read(ctx_.config.body_timeout); break;
    case phase::none: disarm_read(); break;
  }
}

void http_session::arm_read(std::chrono::milliseconds after) {
  read_timer_.expires_after(after);
  read_timer_.async_wait([self = shared_from_this(), gen = ++read_deadline_](beast::error_code ec) {
    if (ec || gen != self->read_deadline_ || self->failed_) return;
    if (self->shut_) return self->fail();  // the linger is over
    // Shutting the receive side ends the pending read (end of stream) and
    // every later one, and leaves writing alone: what is owed still goes out.
    self->timed_out_ = true;
    beast::error_code ignored;  // the peer may be gone already
    self->socket_.shutdown(tcp::socket::shutdown_receive, ignored);
  });
}

void http_session::disarm_read() {
  ++read_deadline_;
  read_timer_.cancel();
}

void http_session::arm_write() {
  write_timer_.expires_after(ctx_.config.idle_timeout);
  write_timer_.async_wait([self = shared_from_this(), gen = ++write_deadline_](beast::error_code ec) {
    // A client that takes no answer for that long is gone for our purposes.
    if (!ec && gen == self->write_deadline_) self->fail();
  });
}

void http_session::fail() {
  if (failed_) return;
  failed_ = true;
  closing_ = true;
  continue_ = false;
  upgrade_.reset();
  upload_.reset();  // a partial upload's temporary file goes with it
  stream_ticket_.reset();
  queue_.clear();
  settle();
  disarm_read();
  ++write_deadline_;
  write_timer_.cancel();
  beast::error_code ignored;  // the socket is broken or done with
  socket_.close(ignored);
}

void http_session::do_close() {
  if (shut_ || failed_) return;
  shut_ = true;
  closing_ = true;
  beast::error_code ignored;  // the peer may be gone already
  socket_.shutdown(tcp::socket::shutdown_send, ignored);
  // Closing with unread bytes would send a reset, which can destroy the
  // client's copy of an answer it has not read yet: read and drop what it
  // still sends until it closes too, or the linger ends.
  buffer_.clear();
  arm_read(linger);
  drain();
}

void http_session::drain() {
  socket_.async_read_some(buffer_.prepare(read_chunk), [self = shared_from_this()](beast::error_code ec, std::size_t) {
    if (self->failed_) return;
    if (ec) return self->fail();
    self->drain();
  });
}

}  // namespace overseer::http
