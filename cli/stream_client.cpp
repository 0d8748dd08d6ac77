#include "cli/stream_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace overseer::cli {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

struct stream_client::impl {
  net::io_context ioc;
  websocket::stream<beast::tcp_stream> ws{ioc};
  beast::flat_buffer buffer;
  // One outstanding read, kept across next() calls that return idle.
  bool reading = false;
  bool done = false;
  bool closed = false;
  beast::error_code ec;
};

stream_client::stream_client(const endpoint& where, const std::string& token, std::chrono::milliseconds deadline)
  : impl_(std::make_unique<impl>()) {
  auto& d = *impl_;
  tcp::resolver resolver{d.ioc};
  beast::error_code ec;
  const auto addresses = resolver.resolve(where.host, where.port, ec);
  if (ec) throw unreachable("cannot resolve " + where.host + ": " + ec.message());
  auto& tcp_layer = beast::get_lowest_layer(d.ws);
  // Asynchronous, run to completion: the deadline bounds only those.
  const auto run = [&] {
    d.ioc.restart();
    d.ioc.run();
  };
  tcp_layer.expires_after(deadline);
  tcp_layer.async_connect(addresses, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
  run();
  if (ec == beast::error::timeout)
    throw unreachable("cannot connect to " + where.host + ":" + where.port + ": no answer within " + seconds_text(deadline));
  if (ec) throw unreachable("cannot connect to " + where.host + ":" + where.port + ": " + ec.message());
  d.ws.set_option(websocket::stream_base::decorator([token](websocket::request_type& req) {
    req.set(bhttp::field::user_agent, "overseer-cli");
    if (!token.empty()) req.set(bhttp::field::authorization, "Bearer " + token);
  }));
  websocket::response_type res;
  tcp_layer.expires_after(deadline);
  d.ws.async_handshake(res, host_field(where), where.prefix + "/v1/stream", [&](beast::error_code e) { ec = e; });
  run();
  if (ec == websocket::error::upgrade_declined) throw refused(res.result_int(), res.body());
  if (ec == beast::error::timeout) throw unreachable("the stream did not open: no answer within " + seconds_text(deadline));
  if (ec) throw unreachable("the stream did not open: " + ec.message());
  tcp_layer.expires_never();
  // Pings while the server is quiet, so a vanished server is noticed
  // within a minute even when no FIN or RST arrives.
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = deadline;
  timeouts.idle_timeout = std::chrono::seconds(30);
  timeouts.keep_alive_pings = true;
  d.ws.set_option(timeouts);
  d.ws.read_message_max(64 * 1024 * 1024);
}

stream_client::~stream_client() {
  beast::error_code ignored;  // the connection may be gone already
  impl_->ws.next_layer().socket().close(ignored);
}

bool stream_client::send(const boost::json::value& message) {
  auto& d = *impl_;
  if (d.closed) return false;
  // A blocking write while a read is pending is allowed (one of each).
  d.ws.text(true);
  beast::error_code ec;
  d.ws.write(net::buffer(boost::json::serialize(message)), ec);
  if (ec) d.closed = true;
  return !ec;
}

stream_client::received stream_client::next(std::chrono::milliseconds wait) {
  auto& d = *impl_;
  if (d.closed) return {.kind = received::closed, .reason = "connection closed"};
  if (!d.reading) {
    d.reading = true;
    d.done = false;
    d.ws.async_read(d.buffer, [&d](beast::error_code ec, std::size_t) {
      d.ec = ec;
      d.done = true;
    });
  }
  d.ioc.restart();
  d.ioc.run_for(wait);
  if (!d.done) return {.kind = received::idle};
  d.reading = false;
  if (d.ec) {
    d.closed = true;
    const auto& reason = d.ws.reason();
    std::string why = d.ec == websocket::error::closed && !reason.reason.empty()
                          ? std::string(reason.reason.data(), reason.reason.size())
                          : d.ec.message();
    return {.kind = received::closed, .reason = why};
  }
  const auto text = beast::buffers_to_string(d.buffer.data());
  d.buffer.consume(d.buffer.size());
  boost::system::error_code ec;
  auto doc = boost::json::parse(text, ec);
  if (ec) doc = nullptr;
  return {.kind = received::message, .doc = std::move(doc)};
}

}  // namespace overseer::cli
