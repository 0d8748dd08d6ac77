#include "overseer/http/server.hpp"

#include <sched.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <thread>
#include <utility>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>

#include "http/finished_views.hpp"
#include "http/http_metrics.hpp"
#include "http/connections.hpp"
#include "http/listener.hpp"
#include "http/ops_context.hpp"
#include "http/owed_answers.hpp"
#include "http/stream_hub.hpp"
#include "http/sync_waits.hpp"
#include "http/tenants.hpp"
#include "tools/thread_name.hpp"

namespace overseer::http {

namespace net = boost::asio;

namespace {

net::ip::tcp::endpoint parse_listen(const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0)
    throw error{errc::invalid_spec, "listen address \"" + listen + "\" is not HOST:PORT"};
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  auto address = net::ip::make_address(host, ec);
  if (ec) throw error{errc::invalid_spec, "listen host \"" + host + "\" is not an IP address"};
  unsigned long port = 0;
  try {
    std::size_t used = 0;
    port = std::stoul(listen.substr(colon + 1), &used);
    if (used != listen.size() - colon - 1 || port > 65535) throw std::out_of_range("port");
  } catch (const std::exception&) {
    throw error{errc::invalid_spec, "listen port in \"" + listen + "\" is not 0-65535"};
  }
  return {address, static_cast<unsigned short>(port)};
}

// Settings that would make the server unusable or unsafe are refused
// before anything listens.
void check_config(const server_config& c) {
  for (std::size_t i = 0; i < c.tokens.size(); ++i) {
    const auto& t = c.tokens[i];
    const bool printable = std::all_of(t.begin(), t.end(), [](char ch) {
      const auto u = static_cast<unsigned char>(ch);
      return u > 0x20 && u != 0x7F;
    });
    // An empty token would satisfy the non-loopback guard while any client
    // could present it ("Bearer "); a token with spaces or control
    // characters can never arrive intact in an Authorization header.
    if (t.empty())
      throw error{errc::invalid_spec, "bearer token " + std::to_string(i + 1) + " is empty; a token must not be empty"};
    if (!printable)
      throw error{errc::invalid_spec, "bearer token " + std::to_string(i + 1) +
                                        " contains whitespace or control characters"};
  }
  using std::chrono::milliseconds;
  for (auto [name, value] : {std::pair{"header_timeout", c.header_timeout}, {"body_timeout", c.body_timeout},
                             {"idle_timeout", c.idle_timeout}})
    if (value <= milliseconds::zero())
      throw error{errc::invalid_spec, std::string{name} + " must be positive, not " + std::to_string(value.count()) + " ms"};
  for (auto [name, value] : {std::pair{"max_connections", c.max_connections}, {"max_streams", c.max_streams},
                             {"stream_message_limit", c.stream_message_limit}, {"body_limit", c.body_limit}})
    if (value == 0) throw error{errc::invalid_spec, std::string{name} + " must be at least 1"};
  if (c.stream_write_delay < milliseconds::zero() || c.stream_write_delay > std::chrono::seconds(1))
    throw error{errc::invalid_spec, "stream_write_delay must be 0 to 1000 ms, not " +
                                      std::to_string(c.stream_write_delay.count()) + " ms"};
}

}  // namespace

struct server::impl {
  engine& eng;
  server_config config;
  tenants tenancy{eng, config.tokens, config.principals};
  stream_hub hub{eng, [this](const event& e) { tenancy.observe(e); }};
  connections open;
  ops_context ops;
  sync_waits waits;
  std::shared_ptr<finished_views> finished = std::make_shared<finished_views>(config.finished_cache_bytes);
  api_context ctx{eng, config, hub, open, &ops, &tenancy, &waits, finished.get()};
  // An io_context per I/O thread, each run by its thread alone, and a
  // connection stays on the one it was accepted into. With one context
  // shared by every thread, Asio hands its reactor from thread to thread:
  // a request answered one at a time woke the other I/O thread two or
  // three times on its way (perf sched), each a futex wake-up and a
  // context switch. Run by one thread, a context needs none of that: what
  // a handler posts stays on its thread, and a post from another thread
  // (an answer from the engine) wakes just the one that owns the socket.
  std::vector<std::unique_ptr<net::io_context>> contexts;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> keep_running;
  std::shared_ptr<listener> accept;
  std::vector<std::thread> threads;
  net::ip::tcp::endpoint bound;

  impl(engine& e, server_config cfg) : eng(e), config(std::move(cfg)) {
    for (int i = 0; i < std::max(1, config.threads); ++i) {
      contexts.push_back(std::make_unique<net::io_context>(1));
      // A context with no connection yet must not return from run().
      keep_running.push_back(net::make_work_guard(*contexts.back()));
    }
  }
  [[nodiscard]] std::vector<net::io_context*> homes() const {
    std::vector<net::io_context*> out;
    for (const auto& c : contexts) out.push_back(c.get());
    return out;
  }
};

namespace {

/// Runs `ioc` on this thread until it is stopped. With `spin`, the thread
/// first polls for more work for that long after each piece of work,
/// yielding the CPU between polls, while the engine's idle polling is on
/// (engine::idle_polling_allowed: the queue keeps up); only then does it
/// sleep in epoll. The next request of a client that sends one at a time
/// then finds it awake: on a VM the wake-up of a sleeping thread on the
/// other core (an inter-processor interrupt) cost more than the request.
/// While a request of its own waits for an answer the engine has due (a
/// submit being synced: owed_answers, engine::answers_due), it polls on,
/// up to engine::expecting_cap, so that the answer finds it awake too.
void run_io(net::io_context& ioc, std::chrono::microseconds spin, const engine& eng, http_metrics& stats) {
  if (spin.count() <= 0) {
    ioc.run();
    return;
  }
  const auto owed = net::use_service<owed_answers>(ioc).count;
  while (!ioc.stopped()) {
    if (ioc.poll() > 0) continue;
    bool found = false;
    if (eng.idle_polling_allowed()) {
      auto now = std::chrono::steady_clock::now();
      auto until = now + spin;
      const auto cap = now + engine::expecting_cap;
      bool expecting = false;
      for (;;) {
        ::sched_yield();
        if (ioc.poll() > 0) {
          found = true;
          break;
        }
        if (ioc.stopped()) break;
        now = std::chrono::steady_clock::now();
        if (now < until) continue;
        // An answer on its way (a submit being synced) that comes back
        // through this thread: poll on for it, up to the cap.
        if (now >= cap || owed->load(std::memory_order_relaxed) <= 0 || !eng.answers_due()) break;
        expecting = true;
        until = now + spin;
      }
      (found ? (expecting ? stats.idle_polls_expected : stats.idle_polls_caught) : stats.idle_polls_missed).add();
    }
    if (!found) ioc.run_one();
  }
}

}  // namespace

server::server(engine& e, server_config cfg)
  // The settings first: a refused one is reported whatever the engine's state.
  : impl_((check_config(cfg), std::make_unique<impl>(e, std::move(cfg)))) {
  auto& d = *impl_;
  d.ops.log = d.config.log;
  const auto at = parse_listen(d.config.listen);
  if (!at.address().is_loopback() && d.config.tokens.empty() && d.config.principals.empty() &&
      !d.config.allow_insecure)
    throw error{errc::invalid_spec, "refusing to listen on " + d.config.listen +
                                      " without bearer tokens; configure tokens or allow insecure listening"};
  try {
    d.accept = std::make_shared<listener>(d.homes(), at, d.ctx);
  } catch (const boost::system::system_error& ex) {
    throw error{errc::invalid_spec, "cannot listen on " + d.config.listen + ": " + ex.code().message()};
  }
  d.bound = d.accept->local_endpoint();
  if (d.config.metrics) {
    try {
      d.ops.engine = std::make_unique<metrics::engine_metrics>(d.eng);
    } catch (const error&) {
      // An engine not started yet: /metrics answers without its figures.
    }
  }
  // The writer names every job it changes before anybody is told: the
  // kept answers of those go (http/finished_views.hpp).
  d.eng.watch_job_changes([kept = std::weak_ptr{d.finished}](std::span<const std::string_view> ids, bool any) {
    if (auto f = kept.lock()) f->changed(ids, any);
  });
  d.accept->run();
  for (auto& c : d.contexts) d.threads.emplace_back([&d, ioc = c.get()] {
    tools::name_this_thread("ovs.http");
    run_io(*ioc, d.config.idle_spin, d.eng, d.ops.http);
  });
}

server::~server() { stop(); }

std::uint16_t server::port() const noexcept { return impl_->bound.port(); }

void server::set_principals(std::vector<principal> principals) {
  auto& d = *impl_;
  d.tenancy.set(std::move(principals));
  // Requests authenticate one by one; an open stream would keep the
  // principal it opened with: close those whose token no longer holds.
  d.hub.revoke([&](const identity& who) { return d.tenancy.still_valid(who); });
}

std::string server::url() const {
  const auto a = impl_->bound.address();
  const std::string host = a.is_v6() ? "[" + a.to_string() + "]" : a.to_string();
  return "http://" + host + ":" + std::to_string(port());
}

void server::drain() {
  auto& d = *impl_;
  if (d.threads.empty() || d.ops.draining.exchange(true)) return;
  d.accept->stop();
  d.waits.drain();  // `?wait=` requests are answered now, as at their deadline
  d.hub.close_all();
}

void server::close_streams_store_failed() {
  auto& d = *impl_;
  if (d.threads.empty()) return;
  // New upgrades get a 503 from here on, so no stream opens only to be cut
  // at stop() without its close frame; requests are still answered.
  d.ops.draining = true;
  d.hub.fail_all();
}

std::size_t server::unanswered() const { return impl_->open.owing(); }

std::size_t server::open_streams() const { return impl_->open.stream_count(); }

void server::stop() {
  auto& d = *impl_;
  if (d.threads.empty()) return;
  d.waits.drain();  // answered while the sessions can still write; none is called later
  d.hub.stop();  // no more posts to sessions once the I/O threads stop
  d.accept->stop();
  for (auto& c : d.contexts) c->stop();
  for (auto& t : d.threads) t.join();
  d.threads.clear();
  d.ops.blocking.join();  // a pause or resume in progress answers first
  d.ops.listings.join();  // and a listing
  d.ops.scrape.join();    // a /metrics being rendered reads d.ops.engine
  d.ops.engine.reset();
  // Sessions still owing answers can write none now; they go while the
  // io_context their sockets belong to still exists.
  d.open.release_all();
}

}  // namespace overseer::http
