// Accepts connections and starts an http_session for each, up to
// max_connections open at once; past it a connection gets a 503 problem
// document and is closed.
#pragma once

#include <memory>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "http/api.hpp"

namespace overseer::http {

class listener : public std::enable_shared_from_this<listener> {
public:
  /// Binds and listens on the first of `homes`; throws
  /// boost::system::system_error on failure. Accepted connections go to
  /// `homes` in turn, each context run by one I/O thread.
  listener(std::vector<boost::asio::io_context*> homes, boost::asio::ip::tcp::endpoint at, api_context& ctx);
  void run();
  void stop();
  [[nodiscard]] boost::asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }

private:
  void do_accept();
  void on_accept(boost::system::error_code ec, boost::asio::ip::tcp::socket socket);
  std::vector<boost::asio::io_context*> homes_;
  std::size_t next_home_ = 0;  ///< on the acceptor's strand only
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer pause_;  ///< after a failed accept (out of file descriptors)
  api_context& ctx_;
};

}  // namespace overseer::http
