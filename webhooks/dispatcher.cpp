#include "webhooks/dispatcher.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>
#include <unordered_map>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>
#include <rocksdb/db.h>

#include "overseer/errc.hpp"
#include "persistence/bounded_iterator.hpp"
#include "persistence/codec.hpp"
#include "persistence/group_commit.hpp"
#include "persistence/store.hpp"
#include "tools/thread_name.hpp"
#include "webhooks/outbox.hpp"
#include "webhooks/signing.hpp"
#include "webhooks/url.hpp"

namespace overseer::webhooks {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using persistence::family;
using persistence::kv_op;

delivery_statistics& statistics() {
  static delivery_statistics s;
  return s;
}

namespace {

/// Jobs whose heads one scan looks at, at most: the outbox is read in pages.
constexpr std::size_t page_size = 256;
/// Re-read the whole outbox this often even without a wake (and recount it).
constexpr std::chrono::seconds tick{30};

std::string default_render(const event& e) {
  return boost::json::serialize(
    boost::json::object{{"type", to_string(e.kind)}, {"seq", e.seq}, {"job_id", e.job_id}});
}

/// One delivery in flight.
struct delivery {
  std::string job_id;
  std::uint64_t seq = 0;
  std::uint8_t target = 0;
  delivery_state state;
  std::string event_bytes;
  std::string destination;  ///< destination_of(state.url)
};

/// "host:port" of a URL, the unit the dispatcher shares its slots between:
/// the host in lower case, an IPv6 literal in brackets, the port always
/// written. A URL that does not parse is its own destination.
std::string destination_of(const std::string& url) {
  std::string why;
  auto u = parse_url(url, why);
  if (!u) return url;
  std::string host = u->host;
  for (auto& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return host + ":" + u->port;
}

/// The Host header: the port only when it is not the scheme's, an IPv6
/// literal in brackets (RFC 9110 7.2, RFC 3986 3.2.2).
std::string host_header(const url_parts& u) {
  std::string out = u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
  if (u.port != (u.tls ? "443" : "80")) out += ":" + u.port;
  return out;
}

/// Whether `host` is an IP address rather than a name: no SNI for it
/// (RFC 6066 3). Digits and dots alone count too ("127.1"): the resolver
/// reads those as an address, and no DNS name is all digits.
bool ip_literal(const std::string& host) {
  beast::error_code ec;
  (void)asio::ip::make_address(host, ec);
  return !ec || std::all_of(host.begin(), host.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

}  // namespace

struct dispatcher::impl : std::enable_shared_from_this<impl> {
  persistence::store& db;
  persistence::group_commit& writer;
  webhook_config cfg;
  log_sink log;
  ssl::context tls{ssl::context::tls_client};  // before ioc: streams use it until ioc goes
  asio::io_context ioc;
  asio::executor_work_guard<asio::io_context::executor_type> work{ioc.get_executor()};
  asio::steady_timer timer{ioc};
  std::thread thread;
  // The io thread's own:
  std::set<std::string> in_flight;  ///< jobs with a delivery under way
  /// Deliveries in flight per destination (destination_of), and when one
  /// last started there (a count of starts): who gets a free slot first.
  struct load {
    int busy = 0;
    std::uint64_t last_start = 0;
  };
  std::unordered_map<std::string, load> destinations;
  std::uint64_t starts = 0;
  // A sweep reads the outbox from the beginning to the end once, a page per
  // scan(); while every slot is taken it waits, and a finishing delivery
  // goes on with it from `cursor`.
  std::string cursor;     ///< where the sweep's next page starts; empty: the beginning
  bool sweeping = false;  ///< a sweep is under way
  std::optional<time_point> sweep_earliest;  ///< the soonest retry it saw
  bool scan_posted = false;
  std::chrono::steady_clock::time_point recounted = std::chrono::steady_clock::now();
  std::atomic<bool> stopping{false};  ///< set by stop(), read on the io thread
  std::mt19937_64 rng{std::random_device{}()};
  std::atomic<bool> wake_posted{false};

  impl(persistence::store& d, persistence::group_commit& w, webhook_config c, log_sink l)
    : db(d), writer(w), cfg(std::move(c)), log(std::move(l)) {
    if (!cfg.render) cfg.render = default_render;
    tls.set_default_verify_paths();
    tls.set_verify_mode(ssl::verify_peer);
  }

  void start() {
    asio::post(ioc, [this] {
      recount();
      scan_soon();
    });
    thread = std::thread([this] {
      tools::name_this_thread("ovs.webhooks");
      ioc.run();
    });
  }

  void recount() {
    std::int64_t n = 0;
    try {
      auto it = persistence::bounded_iterator::over_prefix(db.db(), db.handle(family::webhooks), keys::pending_prefix);
      for (it->Seek(keys::pending_prefix); it->Valid() && it->key().starts_with(keys::pending_prefix); it->Next()) ++n;
    } catch (const std::exception&) {
      return;
    }
    statistics().pending = n;
  }

  void scan_soon() {
    if (scan_posted || stopping) return;
    scan_posted = true;
    asio::post(ioc, [this] {
      scan_posted = false;
      scan();
    });
  }

  void arm(std::chrono::steady_clock::duration wait) {
    if (stopping) return;
    timer.expires_after(std::min<std::chrono::steady_clock::duration>(wait, tick));
    timer.async_wait([this](beast::error_code ec) {
      if (!ec) on_timer();  // else re-armed or stopped
    });
  }

  void on_timer() {
    if (timer.expiry() > std::chrono::steady_clock::now()) return;
    // The gauge drifts when retention deletes rows: recounted at most every
    // tick, not at every backoff timer.
    if (std::chrono::steady_clock::now() - recounted >= tick) {
      recounted = std::chrono::steady_clock::now();
      recount();
    }
    scan_soon();
  }

  /// The most deliveries one destination may have in flight: all slots but
  /// one, so a receiver that never answers leaves a slot to the others.
  [[nodiscard]] int per_destination() const { return std::max(1, cfg.concurrency - 1); }

  /// One page of the outbox: the due heads of jobs not in flight on it are
  /// started, as many as there are free slots, fairly (start_fairly).
  void scan() {
    if (stopping || !writer.healthy()) return;
    if (in_flight.size() >= static_cast<std::size_t>(cfg.concurrency)) return;  // a finishing delivery scans again
    if (!sweeping) {
      sweeping = true;
      cursor.clear();
      sweep_earliest.reset();
    }
    const auto now = clock::now();
    std::vector<delivery> due;
    std::size_t seen = 0;
    bool page_full = false;
    std::string next;
    try {
      auto it = persistence::bounded_iterator::over_prefix(db.db(), db.handle(family::webhooks), keys::pending_prefix);
      it->Seek(cursor.empty() ? std::string{keys::pending_prefix} : cursor);
      std::string job;
      std::uint64_t seq = 0;
      std::uint8_t target = 0;
      while (it->Valid() && it->key().starts_with(keys::pending_prefix)) {
        if (seen >= page_size) {
          page_full = true;
          next = it->key().ToString();
          break;
        }
        const auto key = it->key().ToStringView();
        if (!keys::split(key, job, seq, target)) {
          it->Next();
          continue;
        }
        ++seen;
        if (!in_flight.contains(job)) {
          delivery d;
          std::string_view bytes;
          if (!split_pending(it->value().ToStringView(), d.state, bytes)) {
            report(log, log_level::error, "webhooks", "an unreadable outbox row was dropped", {{"job_id", job}});
            drop(job, seq, target);
          } else if (d.state.next_attempt_at && *d.state.next_attempt_at > now) {
            if (!sweep_earliest || *d.state.next_attempt_at < *sweep_earliest) sweep_earliest = d.state.next_attempt_at;
          } else {
            d.job_id = job;
            d.seq = seq;
            d.target = target;
            d.event_bytes.assign(bytes);
            d.destination = destination_of(d.state.url);
            due.push_back(std::move(d));
          }
        }
        it->Seek(keys::job_end('o', job));  // the job's later rows wait for this one
      }
      if (!it->status().ok()) return;  // the store reports it; the engine fail-stops
    } catch (const std::exception&) {
      return;
    }
    start_fairly(due);
    if (!page_full) {
      // The sweep is over: the timer wakes for the soonest retry it saw (a
      // finishing delivery and new rows start the next one sooner). Not
      // straight into the next sweep: with every job waiting for a retry,
      // that would read the outbox over and over.
      sweeping = false;
      cursor.clear();
      const auto wait = sweep_earliest
                            ? std::chrono::duration_cast<std::chrono::steady_clock::duration>(*sweep_earliest - now)
                            : std::chrono::steady_clock::duration{tick};
      arm(std::max<std::chrono::steady_clock::duration>(wait, std::chrono::milliseconds(1)));
      return;
    }
    cursor = std::move(next);
    if (in_flight.size() < static_cast<std::size_t>(cfg.concurrency)) scan_soon();
    // else: a finishing delivery goes on with the sweep
  }

  /// Starts deliveries of `due` (one page's due heads, in outbox order from
  /// the cursor) while slots are free. Each free slot goes to the
  /// destination with the fewest deliveries in flight, then the one that
  /// started one longest ago; within it, to the delivery due the longest
  /// (a retry due later than another job's new event waits behind it). No
  /// destination gets more than per_destination().
  void start_fairly(std::vector<delivery>& due) {
    std::vector<bool> taken(due.size(), false);
    const int cap = per_destination();
    const load idle{};
    while (in_flight.size() < static_cast<std::size_t>(cfg.concurrency)) {
      std::optional<std::size_t> best;
      const load* best_load = nullptr;
      for (std::size_t i = 0; i < due.size(); ++i) {
        if (taken[i]) continue;
        auto found = destinations.find(due[i].destination);
        const load& l = found == destinations.end() ? idle : found->second;
        if (l.busy >= cap) continue;
        if (best) {
          const auto& b = due[*best];
          const auto when = due[i].state.next_attempt_at.value_or(time_point{});
          const auto best_when = b.state.next_attempt_at.value_or(time_point{});
          if (std::tie(l.busy, l.last_start, when) >= std::tie(best_load->busy, best_load->last_start, best_when))
            continue;  // ties: the earlier in outbox order
        }
        best = i;
        best_load = &l;
      }
      if (!best) return;
      taken[*best] = true;
      begin(std::move(due[*best]));
    }
  }

  void drop(const std::string& job, std::uint64_t seq, std::uint8_t target) {
    persistence::job_write w;
    w.ops.push_back({kv_op::kind::erase, family::webhooks, keys::pending(job, seq, target), {}});
    writer.write({std::move(w)}, [](bool) {});
    statistics().pending.fetch_sub(1);
  }

  void begin(delivery d);
  void finish(std::shared_ptr<delivery> d, int code, std::string error);
  void finished(const std::string& job, const std::string& destination);
};

namespace {

/// One HTTP exchange of one delivery: resolve, connect, (TLS handshake),
/// write, read, all before one deadline.
class exchange : public std::enable_shared_from_this<exchange> {
public:
  using done_fn = std::function<void(int code, std::string error)>;

  exchange(asio::io_context& ioc, ssl::context& tls, url_parts url, bhttp::request<bhttp::string_body> req,
           std::chrono::milliseconds timeout, done_fn done)
    : resolver_(ioc), timer_(ioc), url_(std::move(url)), req_(std::move(req)), timeout_(timeout), done_(std::move(done)) {
    if (url_.tls) tls_.emplace(ioc, tls);
    else plain_.emplace(ioc);
  }

  void run() {
    deadline_ = std::chrono::steady_clock::now() + timeout_;
    timer_.expires_at(deadline_);
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->resolver_.cancel();  // connect, write and read have the stream's own expiry
    });
    resolver_.async_resolve(url_.host, url_.port, [self = shared_from_this()](beast::error_code ec, tcp::resolver::results_type r) {
      if (ec) return self->end(0, ec == asio::error::operation_aborted ? "timed out resolving the host" : "cannot resolve the host: " + ec.message());
      self->lowest().expires_at(self->deadline_);
      self->lowest().async_connect(r, [self](beast::error_code ec, const tcp::endpoint&) {
        if (ec) return self->end(0, self->why("cannot connect", ec));
        if (self->tls_) return self->handshake();
        self->write(*self->plain_);
      });
    });
  }

private:
  beast::tcp_stream& lowest() { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }

  std::string why(const char* what, const beast::error_code& ec) {
    if (ec == beast::error::timeout) return std::string{"timed out: "} + what;
    return std::string{what} + ": " + ec.message();
  }

  void handshake() {
    auto* native = tls_->native_handle();
    // SNI for a name (never for an address, RFC 6066 3), and the
    // certificate must name the host (an address: in its subjectAltName).
    if (!ip_literal(url_.host) && !SSL_set_tlsext_host_name(native, url_.host.c_str()))
      return end(0, "cannot set the TLS server name");
    tls_->set_verify_callback(ssl::host_name_verification(url_.host));
    tls_->async_handshake(ssl::stream_base::client, [self = shared_from_this()](beast::error_code ec) {
      if (ec) return self->end(0, self->why("TLS handshake failed", ec));
      self->write(*self->tls_);
    });
  }

  template <class Stream>
  void write(Stream& s) {
    bhttp::async_write(s, req_, [self = shared_from_this(), &s](beast::error_code ec, std::size_t) {
      if (ec) return self->end(0, self->why("cannot send", ec));
      self->read(s, 0);
    });
  }

  /// Reads the answer's status line and headers: they decide the outcome,
  /// and its body, of any size, is not read (the connection is closed).
  /// Interim (1xx) answers, such as a 100 Continue the receiver sends
  /// unasked, come before the final one (RFC 9110 15.2): each is passed
  /// over, a few at most; the deadline bounds the rest.
  template <class Stream>
  void read(Stream& s, int interim) {
    parser_.emplace();
    bhttp::async_read_header(s, buffer_, *parser_, [self = shared_from_this(), &s, interim](beast::error_code ec, std::size_t) {
      auto& p = *self->parser_;
      if (ec || !p.is_header_done()) return self->end(0, self->why("no answer", ec));
      const int code = static_cast<int>(p.get().result_int());
      if (code >= 100 && code < 200 && code != 101 && interim < max_interim) return self->read(s, interim + 1);
      self->end(code, "");
    });
  }
  static constexpr int max_interim = 8;

  void end(int code, std::string error) {
    timer_.cancel();
    beast::error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    if (auto d = std::exchange(done_, nullptr)) d(code, std::move(error));
  }

  tcp::resolver resolver_;
  asio::steady_timer timer_;
  std::optional<beast::tcp_stream> plain_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
  url_parts url_;
  bhttp::request<bhttp::string_body> req_;
  std::chrono::milliseconds timeout_;
  std::chrono::steady_clock::time_point deadline_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::response_parser<bhttp::empty_body>> parser_;
  done_fn done_;
};

}  // namespace

void dispatcher::impl::begin(delivery d) {
  auto shared = std::make_shared<delivery>(std::move(d));
  // A job deleted by retention takes its rows with it; one left behind by a
  // race with that deletion is dropped here.
  try {
    if (!db.get_job(shared->job_id)) return drop(shared->job_id, shared->seq, shared->target);
  } catch (const std::exception&) {
    return;
  }
  in_flight.insert(shared->job_id);
  auto& l = destinations[shared->destination];
  l.busy += 1;
  l.last_start = ++starts;
  std::string why;
  auto url = parse_url(shared->state.url, why);
  auto e = persistence::decode_event(shared->event_bytes);
  if (!url) return finish(shared, 0, "the URL is not usable: " + why);
  if (!e) return finish(shared, 0, "the stored event is unreadable: " + e.error);
  bhttp::request<bhttp::string_body> req{bhttp::verb::post, url->target, 11};
  req.set(bhttp::field::host, host_header(*url));
  req.set(bhttp::field::user_agent, "overseer-webhooks/1");
  req.set(bhttp::field::content_type, "application/json");
  req.set(bhttp::field::connection, "close");
  req.set("Overseer-Delivery", delivery_id(shared->seq, shared->target));
  req.set("Overseer-Event", to_string(e.value->kind));
  req.set("Overseer-Job", shared->job_id);
  req.body() = cfg.render(*e.value);
  if (!cfg.secret.empty()) req.set("Overseer-Signature", signature_header(cfg.secret, req.body()));
  req.prepare_payload();
  statistics().attempts.fetch_add(1);
  auto x = std::make_shared<exchange>(ioc, tls, std::move(*url), std::move(req), cfg.timeout,
                                      [this, shared](int code, std::string error) { finish(shared, code, std::move(error)); });
  x->run();
}

void dispatcher::impl::finish(std::shared_ptr<delivery> d, int code, std::string error) {
  if (stopping) return;  // left in the outbox: the next start delivers it again
  auto& s = d->state;
  s.attempts += 1;
  s.last_status_code = code;
  s.last_error = code != 0 && (code < 200 || code > 299) && error.empty() ? "HTTP " + std::to_string(code) : error;
  const auto now = clock::now();
  persistence::job_write w;
  const bool ok = code >= 200 && code <= 299;
  if (ok || s.attempts >= cfg.max_attempts) {
    s.status = ok ? "delivered" : "failed";
    s.next_attempt_at.reset();
    if (ok) s.delivered_at = now;
    w.ops.push_back({kv_op::kind::erase, family::webhooks, keys::pending(d->job_id, d->seq, d->target), {}});
    w.ops.push_back({kv_op::kind::put, family::webhooks, keys::finished(d->job_id, d->seq, d->target), encode_state(s)});
    if (ok) statistics().delivered.fetch_add(1);
    else {
      statistics().failed.fetch_add(1);
      report(log, log_level::warning, "webhooks",
             "gave up a webhook delivery after " + std::to_string(s.attempts) + " attempts: " + s.last_error,
             {{"job_id", d->job_id}, {"delivery", delivery_id(d->seq, d->target)}, {"url", s.url}});
    }
  } else {
    const double unit = std::uniform_real_distribution<double>{0.0, 1.0}(rng);
    s.next_attempt_at = now + backoff(s.attempts, cfg.initial_backoff, cfg.max_backoff, unit);
    w.ops.push_back({kv_op::kind::put, family::webhooks, keys::pending(d->job_id, d->seq, d->target),
                     encode_pending(s, d->event_bytes)});
  }
  const bool done = s.status != "pending";
  // Not for a job that retention deleted while the attempt ran.
  w.only_if_job_kept = d->job_id;
  // The job's next delivery starts once this outcome is durable.
  writer.write({std::move(w)}, [self = shared_from_this(), job = d->job_id, to = d->destination, done](bool written) {
    asio::post(self->ioc, [raw = self.get(), job, to, done, written] {
      raw->finished(job, to);
      if (!written) return;  // the writer failed: the engine fail-stops
      if (done) statistics().pending.fetch_sub(1);
      raw->scan_soon();
    });
  });
}

void dispatcher::impl::finished(const std::string& job, const std::string& destination) {
  in_flight.erase(job);
  auto it = destinations.find(destination);
  if (it != destinations.end() && --it->second.busy <= 0 && destinations.size() > 1024) {
    // Forget idle destinations now and then: only their turn is lost.
    std::erase_if(destinations, [](const auto& kv) { return kv.second.busy <= 0; });
  }
}

dispatcher::dispatcher(persistence::store& db, persistence::group_commit& writer, webhook_config cfg, log_sink log)
  : impl_(std::make_shared<impl>(db, writer, std::move(cfg), std::move(log))) {
  impl_->start();
}

dispatcher::~dispatcher() { stop(); }

void dispatcher::wake(std::size_t rows) {
  statistics().pending.fetch_add(static_cast<std::int64_t>(rows));
  if (impl_->wake_posted.exchange(true)) return;
  asio::post(impl_->ioc, [raw = impl_.get()] {
    raw->wake_posted = false;
    raw->scan_soon();
  });
}

void dispatcher::stop() {
  if (!impl_->thread.joinable()) return;
  impl_->stopping = true;
  impl_->work.reset();
  impl_->ioc.stop();
  impl_->thread.join();
}

std::vector<delivery_view> read_deliveries(persistence::store& db, std::string_view job_id) {
  std::map<std::pair<std::uint64_t, std::uint8_t>, delivery_view> found;
  for (char kind : {'d', 'o'}) {
    const auto end = keys::job_end(kind, job_id);
    persistence::bounded_iterator it{db.db(), db.handle(family::webhooks), keys::job_begin(kind, job_id), end};
    std::string job;
    std::uint64_t seq = 0;
    std::uint8_t target = 0;
    for (it->Seek(keys::job_begin(kind, job_id)); it->Valid() && it->key().compare(end) < 0; it->Next()) {
      if (!keys::split(it->key().ToStringView(), job, seq, target) || job != job_id) continue;
      delivery_state s;
      std::string_view bytes;
      bool read = false;
      if (kind == 'o') read = split_pending(it->value().ToStringView(), s, bytes);
      else if (auto st = decode_state(it->value().ToStringView())) {
        s = std::move(*st);
        read = true;
      }
      if (!read) continue;
      found[{seq, target}] = delivery_view{delivery_id(seq, target), seq, s.kind, s.url, s.attempts, s.status,
                                           s.last_status_code, s.last_error, s.next_attempt_at, s.delivered_at};
    }
    if (!it->status().ok()) throw error{errc::store_failure, "cannot read the deliveries: " + it->status().ToString()};
  }
  std::vector<delivery_view> out;
  out.reserve(found.size());
  for (auto& [k, v] : found) out.push_back(std::move(v));
  return out;
}

}  // namespace overseer::webhooks
