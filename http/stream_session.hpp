// One WebSocket client of GET /v1/stream (docs/api.md "WebSocket stream").
//
// Subscriptions are per connection. A subscription with `since` replays
// from the store's events family, then continues live: events reach the
// store before any subscriber, so the replay's last read covers everything a
// live event ignored meanwhile, and live events at or below the replay's
// position are dropped. No matching event is missed, none is sent twice.
//
// Messages wait in a queue and are appended, as whole frames, to the
// corked_stream under the websocket stream; a burst leaves in one socket
// write. Past its high-water mark the queue waits for the socket. A queued progress message of a job
// is dropped when a newer one of the same job arrives (latest wins, order
// kept); transitions and logs are never dropped. A client whose queue still
// grows past the limit is closed with the seq to resume from.
#pragma once

#include <atomic>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <mutex>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json/value.hpp>

#include "http/access_log.hpp"
#include "http/api.hpp"
#include "http/connections.hpp"
#include "http/corked_stream.hpp"
#include "http/handler_memory.hpp"
#include "overseer/event.hpp"

namespace overseer::http {

/// The subscription a /v1/stream URL asks for: ?job=ID | ?batch=ID | ?all=1,
/// with &since=SEQ and &logs=1 (access_token belongs to the handshake).
/// Sets `subscribe` to the subscribe message, or leaves it empty when the
/// URL names nothing to subscribe to. Unknown keys and a `since` that is
/// not a sequence number are errors naming the parameter.
[[nodiscard]] std::vector<field_error> parse_stream_query(const query_map& q, boost::json::object& subscribe);

/// `payload` as one unmasked, unfragmented WebSocket text frame (RFC 6455
/// 5.2): what a server sends, the same bytes for every client.
[[nodiscard]] std::string text_frame(std::string_view payload);

/// A committed event and its frame, rendered once for every session.
struct live_event {
  event e;
  std::string frame;
};

class stream_session : public std::enable_shared_from_this<stream_session> {
public:
  /// Counted as `connection` and `stream` for as long as it lives.
  stream_session(boost::asio::ip::tcp::socket socket, api_context& ctx, connections::ticket connection,
                 connections::ticket stream);
  /// Gives back to the hub the bytes it still had queued.
  ~stream_session();
  stream_session(const stream_session&) = delete;
  stream_session& operator=(const stream_session&) = delete;
  /// Accepts the upgrade, then subscribes as `subscribe` asks (see
  /// parse_stream_query; empty: no subscription yet).
  void run(request upgrade, boost::json::object subscribe);
  /// The principal it serves, before run(): a user receives the events of
  /// its own jobs only (all=1 is all of its own), replays included.
  void set_identity(identity who) { who_ = std::move(who); }
  /// What the client sent after its upgrade request, already read off the
  /// socket: its first frames, if it did not wait for the 101.
  void preload(std::string_view bytes) { ws_.next_layer().preload(bytes); }
  /// Whom it serves (set before it is added to the hub, then never changed).
  [[nodiscard]] const identity& who() const noexcept { return who_; }
  /// Its token was revoked (a reload): close with 1008.
  void revoke();
  /// From the hub, on its thread: a committed event. Events that arrive
  /// while the session has not picked up the last ones join them, so a
  /// burst costs the I/O thread one handler, not one per event. An event
  /// no subscription of the session can want (another principal's job, a
  /// log line nobody asked for, a job or batch not subscribed to) is left
  /// out here, before it costs the I/O thread anything. Returns false once
  /// the session is closed.
  bool deliver(const std::shared_ptr<const live_event>& e);
  /// From the hub, on a CAF thread: a node joined or was lost (a whole text
  /// frame); sent if the session subscribed to nodes. False once closed.
  bool deliver_node(std::shared_ptr<const std::string> frame);
  /// The daemon is stopping: close with 1001 and the seq to resume from.
  void go_away();
  /// The store failed (the daemon fail-stops): close with 1011 and the seq
  /// to resume from once the daemon is back.
  void store_failed();

private:
  struct sub {
    enum class kind { job, batch, all, nodes } what = kind::all;
    std::string job_id;  ///< the job, or the batch for a batch subscription
    bool logs = false;
    std::string tool;                           ///< "all" filter
    std::map<std::string, std::string> labels;  ///< "all" filter
    std::uint64_t last = 0;  ///< seq up to which this subscription is served
    bool replaying = false;
    bool replay_scheduled = false;  ///< a replay step is posted
    std::uint64_t id = 0;    ///< replays find their subscription by this
  };
  /// What the subscriptions could want, for deliver() on the hub's thread
  /// (subs_ belongs to the strand). It may want more than they do (the
  /// strand filters exactly), never less: a subscription is added here
  /// before it reads its starting seq, so every event after that seq
  /// passes.
  struct interest {
    sub::kind what = sub::kind::all;
    std::string id;  ///< the job or batch
    bool logs = false;
  };
  /// Past this many subscriptions on one connection, everything passes.
  static constexpr std::size_t interest_limit = 32;
  [[nodiscard]] bool interested(const event& e) const;  ///< under inbox_mutex_
  void widen_interest(const sub& s);
  void refresh_interest();  ///< from subs_, on the strand
  /// Past this many bytes of queued frames a client is too far behind, however
  /// few messages they are: a `subscribed` answer carries a whole job view
  /// (up to about 2 MB with the largest params), and a client that asks for
  /// it again and again without reading must not hold more than this.
  static constexpr std::size_t max_queued_bytes = 16u << 20;
  /// Past this many queued bytes over every session together, a session with
  /// more than `queued_bytes_floor` queued is too far behind: many slow
  /// clients cannot hold 16 MiB each.
  static constexpr std::size_t max_total_queued_bytes = 256u << 20;
  static constexpr std::size_t queued_bytes_floor = 1u << 20;

  struct outgoing {
    std::shared_ptr<const std::string> frame;  ///< a whole text frame (text_frame)
    std::uint64_t seq = 0;  ///< 0 for acks and errors
    std::string progress_of;  ///< job id, for a progress message
    bool dropped = false;     ///< superseded by a newer progress
  };

  identity who_{};

  void on_accept(boost::beast::error_code ec);
  void do_read();
  void on_read(boost::beast::error_code ec, std::size_t bytes);
  void handle_message(const boost::json::value& msg);
  void subscribe(sub s, std::optional<std::uint64_t> since);
  void replay(std::uint64_t sub_id);
  sub* find_sub(std::uint64_t id);
  void drain_inbox();
  /// drain_inbox once server_config::stream_write_delay has passed: the
  /// events delivered meanwhile join the same write.
  void drain_after_delay();
  /// Held events past which the delay is cut short: a socket write's worth
  /// (256 frames fill the 64 KiB buffer), fewer with a small queue limit.
  [[nodiscard]] std::size_t held_limit() const noexcept;
  /// Nothing more is written or delivered: the socket failed or the
  /// session closes. On the strand.
  void mark_closed();
  /// `frame` owns `e` too (both are parts of one live_event).
  void on_event(const event& e, std::shared_ptr<const std::string> frame);
  bool matches(const sub& s, const event& e);
  /// `coalesce`: a live progress may replace an older queued one of its job.
  /// `frame`: the event already rendered (live events are rendered once).
  void send_event(const event& e, bool coalesce, std::shared_ptr<const std::string> frame = nullptr);
  void send(boost::json::object msg);
  void enqueue(outgoing o);
  void do_write();
  void on_room(boost::beast::error_code ec);
  void close_behind();
  /// Closes with `code` and "<why>; resume with since=N", N being what the
  /// client surely has.
  void close_resumable(boost::beast::websocket::close_code code, const std::string& why);
  /// Runs `fn`; a store read that fails closes the stream (1011) with the
  /// seq to resume from, instead of escaping into the I/O thread.
  void guarded(const std::function<void()>& fn);
  void schedule_replay(sub& s);
  void do_close();
  void send_error(std::string message);
  /// One error naming every bad key (`errors`), and `whole`: what is wrong
  /// with the message as a whole, if anything.
  void send_errors(const std::vector<field_error>& errors, std::string whole);

  boost::beast::websocket::stream<corked_stream<boost::beast::tcp_stream>> ws_;
  boost::beast::flat_buffer buffer_;
  request upgrade_;  ///< must outlive the asynchronous accept
  boost::json::object initial_;  ///< the subscription the URL asked for
  api_context& ctx_;
  connections::ticket connection_;
  connections::ticket stream_;
  stream_tally tally_{ctx_};  ///< metrics and the session's access-log line
  std::atomic<bool> open_{true};  ///< read by the hub's thread
  std::mutex inbox_mutex_;
  std::vector<std::shared_ptr<const live_event>> inbox_;  ///< delivered, not picked up yet
  bool drain_posted_ = false;  ///< guarded by inbox_mutex_
  std::vector<interest> interest_;  ///< guarded by inbox_mutex_
  bool interest_any_ = false;       ///< guarded by inbox_mutex_: too many to list
  /// The connection's strand, typed: the hub posts to it without the
  /// type-erased executor's copies (empty if the socket has another).
  std::optional<boost::asio::strand<boost::asio::io_context::executor_type>> strand_;
  handler_memory drain_memory_;  ///< the posted drain and its strand's invoker
  std::optional<boost::asio::steady_timer> write_delay_;  ///< with a stream_write_delay
  std::list<sub> subs_;
  std::uint64_t next_sub_id_ = 1;
  std::deque<outgoing> queue_;
  std::size_t live_messages_ = 0;  ///< queued and not dropped
  std::size_t live_bytes_ = 0;     ///< their frames' bytes (also counted in the hub's queued_bytes)
  /// Adds (`grow`) or takes back `n` queued bytes, here and in the hub.
  void account(std::size_t n, bool grow);
  std::unordered_map<std::string, std::size_t> progress_index_;  ///< job -> absolute queue index
  std::size_t popped_ = 0;  ///< messages popped so far (absolute index of queue_.front())
  std::uint64_t last_written_seq_ = 0;
  std::unordered_map<std::string, std::map<std::string, std::string>> labels_of_;
  bool writing_ = false;  ///< waiting for the socket to take buffered bytes
  bool closed_ = false;
  std::optional<boost::beast::websocket::close_reason> close_reason_;  ///< sent once writes are idle
};

}  // namespace overseer::http
