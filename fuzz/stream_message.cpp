// fuzz_stream_message: client messages on GET /v1/stream of the live server
// (live_server.hpp), over a real WebSocket connection. The messages are
// read by a member of stream_session, so the fuzzer reaches them the way a
// client does: handshake, frames, replies.
//
// The input is a sequence of messages separated by 0x1E (RS). A first part
// starting with '?' is the query of the upgrade request (?job=, ?all=,
// ?since=, ?logs=), with bytes a request line cannot carry percent-encoded.
// $JOB, $BATCH and $TOKEN are replaced first. Each message is sent as a
// text frame when it is valid UTF-8 (the server must refuse an invalid text
// frame at the WebSocket layer), as a binary frame otherwise. A last
// "unsubscribe" of a job that does not exist follows, and the replies are
// read until its acknowledgement.
//
// Promises checked: the upgrade succeeds whenever the target parses, or is
// declined with a 400 problem document naming the bad parameter; every
// message gets its reply (an "error", "subscribed" or "unsubscribed"), in
// order, before the acknowledgement of the last; every frame the server
// sends is a text frame of valid UTF-8 holding a JSON object of a known
// type (a replay's "caught_up" names its subscription and seq); the server neither closes the stream nor goes quiet for 5 s.
#include "fuzz/fuzz.hpp"

#include <chrono>
#include <string>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/url/parse.hpp>

#include "fuzz/json_checks.hpp"
#include "fuzz/live_server.hpp"
#include "tools/utf8.hpp"

namespace overseer::fuzz {
namespace {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;

constexpr auto deadline = std::chrono::seconds(5);
constexpr std::size_t max_messages = 64;
constexpr std::size_t max_message = 60 * 1024;  // the server reads up to 64 KiB

// Runs one asynchronous operation to completion on `ioc`; the stream's
// expiry bounds it.
template <class Start>
beast::error_code run(net::io_context& ioc, Start start) {
  beast::error_code result;
  start([&](beast::error_code ec, auto&&...) { result = ec; });
  ioc.restart();
  ioc.run();
  return result;
}

std::string percent_encode(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : s) {
    const auto b = static_cast<unsigned char>(c);
    if (b <= 0x20 || b >= 0x7F || c == '#') {
      out += '%';
      out += hex[b >> 4];
      out += hex[b & 0xF];
    } else {
      out += c;
    }
  }
  return out;
}

std::vector<std::string_view> split(std::string_view s) {
  std::vector<std::string_view> parts;
  for (;;) {
    const auto rs = s.find('\x1e');
    parts.push_back(s.substr(0, rs));
    if (rs == std::string_view::npos || parts.size() == max_messages) return parts;
    s.remove_prefix(rs + 1);
  }
}

// A declined upgrade (a query the stream refuses) must be a 400 problem
// document in valid UTF-8 that names the bad query parameter.
void check_declined(const websocket::response_type& answer, const std::string& target) {
  const std::string which = "the declined upgrade to " + excerpt(target);
  if (answer.result_int() != 400)
    fail(which + ": status " + std::to_string(answer.result_int()) + ", not 400: " + excerpt(answer.body()));
  if (!answer[beast::http::field::content_type].starts_with("application/problem+json"))
    fail(which + ": not a problem document: " + excerpt(answer.body()));
  check_utf8(answer.body(), which + ": the body");
  const auto v = parse_or_fail(answer.body(), which + ": the problem document");
  const auto* errors = v.is_object() ? v.as_object().if_contains("errors") : nullptr;
  if (!errors || !errors->is_array() || errors->as_array().empty())
    fail(which + ": the problem document names no field: " + excerpt(answer.body()));
}

}  // namespace

int fuzz_stream_message(const std::uint8_t* data, std::size_t size) {
  auto& server = live_server::instance();
  const std::string input = server.substitute(as_text(data, size));
  auto messages = split(input);
  std::string target = "/v1/stream";
  if (messages.front().starts_with('?')) {
    target += percent_encode(messages.front());
    messages.erase(messages.begin());
  }

  net::io_context ioc;
  websocket::stream<beast::tcp_stream> ws{ioc};
  auto& tcp = beast::get_lowest_layer(ws);
  tcp.expires_after(deadline);
  const net::ip::tcp::endpoint at{net::ip::address_v4::loopback(), server.port()};
  if (auto ec = run(ioc, [&](auto h) { tcp.async_connect(at, h); }))
    fail("the server no longer accepts connections: " + ec.message());
  ws.set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
    req.set(beast::http::field::authorization, "Bearer " + std::string(live_server::token()));
  }));
  ws.read_message_max(64 * 1024 * 1024);
  websocket::response_type answer;
  if (auto ec = run(ioc, [&](auto h) { ws.async_handshake(answer, "127.0.0.1", target, h); })) {
    if (!boost::urls::parse_origin_form(target)) return 0;  // refused as a bad target: right
    check_declined(answer, target);
    return 0;
  }

  // A sentinel no input is likely to name, so that its acknowledgement is ours.
  static std::uint64_t inputs = 0;
  const std::string sentinel = "fuzz-sentinel-" + std::to_string(++inputs);
  const std::string last = R"({"op":"unsubscribe","job_id":")" + sentinel + "\"}";
  for (auto m : messages) {
    m = m.substr(0, max_message);
    ws.text(tools::valid_utf8(m));
    if (auto ec = run(ioc, [&](auto h) { ws.async_write(net::buffer(m.data(), m.size()), h); }))
      fail("sending message " + excerpt(m) + " failed: " + ec.message());
  }
  ws.text(true);
  if (auto ec = run(ioc, [&](auto h) { ws.async_write(net::buffer(last), h); }))
    fail("sending the last message failed: " + ec.message());

  std::size_t replies = 0;
  for (;;) {
    beast::flat_buffer buffer;
    if (auto ec = run(ioc, [&](auto h) { ws.async_read(buffer, h); })) {
      const std::string why = ec == beast::error::timeout ? "no acknowledgement within 5 s"
                              : ec == websocket::error::closed
                                ? "the server closed the stream (" + std::to_string(ws.reason().code) + " " +
                                    std::string(ws.reason().reason.c_str()) + ")"
                                : ec.message();
      fail("stream: " + why + " after " + std::to_string(replies) + " replies to " +
           std::to_string(messages.size()) + " messages; input: " + excerpt(input));
    }
    if (!ws.got_text()) fail("stream: the server sent a binary frame");
    const auto text = beast::buffers_to_string(buffer.data());
    check_utf8(text, "stream: a server frame");
    const auto v = parse_or_fail(text, "stream: a server frame");
    const auto* o = v.if_object();
    const auto* type = o ? o->if_contains("type") : nullptr;
    if (!type || !type->is_string()) fail("stream: a frame without a type: " + excerpt(text));
    const auto& t = type->get_string();
    if (t == "transition" || t == "progress" || t == "log") continue;
    if (t == "caught_up") {
      // The end of a replay: not a reply. Names its subscription once, with
      // the seq the replay read up to.
      const int named = static_cast<int>(o->contains("job_id")) + static_cast<int>(o->contains("batch_id")) +
                        static_cast<int>(o->contains("all"));
      if (named != 1 || !o->contains("seq") || !o->at("seq").is_number())
        fail("stream: a caught_up without its subscription or seq: " + excerpt(text));
      continue;
    }
    if (t != "error" && t != "subscribed" && t != "unsubscribed") fail("stream: a frame of unknown type: " + excerpt(text));
    if (t == "error" && (!o->contains("message") || !o->at("message").is_string()))
      fail("stream: an error without a message: " + excerpt(text));
    const auto* job = o->if_contains("job_id");
    if (t == "unsubscribed" && job && job->is_string() && job->get_string() == sentinel) break;
    ++replies;
  }
  if (replies < messages.size())
    fail("stream: lost reply: " + std::to_string(messages.size()) + " messages, " + std::to_string(replies) +
         " replies; input: " + excerpt(input));
  beast::error_code ignored;  // the connection goes; the server sees it closed
  tcp.socket().close(ignored);
  return 0;
}

}  // namespace overseer::fuzz
