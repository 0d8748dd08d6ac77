// fuzz_http_request: raw bytes to the live server (live_server.hpp) over a
// loopback TCP connection: written; the write side shut down once the
// complete requests are answered (then an incomplete rest meets the end of
// the stream); everything read until the server closes. The whole request
// path runs as in production: Beast's parser, the session, the router, the
// handlers, the engine, and the response writer.
//
// Before sending, $JOB, $BATCH and $TOKEN are replaced (live_server.hpp),
// and the first $LEN by the number of bytes after the blank line that
// follows it, so that a mutated body keeps a matching Content-Length. $EOF
// anywhere (removed) shuts the write side down right after writing instead,
// as a client does that half-closes while it waits for its answers.
//
// Promises checked, besides "no crash" (the server runs in this process,
// under the same sanitizers):
// - the server accepts the connection and closes it within 5 s;
// - every request the server must answer is answered: each complete
//   request up to the first that closes the connection or upgrades it, and
//   an incomplete or malformed rest (with 400 or 413), counted by parsing
//   the input with Beast's parser under the server's limits;
// - the answers are well-formed HTTP/1.1, one per request in order (no body
//   after HEAD), none is a 5xx;
// - every body is valid UTF-8; a JSON body parses; a problem document
//   carries type, title, detail and the response's status.
#include "fuzz/fuzz.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>

#include "fuzz/json_checks.hpp"
#include "fuzz/live_server.hpp"

namespace overseer::fuzz {
namespace {

namespace beast = boost::beast;
namespace bhttp = beast::http;
using namespace std::chrono;

constexpr auto deadline = seconds(5);
constexpr std::size_t body_limit = 1024 * 1024;  // server_config's default
constexpr std::size_t header_limit = 64 * 1024;  // http_session's
constexpr std::size_t max_answer_bytes = 256 * 1024 * 1024;

struct sent_request {
  bhttp::verb method;
  bool unsupported_coding = false;  ///< refused with 501: a coding besides chunked
};

struct expectation {
  std::vector<sent_request> requests;  ///< complete requests the server reads, in order
  std::size_t answers = 0;  ///< answers it owes at least: those, and one for an incomplete or bad rest
  /// The rest's request line was read, and it is a HEAD: its refusal (a bad
  /// chunk, a body cut short, a length over a limit, a header too large)
  /// comes without a body, like any answer to a HEAD.
  bool rest_head = false;
};

// Feeds `in` to a fresh parser until its message is done, the parser
// fails, or the bytes run out (then the end of the stream is put, which
// ends a body read to the end or fails a truncated message). Returns the
// bytes taken.
template <class Parser>
std::size_t parse_one(Parser& p, std::string_view in, beast::error_code& ec) {
  std::size_t used = 0;
  for (;;) {
    if (used == in.size()) {
      p.put_eof(ec);
      return used;
    }
    const auto n = p.put(boost::asio::buffer(in.data() + used, in.size() - used), ec);
    used += n;
    if (ec == bhttp::error::need_more) ec = {};
    else if (ec || p.is_done()) return used;
    if (n == 0) {
      p.put_eof(ec);
      return used;
    }
  }
}

// The codings of every Transfer-Encoding field, in order, their
// parameters aside; empty list elements do not count.
std::vector<std::string> codings_of(const bhttp::request<bhttp::string_body>& req) {
  std::vector<std::string> codings;
  const auto [first, last] = req.equal_range(bhttp::field::transfer_encoding);
  for (auto f = first; f != last; ++f) {
    std::string_view v{f->value().data(), f->value().size()};
    for (;;) {
      const auto comma = v.find(',');
      auto token = v.substr(0, comma);
      token = token.substr(0, token.find(';'));
      // Only the whitespace around a coding goes: "c hunked" is not chunked
      // (a token has no space in it), and the server refuses it.
      if (const auto b = token.find_first_not_of(" \t"); b != std::string_view::npos)
        codings.emplace_back(token.substr(b, token.find_last_not_of(" \t") - b + 1));
      if (comma == std::string_view::npos) break;
      v.remove_prefix(comma + 1);
    }
  }
  return codings;
}

// Two Content-Lengths (or a list), or a Transfer-Encoding that is not
// chunked alone, or with a Content-Length.
bool refused_framing(const bhttp::request<bhttp::string_body>& req) {
  if (req.count(bhttp::field::content_length) > 1 ||
      req[bhttp::field::content_length].find(',') != beast::string_view::npos)
    return true;
  if (req.count(bhttp::field::transfer_encoding) == 0) return false;
  if (req.count(bhttp::field::content_length) > 0 || req.count(bhttp::field::transfer_encoding) > 1) return true;
  const auto codings = codings_of(req);
  return codings.size() != 1 || !beast::iequals(codings.front(), "chunked");
}

// A Host the server refuses (RFC 9112 3.2): none in an HTTP/1.1 request,
// more than one, or a value with a character no host[:port] has.
bool refused_host(const bhttp::request<bhttp::string_body>& req) {
  const auto n = req.count(bhttp::field::host);
  if (n > 1) return true;
  if (n == 0) return req.version() >= 11;
  constexpr std::string_view allowed = "-._~!$&'()*+,;=:[]%";
  for (const char ch : req[bhttp::field::host]) {
    const bool alnum = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
    if (!alnum && allowed.find(ch) == std::string_view::npos) return true;
  }
  return false;
}

// A field that holds one value given twice (Authorization, Content-Type):
// refused as the header is read, like a second Content-Length.
bool refused_repeated(const bhttp::request<bhttp::string_body>& req) {
  return req.count(bhttp::field::authorization) > 1 || req.count(bhttp::field::content_type) > 1;
}

// Whether the server keeps the connection after answering `req`, as it
// reads it (http_session.cpp, on_header): several Connection fields are one
// list, and an HTTP/1.0 message with Transfer-Encoding closes (RFC 9112 6.1).
bool keeps_alive(const bhttp::request<bhttp::string_body>& req) {
  if (req.version() < 11 && req.count(bhttp::field::transfer_encoding) > 0) return false;
  if (req.count(bhttp::field::connection) <= 1) return req.keep_alive();
  bhttp::request<bhttp::empty_body> head{req.method(), req.target(), req.version()};
  std::string joined;
  const auto [first, last] = req.equal_range(bhttp::field::connection);
  for (auto f = first; f != last; ++f) {
    if (!joined.empty()) joined += ", ";
    joined.append(f->value().data(), f->value().size());
  }
  head.set(bhttp::field::connection, joined);
  return head.keep_alive();
}

// A refused framing the server may answer with 501 rather than 400: more
// than one coding (RFC 9112 6.1 lets a server refuse codings it does not
// implement that way). Which of the two depends on details the model
// leaves to the server (whether the last coding is chunked, as Beast reads
// it); either is a refusal, neither loses an answer.
bool unsupported_coding(const bhttp::request<bhttp::string_body>& req) {
  return req.count(bhttp::field::content_length) == 0 && codings_of(req).size() > 1;
}

expectation expect(std::string_view in) {
  expectation e;
  while (!in.empty()) {
    bhttp::request_parser<bhttp::string_body> p;
    p.body_limit(body_limit);
    p.header_limit(header_limit);
    p.eager(true);
    beast::error_code ec;
    const auto used = parse_one(p, in, ec);
    ++e.answers;  // a complete request, or the 400/413 for the rest
    // Framing or a Host the server refuses though Beast reads it
    // (http_session.cpp, on_header): it is refused as soon as the header is
    // read, whatever follows, and its 400 or 501 closes the connection.
    if (p.is_header_done() && (refused_framing(p.get()) || refused_host(p.get()) || refused_repeated(p.get()))) {
      e.requests.push_back({p.get().method(), unsupported_coding(p.get())});
      break;
    }
    if (ec || !p.is_done()) {
      e.rest_head = p.get().method() == bhttp::verb::head;  // set once the request line is valid
      break;
    }
    const auto& req = p.get();
    e.requests.push_back({req.method()});
    // An upgrade request is not the end: a refused one (a 401, say) gets
    // its answer like any other and the connection reads on. A 101 ends
    // read_answers, and no answers are owed after it.
    if (!keeps_alive(req)) break;
    in.remove_prefix(used);
  }
  return e;
}

// The answers in `out`, in order, each matched to its request (a client
// reads no body after HEAD, whatever the headers say).
struct answers {
  std::vector<bhttp::response<bhttp::string_body>> responses;
  bool upgraded = false;  ///< the last is a 101: WebSocket frames follow
  std::string error;      ///< why the bytes after the last answer do not parse
  bool malformed = false;  ///< they are wrong, not just incomplete
  std::string_view rest;   ///< those bytes
};

answers read_answers(std::string_view out, const expectation& e) {
  answers a;
  while (!out.empty() && !a.upgraded) {
    bhttp::response_parser<bhttp::string_body> p;
    p.body_limit(max_answer_bytes);
    p.header_limit(header_limit);
    p.eager(true);
    const auto n = a.responses.size();
    if (n < e.requests.size() ? e.requests[n].method == bhttp::verb::head : (n == e.requests.size() && e.rest_head))
      p.skip(true);
    beast::error_code ec;
    const auto used = parse_one(p, out, ec);
    if (ec || !p.is_done()) {
      a.error = ec ? ec.message() : "incomplete";
      a.malformed = ec && ec != bhttp::error::partial_message;
      a.rest = out;
      break;
    }
    a.upgraded = p.get().result() == bhttp::status::switching_protocols;
    a.responses.push_back(p.release());
    out.remove_prefix(used);
  }
  return a;
}

struct exchange_result {
  std::string answer;
  bool timed_out = false;
};

// Writes `request` and reads until the server closes. The write side is
// shut down once the complete requests are answered, or at once after
// writing when `early_eof` is set.
exchange_result exchange(std::uint16_t port, std::string_view request, const expectation& e, bool early_eof) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail(std::string("socket: ") + std::strerror(errno));
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_port = htons(port);
  at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // Non-blocking from the start: libFuzzer's timer signal must not cut the
  // connect short.
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  const auto until = steady_clock::now() + deadline;
  int err = ::connect(fd, reinterpret_cast<const sockaddr*>(&at), sizeof at) == 0 ? 0 : errno;
  if (err == EINPROGRESS || err == EINTR) {
    pollfd p{fd, POLLOUT, 0};
    for (;;) {
      const auto left = std::max<std::int64_t>(0, duration_cast<milliseconds>(until - steady_clock::now()).count());
      if (::poll(&p, 1, static_cast<int>(left)) >= 0 || errno != EINTR) break;
    }
    socklen_t len = sizeof err;
    if (!(p.revents & (POLLOUT | POLLERR | POLLHUP))) err = ETIMEDOUT;
    else ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
  }
  if (err != 0) {
    ::close(fd);
    fail(std::string("the server no longer accepts connections: ") + std::strerror(err));
  }
  exchange_result r;
  std::size_t sent = 0;
  bool writing = true, shut = false;
  auto shut_down = [&] {
    ::shutdown(fd, SHUT_WR);
    writing = false;
    shut = true;
  };
  auto answered = [&] {
    const auto a = read_answers(r.answer, e);
    return a.upgraded || a.malformed || a.responses.size() >= e.requests.size();
  };
  if (request.empty()) shut_down();
  char buf[64 * 1024];
  for (;;) {
    if (!writing && !shut && (early_eof || answered())) shut_down();
    const auto left = duration_cast<milliseconds>(until - steady_clock::now()).count();
    if (left <= 0) {
      r.timed_out = true;
      break;
    }
    pollfd p{fd, static_cast<short>(POLLIN | (writing ? POLLOUT : 0)), 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      const auto n = ::recv(fd, buf, sizeof buf, 0);
      if (n > 0) {
        r.answer.append(buf, static_cast<std::size_t>(n));
        if (r.answer.size() > max_answer_bytes) break;
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        break;  // closed, or reset after closing: both end the answer
      }
    }
    if (writing && (p.revents & POLLOUT)) {
      const auto n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      if (n > 0) sent += static_cast<std::size_t>(n);
      // The server may close before reading everything (after a 400 or a
      // 413); what it answered is still to be read.
      if ((n < 0 && errno != EAGAIN && errno != EINTR) || sent == request.size()) writing = false;
    }
  }
  ::close(fd);
  return r;
}

void check_answer(const bhttp::response<bhttp::string_body>& res, std::size_t index, const expectation& e) {
  const auto status = res.result_int();
  const std::string which = "answer " + std::to_string(index + 1) + " (" + std::to_string(status) + ")";
  const auto& body = res.body();
  const bool refused_coding = status == 501 && index < e.requests.size() && e.requests[index].unsupported_coding;
  if (status >= 500 && !refused_coding) fail(which + " is a server error: " + excerpt(body));
  if (index < e.requests.size() ? e.requests[index].method == bhttp::verb::head
                                 : (index == e.requests.size() && e.rest_head))
    return;  // no body
  check_utf8(body, which + ": the body");
  const auto type = res[bhttp::field::content_type];
  const bool problem = type.starts_with("application/problem+json");
  if (!problem && !type.starts_with("application/json")) return;
  const auto v = parse_or_fail(body, which + ": the JSON body");
  if (!problem) return;
  const auto* o = v.if_object();
  auto text = [&](const char* key) {
    const auto* x = o ? o->if_contains(key) : nullptr;
    return x && x->is_string();
  };
  const auto* st = o ? o->if_contains("status") : nullptr;
  if (!text("type") || !text("title") || !text("detail") || !st || !st->is_number() ||
      st->to_number<double>() != static_cast<double>(status))
    fail(which + ": not a problem document of its status: " + excerpt(body));
}

}  // namespace

int fuzz_http_request(const std::uint8_t* data, std::size_t size) {
  auto& server = live_server::instance();
  std::string input = server.substitute(as_text(data, size));
  if (const auto len = input.find("$LEN"); len != std::string::npos) {
    const auto blank = input.find("\r\n\r\n", len);
    input.replace(len, 4, std::to_string(blank == std::string::npos ? 0 : input.size() - blank - 4));
  }
  // $EOF: half-close right after writing, before the answers arrive.
  const bool early_eof = input.find("$EOF") != std::string::npos;
  replace_all(input, "$EOF", "");
  const auto e = expect(input);
  const auto r = exchange(server.port(), input, e, early_eof);
  const auto a = read_answers(r.answer, e);
  if (r.timed_out)
    fail("the server did not finish answering within 5 s (" + std::to_string(a.responses.size()) + " of " +
         std::to_string(e.answers) + " answers, " + std::to_string(r.answer.size()) +
         " bytes: " + excerpt(r.answer) + "); request: " + excerpt(input));
  if (!a.upgraded && !a.error.empty())
    fail("answer " + std::to_string(a.responses.size() + 1) + " is not well-formed HTTP (" + a.error +
         "): " + excerpt(a.rest) + "\nrequest: " + excerpt(input));
  for (std::size_t i = 0; i < a.responses.size(); ++i) check_answer(a.responses[i], i, e);
  if (a.responses.size() < e.answers && !a.upgraded)
    fail("lost answer: " + std::to_string(e.answers) + " owed, " + std::to_string(a.responses.size()) +
         " received; request: " + excerpt(input));
  return 0;
}

}  // namespace overseer::fuzz
