#include "http/corked_stream.hpp"
#include "http/stream_session.hpp"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <catch2/catch.hpp>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

namespace {

using corked_ws = websocket::stream<overseer::http::corked_stream<beast::tcp_stream>>;

/// A loopback connection: `server` speaks through corked_stream, `client`
/// is a plain Beast websocket client (blocking, on the test thread).
struct pair {
  net::io_context ioc;
  tcp::acceptor acceptor{ioc, tcp::endpoint{net::ip::make_address("127.0.0.1"), 0}};
  std::unique_ptr<corked_ws> server;
  net::io_context client_ioc;
  websocket::stream<tcp::socket> client{client_ioc};

  pair() {
    // Small socket buffers, so a client that does not read stops the
    // server's socket writes soon (kernel autotuning would absorb megabytes).
    std::thread connect{[&] {
      client.next_layer().open(tcp::v4());
      client.next_layer().set_option(net::socket_base::receive_buffer_size(16 * 1024));
      client.next_layer().connect(acceptor.local_endpoint());
      client.handshake("127.0.0.1", "/");
    }};
    tcp::socket s{ioc};
    acceptor.accept(s);
    s.set_option(net::socket_base::send_buffer_size(16 * 1024));
    server = std::make_unique<corked_ws>(std::move(s));
    beast::error_code accepted = net::error::would_block;
    server->async_accept([&](beast::error_code ec) { accepted = ec; });
    ioc.run();
    ioc.restart();
    connect.join();
    REQUIRE(!accepted);
  }

  /// Queues `n` messages back to back (each started when the last one
  /// completes, as a stream session does) while corked, then uncorks, then
  /// optionally closes.
  void write_all(int n, bool then_close, std::string close_reason = {}) {
    server->next_layer().cork();
    auto next = std::make_shared<std::function<void(int)>>();
    auto texts = std::make_shared<std::vector<std::string>>();
    for (int i = 0; i < n; ++i) texts->push_back("message " + std::to_string(i) + std::string(100, 'x'));
    *next = [this, n, then_close, close_reason, next, texts](int i) {
      if (i == n) {
        server->next_layer().uncork();
        if (then_close)
          server->async_close(websocket::close_reason{websocket::close_code::try_again_later, close_reason},
                              [](beast::error_code) {});
        // The chain holds itself: let go of it once this call has returned.
        net::post(ioc, [next] { *next = nullptr; });
        return;
      }
      // On the I/O thread: no Catch assertion here (Catch is not thread-safe);
      // a failed write stops the chain, and the reader's checks see it.
      server->async_write(net::buffer((*texts)[static_cast<std::size_t>(i)]), [next, i](beast::error_code ec, std::size_t) {
        if (!ec) (*next)(i + 1);
      });
    };
    net::post(ioc, [next] { (*next)(0); });
  }
};

}  // namespace

TEST_CASE("corked_stream: every frame arrives, in order, in fewer socket writes", "[corked_stream]") {
  pair p;
  const int n = 2000;
  p.write_all(n, false);
  std::thread io{[&] { p.ioc.run(); }};
  beast::flat_buffer buf;
  for (int i = 0; i < n; ++i) {
    p.client.read(buf);
    const auto text = beast::buffers_to_string(buf.data());
    buf.consume(buf.size());
    REQUIRE(text.starts_with("message " + std::to_string(i) + "x"));
  }
  io.join();
  // Corked, the frames leave in high_water-sized socket writes (plus the
  // rest at uncork), not one write each.
  const auto bytes = static_cast<std::size_t>(n) * 110;
  CHECK(p.server->next_layer().flushes() >= 1);
  CHECK(p.server->next_layer().flushes() <= bytes / overseer::http::corked_stream<beast::tcp_stream>::high_water + 2);
}

TEST_CASE("corked_stream: a slow reader holds writes back past the high-water mark", "[corked_stream]") {
  pair p;
  // The client does not read: the server's socket write cannot finish, so
  // its buffer passes high_water and the write that crosses it is not
  // reported complete.
  const int n = 4000;  // 4000 x ~104 bytes: well past 64 KiB + the socket buffers
  int completed = 0;
  auto texts = std::make_shared<std::vector<std::string>>();
  for (int i = 0; i < n; ++i) texts->push_back(std::string(100, 'y') + std::to_string(i));
  auto next = std::make_shared<std::function<void(int)>>();
  *next = [&, next, texts](int i) {
    if (i == n) return;
    p.server->async_write(net::buffer((*texts)[static_cast<std::size_t>(i)]), [&, next, i](beast::error_code ec, std::size_t) {
      if (ec) return;
      completed = i + 1;
      (*next)(i + 1);
    });
  };
  net::post(p.ioc, [next] { (*next)(0); });
  // Runs until nothing is ready: the chain is waiting on a held write.
  p.ioc.run_for(std::chrono::milliseconds(500));
  CHECK(completed < n);
  // Reading everything releases the rest, in order.
  std::thread io{[&] {
    p.ioc.restart();
    p.ioc.run();
  }};
  beast::flat_buffer buf;
  for (int i = 0; i < n; ++i) {
    p.client.read(buf);
    REQUIRE(beast::buffers_to_string(buf.data()) == (*texts)[static_cast<std::size_t>(i)]);
    buf.consume(buf.size());
  }
  io.join();  // the last completions run on the I/O thread: only then is the chain done
  *next = nullptr;  // breaks the chain's reference to itself
  CHECK(completed == n);
}

TEST_CASE("corked_stream: close comes after every buffered frame, with its reason", "[corked_stream]") {
  pair p;
  const int n = 500;
  p.write_all(n, true, "too far behind; resume with since=42");
  std::thread io{[&] { p.ioc.run(); }};
  beast::flat_buffer buf;
  int received = 0;
  beast::error_code ec;
  for (;;) {
    p.client.read(buf, ec);
    if (ec) break;
    buf.consume(buf.size());
    ++received;
  }
  io.join();
  CHECK(received == n);
  CHECK(ec == websocket::error::closed);
  CHECK(p.client.reason().code == websocket::close_code::try_again_later);
  CHECK(std::string{p.client.reason().reason.c_str()} == "too far behind; resume with since=42");
}

TEST_CASE("text_frame + append: frames of every length class, interleaved with Beast's writes", "[corked_stream]") {
  pair p;
  // 7-bit, 16-bit and 64-bit payload lengths (RFC 6455 5.2).
  const std::vector<std::string> payloads = {"", "short", std::string(125, 'a'), std::string(126, 'b'),
                                             std::string(65535, 'c'), std::string(70000, 'd')};
  std::atomic<int> appended{0};
  std::atomic<bool> beast_write_ok{false};
  net::post(p.ioc, [&] {
    auto& out = p.server->next_layer();
    out.cork();
    for (const auto& payload : payloads) appended += out.append(overseer::http::text_frame(payload)) ? 1 : 0;
    out.uncork();
    // A message through Beast's own write lands after them, whole.
    p.server->async_write(net::buffer(std::string_view{"through beast"}),
                          [&](beast::error_code ec, std::size_t) { beast_write_ok = !ec; });
  });
  std::thread io{[&] { p.ioc.run(); }};
  beast::flat_buffer buf;
  for (const auto& payload : payloads) {
    p.client.read(buf);
    CHECK(p.client.got_text());
    CHECK(beast::buffers_to_string(buf.data()) == payload);
    buf.consume(buf.size());
  }
  p.client.read(buf);
  CHECK(beast::buffers_to_string(buf.data()) == "through beast");
  io.join();
  CHECK(appended == static_cast<int>(payloads.size()));
  CHECK(beast_write_ok);
}

TEST_CASE("corked_stream: once the peer is gone, the write that finds it fails the stream, and after_flush says so",
          "[corked_stream]") {
  pair p;
  // A reset: the server's next send fails at once, in the non-blocking send
  // that every flush tries first.
  p.client.next_layer().set_option(net::socket_base::linger(true, 0));
  p.client.next_layer().close();
  bool first = false, second = true;
  beast::error_code flushed;
  const auto flushes_before = p.server->next_layer().flushes();  // the handshake's answer
  net::post(p.ioc, [&] {
    auto& out = p.server->next_layer();
    first = out.append(overseer::http::text_frame("into the void"));  // taken, then the send fails
    second = out.append(overseer::http::text_frame("refused"));
    out.after_flush([&](beast::error_code ec) { flushed = ec; });
  });
  p.ioc.run();
  CHECK(first);
  CHECK_FALSE(second);
  CHECK(flushed);  // EPIPE or ECONNRESET
  CHECK(p.server->next_layer().flushes() == flushes_before + 1);  // the refused frame never reached a send
}
