// Accepts connections and starts an http_session for each, up to
// max_connections open at once; past it a connection gets a 503 problem
// document and is closed.
#pragma once

#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "http/api.hpp"

namespace overseer::http {

class listener : public std::enable_shared_from_this<listener> {
public:
  /// Binds and listens; throws boost::system::system_error on failure.
  listener(boost::asio::io_context& ioc, boost::asio::ip::tcp::endpoint at, api_context& ctx);
  void run();
  void stop();
  [[nodiscard]] boost::asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }

private:
  void do_accept();
  void on_accept(boost::system::error_code ec, boost::asio::ip::tcp::socket socket);
  boost::asio::io_context& ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer pause_;  ///< after a failed accept (out of file descriptors)
  api_context& ctx_;
};

}  // namespace overseer::http
