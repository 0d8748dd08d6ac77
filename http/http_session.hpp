// One HTTP connection: reads requests, routes them, writes the responses in
// request order (pipelined requests are read ahead, up to a limit, while
// earlier ones are still being answered), and hands a WebSocket upgrade on
// to a stream_session.
#pragma once

#include <deque>
#include <memory>
#include <optional>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "http/api.hpp"

namespace overseer::http {

class http_session : public std::enable_shared_from_this<http_session> {
public:
  http_session(boost::asio::ip::tcp::socket socket, api_context& ctx);
  void run();

private:
  struct slot {
    std::optional<response> res;
  };
  class answer_guard;

  void do_read();
  void on_read(boost::beast::error_code ec, std::size_t bytes);
  void dispatch(request req);
  [[nodiscard]] bool authorized(const request& req) const;
  [[nodiscard]] bool token_ok(std::string_view token) const;
  void answer(const std::shared_ptr<slot>& s, response res);
  void do_write();
  void on_write(bool close, boost::beast::error_code ec, std::size_t bytes);
  void do_close();

  static constexpr std::size_t max_in_flight = 16;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  api_context& ctx_;
  std::deque<std::shared_ptr<slot>> queue_;
  bool reading_ = false;
  bool writing_ = false;
  bool closing_ = false;
};

}  // namespace overseer::http
