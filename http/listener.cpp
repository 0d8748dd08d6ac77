#include "http/listener.hpp"

#include <array>
#include <sstream>
#include <utility>

#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>

#include "http/connections.hpp"
#include "http/http_session.hpp"

namespace overseer::http {

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

/// Tells a connection over the cap why it is closed: the 503 goes out, our
/// side is shut, and what the client sends is read and dropped until it
/// closes or `linger` passes, so no reset destroys the answer. Runs on the
/// connection's own strand and holds nothing but the socket and its text.
class refusal : public std::enable_shared_from_this<refusal> {
public:
  refusal(tcp::socket socket, std::string text)
    : socket_(std::move(socket)), timer_(socket_.get_executor()), text_(std::move(text)) {}

  void run() {
    timer_.expires_after(std::chrono::seconds(2));
    timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      boost::system::error_code ignored;  // closing a socket that may be closed already
      if (!ec) self->socket_.close(ignored);
    });
    net::async_write(socket_, net::buffer(text_), [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
      boost::system::error_code ignored;  // the peer may be gone already
      if (ec) return self->done();
      self->socket_.shutdown(tcp::socket::shutdown_send, ignored);
      self->drain();
    });
  }

private:
  void drain() {
    socket_.async_read_some(net::buffer(sink_), [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
      if (ec) return self->done();
      self->drain();
    });
  }
  void done() {
    boost::system::error_code ignored;  // the socket may be closed already
    timer_.cancel();
    socket_.close(ignored);
  }

  tcp::socket socket_;
  net::steady_timer timer_;
  std::string text_;
  std::array<char, 1024> sink_{};
};

std::string too_many_connections(std::size_t max) {
  auto res = problem_response(503, "too many connections are open (the limit is " + std::to_string(max) +
                                     "); try again later",
                              11, false);
  res.set(bhttp::field::retry_after, "1");
  std::ostringstream text;
  text << res;
  return text.str();
}

}  // namespace

listener::listener(std::vector<net::io_context*> homes, tcp::endpoint at, api_context& ctx)
  : homes_(std::move(homes)), acceptor_(net::make_strand(*homes_.at(0))), pause_(acceptor_.get_executor()), ctx_(ctx) {
  acceptor_.open(at.protocol());
  acceptor_.set_option(net::socket_base::reuse_address(true));
  acceptor_.bind(at);
  acceptor_.listen(net::socket_base::max_listen_connections);
}

void listener::run() { do_accept(); }

void listener::stop() {
  net::post(acceptor_.get_executor(), [self = shared_from_this()] {
    boost::system::error_code ignored;  // closing an acceptor that may already be closed
    self->acceptor_.close(ignored);
    self->pause_.cancel();
  });
}

void listener::do_accept() {
  // Each connection gets a strand of its own (its handlers never run at
  // once, also should a context get more threads), on the next context.
  auto& home = *homes_[next_home_++ % homes_.size()];
  acceptor_.async_accept(net::make_strand(home), [self = shared_from_this()](boost::system::error_code ec,
                                                                             tcp::socket socket) {
    self->on_accept(ec, std::move(socket));
  });
}

void listener::on_accept(boost::system::error_code ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
  if (ec) {
    // Out of file descriptors, most likely: accepting again at once would
    // spin. Pause; the connection waits in the backlog meanwhile.
    pause_.expires_after(std::chrono::milliseconds(100));
    pause_.async_wait([self = shared_from_this()](boost::system::error_code wait) {
      if (!wait) self->do_accept();
    });
    return;
  }
  boost::system::error_code ignored;  // a latency option; the connection works without it
  socket.set_option(net::ip::tcp::no_delay(true), ignored);
  if (auto ticket = ctx_.open.open_connection(ctx_.config.max_connections))
    std::make_shared<http_session>(std::move(socket), ctx_, std::move(*ticket))->run();
  else
    std::make_shared<refusal>(std::move(socket), too_many_connections(ctx_.config.max_connections))->run();
  do_accept();
}

}  // namespace overseer::http
