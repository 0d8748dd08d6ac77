#include "http/stream_session.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/post.hpp>

#include "actors/job_id.hpp"
#include "overseer/errc.hpp"
#include "http/json_mapping.hpp"
#include "http/stream_hub.hpp"
#include "http/strict_json.hpp"
#include "tools/did_you_mean.hpp"

namespace overseer::http {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace json = boost::json;

namespace {
constexpr std::size_t replay_chunk = 512;
}

std::string text_frame(std::string_view payload) {
  std::string f;
  const auto n = payload.size();
  f.reserve(n + 10);
  f.push_back(static_cast<char>(0x81));  // FIN, opcode 1 (text)
  if (n < 126) {
    f.push_back(static_cast<char>(n));  // mask bit 0: servers do not mask
  } else if (n <= 0xFFFF) {
    f.push_back(static_cast<char>(126));
    for (int shift = 8; shift >= 0; shift -= 8) f.push_back(static_cast<char>((n >> shift) & 0xFF));
  } else {
    f.push_back(static_cast<char>(127));
    for (int shift = 56; shift >= 0; shift -= 8) f.push_back(static_cast<char>((static_cast<std::uint64_t>(n) >> shift) & 0xFF));
  }
  f.append(payload);
  return f;
}

std::vector<field_error> parse_stream_query(const query_map& q, json::object& subscribe) {
  auto errors = check_query_keys(q, {"job", "batch", "all", "since", "logs", "access_token"});
  // 1 or true, 0 or false; anything else is named, not taken for true.
  const auto flag = [&](const std::string& key, const std::string& v) {
    if (v == "1" || v == "true") return true;
    if (v != "0" && v != "false") errors.push_back({key, "expected 1, true, 0 or false, found \"" + v + "\""});
    return false;
  };
  json::object op{{"op", "subscribe"}};
  bool any = false;
  if (auto it = q.find("job"); it != q.end()) op["job_id"] = it->second, any = true;
  if (auto it = q.find("batch"); it != q.end()) op["batch_id"] = it->second, any = true;
  if (auto it = q.find("all"); it != q.end() && flag("all", it->second)) op["all"] = true, any = true;
  if (auto it = q.find("logs"); it != q.end()) op["logs"] = flag("logs", it->second);
  if (auto it = q.find("since"); it != q.end()) {
    const auto& v = it->second;
    std::uint64_t seq = 0;
    auto [end, err] = std::from_chars(v.data(), v.data() + v.size(), seq);
    if (err != std::errc{} || end != v.data() + v.size() || v.empty())
      errors.push_back({"since", "expected a sequence number, found \"" + v + "\""});
    else op["since"] = seq;
  }
  if (any && errors.empty()) subscribe = std::move(op);
  return errors;
}

stream_session::stream_session(net::ip::tcp::socket socket, api_context& ctx, connections::ticket connection,
                               connections::ticket stream)
  : ws_(std::move(socket)), ctx_(ctx), connection_(std::move(connection)), stream_(std::move(stream)) {
  // A modest kernel buffer: a client that stops reading shows up in our
  // queue (and is closed at its limit) instead of in megabytes of kernel
  // memory the limit cannot see.
  boost::system::error_code ignored;  // a tuning option; the stream works without it
  beast::get_lowest_layer(ws_).socket().set_option(net::socket_base::send_buffer_size(64 * 1024), ignored);
  const auto executor = ws_.get_executor();  // target() points into it
  if (auto* strand = executor.target<net::strand<net::io_context::executor_type>>()) strand_ = *strand;
  if (ctx_.config.stream_write_delay.count() > 0) write_delay_.emplace(executor);
}

void stream_session::run(request upgrade, json::object subscribe) {
  // Pings keep idle connections alive and find dead peers.
  ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
  // A larger client message fails the read and closes with 1009.
  ws_.read_message_max(ctx_.config.stream_message_limit);
  upgrade_ = std::move(upgrade);
  initial_ = std::move(subscribe);
  ws_.async_accept(upgrade_, beast::bind_front_handler(&stream_session::on_accept, shared_from_this()));
}

void stream_session::on_accept(beast::error_code ec) {
  if (ec) return;
  {
    beast::error_code ignored;  // a peer already gone is logged as "client"
    const auto remote = beast::get_lowest_layer(ws_).socket().remote_endpoint(ignored);
    tally_.opened(upgrade_, ignored ? "client" : "client " + remote.address().to_string());
    if (who_.listed) tally_.named(who_.name);
  }
  ctx_.hub.add(shared_from_this());
  if (!initial_.empty()) guarded([&] { handle_message(initial_); });
  if (!closed_) do_read();
}

void stream_session::do_read() {
  ws_.async_read(buffer_, beast::bind_front_handler(&stream_session::on_read, shared_from_this()));
}

void stream_session::on_read(beast::error_code ec, std::size_t) {
  if (ec) {
    mark_closed();
    return;
  }
  if (!ws_.got_text()) {
    // Text only (RFC 6455 5.6): a binary frame skips the UTF-8 check every
    // text frame gets, and no client of ours sends one.
    buffer_.consume(buffer_.size());
    send_error("a message must be JSON in a text frame, not a binary one");
    if (!closed_) do_read();
    return;
  }
  auto msg = parse_strict_json(beast::buffers_to_string(buffer_.data()));
  buffer_.consume(buffer_.size());
  if (!msg.syntax_error.empty()) send_error("message is not valid JSON: " + msg.syntax_error);
  else if (!msg.duplicates.empty())
    send_error("message repeats a key: " + msg.duplicates.front().field + " appears more than once");
  else guarded([&] { handle_message(msg.value); });
  if (!closed_) do_read();
}

void stream_session::guarded(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const overseer::error& e) {
    // The store could not be read (the engine fail-stops): tell the client
    // where to resume once the daemon is back, rather than answer wrongly.
    close_resumable(websocket::close_code::internal_error, "the store failed");
  }
}

void stream_session::send_error(std::string message) {
  send(json::object{{"type", "error"}, {"message", std::move(message)}});
}

void stream_session::send_errors(const std::vector<field_error>& errors, std::string whole) {
  // `message` reads as one sentence for people and older clients; `errors`
  // names each bad key, like a problem document's.
  std::string message;
  json::array named;
  for (const auto& e : errors) {
    if (!message.empty()) message += "; ";
    message += e.message;
    named.push_back(json::object{{"field", e.field}, {"message", e.message}});
  }
  if (!whole.empty()) message += (message.empty() ? "" : "; ") + whole;
  json::object m{{"type", "error"}, {"message", std::move(message)}};
  if (!named.empty()) m["errors"] = std::move(named);
  send(std::move(m));
}

void stream_session::handle_message(const json::value& v) {
  if (!v.is_object()) return send_error("a message must be a JSON object with an \"op\"");
  const auto& m = v.as_object();
  // Every bad key of the message is named in one error, as in an HTTP
  // problem document; nothing is subscribed or unsubscribed then.
  std::vector<field_error> errors;
  std::string name;
  if (auto op = m.if_contains("op"); !op) {
    errors.push_back({"op", "missing \"op\": expected \"subscribe\" or \"unsubscribe\""});
  } else if (!op->is_string()) {
    errors.push_back({"op", "\"op\" must be \"subscribe\" or \"unsubscribe\""});
  } else {
    name = op->as_string();
    if (name != "subscribe" && name != "unsubscribe")
      errors.push_back({"op", "unknown op \"" + name + "\": expected \"subscribe\" or \"unsubscribe\""});
  }
  static constexpr std::array<std::string_view, 8> keys = {"op",    "job_id", "batch_id", "all",
                                                            "nodes", "logs",   "since",    "filter"};
  for (const auto& [k, unused] : m) {
    const std::string_view key{k};
    if (std::find(keys.begin(), keys.end(), key) != keys.end()) continue;
    const auto nearest = tools::nearest_name(key, keys);
    errors.push_back({std::string{key}, "unknown key \"" + std::string{key} + "\"" +
                                           (nearest.empty() ? "" : "; did you mean \"" + nearest + "\"?")});
  }
  auto str = [&](const char* key) -> std::optional<std::string> {
    const auto* x = m.if_contains(key);
    if (!x) return std::nullopt;
    if (x->is_string()) return std::string{x->as_string()};
    errors.push_back({key, "\"" + std::string{key} + "\" must be a string"});
    return std::nullopt;
  };
  auto flag = [&](const char* key) -> std::optional<bool> {
    const auto* x = m.if_contains(key);
    if (!x) return std::nullopt;
    if (x->is_bool()) return x->as_bool();
    errors.push_back({key, "\"" + std::string{key} + "\" must be true or false"});
    return std::nullopt;
  };
  auto job_id = str("job_id");
  auto batch_id = str("batch_id");
  const bool all = flag("all").value_or(false);
  const bool nodes = flag("nodes").value_or(false);
  const auto logs = flag("logs");
  std::optional<std::uint64_t> since;
  if (auto x = m.if_contains("since")) {
    if (x->is_uint64()) since = x->as_uint64();
    else if (x->is_int64() && x->as_int64() >= 0) since = static_cast<std::uint64_t>(x->as_int64());
    else errors.push_back({"since", "\"since\" must be a non-negative sequence number"});
  }
  std::optional<std::string> tool;
  std::map<std::string, std::string> labels;
  if (auto f = m.if_contains("filter")) {
    if (!f->is_object()) errors.push_back({"filter", "\"filter\" must be an object"});
    else {
      for (const auto& [k, val] : f->as_object()) {
        const std::string key{k};
        if (key == "tool") {
          if (val.is_string()) tool = std::string{val.as_string()};
          else errors.push_back({"filter.tool", "filter \"tool\" must be a string"});
        } else if (key == "labels") {
          if (!val.is_object()) {
            errors.push_back({"filter.labels", "filter \"labels\" must be an object of strings"});
            continue;
          }
          for (const auto& [lk, lv] : val.as_object()) {
            if (lv.is_string()) labels[std::string{lk}] = lv.as_string();
            else errors.push_back({"filter.labels." + std::string{lk},
                                   "filter label \"" + std::string{lk} + "\" must be a string"});
          }
        } else {
          errors.push_back({"filter." + key, "unknown filter \"" + key + "\": expected \"tool\" or \"labels\""});
        }
      }
    }
  }
  std::string whole;
  if (!job_id && !batch_id && !all && !nodes && !m.contains("job_id") && !m.contains("batch_id"))
    whole = "say what to " + (name.empty() ? std::string{"subscribe"} : name) +
            " to: \"job_id\", \"batch_id\", \"all\": true or \"nodes\": true";
  if (!errors.empty() || !whole.empty()) return send_errors(errors, std::move(whole));

  if (nodes && !job_id && !batch_id && !all) {
    // The cluster's nodes joining and leaving (docs/cluster.md): live only,
    // without seq; GET /v1/nodes has the current list. Admins and readers.
    if (name == "subscribe" && who_.role == role::user)
      return send_error("nodes are for admins and readers, not for a user");
    subs_.remove_if([](const sub& s) { return s.what == sub::kind::nodes; });
    if (name == "subscribe") {
      sub s;
      s.what = sub::kind::nodes;
      s.id = next_sub_id_++;
      subs_.push_back(std::move(s));
    }
    return send(json::object{{"type", name == "subscribe" ? "subscribed" : "unsubscribed"}, {"nodes", true}});
  }

  if (name == "unsubscribe") {
    subs_.remove_if([&](const sub& s) {
      if (job_id) return s.what == sub::kind::job && s.job_id == *job_id;
      if (batch_id) return s.what == sub::kind::batch && s.job_id == *batch_id;
      return s.what == sub::kind::all;
    });
    refresh_interest();
    json::object ack{{"type", "unsubscribed"}};
    if (job_id) ack["job_id"] = *job_id;
    else if (batch_id) ack["batch_id"] = *batch_id;
    else ack["all"] = true;
    return send(std::move(ack));
  }

  sub s;
  s.what = job_id ? sub::kind::job : batch_id ? sub::kind::batch : sub::kind::all;
  if (job_id) s.job_id = *job_id;
  else if (batch_id) s.job_id = *batch_id;  // the batch id, for a batch subscription
  s.logs = logs.value_or(false);
  if (tool) s.tool = *tool;
  s.labels = std::move(labels);
  subscribe(std::move(s), since);
}

void stream_session::subscribe(sub s, std::optional<std::uint64_t> since) {
  // Live events pass deliver() from before the starting seq is read;
  // whatever happens below, the interest ends as subs_ is.
  widen_interest(s);
  struct refresh_at_exit {
    stream_session& session;
    ~refresh_at_exit() { session.refresh_interest(); }
  } refresh{*this};
  json::object ack{{"type", "subscribed"}};
  std::uint64_t seq = 0;
  if (s.what == sub::kind::job) {
    if (!actors::looks_like_job_id(s.job_id)) return send_error("no job " + s.job_id);
    auto found = ctx_.eng.get_with_seq(s.job_id);
    if (!found && found.code() == errc::not_found) return send_error("no job " + s.job_id);
    if (!found) throw found.to_error();  // the store failed: guarded() closes resumably
    if (!who_.sees(found->view.owner)) return send_error("no job " + s.job_id);  // another user's
    seq = found->seq;
    ack["job_id"] = s.job_id;
    ack["snapshot"] = render_view(found->view);
    labels_of_[s.job_id] = found->view.labels;
  } else if (s.what == sub::kind::batch) {
    seq = ctx_.eng.last_seq();
    auto batch = ctx_.eng.get_batch(s.job_id);
    if (!batch && batch.code() == errc::not_found) return send_error("no batch " + s.job_id);
    if (!batch) throw batch.to_error();  // the store failed: guarded() closes resumably
    if (!who_.sees(batch->owner)) return send_error("no batch " + s.job_id);  // another user's
    ack["batch_id"] = s.job_id;
    ack["batch_status"] = batch->status;
  } else {
    seq = ctx_.eng.last_seq();
    ack["all"] = true;
  }
  ack["seq"] = seq;
  if (since) {
    const auto oldest = ctx_.eng.events_after(0, 1);
    if (*since > seq) return send_error("since " + std::to_string(*since) + " is ahead of the newest event " +
                                        std::to_string(seq));
    if (!oldest.empty() && *since + 1 < oldest.front().seq)
      return send_error("since " + std::to_string(*since) + " is older than the oldest retained event " +
                        std::to_string(oldest.front().seq));
    ack["since"] = *since;
  }
  // A repeated subscription replaces the earlier one.
  subs_.remove_if([&](const sub& o) { return o.what == s.what && o.job_id == s.job_id; });
  s.id = next_sub_id_++;
  s.last = since.value_or(seq);
  s.replaying = since.has_value();
  subs_.push_back(std::move(s));
  send(std::move(ack));
  if (since) schedule_replay(subs_.back());
}

void stream_session::schedule_replay(sub& s) {
  if (s.replay_scheduled) return;
  s.replay_scheduled = true;
  net::post(ws_.get_executor(), [self = shared_from_this(), id = s.id] { self->replay(id); });
}

stream_session::sub* stream_session::find_sub(std::uint64_t id) {
  for (auto& s : subs_)
    if (s.id == id) return &s;
  return nullptr;
}

void stream_session::replay(std::uint64_t sub_id) {
  sub* s = find_sub(sub_id);
  if (!s || closed_) return;
  s->replay_scheduled = false;
  // A step posted by do_write while the last one was sending: nothing left.
  if (!s->replaying) return;
  // Back-pressure: replay only as fast as the client reads, never filling
  // more than half the queue (the rest is for live events).
  const auto half = ctx_.config.stream_queue_limit / 2;
  if (live_messages_ >= half) return;  // resumed by on_write
  const auto room = std::min(replay_chunk, half - live_messages_);
  std::vector<event> events;
  guarded([&] { events = ctx_.eng.events_after(s->last, room); });
  if (closed_) return;
  for (const auto& e : events) {
    // A replay sends every event: the client asked for this history.
    if (matches(*s, e)) send_event(e, false);
    s->last = e.seq;
  }
  if (events.size() < room) {
    // Caught up with the store: from here on, live events serve it. The
    // client is told, so that it can tell history from what happens now
    // (a follower of a finished job knows it has everything).
    s->replaying = false;
    json::object caught_up{{"type", "caught_up"}};
    if (s->what == sub::kind::job) caught_up["job_id"] = s->job_id;
    else if (s->what == sub::kind::batch) caught_up["batch_id"] = s->job_id;
    else caught_up["all"] = true;
    caught_up["seq"] = s->last;
    send(std::move(caught_up));
    return;
  }
  schedule_replay(*s);
}

bool stream_session::matches(const sub& s, const event& e) {
  if (e.kind == event_kind::log && !s.logs) return false;
  // A user never receives an event of another principal's job, live or
  // replayed, whatever it subscribed to.
  if (!who_.sees(e.owner)) return false;
  if (s.what == sub::kind::nodes) return false;  // node messages come by deliver_node
  if (s.what == sub::kind::job) return e.job_id == s.job_id;
  if (s.what == sub::kind::batch) return e.batch_id == s.job_id;
  if (!s.tool.empty() && e.tool != s.tool) return false;
  if (s.labels.empty()) return true;
  auto it = labels_of_.find(e.job_id);
  if (it == labels_of_.end()) {
    if (labels_of_.size() > 10000) labels_of_.clear();  // a cache, not a record
    auto view = ctx_.eng.get(e.job_id);
    if (!view && view.code() != errc::not_found) {
      // The store cannot be read (the engine fail-stops): like guarded(),
      // tell the client where to resume rather than filter wrongly.
      close_resumable(websocket::close_code::internal_error, "the store failed");
      return false;
    }
    it = labels_of_.emplace(e.job_id, view ? view->labels : std::map<std::string, std::string>{}).first;
  }
  for (const auto& [k, v] : s.labels)
    if (auto l = it->second.find(k); l == it->second.end() || l->second != v) return false;
  return true;
}

bool stream_session::deliver(const std::shared_ptr<const live_event>& e) {
  if (!open_) return false;
  // who_ is fixed before the hub knows the session.
  if (!who_.sees(e->e.owner)) return true;
  std::lock_guard lock{inbox_mutex_};
  if (!interested(e->e)) return true;
  inbox_.push_back(e);
  if (drain_posted_ && write_delay_ && inbox_.size() == held_limit()) {
    // Held events go early once a write's worth waits: a long delay over a
    // busy engine must not turn one window into more than a client's queue
    // may hold. The pending timer then finds the inbox empty, or a newer
    // burst it writes a little early.
    net::post(ws_.get_executor(), [self = shared_from_this()] { self->drain_inbox(); });
  } else if (!drain_posted_) {
    drain_posted_ = true;
    auto drain = net::bind_allocator(handler_allocator<void>(drain_memory_), [self = shared_from_this()] {
      if (self->write_delay_) self->drain_after_delay();
      else self->drain_inbox();
    });
    if (strand_) net::post(*strand_, std::move(drain));
    else net::post(ws_.get_executor(), std::move(drain));
  }
  return true;
}

bool stream_session::interested(const event& e) const {
  if (interest_any_) return true;
  for (const auto& i : interest_) {
    if (e.kind == event_kind::log && !i.logs) continue;
    switch (i.what) {
      case sub::kind::all: return true;
      case sub::kind::job:
        if (e.job_id == i.id) return true;
        break;
      case sub::kind::batch:
        if (e.batch_id == i.id) return true;  // as matches() compares
        break;
      case sub::kind::nodes: break;
    }
  }
  return false;
}

void stream_session::widen_interest(const sub& s) {
  std::lock_guard lock{inbox_mutex_};
  if (interest_.size() >= interest_limit) interest_any_ = true;
  if (!interest_any_) interest_.push_back({s.what, s.job_id, s.logs});
}

void stream_session::refresh_interest() {
  std::vector<interest> now;
  for (const auto& s : subs_)
    if (s.what != sub::kind::nodes) now.push_back({s.what, s.job_id, s.logs});
  std::lock_guard lock{inbox_mutex_};
  interest_any_ = now.size() > interest_limit;
  if (interest_any_) now.clear();
  interest_.swap(now);
}

bool stream_session::deliver_node(std::shared_ptr<const std::string> frame) {
  if (!open_) return false;
  net::post(ws_.get_executor(), [self = shared_from_this(), frame = std::move(frame)] {
    for (const auto& s : self->subs_)
      if (s.what == sub::kind::nodes) return self->enqueue({frame, 0, {}, false});
  });
  return true;
}

void stream_session::drain_after_delay() {
  // drain_posted_ stays set until the drain: events delivered meanwhile
  // only join the inbox.
  write_delay_->expires_after(ctx_.config.stream_write_delay);
  write_delay_->async_wait([self = shared_from_this()](beast::error_code ec) {
    // Cancelled by a close, or by a new wait armed after an early drain
    // (which drains in its turn).
    if (ec != net::error::operation_aborted) self->drain_inbox();
  });
}

void stream_session::mark_closed() {
  closed_ = true;
  open_ = false;  // the hub forgets the session
  if (write_delay_) write_delay_->cancel();  // nothing to write any more
}

std::size_t stream_session::held_limit() const noexcept {
  return std::max<std::size_t>(1, std::min<std::size_t>(256, ctx_.config.stream_queue_limit / 4));
}

void stream_session::drain_inbox() {
  std::vector<std::shared_ptr<const live_event>> events;
  {
    std::lock_guard lock{inbox_mutex_};
    events.swap(inbox_);
    drain_posted_ = false;
  }
  auto& out = ws_.next_layer();
  out.cork();  // the whole burst in one socket write
  for (auto& item : events) {
    // The frame shares the item's allocation and takes over its count: the
    // hub's thread and this one touch that count once each per session.
    const auto& e = item->e;
    const auto* frame = &item->frame;
    on_event(e, std::shared_ptr<const std::string>(std::move(item), frame));
  }
  out.uncork();
}

void stream_session::on_event(const event& e, std::shared_ptr<const std::string> frame) {
  if (closed_) return;
  bool wanted = false;
  for (auto& s : subs_) {
    if (s.replaying || e.seq <= s.last) continue;  // the replay covers it
    if (matches(s, e)) wanted = true;
    s.last = e.seq;
  }
  // Last: once the frame is written and popped, `e` may be gone with it.
  if (wanted) send_event(e, true, std::move(frame));
}

void stream_session::send_event(const event& e, bool coalesce, std::shared_ptr<const std::string> frame) {
  // Closed meanwhile (a subscription's check failed on the store): its
  // queue is gone, and progress_index_ with it.
  if (closed_) return;
  if (!frame) frame = std::make_shared<const std::string>(text_frame(to_json_text(render_event(e))));
  outgoing o{std::move(frame), e.seq, {}, false};
  if (e.kind == event_kind::progress && coalesce) {
    o.progress_of = e.job_id;
    // Latest wins: an older progress of this job still waiting is dropped.
    // It sits before everything queued after it, so order is kept.
    if (auto it = progress_index_.find(e.job_id); it != progress_index_.end()) {
      // Still queued (a written one is out of the index), so never half sent.
      auto& older = queue_[it->second - popped_];
      older.dropped = true;
      tally_.coalesced();
      --live_messages_;
      account(older.frame->size(), false);
    }
    progress_index_[e.job_id] = popped_ + queue_.size();
  }
  enqueue(std::move(o));
}

void stream_session::send(json::object msg) {
  enqueue({std::make_shared<const std::string>(text_frame(to_json_text(msg))), 0, {}, false});
}

void stream_session::enqueue(outgoing o) {
  if (closed_) return;
  account(o.frame->size(), true);
  queue_.push_back(std::move(o));
  ++live_messages_;
  if (live_messages_ > ctx_.config.stream_queue_limit || live_bytes_ > max_queued_bytes ||
      (live_bytes_ > queued_bytes_floor && ctx_.hub.queued_bytes.load(std::memory_order_relaxed) > max_total_queued_bytes))
    return close_behind();
  do_write();
}

stream_session::~stream_session() {
  if (live_bytes_ > 0) ctx_.hub.queued_bytes.fetch_sub(live_bytes_, std::memory_order_relaxed);
}

void stream_session::account(std::size_t n, bool grow) {
  if (grow) {
    live_bytes_ += n;
    ctx_.hub.queued_bytes.fetch_add(n, std::memory_order_relaxed);
  } else {
    live_bytes_ -= n;
    ctx_.hub.queued_bytes.fetch_sub(n, std::memory_order_relaxed);
  }
}

void stream_session::go_away() {
  net::post(ws_.get_executor(), [self = shared_from_this()] {
    self->close_resumable(websocket::close_code::going_away, "the daemon is stopping");
  });
}

void stream_session::store_failed() {
  net::post(ws_.get_executor(), [self = shared_from_this()] {
    self->close_resumable(websocket::close_code::internal_error, "the store failed");
  });
}

void stream_session::revoke() {
  net::post(ws_.get_executor(), [self = shared_from_this()] {
    self->close_resumable(websocket::close_code::policy_error, "the token of this stream was revoked");
  });
}

void stream_session::close_behind() {
  tally_.laggard();
  close_resumable(websocket::close_code::try_again_later, "too far behind");
}

void stream_session::close_resumable(websocket::close_code code, const std::string& why) {
  if (closed_) return;
  // Resume from what the client has for sure: every subscription is served
  // up to last_written_seq_, except replays that have not got that far.
  std::uint64_t resume = last_written_seq_;
  for (const auto& s : subs_)
    if (s.replaying) resume = std::min(resume, s.last);
  {
    // Events held by a write delay were not written, though a replay may
    // have written later seqs meanwhile: resume before the first of them.
    std::lock_guard lock{inbox_mutex_};
    if (!inbox_.empty()) resume = std::min(resume, inbox_.front()->e.seq - 1);
  }
  mark_closed();
  tally_.closing(static_cast<int>(code));
  close_reason_ = websocket::close_reason{code, why + "; resume with since=" + std::to_string(resume)};
  do_close();
}

void stream_session::do_close() {
  queue_.clear();
  progress_index_.clear();
  live_messages_ = 0;
  account(live_bytes_, false);
  ws_.next_layer().uncork_all();  // what is buffered goes out before the close frame
  ws_.async_close(*close_reason_, [self = shared_from_this()](beast::error_code) {});
}

void stream_session::do_write() {
  if (writing_ || closed_) return;
  auto& out = ws_.next_layer();
  out.cork();  // everything appended in this loop leaves in one socket write
  std::uint64_t frames = 0;
  while (!queue_.empty()) {
    auto& front = queue_.front();
    if (!front.dropped) {
      if (!out.has_room()) {
        // The socket has not taken what is buffered: wait, and let the queue
        // (where progress coalesces and the laggard limit applies) grow.
        writing_ = true;
        out.on_room([self = shared_from_this()](beast::error_code ec) { self->on_room(ec); });
        break;
      }
      if (!out.append(*front.frame)) {
        mark_closed();
        break;
      }
      ++frames;
      if (front.seq > last_written_seq_) last_written_seq_ = front.seq;
      if (!front.progress_of.empty()) {
        auto it = progress_index_.find(front.progress_of);
        if (it != progress_index_.end() && it->second == popped_) progress_index_.erase(it);
      }
      --live_messages_;
      account(front.frame->size(), false);
    }
    queue_.pop_front();
    ++popped_;
  }
  tally_.frames_sent(frames);
  out.uncork();
  // Replays paused for back-pressure continue once the queue drains.
  if (!closed_ && live_messages_ <= ctx_.config.stream_queue_limit / 4)
    for (auto& s : subs_)
      if (s.replaying) schedule_replay(s);
}

void stream_session::on_room(beast::error_code ec) {
  writing_ = false;
  if (ec) {
    mark_closed();
    return;
  }
  do_write();
}

}  // namespace overseer::http
