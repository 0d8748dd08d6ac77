// A raw TCP connection to the daemon, for what a polite client never does:
// pipelining, half-closing, HTTP/1.0, Expect: 100-continue, dribbling
// bytes. Responses are parsed with Beast's parser; every wait is on the
// socket (poll) with a deadline.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json/parse.hpp>

namespace overseer::test {

struct raw_response {
  unsigned status = 0;
  unsigned version = 0;
  std::map<std::string, std::string, std::less<>> headers;  ///< names in lower case
  std::string body;
  [[nodiscard]] std::string header(std::string_view name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string{} : it->second;
  }
  [[nodiscard]] boost::json::value json() const { return boost::json::parse(body); }
};

class raw_connection {
public:
  /// `receive_buffer` > 0 shrinks the socket's receive buffer.
  explicit raw_connection(unsigned short port, int receive_buffer = 0) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    if (fd_ < 0) throw std::runtime_error("socket failed");
    if (receive_buffer > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    sockaddr_in at{};
    at.sin_family = AF_INET;
    at.sin_port = htons(port);
    at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&at), sizeof at) != 0) {
      ::close(fd_);
      throw std::runtime_error("connect failed");
    }
  }
  ~raw_connection() { ::close(fd_); }
  raw_connection(const raw_connection&) = delete;
  raw_connection& operator=(const raw_connection&) = delete;

  /// Sends every byte (one write as far as the kernel allows).
  void send(std::string_view bytes) {
    while (!bytes.empty()) {
      const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw std::runtime_error("send failed: " + std::to_string(errno));
      }
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  /// Sends what the kernel takes at once, without waiting. False once an
  /// answer (or the connection's end) is waiting to be read, or the
  /// connection is gone: for a client that streams until it is refused.
  bool send_some(std::string_view bytes) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 0) > 0) return false;
    const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    return n >= 0 || errno == EAGAIN || errno == EINTR;
  }
  /// Half-closes: the server sees the end of our requests, we can still read.
  void shutdown_send() { ::shutdown(fd_, SHUT_WR); }

  /// Sends `piece` again and again, whole (a chunk of a chunked body stays
  /// framed), until an answer or the connection's end is waiting to be
  /// read, or `limit` passes. Returns the bytes sent; `answered` tells
  /// whether it stopped for an answer.
  std::uint64_t repeat_until_answered(std::string_view piece, std::chrono::milliseconds limit, bool& answered) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    std::uint64_t sent = 0;
    std::string_view rest = piece;
    answered = false;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN | POLLOUT, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
        answered = true;
        return sent;
      }
      const auto n = ::send(fd_, rest.data(), rest.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) continue;
        answered = true;  // gone: what it said, if anything, is there to read
        return sent;
      }
      sent += static_cast<std::uint64_t>(n);
      rest.remove_prefix(static_cast<std::size_t>(n));
      if (rest.empty()) rest = piece;
    }
    return sent;
  }

  /// The next response (a 100 Continue counts as one), or nullopt when the
  /// connection ends or `limit` passes first. `head`: the answer to a HEAD
  /// request, whose Content-Length announces a body that is not sent.
  std::optional<raw_response> read(std::chrono::milliseconds limit = std::chrono::seconds(20), bool head = false) {
    namespace bhttp = boost::beast::http;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    bhttp::response_parser<bhttp::string_body> p;
    p.skip(head);
    p.eager(true);
    p.header_limit(1 << 20);
    p.body_limit(64 << 20);
    for (;;) {
      if (!buffer_.empty()) {
        boost::beast::error_code ec;
        const auto used = p.put(boost::asio::buffer(buffer_), ec);
        buffer_.erase(0, used);
        if (ec && ec != bhttp::error::need_more) throw std::runtime_error("unparsable response: " + ec.message());
        if (p.is_done()) return convert(p.release());
        if (!ec && used > 0) continue;
      }
      if (fill(deadline) != outcome::data) return std::nullopt;
    }
  }

  /// Bytes received and not parsed yet.
  [[nodiscard]] const std::string& pending() const noexcept { return buffer_; }

  /// The payload of the next WebSocket frame from the server (unmasked, as
  /// a server's are), after the 101 was read; nullopt when the connection
  /// ends or `limit` passes first.
  std::optional<std::string> read_frame(std::chrono::milliseconds limit = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      if (buffer_.size() >= 2) {
        std::size_t header = 2;
        std::uint64_t size = static_cast<unsigned char>(buffer_[1]) & 0x7f;
        const std::size_t extra = size == 126 ? 2 : size == 127 ? 8 : 0;
        if (buffer_.size() >= header + extra) {
          if (extra > 0) {
            size = 0;
            for (std::size_t i = 0; i < extra; ++i) size = size << 8 | static_cast<unsigned char>(buffer_[2 + i]);
          }
          header += extra;
          if (buffer_.size() >= header + size) {
            auto payload = buffer_.substr(header, static_cast<std::size_t>(size));
            buffer_.erase(0, header + static_cast<std::size_t>(size));
            return payload;
          }
        }
      }
      if (fill(deadline) != outcome::data) return std::nullopt;
    }
  }

  /// Reads until the server ends the connection (true) or `limit` passes
  /// (false); what arrives meanwhile is kept in pending().
  bool ends_within(std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      const auto r = fill(deadline);
      if (r == outcome::timeout) return false;
      if (r != outcome::data) return true;
    }
  }
  /// Whether the end was a reset rather than an orderly close.
  [[nodiscard]] bool was_reset() const noexcept { return reset_; }

  /// Waits until the server sends something or ends the connection (true),
  /// or `limit` passes (false). Nothing is consumed.
  bool readable_within(std::chrono::milliseconds limit) {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(limit.count())) > 0;
  }

private:
  enum class outcome { data, end, timeout };

  outcome fill(std::chrono::steady_clock::time_point deadline) {
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return outcome::timeout;
      pollfd p{fd_, POLLIN, 0};
      const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
      if (ready == 0) return outcome::timeout;
      if (ready < 0 && errno == EINTR) continue;
      char chunk[65536];
      const auto n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n > 0) {
        buffer_.append(chunk, static_cast<std::size_t>(n));
        return outcome::data;
      }
      if (n < 0 && errno == EINTR) continue;
      reset_ = n < 0 && errno == ECONNRESET;
      return outcome::end;
    }
  }

  template <class Message>
  static raw_response convert(Message m) {
    raw_response r;
    r.status = m.result_int();
    r.version = m.version();
    for (const auto& f : m) {
      std::string name{f.name_string()};
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers[name] = std::string{f.value()};
    }
    r.body = std::move(m.body());
    return r;
  }

  int fd_;
  std::string buffer_;
  bool reset_ = false;
};

/// A blocking WebSocket connection for what ws_client hides: the frames one
/// by one, read errors and the close reason.
class raw_stream {
public:
  explicit raw_stream(unsigned short port, const std::string& target = "/v1/stream") {
    auto& tcp = boost::beast::get_lowest_layer(ws_);
    tcp.connect(boost::asio::ip::tcp::endpoint{boost::asio::ip::make_address("127.0.0.1"), port});
    tcp.expires_after(std::chrono::seconds(20));
    ws_.handshake("127.0.0.1", target);
  }
  void send(const std::string& text) {
    ws_.text(true);
    ws_.write(boost::asio::buffer(text));
  }
  /// The same bytes in a binary frame.
  void send_binary(const std::string& bytes) {
    ws_.binary(true);
    ws_.write(boost::asio::buffer(bytes));
  }
  /// The next message, parsed; a null value with `ec` set when reading fails.
  boost::json::value read(boost::beast::error_code& ec) {
    boost::beast::flat_buffer buffer;
    ws_.read(buffer, ec);
    if (ec) return nullptr;
    return boost::json::parse(boost::beast::buffers_to_string(buffer.data()));
  }
  /// The next message, parsed; throws when reading fails.
  boost::json::value read() {
    boost::beast::error_code ec;
    auto v = read(ec);
    if (ec) throw boost::system::system_error(ec);
    return v;
  }
  [[nodiscard]] boost::beast::websocket::close_reason reason() const { return ws_.reason(); }

private:
  boost::asio::io_context ioc_;
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_{ioc_};
};

/// A client's masked WebSocket text frame (RFC 6455 5.2), as bytes.
inline std::string client_text_frame(std::string_view payload) {
  std::string f{"\x81"};
  const unsigned char mask[4] = {0x37, 0xfa, 0x21, 0x3d};
  if (payload.size() < 126) {
    f += static_cast<char>(0x80 | payload.size());
  } else {
    f += static_cast<char>(0x80 | 126);
    f += static_cast<char>(payload.size() >> 8 & 0xff);
    f += static_cast<char>(payload.size() & 0xff);
  }
  for (const auto m : mask) f += static_cast<char>(m);
  for (std::size_t i = 0; i < payload.size(); ++i)
    f += static_cast<char>(static_cast<unsigned char>(payload[i]) ^ mask[i % 4]);
  return f;
}

/// An HTTP/1.1 request as bytes; `extra` are further header lines, each
/// ending in \r\n. A body gets Content-Type: application/json and its length.
inline std::string request_text(std::string_view method, std::string_view target, std::string_view body = {},
                                std::string_view extra = {}, std::string_view version = "HTTP/1.1") {
  std::string r = std::string{method} + " " + std::string{target} + " " + std::string{version} + "\r\nHost: 127.0.0.1\r\n";
  if (!body.empty())
    r += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  r += extra;
  r += "\r\n";
  r += body;
  return r;
}

}  // namespace overseer::test
