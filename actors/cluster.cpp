#include "actors/cluster.hpp"

#include <algorithm>

#include <dlfcn.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <map>
#include <unordered_map>
#include <vector>

#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "overseer/errc.hpp"
#include "tools/utf8.hpp"

namespace overseer::actors {

namespace {

// -- the attempt proxy -------------------------------------------------------

struct proxy_state {
  static inline const char* name = "overseer.attempt_proxy";
  proxy_args args;
  std::unordered_map<std::uint64_t, caf::response_promise> waiting;  ///< durable answers, by token
  std::uint64_t next_token = 0;
  bool over = false;
};

using proxy_ptr = caf::stateful_actor<proxy_state>*;

/// Answers a durable request of the worker once, whatever happens to the
/// message that carries it: a callback dropped uncalled (the job actor has
/// gone) answers false.
class answer_once {
public:
  answer_once(caf::actor proxy, std::uint64_t token) : state_(std::make_shared<state>(std::move(proxy), token)) {}
  void operator()(bool ok) const { state_->answer(ok); }

private:
  struct state {
    state(caf::actor p, std::uint64_t t) : proxy(std::move(p)), token(t) {}
    state(const state&) = delete;
    state& operator=(const state&) = delete;
    ~state() { answer(false); }
    void answer(bool ok) {
      if (!done.exchange(true)) caf::anon_send(proxy, proxy_durable{token, ok});
    }
    caf::actor proxy;
    std::uint64_t token;
    std::atomic<bool> done{false};
  };
  std::shared_ptr<state> state_;
};

/// The attempt is over for this node: the slot goes back.
void release(proxy_ptr self) {
  auto& st = self->state;
  if (st.over) return;
  st.over = true;
  self->send(st.args.scheduler, attempt_exited{st.args.runner, st.args.run.attempt, false, std::nullopt, nullptr});
  for (auto& [token, rp] : st.waiting) rp.deliver(false);
  st.waiting.clear();
  self->quit();
}

void interrupt(proxy_ptr self, const std::string& why) {
  auto& st = self->state;
  if (st.over) return;
  // First: the scheduler must not place the job on the same lost node again
  // while the cluster actor's word is on its way. (The job actor's job_ready
  // is caused by the message below, so it reaches the scheduler after this.)
  self->send(st.args.scheduler, node_lost{st.args.node, st.args.session, why});
  self->send(st.args.job, attempt_interrupted{st.args.run.attempt, "node lost: " + st.args.node + " (" + why + ")"});
  release(self);
}

template <class Make>
caf::result<bool> durable(proxy_ptr self, Make make) {
  auto& st = self->state;
  const auto token = ++st.next_token;
  auto rp = self->make_response_promise<bool>();
  st.waiting.emplace(token, rp);
  self->send(st.args.job, make(answer_once{caf::actor_cast<caf::actor>(self), token}));
  return rp;
}

caf::behavior proxy_behavior(proxy_ptr self, proxy_args args) {
  auto& st = self->state;
  st.args = std::move(args);
  const auto me = caf::actor_cast<caf::actor>(self);
  self->set_down_handler([self](caf::down_msg&) { interrupt(self, "connection lost"); });
  self->monitor(st.args.worker);
  self->send(st.args.cluster, proxy_attached{st.args.node, st.args.session, me});
  st.args.control->on_stop([me] { caf::anon_send(me, proxy_stop{}); });
  st.args.run.reply_to = me;
  self->send(st.args.worker, st.args.run);
  const int attempt = st.args.run.attempt;
  return {
    [=](remote_progress& m) {
      overseer::progress p;
      p.percent = m.percent;
      p.current_step = m.current_step;
      p.total_steps = m.total_steps;
      p.step_name = std::move(m.step_name);
      // Text from another machine is made valid UTF-8 before it is stored
      // or sent, as a local attempt's is (actors/attempt.cpp).
      tools::sanitize_utf8_in_place(p.step_name);
      if (m.eta_ms >= 0) p.estimated_completion = time_point{std::chrono::milliseconds{m.eta_ms}};
      self->send(self->state.args.job, progress_reported{attempt, std::move(p)});
    },
    [=](remote_log& m) {
      const auto level = static_cast<log_level>(std::clamp(m.level, 0, static_cast<int>(log_level::critical)));
      tools::sanitize_utf8_in_place(m.message);
      self->send(self->state.args.job, log_reported{attempt, level, std::move(m.message)});
    },
    [=](remote_log_barrier&) -> caf::result<bool> {
      return durable(self, [&](answer_once done) { return log_barrier{attempt, done}; });
    },
    [=](remote_checkpoint& m) -> caf::result<bool> {
      return durable(self, [&](answer_once done) { return save_checkpoint{attempt, std::move(m.bytes), done}; });
    },
    [=](remote_process& m) -> caf::result<bool> {
      return durable(self, [&](answer_once done) {
        return record_process{attempt, m.process_group, m.start_time, done, true};
      });
    },
    [=](proxy_durable& m) {
      auto& st = self->state;
      if (auto it = st.waiting.find(m.token); it != st.waiting.end()) {
        it->second.deliver(m.ok);
        st.waiting.erase(it);
      }
    },
    [=](remote_finished& m) {
      tools::sanitize_utf8_in_place(m.payload);  // a value's JSON text is checked by the parser too
      std::optional<tool_result> r;
      switch (static_cast<tool_result::kind>(m.kind)) {
        case tool_result::kind::value: {
          boost::system::error_code ec;
          auto v = boost::json::parse(m.payload, ec);
          r = ec ? tool_result::crashed("the worker sent an unreadable result") : tool_result{std::move(v)};
          break;
        }
        case tool_result::kind::failure: r = tool_result::failure(std::move(m.payload)); break;
        case tool_result::kind::stopped: r = tool_result::stopped(std::move(m.payload)); break;
        default: r = tool_result::crashed(std::move(m.payload)); break;
      }
      self->send(self->state.args.job, attempt_finished{attempt, std::move(r)});
      release(self);
    },
    [=](node_gone& m) { interrupt(self, m.reason); },
    [=](proxy_stop) {
      auto& st = self->state;
      self->send(st.args.worker, stop_remote{st.args.run.job_id, attempt});
    },
  };
}

// -- the cluster actor -------------------------------------------------------

struct member {
  std::uint64_t session = 0;
  caf::actor worker;
  std::chrono::steady_clock::time_point last;
  std::vector<caf::actor> proxies;
};

struct cluster_state {
  static inline const char* name = "overseer.cluster";
  cluster_actor_config config;
  caf::actor scheduler;
  std::map<std::string, member> members;
  std::uint64_t next_session = 0;
};

using cluster_ptr = caf::stateful_actor<cluster_state>*;

void lose(cluster_ptr self, const std::string& name, const std::string& reason) {
  auto& st = self->state;
  auto it = st.members.find(name);
  if (it == st.members.end()) return;
  auto m = std::move(it->second);
  st.members.erase(it);
  self->demonitor(m.worker);
  for (auto& p : m.proxies) self->send(p, node_gone{reason});
  if (st.scheduler) self->send(caf::actor_cast<scheduler_actor>(st.scheduler), node_lost{name, m.session, reason});
}

/// "name@version" -> (name, version); the version is after the last '@'.
std::pair<std::string, std::string> split_tool(const std::string& s) {
  const auto at = s.rfind('@');
  if (at == std::string::npos) return {s, {}};
  return {s.substr(0, at), s.substr(at + 1)};
}

caf::behavior cluster_behavior(cluster_ptr self, cluster_actor_config config) {
  self->state.config = std::move(config);
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    for (auto& [name, m] : st.members) {
      if (m.worker.address() == dm.source) {
        const std::string n = name;  // lose() erases the entry
        lose(self, n, "connection lost");
        return;
      }
      auto& ps = m.proxies;
      ps.erase(std::remove_if(ps.begin(), ps.end(), [&](const caf::actor& p) { return p.address() == dm.source; }),
               ps.end());
    }
  });
  const auto tick = std::max(std::chrono::milliseconds{50}, self->state.config.heartbeat_timeout / 4);
  self->delayed_send(self, tick, cluster_tick{});
  return {
    [=](cluster_start& m) { self->state.scheduler = std::move(m.scheduler); },
    [=](node_hello& m) -> caf::result<std::uint64_t> {
      auto& st = self->state;
      if (m.protocol != cluster_protocol)
        return caf::make_error(caf::sec::runtime_error, "cluster protocol " + std::to_string(m.protocol) +
                                                          " is not this node's " + std::to_string(cluster_protocol));
      if (m.name.empty() || m.name.size() > 200 || m.capacity < 0 || m.capacity > 100000 || !m.worker)
        return caf::make_error(caf::sec::runtime_error, "a node needs a name (at most 200 bytes), a capacity "
                                                        "from 0 to 100000 and an actor");
      if (!st.scheduler) return caf::make_error(caf::sec::runtime_error, "the scheduler node is starting");
      // What a node says of itself reaches GET /v1/nodes, /metrics and the stream.
      for (auto* text : {&m.name, &m.host}) tools::sanitize_utf8_in_place(*text);
      for (auto& l : m.labels) tools::sanitize_utf8_in_place(l);
      for (auto& t : m.tools) tools::sanitize_utf8_in_place(t);
      // A node that rejoins under its name ends its earlier membership:
      // whatever ran there is interrupted and runs again.
      lose(self, m.name, "rejoined");
      member mem;
      mem.session = ++st.next_session;
      mem.worker = m.worker;
      mem.last = std::chrono::steady_clock::now();
      self->monitor(mem.worker);
      node_view v;
      v.name = m.name;
      v.address = m.host;
      v.capacity = m.capacity;
      v.joined_at = v.last_heartbeat = clock::now();
      for (const auto& l : m.labels)
        if (auto eq = l.find('='); eq != std::string::npos) v.labels[l.substr(0, eq)] = l.substr(eq + 1);
      for (const auto& t : m.tools) {
        auto [name, version] = split_tool(t);
        v.tools[name] = version;
      }
      const auto session = mem.session;
      st.members.emplace(m.name, std::move(mem));
      self->send(caf::actor_cast<scheduler_actor>(st.scheduler), node_joined{std::move(v), m.worker, session});
      return session;
    },
    [=](node_heartbeat& m) -> bool {
      auto& st = self->state;
      auto it = st.members.find(m.name);
      if (it == st.members.end() || it->second.session != m.session) return false;  // rejoin
      it->second.last = std::chrono::steady_clock::now();
      self->send(caf::actor_cast<scheduler_actor>(st.scheduler), node_seen{m.name, m.session, clock::now()});
      return true;
    },
    [=](proxy_attached& m) {
      auto& st = self->state;
      auto it = st.members.find(m.node);
      if (it == st.members.end() || it->second.session != m.session) {
        self->send(m.proxy, node_gone{"the node left before the attempt started"});
        return;
      }
      self->monitor(m.proxy);
      it->second.proxies.push_back(std::move(m.proxy));
    },
    [=](cluster_tick) {
      auto& st = self->state;
      const auto now = std::chrono::steady_clock::now();
      std::vector<std::string> late;
      for (const auto& [name, m] : st.members)
        if (now - m.last > st.config.heartbeat_timeout) late.push_back(name);
      for (const auto& name : late)
        lose(self, name,
             "no heartbeat for " + std::to_string(st.config.heartbeat_timeout.count()) + " ms");
      self->delayed_send(self, tick, cluster_tick{});
    },
  };
}

std::pair<std::string, std::uint16_t> split_listen(const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) throw error(errc::invalid_spec, "cluster_listen must be HOST:PORT, not " + listen);
  auto host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = -1;
  try {
    std::size_t used = 0;
    port = std::stoi(listen.substr(colon + 1), &used);
    if (used != listen.size() - colon - 1) port = -1;
  } catch (const std::exception&) {
  }
  if (host.empty() || port < 0 || port > 65535)
    throw error(errc::invalid_spec, "cluster_listen must be HOST:PORT with a port from 0 to 65535, not " + listen);
  return {host, static_cast<std::uint16_t>(port)};
}

}  // namespace

caf::actor spawn_cluster_actor(caf::actor_system& system, cluster_actor_config config) {
  return system.spawn(cluster_behavior, std::move(config));
}

void spawn_attempt_proxy(caf::actor_system& system, proxy_args args) {
  system.spawn(proxy_behavior, std::move(args));
}

void unpublish_cluster(const caf::actor& cluster, std::uint16_t port, bool tls) {
  if (tls) {
    // Debian's caf/openssl/unpublish.hpp does not compile: ask the OpenSSL
    // module's middleman actor directly, as that header means to.
    caf::anon_send(cluster.home_system().openssl_manager().actor_handle(), caf::unpublish_atom_v, cluster.address(),
                   port);
  } else {
    (void)caf::io::unpublish(cluster, port);
  }
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == 0) return "localhost";
  return buf;
}

bool loopback_host(const std::string& listen) {
  const auto colon = listen.rfind(':');
  auto host = colon == std::string::npos ? listen : listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}

std::uint16_t publish_cluster(const caf::actor& cluster, const std::string& listen, bool tls) {
  const auto [host, port] = split_listen(listen);
  auto bound = tls ? caf::openssl::publish(cluster, port, host.c_str(), true)
                   : caf::io::publish(cluster, port, host.c_str(), true);
  if (!bound)
    throw error(errc::invalid_spec, "cannot listen for workers on " + listen + ": " +
                                      cluster.home_system().render(bound.error()));
  return *bound;
}

}  // namespace overseer::actors

// CAF 0.17's OpenSSL sessions (libcaf_openssl) call SSL_read, SSL_write,
// SSL_connect and SSL_accept without clearing the thread's OpenSSL error
// queue first, and read the outcome with SSL_get_error, which looks at that
// queue. All sessions share the middleman's one thread, so the error a dead
// peer leaves (unexpected EOF) made the next read of another, healthy
// connection look failed: killing one worker dropped the others (seen in
// tests/recovery/cluster_test.cpp). OpenSSL requires an empty queue before
// each of these calls (SSL_get_error(3)); these definitions, which the
// executable exports in place of libssl's, empty it and call libssl's.
// Every other caller in the process (the webhooks' https) gets the same
// documented precondition.
namespace {
template <class Fn>
Fn next_ssl_symbol(const char* name) {
  void* f = ::dlsym(RTLD_NEXT, name);
  if (!f) std::abort();  // libssl is linked: it is always there
  return reinterpret_cast<Fn>(f);
}
}  // namespace

extern "C" {

int SSL_read(SSL* ssl, void* buf, int num) {
  static const auto real = next_ssl_symbol<int (*)(SSL*, void*, int)>("SSL_read");
  ERR_clear_error();
  return real(ssl, buf, num);
}

int SSL_write(SSL* ssl, const void* buf, int num) {
  static const auto real = next_ssl_symbol<int (*)(SSL*, const void*, int)>("SSL_write");
  ERR_clear_error();
  return real(ssl, buf, num);
}

int SSL_connect(SSL* ssl) {
  static const auto real = next_ssl_symbol<int (*)(SSL*)>("SSL_connect");
  ERR_clear_error();
  return real(ssl);
}

int SSL_accept(SSL* ssl) {
  static const auto real = next_ssl_symbol<int (*)(SSL*)>("SSL_accept");
  ERR_clear_error();
  return real(ssl);
}

}  // extern "C"
