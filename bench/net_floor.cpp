#include "net_floor.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "floor.hpp"

namespace overseer::bench {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;

// -- http -------------------------------------------------------------------------

class http_session : public std::enable_shared_from_this<http_session> {
public:
  /// With `jobs`, every request first submits a no-op job there and is
  /// answered once the job is durable; without, at once.
  http_session(tcp::socket s, const std::string& body, floor_pipeline* jobs)
    : stream_(std::move(s)), body_(body), jobs_(jobs) {}
  void read() {
    req_ = {};
    bhttp::async_read(stream_, buffer_, req_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return;
      if (!self->jobs_) return self->answer(bhttp::status::ok);
      // As the daemon: the store's answer comes on a CAF thread and is
      // handed back to the connection's strand.
      self->jobs_->submit_async([self](submit_result r) {
        const bool ok = r.code == errc::ok;
        net::post(self->stream_.get_executor(), [self, ok] {
          self->answer(ok ? bhttp::status::accepted : bhttp::status::service_unavailable);
        });
      });
    });
  }

private:
  void answer(bhttp::status status) {
    res_ = {status, req_.version()};
    res_.set(bhttp::field::content_type, "application/json");
    res_.keep_alive(req_.keep_alive());
    res_.body() = body_;
    res_.prepare_payload();
    bhttp::async_write(stream_, res_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (!ec && self->res_.keep_alive()) self->read();
    });
  }
  beast::tcp_stream stream_;
  const std::string& body_;
  floor_pipeline* jobs_;
  beast::flat_buffer buffer_;
  bhttp::request<bhttp::string_body> req_;
  bhttp::response<bhttp::string_body> res_;
};

/// The daemon's I/O loop (http/server.cpp, run_io) with its default idle
/// spin of 50 µs: poll, yielding, before sleeping in epoll.
void run_spinning(net::io_context& ioc) {
  while (!ioc.stopped()) {
    if (ioc.poll() > 0) continue;
    bool found = false;
    const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(50);
    while (!found && std::chrono::steady_clock::now() < until) {
      ::sched_yield();
      found = ioc.poll() > 0;
    }
    if (!found) ioc.run_one();
  }
}

int serve_http(const std::string& body, floor_pipeline* jobs) {
  std::vector<std::unique_ptr<net::io_context>> homes;
  for (int i = 0; i < 2; ++i) homes.push_back(std::make_unique<net::io_context>(1));
  std::vector<net::executor_work_guard<net::io_context::executor_type>> keep;
  for (auto& h : homes) keep.push_back(net::make_work_guard(*h));
  tcp::acceptor acceptor{*homes[0], tcp::endpoint{net::ip::make_address("127.0.0.1"), 0}};
  std::size_t next = 0;
  std::function<void()> accept = [&] {
    acceptor.async_accept(net::make_strand(*homes[next++ % homes.size()]),
                          [&](beast::error_code ec, tcp::socket s) {
                            if (!ec) {
                              beast::error_code ignored;
                              s.set_option(tcp::no_delay(true), ignored);
                              std::make_shared<http_session>(std::move(s), body, jobs)->read();
                            }
                            accept();
                          });
  };
  accept();
  std::printf("floor listening on http://127.0.0.1:%u\n", acceptor.local_endpoint().port());
  std::fflush(stdout);
  std::vector<std::thread> threads;
  for (auto& h : homes) threads.emplace_back([&h] { run_spinning(*h); });
  for (auto& t : threads) t.join();  // until killed
  return 0;
}

// -- ws ---------------------------------------------------------------------------

/// An unmasked text frame holding `payload`, as a server sends it.
std::string text_frame(const std::string& payload) {
  std::string f;
  f.push_back(static_cast<char>(0x81));
  if (payload.size() < 126) {
    f.push_back(static_cast<char>(payload.size()));
  } else {
    f.push_back(static_cast<char>(126));
    f.push_back(static_cast<char>((payload.size() >> 8) & 0xFF));
    f.push_back(static_cast<char>(payload.size() & 0xFF));
  }
  return f + payload;
}

/// Now, as the daemon writes an event's "at": "2026-11-24T05:43:00.123Z".
std::string now_at() {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char out[64];
  std::snprintf(out, sizeof out, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return out;
}

/// Writes all of `frame` to `fd`, blocking; false when the peer is gone.
bool send_all(int fd, const std::string& frame) {
  std::size_t sent = 0;
  while (sent < frame.size()) {
    const ssize_t n = ::send(fd, frame.data() + sent, frame.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

/// One sender: J jobs at R a second, each three frames (created, running,
/// completed) of the daemon's shape, stamped when the job's turn comes and
/// written to each of `fds` in one send(): the fewest system calls that
/// deliver those bytes without holding a job's events back for the next's.
void emit(const std::vector<int>& fds, std::size_t jobs, double rate) {
  static const char* const steps[3][4] = {{"null", "\"pending\"", "0", "submitted"},
                                          {"\"pending\"", "\"running\"", "1", "started"},
                                          {"\"running\"", "\"completed\"", "1", "completed"}};
  const auto t0 = std::chrono::steady_clock::now();
  std::uint64_t seq = 0;
  for (std::size_t i = 0; i < jobs; ++i) {
    std::this_thread::sleep_until(t0 + std::chrono::microseconds(static_cast<long>(static_cast<double>(i) * 1e6 / rate)));
    const std::string at = now_at();
    std::string frames;
    for (const auto& s : steps)
      frames += text_frame(R"({"type":"transition","seq":)" + std::to_string(++seq) +
                           R"(,"job_id":"job_01M8SQ5Z7CDEAXKZ9XW3K3HA6B","tool":"noop","from":)" + s[0] +
                           R"(,"to":)" + s[1] + R"(,"attempt":)" + s[2] + R"(,"at":")" + at + R"(","reason":")" +
                           s[3] + R"("})");
    for (int fd : fds) send_all(fd, frames);
  }
}

int serve_ws() {
  net::io_context ioc{1};
  tcp::acceptor acceptor{ioc, tcp::endpoint{net::ip::make_address("127.0.0.1"), 0}};
  std::printf("floor listening on http://127.0.0.1:%u\n", acceptor.local_endpoint().port());
  std::fflush(stdout);
  std::vector<int> halves[2];
  std::vector<std::thread> senders;
  for (std::size_t n = 0;; ++n) {
    tcp::socket s{ioc};
    acceptor.accept(s);
    beast::flat_buffer buffer;
    bhttp::request<bhttp::string_body> req;
    beast::error_code ec;
    bhttp::read(s, buffer, req, ec);
    if (ec) continue;
    if (beast::websocket::is_upgrade(req)) {
      beast::websocket::stream<tcp::socket> ws{std::move(s)};
      ws.accept(req, ec);
      if (ec) continue;
      auto& sock = ws.next_layer();
      sock.set_option(tcp::no_delay(true), ec);
      sock.set_option(net::socket_base::send_buffer_size(64 * 1024), ec);  // as the daemon's sessions
      const int fd = sock.release(ec);
      if (ec) continue;
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
      send_all(fd, text_frame(R"({"type":"subscribed","all":true,"seq":0})"));
      halves[n % 2].push_back(fd);
      continue;
    }
    // POST /emit?jobs=J&rate=R: answered at once; the senders start.
    std::size_t jobs = 0;
    double rate = 0;
    const std::string target{req.target()};
    if (unsigned long j = 0; std::sscanf(target.c_str(), "/emit?jobs=%lu&rate=%lf", &j, &rate) == 2) jobs = j;
    bhttp::response<bhttp::string_body> res{jobs && rate > 0 ? bhttp::status::accepted : bhttp::status::bad_request,
                                           req.version()};
    res.keep_alive(false);
    res.prepare_payload();
    bhttp::write(s, res, ec);
    if (jobs && rate > 0 && senders.empty())
      for (auto& h : halves) senders.emplace_back([&h, jobs, rate] { emit(h, jobs, rate); });
  }
}

}  // namespace

int serve_floor(const std::string& kind, const std::string& body, const std::string& dir) {
  if (kind == "http") return serve_http(body, nullptr);
  if (kind == "ws") return serve_ws();
  if (kind == "submit" && !dir.empty()) {
    floor_pipeline jobs{dir, true, [](const event&) {}};
    return serve_http(body, &jobs);
  }
  std::fprintf(stderr, "overseer_bench: --serve-floor takes http, ws, or submit with --floor-dir\n");
  return 2;
}

}  // namespace overseer::bench
