#include "actors/worker_node.hpp"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>

#include "actors/attempt.hpp"
#include "actors/attempt_pool.hpp"
#include "actors/cluster.hpp"
#include "actors/cluster_messages.hpp"
#include "actors/coordinator.hpp"
#include "overseer/engine.hpp"
#include "overseer/errc.hpp"

namespace overseer::actors {

namespace {

/// A running attempt's reports, sent to its proxy on the scheduler node.
class remote_sink final : public attempt_sink {
public:
  remote_sink(caf::actor_system& system, caf::actor proxy, std::chrono::milliseconds timeout,
              std::shared_ptr<attempt_control> control)
    : system_(system), proxy_(std::move(proxy)), timeout_(timeout), control_(std::move(control)) {}

  void progress(int attempt, overseer::progress p) override {
    remote_progress m{attempt, p.percent, p.current_step, p.total_steps, std::move(p.step_name), -1};
    if (p.estimated_completion)
      m.eta_ms = std::chrono::duration_cast<std::chrono::milliseconds>(p.estimated_completion->time_since_epoch()).count();
    caf::anon_send(proxy_, std::move(m));
  }
  void log(int attempt, log_level level, std::string message) override {
    unconfirmed_bytes_.fetch_add(message.size(), std::memory_order_relaxed);
    caf::anon_send(proxy_, remote_log{attempt, static_cast<std::int32_t>(level), std::move(message)});
    unconfirmed_lines_.fetch_add(1, std::memory_order_relaxed);
  }
  /// Backpressure across the cluster: once so many lines (or bytes) went out since the
  /// last barrier, wait until the scheduler node has written them, so a
  /// tool that prints faster than that store writes waits here (its pipe
  /// fills) instead of queueing lines in this node's memory. A stop or the
  /// timeout ends the wait.
  void wait_for_log_room(int attempt) override {
    if (unconfirmed_lines_.load(std::memory_order_relaxed) < attempt_control::max_unwritten_lines &&
        unconfirmed_bytes_.load(std::memory_order_relaxed) < attempt_control::max_unwritten_bytes)
      return;
    unconfirmed_lines_.store(0, std::memory_order_relaxed);
    unconfirmed_bytes_.store(0, std::memory_order_relaxed);
    (void)ask(remote_log_barrier{attempt});
  }
  bool checkpoint(int attempt, std::string bytes) override {
    return ask(remote_checkpoint{attempt, std::move(bytes)});
  }
  bool record_process(int attempt, int process_group, std::uint64_t start_time) override {
    return ask(remote_process{attempt, process_group, start_time});
  }

private:
  /// Blocks this pool thread (never a CAF thread) until the scheduler node
  /// answers. No answer in time, a lost connection, or a stop of the
  /// attempt (this node left the cluster) is "not durable".
  template <class Message>
  bool ask(Message m) {
    caf::scoped_actor self{system_};
    self->monitor(proxy_);
    self->send(proxy_, std::move(m));  // the proxy's answer comes back as a message
    const auto deadline = std::chrono::steady_clock::now() + timeout_;
    bool ok = false;
    bool done = false;  // set by the handlers below
    while (!done)
      self->receive([&](bool durable) { ok = durable, done = true; }, [&](caf::error&) { done = true; },
                    [&](caf::down_msg&) { done = true; },
                    caf::after(std::chrono::milliseconds{100}) >> [&] {
                      done = control_->stop_requested() || std::chrono::steady_clock::now() > deadline;
                    });
    return ok;
  }

  caf::actor_system& system_;
  caf::actor proxy_;
  std::chrono::milliseconds timeout_;
  std::shared_ptr<attempt_control> control_;
  std::atomic<std::size_t> unconfirmed_lines_{0};  ///< log lines sent since the last barrier
  std::atomic<std::size_t> unconfirmed_bytes_{0};  ///< and their bytes
};

/// The attempts running on this node, shared by the worker actor, the pool
/// tasks and the membership loop.
struct running_attempts {
  std::mutex mutex;
  std::condition_variable idle;
  std::map<std::pair<std::string, int>, std::shared_ptr<attempt_control>> controls;

  std::size_t stop_all() {
    std::lock_guard lock{mutex};
    for (auto& [key, c] : controls) c->request_stop();
    return controls.size();
  }
  void wait_idle() {
    std::unique_lock lock{mutex};
    idle.wait(lock, [&] { return controls.empty(); });
  }
};

struct worker_deps {
  const worker_node_config* config;
  tool_registry* tools;
  attempt_pool* pool;
  running_attempts* running;
  std::string node_name;
};

remote_finished encode(int attempt, const tool_result& r) {
  remote_finished f{attempt, static_cast<std::int32_t>(r.what()), {}};
  if (r.what() == tool_result::kind::value) f.payload = boost::json::serialize(r.value());
  else f.payload = r.message();
  return f;
}

void run_one(caf::actor_system& system, const worker_deps& d, run_remote m,
             std::shared_ptr<attempt_control> control) {
  const auto key = std::make_pair(m.job_id, static_cast<int>(m.attempt));
  remote_finished done{m.attempt, static_cast<std::int32_t>(tool_result::kind::crashed), {}};
  auto tool = d.tools->find(m.tool);
  boost::system::error_code ec;
  auto params = boost::json::parse(m.params_json, ec);
  const auto workdir = attempt_workdir(d.config->work_dir, m.job_id, static_cast<int>(m.attempt));
  if (!tool || tool->definition.version != m.tool_version) {
    done.payload = "tool \"" + m.tool + "\" version " + m.tool_version + " is not on node " + d.node_name;
  } else if (ec || !params.is_object()) {
    done.payload = "the params sent to node " + d.node_name + " are unreadable";
  } else {
    attempt_args args{{}, tool, m.job_id, m.attempt, std::move(params.as_object()),
                      m.has_checkpoint ? std::optional<std::string>{m.checkpoint} : std::nullopt, control,
                      std::chrono::milliseconds{m.progress_interval_ms},
                      std::make_shared<const std::filesystem::path>(d.config->work_dir), m.trace_id};
    args.sink = std::make_shared<remote_sink>(system, m.reply_to, d.config->heartbeat_timeout * 6, control);
    auto end = run_attempt(args);
    done = encode(m.attempt, end.result);
  }
  // Scratch goes before the end is reported: a retry that the report lets
  // the scheduler node send here at once must not find its job's directory
  // half removed. remove() takes the job's directory only once it is empty.
  std::error_code rm;
  std::filesystem::remove_all(workdir, rm);
  std::filesystem::remove(workdir.parent_path(), rm);
  caf::anon_send(m.reply_to, std::move(done));
  std::lock_guard lock{d.running->mutex};
  d.running->controls.erase(key);
  d.running->idle.notify_all();
}

caf::behavior worker_behavior(caf::event_based_actor* self, worker_deps d) {
  return {
    [=](run_remote& m) {
      auto control = std::make_shared<attempt_control>();
      {
        std::lock_guard lock{d.running->mutex};
        d.running->controls[{m.job_id, m.attempt}] = control;
      }
      auto& system = self->home_system();
      d.pool->run([&system, d, m = std::move(m), control]() mutable { run_one(system, d, std::move(m), control); });
    },
    [=](stop_remote& m) {
      std::lock_guard lock{d.running->mutex};
      if (auto it = d.running->controls.find({m.job_id, m.attempt}); it != d.running->controls.end())
        it->second->request_stop();
    },
  };
}

std::pair<std::string, std::uint16_t> split_join(const std::string& join) {
  const auto colon = join.rfind(':');
  int port = -1;
  if (colon != std::string::npos) try {
      std::size_t used = 0;
      port = std::stoi(join.substr(colon + 1), &used);
      if (used != join.size() - colon - 1) port = -1;
    } catch (const std::exception&) {
    }
  if (colon == std::string::npos || colon == 0 || port < 1 || port > 65535)
    throw error(errc::invalid_spec, "join must be HOST:PORT with a port from 1 to 65535, not \"" + join + "\"");
  auto host = join.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return {host, static_cast<std::uint16_t>(port)};
}

/// remote_actor with a deadline: CAF's own waits for as long as the
/// scheduler node takes to answer, which is forever for a frozen one.
caf::expected<caf::actor> connect(caf::actor_system& system, bool tls, const std::string& host, std::uint16_t port,
                                  std::chrono::milliseconds timeout) {
  const auto mm = tls ? system.openssl_manager().actor_handle() : system.middleman().actor_handle();
  caf::scoped_actor self{system};
  caf::expected<caf::actor> result{caf::make_error(caf::sec::request_timeout)};
  self->request(mm, timeout, caf::connect_atom_v, host, port)
    .receive(
      [&](caf::node_id&, caf::strong_actor_ptr& ptr, std::set<std::string>&) {
        if (ptr) result = caf::actor_cast<caf::actor>(std::move(ptr));
        else result = caf::make_error(caf::sec::no_actor_published_at_port);
      },
      [&](caf::error& e) { result = std::move(e); });
  return result;
}

/// Sleeps `d`, or less if `stop` is set meanwhile.
void pause_for(std::chrono::milliseconds d, const std::atomic<bool>& stop) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (!stop && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::min(std::chrono::milliseconds{50}, d));
}

}  // namespace

void run_worker_node(const worker_node_config& config, tool_registry& tools, const std::atomic<bool>& stop) {
  const auto [host, port] = split_join(config.join);
  const int tls = !config.cert_file.empty() + !config.key_file.empty() + !config.ca_file.empty();
  if (tls != 0 && tls != 3)
    throw error(errc::invalid_spec, "cluster TLS needs all of cluster_cert, cluster_key and cluster_ca");
  if (config.capacity < 0) throw error(errc::invalid_spec, "capacity must be 0 or more");
  const std::string name = config.name.empty() ? host_name() : config.name;
  caf::actor_system_config cfg;
  register_types(cfg);
  // As the engine's own system: two workers, a short polling phase, and the
  // clock that wakes only for actors with timeouts (an idle worker node
  // should cost nothing but its heartbeats).
  cfg.set("scheduler.max-threads", std::int64_t{2});
  cfg.set("work-stealing.moderate-poll-attempts", std::int64_t{1});
  use_engine_coordinator(cfg);
  cfg.load<caf::io::middleman>();
  cfg.set("middleman.heartbeat-interval", caf::timespan{config.heartbeat_interval});
  cfg.set("middleman.connection-timeout", caf::timespan{config.heartbeat_timeout});
  for (const auto* f : {&config.cert_file, &config.key_file, &config.ca_file})
    if (!f->empty() && !std::filesystem::is_regular_file(*f))
      throw error(errc::invalid_spec, "cannot read " + *f);  // CAF's OpenSSL module would hang on it
  if (tls) {
    cfg.load<caf::openssl::manager>();
    cfg.openssl_certificate = config.cert_file;
    cfg.openssl_key = config.key_file;
    cfg.openssl_cafile = config.ca_file;
  }
  caf::actor_system system{cfg};
  // Destroyed in reverse: the pool (which waits for its tasks) goes before
  // what its tasks use, and the actor system last.
  running_attempts running;
  attempt_pool pool;
  worker_deps deps{&config, &tools, &pool, &running, name};
  auto worker = system.spawn(worker_behavior, deps);
  node_hello hello{name, host_name(), config.capacity, {}, {}, worker, cluster_protocol};
  for (const auto& [k, v] : config.labels) hello.labels.push_back(k + "=" + v);
  for (const auto& def : tools.list()) hello.tools.push_back(def.name + "@" + def.version);
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const std::chrono::milliseconds first_backoff{200}, max_backoff{10000};
  auto backoff = first_backoff;
  auto wait_before_retry = [&] {
    // Full jitter: many workers that lost one scheduler node do not all
    // knock at the same moment when it comes back.
    std::uniform_int_distribution<long> jitter{backoff.count() / 2, backoff.count()};
    pause_for(std::chrono::milliseconds{jitter(rng)}, stop);
    backoff = std::min(max_backoff, backoff * 2);
  };
  while (!stop) {
    auto cluster = connect(system, tls, host, port, config.heartbeat_timeout);
    if (!cluster) {
      report(config.log, log_level::warning, "worker", "cannot reach the scheduler node",
             {{"join", config.join}, {"error", system.render(cluster.error())}});
      wait_before_retry();
      continue;
    }
    // `self` only watches the connection. Every request (the hello, each
    // heartbeat) goes out from a scoped actor of its own: CAF 0.17 never
    // cancels a request's timeout, which arrives heartbeat_timeout after the
    // request even when the answer came long before, and a blocking actor's
    // plain receive skips such a late response and keeps it. In `self`
    // each one would restart the wait for the next heartbeat (heartbeats
    // then came up to heartbeat_timeout apart, and the node was dropped as
    // silent), and the skipped ones would pile up in its mailbox for as
    // long as the node is a member.
    caf::scoped_actor self{system};
    self->monitor(*cluster);
    std::uint64_t session = 0;
    std::string why;
    {
      caf::scoped_actor asker{system};
      asker->request(*cluster, config.heartbeat_timeout, hello)
        .receive([&](std::uint64_t s) { session = s; }, [&](caf::error& e) { why = system.render(e); });
    }
    if (session == 0) {
      report(config.log, log_level::warning, "worker", "the scheduler node refused this node",
             {{"join", config.join}, {"error", why}});
      wait_before_retry();
      continue;
    }
    backoff = first_backoff;
    report(config.log, log_level::info, "worker", "joined the cluster",
           {{"join", config.join}, {"node", name}, {"session", std::to_string(session)}});
    if (config.on_joined) config.on_joined(session);
    bool member = true;
    while (member && !stop) {
      // To a deadline: whatever else reaches `self` does not put it off.
      const auto next = std::chrono::steady_clock::now() + config.heartbeat_interval;
      for (auto now = std::chrono::steady_clock::now(); member && !stop && now < next;
           now = std::chrono::steady_clock::now())
        self->receive(
          [&](caf::down_msg&) {
            member = false;
            why = "connection lost";
          },
          caf::after(std::chrono::ceil<std::chrono::milliseconds>(next - now)) >> [] {});
      if (!member || stop) break;
      caf::scoped_actor asker{system};
      asker->request(*cluster, config.heartbeat_timeout, node_heartbeat{name, session})
        .receive(
          [&](bool known) {
            if (!known) {
              member = false;
              why = "the scheduler node ended this membership";
            }
          },
          [&](caf::error& e) {
            member = false;
            why = "heartbeat not answered: " + system.render(e);
          });
    }
    // The scheduler node has given up (or will give up) every attempt that
    // runs here: stop them, and join again only once they have returned.
    const auto n = running.stop_all();
    running.wait_idle();
    if (!stop)
      report(config.log, log_level::warning, "worker", "left the cluster",
             {{"node", name}, {"reason", why}, {"stopped_attempts", std::to_string(n)}});
    if (!stop) wait_before_retry();
  }
  {
    // The worker actor first, and wait for its end: a run_remote it takes
    // meanwhile must not reach a pool that is going.
    caf::scoped_actor self{system};
    self->monitor(worker);
    caf::anon_send_exit(worker, caf::exit_reason::user_shutdown);
    self->receive([](const caf::down_msg&) {});
  }
  running.stop_all();
  running.wait_idle();
}

}  // namespace overseer::actors
