#include "http/listener.hpp"

#include <boost/asio/strand.hpp>

#include "http/http_session.hpp"

namespace overseer::http {

namespace net = boost::asio;

listener::listener(net::io_context& ioc, net::ip::tcp::endpoint at, api_context& ctx)
  : ioc_(ioc), acceptor_(net::make_strand(ioc)), ctx_(ctx) {
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
  });
}

void listener::do_accept() {
  // Each connection gets a strand of its own: its handlers never run at once.
  acceptor_.async_accept(net::make_strand(ioc_), [self = shared_from_this()](boost::system::error_code ec,
                                                                              net::ip::tcp::socket socket) {
    if (ec == net::error::operation_aborted || !self->acceptor_.is_open()) return;
    if (!ec) {
      boost::system::error_code ignored;  // a latency option; the connection works without it
      socket.set_option(net::ip::tcp::no_delay(true), ignored);
      std::make_shared<http_session>(std::move(socket), self->ctx_)->run();
    }
    self->do_accept();
  });
}

}  // namespace overseer::http
