// Accepts connections and starts an http_session for each.
#pragma once

#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

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
  boost::asio::io_context& ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  api_context& ctx_;
};

}  // namespace overseer::http
