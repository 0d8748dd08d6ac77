// A write-coalescing layer under a WebSocket stream.
//
// Beast writes one frame per async_write, and each becomes one send() on the
// socket. A stream session fanning out a burst of transitions would pay a
// system call (and a TCP segment) per frame per client: at 1,000 clients
// that was most of the server's time, and the queues, and so the latency,
// grew without bound under load.
//
// corked_stream sits between beast::websocket::stream and the TCP stream.
// Writes are appended to a buffer and reported complete at once, and the
// buffer goes out in one socket write when (like TCP_CORK) the owner uncorks:
// a stream session corks while it has more than one message queued and
// uncorks when its queue is empty, so a burst of frames costs one send().
// Uncorked, a write goes out at once (no delay, no timer); while a socket
// write is in flight, what is appended meanwhile goes out in the next one.
// Over TCP a flush first sends without blocking, and only what the kernel
// does not take becomes an asynchronous write.
// Past `high_water` buffered bytes a write's completion is held back until
// a flush has drained the buffer, so a slow client still backs up into the
// session's own queue, where the laggard policy applies.
//
// The stream session also appends its data frames here directly (append()),
// pre-rendered once per event for all clients, instead of through Beast's
// per-message write operation. Order is kept (Beast's own control frames,
// pong and close, go through the same buffer, each in one call), and
// teardown waits for the buffer to be flushed, so a close frame is never
// cut off. Not thread-safe: like the stream it wraps, it is
// used from one strand.
#pragma once

#include <array>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/teardown.hpp>

#include <sys/socket.h>

namespace overseer::http {

template <class NextLayer>
class corked_stream {
public:
  using executor_type = typename NextLayer::executor_type;
  static constexpr std::size_t high_water = 64 * 1024;

  template <class... Args>
  explicit corked_stream(Args&&... args) : next_(std::forward<Args>(args)...), state_(std::make_shared<state>()) {
    state_->next = &next_;
  }
  ~corked_stream() { state_->next = nullptr; }  // a flush still in flight must not touch next_
  corked_stream(const corked_stream&) = delete;
  corked_stream& operator=(const corked_stream&) = delete;

  executor_type get_executor() noexcept { return next_.get_executor(); }
  NextLayer& next_layer() noexcept { return next_; }
  const NextLayer& next_layer() const noexcept { return next_; }

  /// Socket writes made so far (for tests and benchmarks).
  [[nodiscard]] std::size_t flushes() const noexcept { return state_->flushes; }

  /// Bytes read from the socket before this layer took it over (a client's
  /// first frames, sent in the same write as its upgrade request): reads
  /// return them before anything new.
  void preload(std::string_view bytes) { unread_.assign(bytes.begin(), bytes.end()); }

  template <class MutableBufferSequence, class ReadHandler>
  auto async_read_some(const MutableBufferSequence& buffers, ReadHandler&& handler) {
    return boost::asio::async_initiate<ReadHandler, void(boost::beast::error_code, std::size_t)>(
      [this](auto h, const MutableBufferSequence& b) {
        if (unread_.empty()) {
          next_.async_read_some(b, std::move(h));
          return;
        }
        const auto n = boost::asio::buffer_copy(b, boost::asio::buffer(unread_));
        unread_.erase(unread_.begin(), unread_.begin() + static_cast<std::ptrdiff_t>(n));
        auto ex = boost::asio::get_associated_executor(h, get_executor());
        boost::asio::post(ex, boost::beast::bind_front_handler(std::move(h), boost::beast::error_code{}, n));
      },
      handler, buffers);
  }

  template <class ConstBufferSequence, class WriteHandler>
  auto async_write_some(const ConstBufferSequence& buffers, WriteHandler&& handler) {
    return boost::asio::async_initiate<WriteHandler, void(boost::beast::error_code, std::size_t)>(
      [this](auto h, const ConstBufferSequence& b) { this->start_write(std::move(h), b); }, handler, buffers);
  }

  /// Buffer writes until the matching uncork() (or until high_water bytes
  /// are buffered). Nests: only the outermost uncork() sends.
  void cork() noexcept { ++state_->corked; }
  /// Sends what was buffered while corked; later writes go out at once.
  void uncork() {
    auto& st = *state_;
    if (st.corked > 0) --st.corked;
    if (st.corked == 0 && !st.flushing && !st.pending.empty() && !st.error) flush(state_);
  }
  /// Drops every cork (the stream is closing).
  void uncork_all() {
    state_->corked = 0;
    uncork();
  }

  /// Appends bytes that are already a whole WebSocket frame, bypassing the
  /// websocket stream's write (a server's frames are not masked, so one
  /// rendering serves every client). Frames appended here and Beast's own
  /// writes (each a whole frame in one call) never interleave within a frame.
  /// False if the connection has failed.
  bool append(std::string_view frame) {
    auto& st = *state_;
    if (st.error) return false;
    st.pending.insert(st.pending.end(), frame.begin(), frame.end());
    if (!st.flushing && (st.corked == 0 || st.pending.size() > high_water)) flush(state_);
    return true;
  }
  /// Whether append() may add more before the buffered bytes are written.
  [[nodiscard]] bool has_room() const noexcept { return state_->pending.size() <= high_water; }
  /// Calls `f(ec)` (posted) once has_room() holds again, or the connection failed.
  void on_room(std::function<void(boost::beast::error_code)> f) {
    auto ex = get_executor();
    if (has_room() || state_->error) {
      boost::asio::post(ex, [f = std::move(f), ec = state_->error] { f(ec); });
      return;
    }
    state_->held.push_back(
      [f = std::move(f), ex](boost::beast::error_code ec) { boost::asio::post(ex, [f, ec] { f(ec); }); });
  }

  /// Uncorks; calls `f(ec)` once everything buffered so far is written (or failed).
  void after_flush(std::function<void(boost::beast::error_code)> f) {
    uncork_all();
    auto& st = *state_;
    if (!st.flushing) {
      boost::asio::post(get_executor(), [f = std::move(f), ec = st.error] { f(ec); });
      return;
    }
    st.drained.push_back(std::move(f));
  }

  /// Writes whatever is buffered, synchronously (the synchronous teardown).
  void flush_now(boost::beast::error_code& ec) {
    auto& st = *state_;
    if (st.error) {
      ec = st.error;
      return;
    }
    if (!st.pending.empty()) boost::asio::write(next_, boost::asio::buffer(st.pending), ec);
    st.pending.clear();
  }

private:
  struct state {
    NextLayer* next = nullptr;
    std::vector<char> pending;   ///< appended while a write is in flight
    std::vector<char> inflight;  ///< the bytes of the write in flight
    bool flushing = false;
    int corked = 0;  ///< cork() depth
    boost::beast::error_code error;  ///< sticky: once a write failed, all do
    /// Writes past high_water, completed when a flush finishes.
    std::vector<std::function<void(boost::beast::error_code)>> held;
    std::vector<std::function<void(boost::beast::error_code)>> drained;  ///< after_flush callbacks
    std::size_t flushes = 0;
  };

  template <class Handler, class ConstBufferSequence>
  void start_write(Handler h, const ConstBufferSequence& b) {
    auto& st = *state_;
    const auto n = boost::asio::buffer_size(b);
    auto ex = boost::asio::get_associated_executor(h, get_executor());
    if (st.error) {
      boost::asio::post(ex, boost::beast::bind_front_handler(std::move(h), st.error, std::size_t{0}));
      return;
    }
    const auto old = st.pending.size();
    st.pending.resize(old + n);
    boost::asio::buffer_copy(boost::asio::buffer(st.pending.data() + old, n), b);
    if (!st.flushing && (st.corked == 0 || st.pending.size() > high_water)) flush(state_);
    if (st.pending.size() <= high_water) {
      boost::asio::post(ex, boost::beast::bind_front_handler(std::move(h), boost::beast::error_code{}, n));
      return;
    }
    // Back-pressure: complete once the next flush has taken these bytes out.
    auto shared = std::make_shared<Handler>(std::move(h));
    st.held.push_back([shared, ex, n](boost::beast::error_code ec) {
      boost::asio::post(ex, boost::beast::bind_front_handler(std::move(*shared), ec, ec ? std::size_t{0} : n));
    });
  }

  /// Over a TCP stream, sends what is pending at once, without blocking and
  /// without an asynchronous operation: the kernel nearly always takes it
  /// all, and then no operation is allocated and no completion posted. True
  /// when nothing is left to write (all sent, or the write failed: `error`);
  /// false leaves the rest in `pending` for an asynchronous write.
  static bool send_now(state& st) {
    if constexpr (std::is_same_v<NextLayer, boost::beast::tcp_stream>) {
      const int fd = st.next->socket().native_handle();
      std::size_t sent = 0;
      while (sent < st.pending.size()) {
        const auto n = ::send(fd, st.pending.data() + sent, st.pending.size() - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
          sent += static_cast<std::size_t>(n);
          continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;  // full: the reactor waits for room
        st.error = boost::beast::error_code(n < 0 ? errno : EPIPE, boost::system::system_category());
        st.pending.clear();
        return true;
      }
      if (sent == st.pending.size()) {
        st.pending.clear();
        return true;
      }
      st.pending.erase(st.pending.begin(), st.pending.begin() + static_cast<std::ptrdiff_t>(sent));
    }
    return false;
  }

  /// Writes everything pending: at once when the socket takes it, otherwise
  /// by a socket write whose completion starts the next one while anything
  /// was appended meanwhile.
  static void flush(const std::shared_ptr<state>& self) {
    auto& st = *self;
    ++st.flushes;
    if (send_now(st)) {
      // As a completed asynchronous write ends (below).
      st.flushing = false;
      auto held = std::move(st.held);
      st.held.clear();
      for (auto& f : held) f(st.error);
      auto drained = std::move(st.drained);
      st.drained.clear();
      for (auto& f : drained) f(st.error);
      return;
    }
    st.flushing = true;
    st.inflight.swap(st.pending);
    st.pending.clear();
    // Writes held for back-pressure had their bytes in what is now in flight:
    // the buffer has room again, so they complete now.
    auto held = std::move(st.held);
    st.held.clear();
    for (auto& f : held) f({});
    boost::asio::async_write(*st.next, boost::asio::buffer(st.inflight),
                             [self](boost::beast::error_code ec, std::size_t) {
                               auto& st = *self;
                               if (!st.next) return;  // the stream is gone
                               st.inflight.clear();
                               if (ec) {
                                 st.error = ec;
                                 st.flushing = false;
                                 st.pending.clear();
                                 auto held = std::move(st.held);
                                 st.held.clear();
                                 for (auto& f : held) f(ec);
                               } else if (!st.pending.empty() && (st.corked == 0 || st.pending.size() > high_water)) {
                                 flush(self);
                                 return;
                               } else {
                                 st.flushing = false;
                               }
                               auto drained = std::move(st.drained);
                               st.drained.clear();
                               for (auto& f : drained) f(st.error);
                             });
  }

  NextLayer next_;
  std::shared_ptr<state> state_;
  std::vector<char> unread_;  ///< preload()ed bytes not read yet
};

/// Beast's websocket close ends with a teardown of the next layer; the
/// buffered bytes (the close frame among them) go out first.
template <class NextLayer>
void teardown(boost::beast::role_type role, corked_stream<NextLayer>& s, boost::beast::error_code& ec) {
  s.flush_now(ec);
  using boost::beast::websocket::teardown;
  boost::beast::error_code ignored;
  teardown(role, s.next_layer(), ec ? ignored : ec);
}

namespace detail {

/// Beast 1.81's TCP teardown stops draining after its first successful read
/// (it tests the wrong byte count), so a client still sending, say the rest
/// of a message over the size limit, gets a reset that can destroy the close
/// frame before it is read. This one shuts our side, reads and drops until
/// the client's end of stream or two seconds, then closes.
template <class Handler>
struct tcp_drain {
  boost::beast::tcp_stream& s;
  std::shared_ptr<Handler> handler;
  std::shared_ptr<std::array<char, 2048>> sink = std::make_shared<std::array<char, 2048>>();

  void start() {
    boost::beast::error_code ignored;  // the peer may be gone already
    s.socket().shutdown(boost::asio::socket_base::shutdown_send, ignored);
    s.expires_after(std::chrono::seconds(2));
    read();
  }
  void read() const {
    s.async_read_some(boost::asio::buffer(*sink), [self = *this](boost::beast::error_code ec, std::size_t) {
      if (!ec) return self.read();
      boost::beast::error_code ignored;  // closed already after a timeout
      self.s.socket().close(ignored);
      (*self.handler)(boost::beast::error_code{});
    });
  }
};

}  // namespace detail

template <class NextLayer, class TeardownHandler>
void async_teardown(boost::beast::role_type role, corked_stream<NextLayer>& s, TeardownHandler&& handler) {
  auto shared = std::make_shared<std::decay_t<TeardownHandler>>(std::forward<TeardownHandler>(handler));
  s.after_flush([&s, role, shared](boost::beast::error_code ec) {
    if constexpr (std::is_same_v<NextLayer, boost::beast::tcp_stream>) {
      if (!ec) return detail::tcp_drain<std::decay_t<TeardownHandler>>{s.next_layer(), shared}.start();
    }
    using boost::beast::websocket::async_teardown;
    async_teardown(role, s.next_layer(), std::move(*shared));
  });
}

}  // namespace overseer::http
