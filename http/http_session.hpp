// One HTTP connection: reads requests, routes them, writes the responses in
// request order, and hands a WebSocket upgrade on to a stream_session.
//
// Every request read is answered, in order, whatever the client does next.
// Pipelined requests are read ahead up to max_in_flight unanswered ones. A
// session that owes answers is held by `connections` until they are
// written, also once reading has stopped (Connection: close, HTTP/1.0, a
// client that half-closed, a deadline), and is released after its last
// answer is written or its socket fails.
//
// Deadlines (server_config): idle_timeout for the first byte of a request
// while no answer is owed, header_timeout from there to the end of the
// headers, body_timeout to the end of the body (408 past either), and
// idle_timeout again for each response write. Closing is graceful: our side
// is shut, then what the client still sends is read and dropped for a
// moment, so a reset cannot destroy an answer it has not read yet.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/object.hpp>

#include "http/api.hpp"
#include "http/connections.hpp"

namespace overseer::http {

class http_session : public std::enable_shared_from_this<http_session> {
public:
  /// Counted as `ticket` for as long as it (or the stream it becomes) lives.
  http_session(boost::asio::ip::tcp::socket socket, api_context& ctx, connections::ticket ticket);
  void run();

  /// Unanswered requests a connection may have before reading pauses.
  static constexpr std::size_t max_in_flight = 16;
  /// Largest request header block (431 beyond).
  static constexpr std::size_t header_limit = 64 * 1024;

private:
  struct slot {
    std::optional<response> res;
    std::optional<bhttp::response_serializer<bhttp::string_body>> writer;
    std::optional<file_response> file_res;  ///< a download, streamed from disk
    /// On the heap, and only for a download: its 64 KiB read buffer would
    /// otherwise be allocated and zeroed for every answer.
    std::unique_ptr<bhttp::response_serializer<file_range_body>> file_writer;
    unsigned version = 11;
    bool keep_alive = true;
    bool head = false;  ///< a HEAD request: the answer's header only
  };
  /// What the current read waits for; each has its own deadline.
  enum class phase { none, idle, header, body };
  class answer_guard;

  void do_read();
  void parse();
  void read_more();
  void on_bytes(boost::beast::error_code ec, std::size_t bytes);
  /// The headers are in: false if the body must wait (100 Continue) or the
  /// request was refused already.
  [[nodiscard]] bool on_header();
  void on_request(request req);
  /// POST /v1/files: checks the headers like dispatch would, then reads the
  /// body into a temporary file (upload_body); false if refused.
  [[nodiscard]] bool begin_upload();
  void parse_upload();
  void on_upload();
  /// The answer slot, guard, access probe and replier of a request.
  replier answer_for(const request& req, std::optional<route_id> route, std::shared_ptr<class access_probe>* probe);
  void on_read_error(boost::beast::error_code ec);
  [[nodiscard]] bool upgrade(request& req);
  void dispatch(request req);

  std::shared_ptr<slot> owe(unsigned version, bool keep_alive, bool head);
  /// Answers a request the session refuses itself; nothing more is read.
  void refuse(unsigned status, std::string detail, bool bearer = false, const std::vector<field_error>& errors = {});
  /// An upload refused on its headers: read like any request when its body
  /// is declared, small and not awaiting a 100 (the route's handler then
  /// answers the same refusal, in order, and the connection stays open for
  /// what the client pipelined after it); else refuse() and close. True
  /// when the request goes on being read.
  bool refuse_upload(unsigned status, std::string detail, bool bearer = false,
                     const std::vector<field_error>& errors = {});
  void reply(const std::shared_ptr<slot>& s, response res);
  void answer(const std::shared_ptr<slot>& s, response res);
  void answer_file(const std::shared_ptr<slot>& s, file_response res);
  void settle();
  void do_write();
  void on_write(bool close, boost::beast::error_code ec, std::size_t bytes);
  void write_continue();
  void hand_off();

  void start_deadline();
  void arm_read(std::chrono::milliseconds after);
  void disarm_read();
  void arm_write();
  void fail();
  void do_close();
  void drain();

  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer read_timer_;   ///< the read phase's deadline, then the linger
  boost::asio::steady_timer write_timer_;
  std::uint64_t read_deadline_ = 0;   ///< generation: a stale deadline does nothing
  std::uint64_t write_deadline_ = 0;
  boost::beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  /// An upload's parser, once its headers are accepted (parser_ is then empty).
  std::optional<bhttp::request_parser<upload_body>> upload_;
  identity upload_who_{};  ///< the principal of the upload
  query_map upload_query_;
  api_context& ctx_;
  connections::ticket ticket_;
  /// Answers owed on this connection's I/O thread (http/owed_answers.hpp).
  std::shared_ptr<std::atomic<int>> owed_;
  std::string peer_;  ///< "client 127.0.0.1": who the engine says asked (cancel, retry)
  std::deque<std::shared_ptr<slot>> queue_;
  std::optional<request> upgrade_;  ///< accepted, waits for the earlier answers
  identity upgrade_who_{};          ///< the principal of the upgrade
  boost::json::object subscribe_;
  std::optional<connections::ticket> stream_ticket_;
  phase phase_ = phase::none;
  bool reading_ = false;    ///< a request is being read
  bool writing_ = false;
  bool closing_ = false;    ///< no further request will be read
  std::size_t header_fields_ = 0;  ///< the current request's header fields (what follows is its trailer)
  /// An upload refused once its headers were read, whose small or chunked
  /// body is read (and dropped) before the answer: the answer it gets.
  struct refusal {
    unsigned status;
    std::string detail;
    bool bearer;
    std::vector<field_error> errors;
  };
  std::optional<refusal> upload_refusal_;
  bool continue_ = false;   ///< a 100 Continue waits for the earlier answers
  bool held_ = false;       ///< held by ctx_.open while answers are owed
  bool timed_out_ = false;  ///< a read deadline passed; the receive side is shut
  bool shut_ = false;       ///< our side is shut: lingering until the close
  bool failed_ = false;     ///< the socket failed or was handed off
};

}  // namespace overseer::http
