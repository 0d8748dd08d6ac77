// The engine facade: validates requests on the caller's thread, hands them
// to the scheduler, and reads straight from the store.
#include "overseer/engine.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>
#include <rocksdb/db.h>

#include "actors/attempt.hpp"
#include "actors/await_callback.hpp"
#include "actors/cluster.hpp"
#include "actors/coordinator.hpp"
#include "actors/estimates.hpp"
#include "actors/event_bus.hpp"
#include "actors/file_service.hpp"
#include "actors/janitor.hpp"
#include "actors/job_waiters.hpp"
#include "actors/fingerprint.hpp"
#include "actors/job_id.hpp"
#include "actors/messages.hpp"
#include "actors/scheduler.hpp"
#include "persistence/commit_stats.hpp"
#include "persistence/file_store.hpp"
#include "persistence/group_commit.hpp"
#include "persistence/key_layout.hpp"
#include "persistence/record_view.hpp"
#include "persistence/store.hpp"
#include "tools/builtin_tools.hpp"
#include "tools/param_schema.hpp"
#include "tools/process.hpp"
#include "tools/spec_limits.hpp"
#include "tools/time_text.hpp"
#include "tools/trace_context.hpp"
#include "tools/tool_registry.hpp"
#include "tools/utf8.hpp"
#include "webhooks/dispatcher.hpp"
#include "webhooks/outbox.hpp"

namespace overseer {

void register_types(caf::actor_system_config& cfg) {
  cfg.add_message_types<caf::id_block::overseer>();
  cfg.add_message_types<caf::id_block::overseer_cluster>();
  cfg.add_message_types<caf::id_block::overseer_cluster_local>();
}

namespace {

/// Calls a host's callback on an engine thread (the scheduler's, the
/// writer's, the bus's, a timer's), or on the caller's own when a call is
/// answered at once: what it throws is reported through the engine's log
/// sink and goes no further, so a host's bug cannot end the actor or the
/// thread that serves every other caller, and an *_async call never throws
/// what its callback threw (whichever thread answered it).
template <class F, class... Args>
void call_host(const log_sink& log, std::string_view what, F& f, Args&&... args) noexcept {
  try {
    f(std::forward<Args>(args)...);
  } catch (const std::exception& e) {
    report(log, log_level::error, "engine", std::string{what} + " threw; the engine goes on",
           {{"error", tools::sanitize_utf8(e.what())}});
  } catch (...) {
    report(log, log_level::error, "engine", std::string{what} + " threw; the engine goes on",
           {{"error", "not a std::exception"}});
  }
}

/// `f`, called through call_host.
template <class Arg>
std::function<void(Arg)> guarded(std::shared_ptr<const log_sink> log, const char* what, std::function<void(Arg)> f) {
  return [log = std::move(log), what, f = std::move(f)](Arg a) { call_host(*log, what, f, std::move(a)); };
}

/// The latest a wait can end: `timeout` from now, or about a century for
/// any longer timeout (milliseconds::max() included), which no clock
/// arithmetic then overflows.
std::chrono::steady_clock::time_point deadline_after(std::chrono::milliseconds timeout) {
  constexpr std::chrono::milliseconds longest = std::chrono::hours{24 * 365 * 100};
  return std::chrono::steady_clock::now() + std::clamp(timeout, std::chrono::milliseconds{0}, longest);
}

/// The engine (its impl) whose call this thread is inside, if any: a
/// callback run synchronously by one call may make another, which needs
/// no lock of its own; and stop() from inside a call would wait for itself.
thread_local const void* engine_in_call = nullptr;

/// The config of the engine's own actor system; a scheduler node's also
/// loads CAF's middleman, and its OpenSSL module when the cluster port has
/// certificates. One per engine: the idle spin is the engine's own.
/// `done`, counted as an answer due (persistence::answers_due) until it has run.
std::function<void(change_result)> counted(std::function<void(change_result)> done, std::shared_ptr<const log_sink> log) {
  return [done = std::move(done), due = std::make_shared<persistence::due_answer>(), log = std::move(log)](change_result r) {
    call_host(*log, "a change's done callback", done, std::move(r));
    due->done();
  };
}

std::unique_ptr<caf::actor_system_config> system_config(const engine_config& config, actors::spin_gate gate) {
  auto c = std::make_unique<caf::actor_system_config>();
  actors::configure_engine_system(*c, config.idle_spin, std::move(gate));
  const auto& cluster = config.cluster;
  if (cluster.listen.empty()) return c;
  c->load<caf::io::middleman>();
  // BASP's own keep-alive: a peer that sends nothing (frozen, cut off) is
  // dropped, and its actors' monitors fire, after the heartbeat timeout.
  c->set("middleman.heartbeat-interval", caf::timespan{std::chrono::seconds{1}});
  c->set("middleman.connection-timeout", caf::timespan{cluster.heartbeat_timeout});
  if (!cluster.cert_file.empty()) {
    c->load<caf::openssl::manager>();
    c->openssl_certificate = cluster.cert_file;
    c->openssl_key = cluster.key_file;
    c->openssl_cafile = cluster.ca_file;
  }
  return c;
}

/// What is wrong with a cluster config, or nothing.
std::optional<std::string> check_cluster(const cluster_config& c) {
  if (c.listen.empty()) return std::nullopt;
  const int tls = !c.cert_file.empty() + !c.key_file.empty() + !c.ca_file.empty();
  if (tls != 0 && tls != 3)
    return std::string{"cluster TLS needs all of cluster_cert, cluster_key and cluster_ca"};
  for (const auto* f : {&c.cert_file, &c.key_file, &c.ca_file})
    if (!f->empty() && !std::filesystem::is_regular_file(*f)) return "cannot read " + *f;
  if (tls == 0 && !actors::loopback_host(c.listen))
    return "the cluster port " + c.listen +
           " is not on a loopback address: set cluster_cert, cluster_key and cluster_ca (mutual TLS) first";
  if (c.local_capacity < -1) return std::string{"cluster capacity must be 0 or more"};
  return std::nullopt;
}

/// The job's notify row, written with its creation (webhooks/outbox.hpp).
std::vector<persistence::kv_op> notify_ops(const job_spec& spec, const std::string& job_id) {
  if (!spec.notify) return {};
  return {{persistence::kv_op::kind::put, persistence::family::webhooks, webhooks::keys::notify(job_id),
           webhooks::encode_notify(*spec.notify)}};
}

/// Strings inside params (keys and values, at any depth) must be valid
/// UTF-8: a host embedding the engine can build any bytes into a JSON value.
void check_params_text(const boost::json::object& o, const std::string& field, std::vector<field_error>& errors);

void check_params_text(const boost::json::value& v, const std::string& field, std::vector<field_error>& errors) {
  if (errors.size() > 100) return;  // enough to act on; the rest is the same mistake
  if (v.is_string()) {
    if (!tools::valid_utf8(v.get_string())) errors.push_back({field, "is not valid UTF-8"});
  } else if (v.is_double()) {
    // JSON has no NaN or infinity: stored, the params would not read back.
    if (!std::isfinite(v.get_double())) errors.push_back({field, "is not a finite number"});
  } else if (v.is_array()) {
    const auto& a = v.get_array();
    for (std::size_t i = 0; i < a.size(); ++i) check_params_text(a[i], field + "[" + std::to_string(i) + "]", errors);
  } else if (v.is_object()) {
    check_params_text(v.get_object(), field, errors);
  }
}

void check_params_text(const boost::json::object& o, const std::string& field, std::vector<field_error>& errors) {
  for (const auto& [k, x] : o) {
    if (!tools::valid_utf8(k)) errors.push_back({field + "." + tools::sanitize_utf8(k), "name is not valid UTF-8"});
    else check_params_text(x, field + "." + std::string{k}, errors);
  }
}

/// The synchronous API waits on its own asynchronous call; a dropped
/// request answers the fallback.
using actors::await_callback;

const submit_result submit_not_running{errc::not_running, {}, "the engine is stopping", {}, 0, false};
const change_result change_not_running{errc::not_running, "the engine is stopping", {}};

/// The answer to every change once the store has failed.
std::string refusal(const std::string& why) {
  return "the store has failed and accepts no changes until the engine restarts: " + why;
}

}  // namespace

struct engine::impl {
  engine_config config;
  tool_registry tools;
  /// own_system's config (with the middleman on a scheduler node); it must
  /// outlive own_system.
  std::unique_ptr<caf::actor_system_config> system_config;
  /// Shared with own_system's coordinator: the scheduler opens it while the
  /// queue keeps up, and idle workers poll only then.
  actors::spin_gate idle_spin_gate = std::make_shared<std::atomic<bool>>(true);
  std::unique_ptr<caf::actor_system> own_system;
  caf::actor cluster;  ///< the cluster actor workers join; empty without a cluster
  std::uint16_t cluster_port = 0;
  caf::actor_system* system = nullptr;
  std::unique_ptr<persistence::store> store;
  std::shared_ptr<actors::event_bus> bus;  ///< shared: subscriptions may outlive the engine
  std::unique_ptr<actors::job_waiters> waiters;
  subscription waiters_feed;  ///< the bus's terminal transitions to `waiters`
  std::unique_ptr<persistence::group_commit> writer;
  /// watch_job_changes' watchers, given to each writer the engine starts.
  std::mutex watchers_mutex;
  std::vector<persistence::group_commit::changes_fn> change_watchers;  ///< under watchers_mutex
  /// Shared with the writer's outbox callback, which may run until the
  /// writer stops.
  std::shared_ptr<webhooks::dispatcher> hooks;
  actors::scheduler_actor scheduler;
  std::unique_ptr<actors::janitor> cleaner;
  std::unique_ptr<actors::file_service> files;  ///< stored files (include/overseer/files.hpp)
  std::shared_ptr<std::atomic<int>> live_attempts = std::make_shared<std::atomic<int>>(0);
  std::shared_ptr<actors::job_census> job_actors = std::make_shared<actors::job_census>();
  std::unique_ptr<actors::attempt_pool> pool;
  std::atomic<std::uint64_t> cache_hits{0};
  std::atomic<std::uint64_t> cache_misses{0};
  std::mutex lifecycle;
  bool started = false;
  /// The log sink as the host's callbacks' guards hold it (call_host).
  std::shared_ptr<const log_sink> log = std::make_shared<const log_sink>(config.log);

  /// Every call that uses what start() builds is counted in `in_use` for
  /// its duration, and stop() waits for the count to reach zero before it
  /// takes those things down: no call reads a store, a bus or a writer that
  /// is going. `open` is set at the end of start() and cleared first thing
  /// in stop(); a call that finds it cleared is answered "not running"
  /// without waiting. The count is striped by thread, one cache line each,
  /// so that callers on different threads (the I/O threads' reads, the
  /// submitters) do not contend for one line: it costs an uncontended
  /// atomic add and subtract a call.
  struct alignas(64) call_stripe {
    std::atomic<int> calls{0};
  };
  static constexpr std::size_t call_stripes = 16;
  mutable std::array<call_stripe, call_stripes> in_use;
  std::atomic<bool> open{false};

  /// This thread's stripe of in_use.
  static std::size_t my_stripe() noexcept {
    static std::atomic<std::size_t> next{0};
    thread_local const std::size_t mine = next.fetch_add(1, std::memory_order_relaxed) % call_stripes;
    return mine;
  }

  /// An engine call in progress on this thread (see enter()).
  class call {
  public:
    call() = default;
    call(const void* engine, std::atomic<int>* counted)
      : ok_(true), counted_(counted), outer_(std::exchange(engine_in_call, engine)) {}
    call(call&& o) noexcept
      : ok_(std::exchange(o.ok_, false)), counted_(std::exchange(o.counted_, nullptr)), outer_(o.outer_) {}
    call& operator=(call&&) = delete;
    ~call() {
      if (!ok_) return;
      engine_in_call = outer_;
      if (counted_) counted_->fetch_sub(1, std::memory_order_release);
    }
    /// The engine is started, and stays so until this call ends.
    explicit operator bool() const noexcept { return ok_; }

  private:
    bool ok_ = false;
    std::atomic<int>* counted_ = nullptr;
    const void* outer_ = nullptr;
  };

  /// A call's admission: empty (false) when the engine is not started or
  /// is stopping. A call made inside another of this engine on the same
  /// thread (from a callback run synchronously) rides on the outer one.
  [[nodiscard]] call enter() const {
    if (engine_in_call == this) return call{this, nullptr};
    if (!open.load(std::memory_order_acquire)) return {};
    auto& counted = in_use[my_stripe()].calls;
    // Counted, then checked (both sequentially consistent), against stop()'s
    // clear, then check of the counts: either this sees `open` cleared, or
    // stop() sees this call counted and waits for it.
    counted.fetch_add(1, std::memory_order_seq_cst);
    if (!open.load(std::memory_order_seq_cst)) {
      counted.fetch_sub(1, std::memory_order_release);
      return {};
    }
    return call{this, &counted};
  }

  /// Waits until no call is counted (stop(), once `open` is cleared).
  void wait_for_calls() const {
    for (const auto& stripe : in_use)
      while (stripe.calls.load(std::memory_order_seq_cst) != 0)
        std::this_thread::sleep_for(std::chrono::microseconds{200});
  }
  // Set once, by the writer, when it latches (fail-stop); read by every call
  // that would change something.
  std::atomic<bool> failed{false};
  mutable std::mutex failure_mutex;
  std::string failure;

  actors::run_time_cache run_times;

  /// In a cluster, the scheduler's latest list of nodes (deps.on_nodes).
  mutable std::mutex nodes_mutex;
  std::vector<node_view> nodes;
  /// watch_nodes' callbacks, by token, called under its mutex; shared with
  /// the subscriptions, which may outlive the engine.
  struct node_watch_list {
    std::mutex mutex;
    std::map<std::uint64_t, std::function<void(const node_change&)>> watchers;
    std::uint64_t next = 0;
  };
  std::shared_ptr<node_watch_list> node_watchers = std::make_shared<node_watch_list>();

  /// Whether a pending job waits for a node: in a cluster, no connected node
  /// with any capacity offers its tool (at its version) and holds every
  /// label of its node_selector.
  bool waits_for_node(const persistence::job_record& rec) const {
    if (config.cluster.listen.empty() || rec.status != job_status::pending) return false;
    std::lock_guard lock{nodes_mutex};
    for (const auto& n : nodes) {
      if (n.capacity <= 0) continue;
      if (!n.local) {
        auto t = n.tools.find(rec.tool);
        if (t == n.tools.end() || t->second != rec.tool_version) continue;
      }
      bool match = true;
      for (const auto& [k, v] : rec.node_selector)
        if (auto l = n.labels.find(k); l == n.labels.end() || l->second != v) match = false;
      if (match) return false;
    }
    return true;
  }

  /// A tool's typical run time (actors/estimates.hpp); none if unknown or unreadable.
  std::optional<double> typical_run_s(const std::string& tool) {
    try {
      return store ? run_times.typical(*store, tool) : std::nullopt;
    } catch (const std::exception&) {
      return std::nullopt;  // an estimate is never worth a failed answer
    }
  }

  /// Attempts of `tool` that may run at once.
  int slots_of(const std::string& tool) const {
    auto entry = tools.find(tool);
    const bool immediate = entry && entry->definition.mode == tool_mode::immediate;
    const int pool = immediate ? config.immediate_concurrent : config.max_concurrent;
    const int own = entry ? entry->definition.max_concurrent : 0;
    return std::max(1, own > 0 ? std::min(own, pool) : pool);
  }

  /// A view's estimates: when it is expected to end, and the progress
  /// rate's completion time when the tool reports none.
  void add_estimates(job_view& v, const persistence::job_record& rec) {
    if (is_terminal(v.status)) return;
    v.estimated_run_s = typical_run_s(rec.tool);
    const auto now = clock::now();
    std::size_t ahead = 0;
    double elapsed = 0;
    if (v.status == job_status::running && v.started_at) {
      elapsed = std::chrono::duration<double>(now - *v.started_at).count();
      if (!v.progress.estimated_completion)
        if (auto t = actors::completion_from_rate(v.progress.percent, *v.started_at, now)) {
          v.progress.estimated_completion = t;
          v.completion_estimated = true;
        }
    } else if (v.status == job_status::pending) {
      // Unfinished jobs created before it, all tools (they share the global
      // slots; the running ones hold them), up to 10,000.
      ahead = store->count_unfinished_before(rec.id, 10'000);
    }
    v.estimated_duration_s = actors::estimated_duration_s(v.status, v.estimated_run_s, ahead, slots_of(rec.tool), elapsed);
  }

  /// Why changes are refused, if the store has failed.
  [[nodiscard]] std::optional<std::string> store_failure() const {
    if (!failed) return std::nullopt;
    std::lock_guard lock{failure_mutex};
    return refusal(failure);
  }

  /// The writer latched: refuse changes from now on, and tell the host.
  void on_store_failed(const std::string& why) {
    {
      std::lock_guard lock{failure_mutex};
      failure = why;
    }
    failed = true;
    report(config.log, log_level::critical, "store", "the store failed; refusing every change until a restart",
           {{"error", why}});
    if (config.on_store_failure) call_host(config.log, "on_store_failure", config.on_store_failure, why);
  }

  /// The cached result answering `rec`, if a live entry and its result exist.
  std::optional<std::string> cached_result(persistence::job_record& rec) {
    if (!rec.use_cache) return std::nullopt;
    auto entry = store->get_cache(rec.cache_key);
    std::optional<std::string> result;
    if (entry && entry->expires_at > clock::now()) result = store->get_result(entry->source_job_id);
    if (!result) {
      ++cache_misses;
      return std::nullopt;
    }
    ++cache_hits;
    rec.cached_at = entry->stored_at;
    rec.cache_source = entry->source_job_id;
    return result;
  }

  explicit impl(engine_config cfg) : config(std::move(cfg)) {
    validate_engine_config(config);
    // Tools run in per-attempt directories under it: a relative path would
    // mean something else from there.
    config.data_dir = std::filesystem::absolute(config.data_dir);
    if (config.max_concurrent <= 0)
      config.max_concurrent = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    if (config.immediate_concurrent <= 0)
      config.immediate_concurrent = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    if (config.builtin_tools) tools::register_builtin_tools(tools);
  }

  /// A batch's records into `m`, or the field errors that refuse it.
  std::vector<field_error> validate_batch(const batch_spec& spec, actors::submit_batch& m, bool live = true) const;

  /// The stored files a record's params name, by its tool's schema (none
  /// when the tool is gone or the params do not parse).
  [[nodiscard]] std::vector<std::string> record_file_ids(const persistence::job_record& rec) const {
    auto tool = tools.find(rec.tool);
    boost::system::error_code ec;
    auto params = boost::json::parse(rec.params_json, ec);
    if (!tool || ec || !params.is_object()) return {};
    return actors::file_params(tool->definition.params, params.get_object());
  }

  /// A submit's record, or the field errors that refuse it.
  /// `live`: the caller holds a call (enter()), so the store and the files
  /// may be read; without one, dependencies and files count as missing.
  submit_result validate(const job_spec& spec, persistence::job_record& rec,
                         std::vector<std::string>* file_ids = nullptr, bool live = true) const {
    submit_result out;
    auto tool = tools.find(spec.tool);
    if (spec.tool.empty()) {
      out.errors.push_back({"tool", "is required"});
    } else if (!tool) {
      out.errors.push_back(tools::unknown_tool(tools, spec.tool));
    }
    check_params_text(spec.params, "params", out.errors);
    boost::json::object params;
    if (tool) {
      auto errs = tools::validate_params(tool->definition, spec.params, params);
      out.errors.insert(out.errors.end(), errs.begin(), errs.end());
      // A param of type "file" names a stored file that exists now.
      if (errs.empty()) {
        for (const auto& [name, entry] : tool->definition.params) {
          auto ids = actors::file_params(boost::json::object{{name, entry}}, params);
          if (ids.empty()) continue;
          if (!live || !files || !files->get(ids[0]))
            out.errors.push_back({"params." + std::string{name}, "no file " + tools::sanitize_utf8(ids[0])});
          else if (file_ids)
            file_ids->push_back(ids[0]);
        }
      }
    }
    const int priority = spec.priority.value_or(config.default_priority);
    if (auto bad = tools::range_problem(priority, tools::min_priority, tools::max_priority))
      out.errors.push_back({"priority", std::move(*bad)});
    const int ttl = spec.ttl_hours.value_or(config.default_ttl_hours);
    if (auto bad = tools::range_problem(ttl, tools::min_ttl_hours, tools::max_ttl_hours))
      out.errors.push_back({"ttl_hours", std::move(*bad)});
    // In milliseconds, as stored: the spec's, else the tool's, else none (0).
    // Bounded first: seconds::max() in milliseconds overflows (refused below).
    const auto ms_of = [](std::chrono::seconds t) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(std::min(t, tools::max_duration)).count();
    };
    std::int64_t timeout_ms = 0;
    if (spec.timeout) timeout_ms = ms_of(*spec.timeout);
    else if (tool && tool->definition.timeout) timeout_ms = ms_of(*tool->definition.timeout);
    if (spec.timeout && spec.timeout->count() <= 0)
      out.errors.push_back({"timeout_s", "must be positive"});
    else if (spec.timeout && *spec.timeout > tools::max_duration)
      out.errors.push_back({"timeout_s", "is above 1000000000 s"});
    const retry_policy retry = spec.retry ? *spec.retry : (tool ? tool->definition.retry : retry_policy{});
    if (spec.retry) for (auto& e : check_retry_policy(retry)) out.errors.push_back(std::move(e));
    tools::check_labels(spec.labels, out.errors);
    tools::check_labels(spec.node_selector, out.errors, "node_selector");
    tools::check_text("name", spec.name, 0, tools::max_name_chars, out.errors);
    // Dependencies must exist now, so no cycle can ever form.
    std::set<std::string> seen_deps;
    if (spec.depends_on.size() > 1000) out.errors.push_back({"depends_on", "more than 1000 dependencies"});
    for (std::size_t i = 0; i < spec.depends_on.size() && spec.depends_on.size() <= 1000; ++i) {
      const auto& dep = spec.depends_on[i];
      const std::string field = "depends_on[" + std::to_string(i) + "]";
      if (!seen_deps.insert(dep).second) out.errors.push_back({field, "\"" + tools::sanitize_utf8(dep) + "\" is listed twice"});
      else if (!actors::looks_like_job_id(dep) || !live || !store || !store->get_job(dep))
        out.errors.push_back({field, "no job " + tools::sanitize_utf8(dep)});
    }
    if (spec.delay && spec.delay->count() < 0) out.errors.push_back({"delay_s", "must not be negative"});
    else if (spec.delay && *spec.delay > tools::max_duration)
      out.errors.push_back({"delay_s", "is above 1000000000 s"});
    if (spec.delay && spec.run_at) out.errors.push_back({"delay_s", "give run_at or delay_s, not both"});
    // In whole seconds: the year 9999 in nanoseconds overflows.
    if (spec.run_at && (spec.run_at->time_since_epoch() < clock::duration::zero() ||
                        std::chrono::duration_cast<std::chrono::seconds>(spec.run_at->time_since_epoch()) >
                          std::chrono::seconds{253402300799}))
      out.errors.push_back({"run_at", "is not between 1970 and the end of 9999"});
    tools::check_text("idempotency_key", spec.idempotency_key, 0, tools::max_idempotency_key_chars, out.errors);
    tools::check_text("owner", spec.owner, 0, tools::max_name_chars, out.errors);
    if (!spec.trace_id.empty() && !tools::valid_trace_id(spec.trace_id))
      out.errors.push_back({"trace_id", "expected 32 lowercase hex digits, not all zero (a W3C trace id), found \"" +
                                          tools::sanitize_utf8(spec.trace_id) + "\""});
    if (spec.notify) {
      if (auto bad = check_webhook_url(spec.notify->url, config.webhooks.allow))
        out.errors.push_back({"notify.url", std::move(*bad)});
      if (!spec.notify->events.transition && !spec.notify->events.progress && !spec.notify->events.log)
        out.errors.push_back({"notify.events", "must name at least one of transition, progress, log"});
    }
    if (!out.errors.empty()) {
      out.code = (tool || spec.tool.empty()) ? errc::invalid_spec : errc::unknown_tool;
      out.message = "the job spec is invalid";
      return out;
    }
    // One clock read for both: the id's millisecond is then never before
    // created_at, which lets a listing by created_after stop at an id.
    const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(clock::now());
    rec.id = actors::new_job_id(now);
    rec.tool = spec.tool;
    rec.tool_version = tool->definition.version;
    rec.name = spec.name;
    rec.params_json = boost::json::serialize(params);
    rec.priority = priority;
    rec.labels = spec.labels;
    rec.node_selector = spec.node_selector;
    rec.timeout_ms = timeout_ms;
    rec.retry = retry;
    rec.ttl_hours = ttl;
    rec.idempotency_key = spec.idempotency_key;
    rec.owner = spec.owner;
    rec.trace_id = spec.trace_id;
    rec.created_at = now;
    rec.depends_on = spec.depends_on;
    if (spec.run_at) rec.run_at = spec.run_at;
    if (spec.delay) rec.run_at = rec.created_at + *spec.delay;
    rec.use_cache = spec.use_cache;
    if (spec.use_cache) {
      rec.cache_key = actors::cache_key(rec.tool, rec.tool_version, params);
      // A principal's cache answers its own submits only: results do not
      // cross from one tenant to another.
      if (!rec.owner.empty()) rec.cache_key += ":" + rec.owner;
    }
    // Only a repeat of an idempotency key compares fingerprints (the same
    // request, or a conflict): a job without a key keeps 0 and skips the
    // cost, a few µs a submit. With defaults filled in: spelling out a
    // default is the same request.
    if (!spec.idempotency_key.empty()) {
      job_spec as_run = spec;
      as_run.params = params;
      rec.spec_hash = actors::spec_fingerprint(as_run);
    }
    return out;
  }

  /// No new workers, and the cluster actor ends (connected workers see
  /// their attempts stopped).
  void close_cluster() {
    if (!cluster) return;
    if (cluster_port) actors::unpublish_cluster(cluster, cluster_port, !config.cluster.cert_file.empty());
    caf::anon_send_exit(cluster, caf::exit_reason::user_shutdown);
    cluster = nullptr;
    cluster_port = 0;
  }

  /// enter(), or overseer::error (not_running).
  [[nodiscard]] call require_started() const {
    auto c = enter();
    if (!c) throw error{errc::not_running, "the engine is not started"};
    return c;
  }

  /// A reader's answer: `read()` unless the engine is not started or the
  /// store cannot be read (store_failure, never "not found").
  template <class T, class Read>
  result<T> read_result(Read&& read) const {
    const auto in = enter();
    if (!in) return failure_info{errc::not_running, "the engine is not started"};
    try {
      return std::forward<Read>(read)();
    } catch (const error& e) {
      return failure_info{e.code(), e.what(), e.fields()};
    } catch (const std::exception& e) {
      return failure_info{errc::store_failure, e.what()};
    }
  }
};

engine::engine(engine_config cfg) : impl_(std::make_unique<impl>(std::move(cfg))) {
  auto& c = impl_->config.cluster;
  if (c.node_name.empty()) c.node_name = actors::host_name();
  if (!c.listen.empty())
    if (auto bad = check_cluster(c)) throw error(errc::invalid_spec, *bad);
  impl_->system_config = system_config(impl_->config, impl_->idle_spin_gate);
  impl_->own_system = std::make_unique<caf::actor_system>(*impl_->system_config);
  impl_->system = impl_->own_system.get();
}

engine::engine(caf::actor_system& system, engine_config cfg)
  : impl_(std::make_unique<impl>(std::move(cfg))) {
  auto& c = impl_->config.cluster;
  if (c.node_name.empty()) c.node_name = actors::host_name();
  if (auto bad = check_cluster(c)) throw error(errc::invalid_spec, *bad);
  impl_->system = &system;
}

engine::~engine() {
  try {
    stop();
  } catch (const error& e) {
    // Destroyed from its own tool body or from a callback one of its calls
    // runs: nothing can be taken down under them, and nothing can be left.
    report(impl_->config.log, log_level::critical, "engine", "an engine was destroyed from inside itself",
           {{"error", e.what()}});
    std::terminate();
  }
  impl_->own_system.reset();  // waits for every actor, job actors included
}

tool_registry& engine::tools() noexcept { return impl_->tools; }
const engine_config& engine::config() const noexcept { return impl_->config; }

void engine::start() {
  std::lock_guard lock{impl_->lifecycle};
  if (impl_->started) return;
  auto& d = *impl_;
  struct cluster_guard {
    impl& d;
    bool armed = true;
    ~cluster_guard() {
      if (armed) d.close_cluster();
    }
  } guard{d};
  if (!d.config.cluster.listen.empty()) {
    // The cluster port first: if it cannot be had, nothing else has started
    // yet. Workers that knock before recovery is durable are told to come
    // back (the cluster actor has no scheduler until cluster_start). If
    // start() throws, the guard below takes the actor and the port back:
    // an actor left running would hold the actor system's end for ever.
    d.cluster = actors::spawn_cluster_actor(*d.system, {d.config.cluster.heartbeat_timeout, d.config.log});
    d.cluster_port = actors::publish_cluster(d.cluster, d.config.cluster.listen, !d.config.cluster.cert_file.empty());
  }
  d.store = std::make_unique<persistence::store>(
    persistence::store::options{d.config.data_dir, d.config.sync, d.config.min_free_bytes, nullptr, d.config.log,
                                d.config.salvage_store});
  d.failed = false;
  // Recovery reads before anything writes: unfinished jobs, oldest first.
  actors::recover_jobs recovered;
  d.store->for_each_unfinished([&](persistence::job_record&& r) { recovered.jobs.push_back(std::move(r)); });
  std::sort(recovered.jobs.begin(), recovered.jobs.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  // An external process of an attempt may have outlived us (running, or
  // still in its grace period after a cancel): kill its group before
  // anything runs again, but only if it is still that process.
  std::vector<std::string> reaped;
  d.store->for_each_index(persistence::keys::process_prefix, [&](std::string_view key, std::string_view value) {
    int pgid = 0;
    unsigned long long start = 0;
    if (std::sscanf(std::string{value}.c_str(), "%d %llu", &pgid, &start) == 2 && pgid > 0 &&
        tools::kill_orphan_group(pgid, start))
      report(d.config.log, log_level::warning, "recovery", "killed the orphaned process group of an interrupted attempt",
             {{"process_group", std::to_string(pgid)},
              {"job_id", std::string{key.substr(persistence::keys::process_prefix.size())}}});
    reaped.emplace_back(key);
  });
  d.store->for_each_index(persistence::keys::pause_prefix, [&](std::string_view key, std::string_view value) {
    const auto tool = std::string{key.substr(persistence::keys::pause_prefix.size())};
    auto p = persistence::keys::read_tool_pause(value);
    if (!p) p.emplace(clock::now(), "paused before a restart");  // unreadable: still a pause
    report(d.config.log, log_level::warning, "recovery", "tool stays paused: " + p->second,
           {{"tool", tool}, {"paused_since", tools::format_rfc3339(p->first)}});
    recovered.paused.emplace(tool, std::pair{std::move(p->second), p->first});
  });
  d.bus = std::make_shared<actors::event_bus>(d.config.log);
  {
    // Under the mutex watch_job_changes reads the writer with: a watcher
    // added meanwhile is registered once, here or there.
    std::lock_guard lock{d.watchers_mutex};
    d.writer = std::make_unique<persistence::group_commit>(
      *d.store, [bus = d.bus.get()](std::vector<event>&& events) { bus->publish(std::move(events)); },
      [&d](const std::string& why) { d.on_store_failed(why); });
    for (const auto& fn : d.change_watchers) d.writer->watch_changes(fn);
  }
  // Webhooks: before the first write, so every event is seen.
  d.hooks = std::make_shared<webhooks::dispatcher>(*d.store, *d.writer, d.config.webhooks, d.config.log);
  d.writer->set_webhooks(d.config.webhooks.url, d.config.webhooks.events,
                         [w = d.hooks](std::size_t rows) { w->wake(rows); });
  std::set<std::string> batch_ids;
  for (const auto& r : recovered.jobs) {
    if (!r.batch_id.empty() && batch_ids.insert(r.batch_id).second)
      if (auto b = d.store->get_batch(r.batch_id)) recovered.batches.push_back(std::move(*b));
    for (const auto& dep : r.depends_on)
      if (auto rec = d.store->get_job(dep); rec && is_terminal(rec->status)) recovered.finished_deps[dep] = rec->status;
  }
  if (!reaped.empty()) {
    persistence::job_write w;
    for (auto& k : reaped) w.ops.push_back({persistence::kv_op::kind::erase, persistence::family::index, k, {}});
    await_callback<bool>([&](auto cb) { d.writer->write({std::move(w)}, std::move(cb)); }, false);
  }
  d.files = std::make_unique<actors::file_service>(*d.store, *d.writer, d.config.data_dir,
                                                   persistence::files::keep_free(d.config.min_free_bytes));
  d.pool = std::make_unique<actors::attempt_pool>();
  actors::scheduler_deps sd{d.config, d.store.get(), d.writer.get(), &d.tools, d.live_attempts, d.pool.get(), d.cluster};
  sd.job_actors = d.job_actors;
  sd.idle_spin_gate = d.idle_spin_gate;
  if (d.cluster)
    sd.on_nodes = [&d](std::vector<node_view> nodes, std::optional<node_change> change) {
      {
        std::lock_guard lock{d.nodes_mutex};
        d.nodes = std::move(nodes);
      }
      if (!change) return;
      std::lock_guard lock{d.node_watchers->mutex};
      for (const auto& [token, f] : d.node_watchers->watchers) f(*change);
    };
  d.scheduler = actors::spawn_scheduler(*d.system, std::move(sd));
  // start() returns once recovery is durable: whoever reads next sees the
  // interrupted jobs re-queued, not as they were at the crash.
  await_callback<bool>(
    [&](auto cb) {
      recovered.done = std::move(cb);
      caf::anon_send(d.scheduler, std::move(recovered));
    },
    false);
  if (d.cluster) {
    // Workers join once recovery is durable: nothing they run can race it.
    caf::anon_send(d.cluster, actors::cluster_start{caf::actor_cast<caf::actor>(d.scheduler)});
  }
  d.cleaner = std::make_unique<actors::janitor>(*d.store, *d.writer, d.scheduler, d.config,
                                                [files = d.files.get()] { files->sweep(); });
  d.waiters = std::make_unique<actors::job_waiters>();
  // Fed after the host's subscribers, event by event: when wait() returns,
  // each of them has been handed the job's ending.
  d.waiters_feed =
    d.bus->subscribe(filter::all(), [w = d.waiters.get()](const event& e) { w->on_event(e); }, true);
  guard.armed = false;
  d.started = true;
  d.open.store(true, std::memory_order_release);
}

void engine::stop() {
  if (actors::tool_body_engine() == impl_->live_attempts.get())
    throw error{errc::conflict, "stop() was called from a tool body: it waits for every body to return, this one too"};
  if (engine_in_call == impl_.get())
    throw error{errc::conflict, "stop() was called from a callback that a call of this engine runs: that call "
                                "holds the engine until it returns"};
  std::lock_guard lock{impl_->lifecycle};
  auto& d = *impl_;
  if (!d.started) return;
  // New calls are answered "not running" from here on; the ones under way
  // (none waits inside: the blocking calls wait outside their lock) end
  // before anything they may use goes.
  d.open.store(false, std::memory_order_seq_cst);
  // A barrier: once passed, no call is under way, and any that is counted
  // later finds `open` cleared and leaves. Nothing is held through the
  // teardown, which waits for engine threads (the bus's, the writer's, a
  // timer's, a tool's) that may be about to enter a call themselves.
  d.wait_for_calls();
  // Waiters first: they are answered "not running", and none reads the
  // store once it goes (the reset joins the timer thread).
  d.waiters_feed.reset();
  d.waiters.reset();
  d.cleaner.reset();  // before the scheduler it sends deletions to
  d.close_cluster();
  caf::anon_send(d.scheduler, actors::shut_down{});
  // Tools see their stop flag; wait for their threads before the store goes.
  while (d.live_attempts->load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  {
    // Wait for the scheduler to be gone before the writer it uses goes.
    caf::scoped_actor self{*d.system};
    self->monitor(d.scheduler);
    caf::anon_send_exit(d.scheduler, caf::exit_reason::user_shutdown);
    self->receive([](const caf::down_msg&) {});
  }
  d.scheduler = nullptr;
  // A job actor may still hold a report its tool sent before the stop, and
  // one whose end was reported waits for its last attempt: all of them
  // stop, and they are gone before the writer and the store they use.
  d.job_actors->shut_down_all();
  d.job_actors->wait_empty();
  d.pool.reset();  // every body has returned: joins the idle threads
  d.hooks->stop();  // deliveries in flight stay in the outbox
  d.writer->stop();
  d.files.reset();  // after the writer's last callbacks, which may post to it
  d.bus->stop();
  {
    std::lock_guard lock{d.watchers_mutex};  // watch_job_changes reads it
    d.writer.reset();
  }
  d.hooks.reset();
  d.bus.reset();
  d.store.reset();
  d.started = false;
}

void engine::submit_async(job_spec spec, std::function<void(submit_result)> done) {
  const auto in = impl_->enter();
  auto answer = [&](submit_result r) { call_host(*impl_->log, "submit_async's done callback", done, std::move(r)); };  // at once, here
  if (!in) {
    answer({errc::not_running, {}, "the engine is not started", {}, 0, false});
    return;
  }
  auto rec = std::make_shared<persistence::job_record>();
  std::vector<std::string> file_ids;
  auto checked = impl_->validate(spec, *rec, &file_ids);
  if (checked.code != errc::ok) {
    answer(std::move(checked));
    return;
  }
  if (auto why = impl_->store_failure()) return answer({errc::store_failure, {}, std::move(*why), {}, 0, false});
  if (!file_ids.empty()) {
    // Its files stay until the submit is answered (then the job holds them).
    std::string missing;
    if (!impl_->files->pin(file_ids, missing))
      return answer({errc::invalid_spec, {}, "the job spec is invalid", {{"params", "no file " + missing}}, 0, false});
    done = [files = impl_->files.get(), file_ids, done = std::move(done)](submit_result r) {
      files->unpin(file_ids);
      done(std::move(r));
    };
  }
  std::optional<std::string> cached;
  try {
    cached = impl_->cached_result(*rec);
  } catch (const std::exception& e) {
    // The cache could not be read (the store is failing): refused, and the
    // files pinned above are let go by `done`.
    return call_host(*impl_->log, "submit_async's done callback", done,
                     submit_result{errc::store_failure, {}, "the result cache could not be read: " + tools::sanitize_utf8(e.what()),
                                   {}, 0, false});
  }
  auto ops = notify_ops(spec, rec->id);
  // The answer carries an estimate of when the job ends. The tool's typical
  // run time is looked up here, on the caller's thread (a cache miss reads
  // the rollups), so that the answer, on the writer thread, only multiplies.
  auto estimated = [run_s = impl_->typical_run_s(rec->tool), slots = impl_->slots_of(rec->tool),
                    done = std::move(done), due = std::make_shared<persistence::due_answer>(),
                    log = impl_->log](submit_result s) {
    if (s.code == errc::ok && !s.existing && s.status.value_or(job_status::pending) == job_status::pending)
      s.estimated_duration_s =
        actors::estimated_duration_s(job_status::pending, run_s, s.position_in_queue, slots, 0);
    call_host(*log, "submit_async's done callback", done, std::move(s));
    due->done();
  };
  caf::anon_send(impl_->scheduler,
                 actors::submit_job{std::move(rec), std::move(estimated), std::move(cached), std::move(ops)});
}

submit_result engine::try_submit(job_spec spec) {
  return await_callback<submit_result>([&](auto cb) { submit_async(std::move(spec), std::move(cb)); },
                              submit_not_running);
}

std::string engine::submit(job_spec spec) {
  auto r = try_submit(std::move(spec));
  if (r.code != errc::ok) {
    std::string msg = r.message;
    for (const auto& e : r.errors) msg += "; " + e.field + ": " + e.message;
    throw error{r.code, msg, std::move(r.errors)};
  }
  return r.job_id;
}

void engine::cancel_async(std::string_view job_id, std::function<void(change_result)> done, std::string_view by) {
  const auto in = impl_->enter();
  auto answer = [&](change_result r) { call_host(*impl_->log, "cancel_async's done callback", done, std::move(r)); };  // at once, here
  if (!in) return answer({errc::not_running, "the engine is not started", {}});
  if (auto why = impl_->store_failure()) return answer({errc::store_failure, std::move(*why), {}});
  caf::anon_send(impl_->scheduler, actors::cancel_job{std::string{job_id}, counted(std::move(done), impl_->log),
                                                      tools::sanitize_utf8(by)});
}

change_result engine::cancel(std::string_view job_id, std::string_view by) {
  return await_callback<change_result>([&](auto cb) { cancel_async(job_id, std::move(cb), by); }, change_not_running);
}

void engine::retry_async(std::string_view job_id, std::function<void(change_result)> done, std::string_view by) {
  const auto in = impl_->enter();
  auto answer = [&](change_result r) { call_host(*impl_->log, "retry_async's done callback", done, std::move(r)); };  // at once, here
  if (!in) return answer({errc::not_running, "the engine is not started", {}});
  if (auto why = impl_->store_failure()) return answer({errc::store_failure, std::move(*why), {}});
  // The files its params name must still be there, and stay until the retry
  // is answered (then the pending job holds them), as for a submit: a file
  // deleted while the job was finished would fail every attempt.
  std::optional<persistence::job_record> rec;
  try {
    rec = impl_->store->get_job(job_id);
  } catch (const std::exception& e) {
    return answer({errc::store_failure, "the job could not be read: " + tools::sanitize_utf8(e.what()), {}});
  }
  const auto file_ids = rec ? impl_->record_file_ids(*rec) : std::vector<std::string>{};
  if (!file_ids.empty()) {
    std::string missing;
    if (!impl_->files->pin(file_ids, missing))
      return answer({errc::conflict,
                     "job " + std::string{job_id} + " cannot be retried: file " + missing +
                       ", which its params name, has been deleted",
                     {}});
    done = [files = impl_->files.get(), file_ids, done = std::move(done)](change_result r) {
      files->unpin(file_ids);
      done(std::move(r));
    };
  }
  caf::anon_send(impl_->scheduler, actors::retry_job{std::string{job_id}, counted(std::move(done), impl_->log),
                                                     tools::sanitize_utf8(by)});
}

change_result engine::retry(std::string_view job_id, std::string_view by) {
  return await_callback<change_result>([&](auto cb) { retry_async(job_id, std::move(cb), by); }, change_not_running);
}

namespace {

/// The index a listing walks, newest first: the narrowest its filters allow
/// (completed jobs have no status entries: by tool, else the jobs family).
std::string narrowest_index(const list_query& q) {
  namespace keys = persistence::keys;
  if (!q.batch_id.empty()) return keys::batch_prefix(q.batch_id);
  if (!q.trace_id.empty()) return keys::trace_prefix(q.trace_id);
  if (q.status)
    if (auto prefix = keys::listing_prefix(*q.status)) return *prefix;
  return !q.tool.empty() ? keys::tool_prefix(q.tool) : std::string{};
}

/// total_count from the keys alone, when the walk over narrowest_index(q)
/// by itself decides what matches: no filter but the one the walk is over
/// (a tool, a batch, a trace, failed, cancelled or timed_out, or none),
/// every owner visible, no dates. Completed jobs are the jobs family less
/// the other finished ones' status entries. Otherwise nothing: each
/// record must be read and checked.
std::optional<std::size_t> count_from_keys(const persistence::store& db, const list_query& q) {
  namespace keys = persistence::keys;
  if (q.owner || q.created_after || q.created_before || !q.labels.empty() || !q.name_contains.empty())
    return std::nullopt;
  const int filters = !q.batch_id.empty() + !q.trace_id.empty() + !q.tool.empty() + q.status.has_value();
  if (filters > 1) return std::nullopt;
  if (q.status == job_status::completed) return db.count_completed();
  if (q.status && !keys::status_entry_prefix(*q.status)) return std::nullopt;  // unfinished: read each
  return db.count_ids(narrowest_index(q));
}

/// Whether `part` occurs in `text`, ASCII letters compared without regard
/// to case (every other byte as it is, so UTF-8 stays whole).
bool contains_ignoring_case(std::string_view text, std::string_view part) {
  const auto fold = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  return std::search(text.begin(), text.end(), part.begin(), part.end(),
                     [&](char a, char b) { return fold(a) == fold(b); }) != text.end();
}

/// Whether `rec` passes every filter of `q`. Checked on the record, which
/// also drops index entries a concurrent write just moved.
bool matches(const list_query& q, const persistence::job_record& rec) {
  if ((q.status && rec.status != *q.status) || (!q.tool.empty() && rec.tool != q.tool) ||
      (q.created_after && rec.created_at < *q.created_after) ||
      (q.created_before && rec.created_at >= *q.created_before) ||
      (!q.batch_id.empty() && rec.batch_id != q.batch_id) || (q.owner && rec.owner != *q.owner) ||
      (!q.trace_id.empty() && rec.trace_id != q.trace_id) ||
      (!q.name_contains.empty() && !contains_ignoring_case(rec.name, q.name_contains)))
    return false;
  for (const auto& [k, v] : q.labels)
    if (auto it = rec.labels.find(k); it == rec.labels.end() || it->second != v) return false;
  return true;
}

/// The view, with what a pending job still waits on.
job_view full_view(const persistence::store& db, const persistence::job_record& rec, bool waits_for_node = false) {
  std::optional<std::string> result;
  if (rec.status == job_status::completed) result = db.result_of(rec);
  auto v = persistence::to_view(rec, result);
  if (rec.status == job_status::pending)
    for (const auto& dep : rec.depends_on)
      if (auto d = db.get_job(dep); !d || d->status != job_status::completed) v.waiting_on.push_back(dep);
  if (waits_for_node) v.waiting_on.push_back("node");
  return v;
}

/// The answer for an id with no job.
failure_info no_job(std::string_view job_id) {
  return {errc::not_found, "no job " + tools::sanitize_utf8(job_id)};
}

}  // namespace

void engine::watch_job_changes(std::function<void(std::span<const std::string_view> ids, bool any)> on_change) {
  on_change = [log = impl_->log, f = std::move(on_change)](std::span<const std::string_view> ids, bool any) {
    call_host(*log, "watch_job_changes' callback", f, ids, any);
  };
  std::lock_guard lock{impl_->watchers_mutex};
  impl_->change_watchers.push_back(on_change);
  if (impl_->writer) impl_->writer->watch_changes(std::move(on_change));
}

result<job_view> engine::get(std::string_view job_id) const {
  return impl_->read_result<job_view>([&]() -> result<job_view> {
    auto rec = impl_->store->get_job(job_id);
    if (!rec) return no_job(job_id);
    auto v = full_view(*impl_->store, *rec, impl_->waits_for_node(*rec));
    impl_->add_estimates(v, *rec);
    return v;
  });
}

result<job_snapshot> engine::get_with_seq(std::string_view job_id) const {
  return impl_->read_result<job_snapshot>([&]() -> result<job_snapshot> {
    std::uint64_t seq = 0;
    auto rec = impl_->store->get_job_at(job_id, seq);
    if (!rec) return no_job(job_id);
    job_snapshot snap{full_view(*impl_->store, *rec, impl_->waits_for_node(*rec)), seq};
    impl_->add_estimates(snap.view, *rec);
    return snap;
  });
}

std::vector<event> engine::events_after(std::uint64_t after, std::size_t max) const {
  const auto in = impl_->require_started();
  if (after == std::numeric_limits<std::uint64_t>::max()) return {};  // none can follow
  return impl_->store->events_after(after, max);
}

list_result engine::list(const list_query& q) const {
  const auto in = impl_->require_started();
  list_result out;
  // Counted from the keys alone (no dates then), the walk reads only as far
  // as the page; otherwise it reads every match to count it. Its own check
  // drops a record that moved since the count.
  const auto counted = count_from_keys(*impl_->store, q);
  if (counted && q.offset >= *counted) return {{}, *counted};
  std::size_t passed = 0;
  impl_->store->scan_jobs_newest_first(
    narrowest_index(q),
    [&](persistence::job_record&& rec) {
      if (!matches(q, rec)) return true;
      if (passed++ >= q.offset && out.jobs.size() < q.limit)
        out.jobs.push_back(full_view(*impl_->store, rec, impl_->waits_for_node(rec)));
      return !counted || out.jobs.size() < q.limit;
    },
    q.created_after, q.created_before);
  out.total_count = counted ? *counted : passed;
  return out;
}

std::vector<transition> engine::history(std::string_view job_id) const {
  const auto in = impl_->require_started();
  return impl_->store->history(job_id);
}

result<log_page> engine::logs(std::string_view job_id, log_level min_level, std::size_t limit,
                              std::size_t offset) const {
  return impl_->read_result<log_page>([&]() -> result<log_page> {
    // Not a job id (a prefix of many, ""): no job, and no walk of every log.
    if (!actors::looks_like_job_id(job_id)) return no_job(job_id);
    log_page page;
    page.lines = impl_->store->logs(job_id, min_level, limit, offset, &page.total);
    // No line at all: say whether the job exists. (Lines left without their
    // job would be answered, not hidden: retention deletes both together.)
    if (page.total == 0 && !impl_->store->get_job(job_id)) return no_job(job_id);
    return page;
  });
}

result<job_view> engine::wait(std::string_view job_id, std::chrono::milliseconds timeout) {
  // On wait_async: a stop answers it at once, and it never waits behind a
  // subscriber's callback.
  return await_callback<result<job_view>>([&](auto cb) { wait_async(job_id, timeout, std::move(cb)); },
                                          failure_info{errc::not_running, "the engine is stopping"});
}

void engine::wait_async(std::string_view job_id, std::chrono::milliseconds timeout,
                        std::function<void(result<job_view>)> done) {
  const auto in = impl_->enter();
  auto answer = [&](result<job_view> r) { call_host(*impl_->log, "wait_async's done callback", done, std::move(r)); };  // at once, here
  auto* waiters = in ? impl_->waiters.get() : nullptr;
  if (!waiters) return answer(failure_info{errc::not_running, "the engine is not started"});
  // A record read, not a view: this may run on the writer thread (run_async),
  // where a pending job's estimates (a scan of the queue) must not.
  auto ended_or_unreadable = [d = impl_.get()](std::string_view id) {
    try {
      auto rec = d->store->get_job(id);
      return !rec || is_terminal(rec->status);
    } catch (const std::exception&) {
      return true;  // answered now: get() then says why
    }
  };
  if (ended_or_unreadable(job_id)) return answer(get(job_id));
  const std::string id{job_id};
  waiters->add(
    id, deadline_after(timeout), [&] { return ended_or_unreadable(id); },
    [this, id, timeout, done = guarded(impl_->log, "wait_async's done callback", std::move(done))](
      actors::job_waiters::outcome o) {
      using outcome = actors::job_waiters::outcome;
      if (o == outcome::stopping) return done(failure_info{errc::not_running, "the engine is stopping"});
      auto v = get(id);
      if (o == outcome::ended || !v || is_terminal(v->status)) return done(std::move(v));
      done(failure_info{errc::timeout, "job " + tools::sanitize_utf8(id) + " is still " +
                                         std::string{to_string(v->status)} + " after " +
                                         std::to_string(timeout.count()) + " ms"});
    });
}

void engine::run_async(job_spec spec, std::chrono::milliseconds timeout, std::function<void(run_result)> done) {
  submit_async(std::move(spec), [this, timeout, done = std::move(done)](submit_result s) mutable {
    if (s.code != errc::ok) {
      run_result out{s.code, s.message, std::move(s), std::nullopt};
      return done(std::move(out));
    }
    const std::string id = s.job_id;
    wait_async(id, timeout, [this, id, s = std::move(s), done = std::move(done)](result<job_view> v) mutable {
      run_result out{errc::ok, {}, std::move(s), std::nullopt};
      if (v) {
        out.view = std::move(*v);
        return done(std::move(out));
      }
      out.code = v.code();
      out.message = v.message();
      // Not ended in time: how it is now (it goes on).
      if (v.code() == errc::timeout)
        if (auto now = get(id)) out.view = std::move(*now);
      done(std::move(out));
    });
  });
}

run_result engine::run(job_spec spec, std::chrono::milliseconds timeout) {
  return await_callback<run_result>(
    [&](auto cb) { run_async(std::move(spec), timeout, std::move(cb)); },
    run_result{errc::not_running, "the engine is not started", {}, std::nullopt});
}

subscription engine::subscribe(filter f, std::function<void(const event&)> on_event) {
  const auto in = impl_->require_started();
  return impl_->bus->subscribe(std::move(f), std::move(on_event));
}

bool engine::idle_polling_allowed() const noexcept {
  return impl_->idle_spin_gate->load(std::memory_order_relaxed);
}

bool engine::answers_due() const noexcept {
  const auto due = persistence::answers_due().load(std::memory_order_relaxed);
  return due > 0 && due <= expecting_max_due;
}

std::uint64_t engine::last_seq() const {
  const auto in = impl_->require_started();
  return impl_->store->next_seq() - 1;
}

namespace {

/// The scheduler's answer to a pause or resume. It answers false for a tool
/// it does not know and for any tool once it is stopping; the registry (where
/// a tool is never removed) tells the two apart. A dropped request also
/// means the engine is stopping.
result<void> tool_answer(std::optional<bool> done, const tool_registry& registry, std::string_view name) {
  if (done && *done) return {};
  if (done && !registry.find(name)) return failure_info{errc::not_found, "no tool " + tools::sanitize_utf8(name)};
  return failure_info{errc::not_running, "the engine is stopping"};
}

}  // namespace

result<void> engine::resume_tool(std::string_view name) {
  if (!impl_->enter()) return failure_info{errc::not_running, "the engine is not started"};
  return tool_answer(await_callback<std::optional<bool>>(
                       [&](auto cb) {
                         // Held while sending only; the wait for the answer is outside.
                         const auto in = impl_->enter();
                         if (!in) return;  // dropped: answered as stopping
                         caf::anon_send(impl_->scheduler,
                                        actors::resume_tool{std::string{name}, [cb](bool ok) { cb(ok); }});
                       },
                       std::nullopt),
                     impl_->tools, name);
}

void engine::hold_attempts() {
  await_callback<bool>(
    [&](auto cb) {
      const auto in = impl_->enter();
      if (in) caf::anon_send(impl_->scheduler, actors::hold_attempts{[cb] { cb(true); }});
    },
    false);
}

result<void> engine::pause_tool(std::string_view name, std::string_view by, std::string_view why) {
  if (!impl_->enter()) return failure_info{errc::not_running, "the engine is not started"};
  auto reason = "paused by " + tools::sanitize_utf8(by);
  if (!why.empty()) reason += ": " + tools::sanitize_utf8(why);
  return tool_answer(await_callback<std::optional<bool>>(
                       [&](auto cb) {
                         const auto in = impl_->enter();
                         if (!in) return;  // dropped: answered as stopping
                         caf::anon_send(impl_->scheduler,
                                        actors::pause_tool{std::string{name}, std::move(reason),
                                                           [cb](bool ok) { cb(ok); }});
                       },
                       std::nullopt),
                     impl_->tools, name);
}

engine_stats engine::stats() const {
  (void)impl_->require_started();  // a check only: the wait is outside any call
  return await_callback<engine_stats>([&](auto cb) { stats_async(std::move(cb)); }, engine_stats{});
}

void engine::nodes_async(std::function<void(std::vector<node_view>)> done) const {
  const auto in = impl_->enter();
  auto answer = [&](std::vector<node_view> r) { call_host(*impl_->log, "nodes_async's done callback", done, std::move(r)); };  // at once, here
  if (!in) return answer({});
  caf::anon_send(impl_->scheduler,
                 actors::get_nodes{guarded(impl_->log, "nodes_async's done callback", std::move(done))});
}

std::uint16_t engine::cluster_port() const { return impl_->cluster_port; }

subscription engine::watch_nodes(std::function<void(const node_change&)> on_change) {
  if (impl_->config.cluster.listen.empty()) return {};
  auto list = impl_->node_watchers;
  std::lock_guard lock{list->mutex};
  const auto token = ++list->next;
  list->watchers.emplace(token, guarded<const node_change&>(impl_->log, "watch_nodes' callback", std::move(on_change)));
  return subscription{[weak = std::weak_ptr<impl::node_watch_list>{list}, token] {
    if (auto l = weak.lock()) {
      std::lock_guard lock{l->mutex};
      l->watchers.erase(token);
    }
  }};
}

void engine::stats_async(std::function<void(engine_stats)> done) const {
  const auto in = impl_->enter();
  auto answer = [&](engine_stats r) { call_host(*impl_->log, "stats_async's done callback", done, std::move(r)); };  // at once, here
  if (!in) return answer(engine_stats{});
  caf::anon_send(impl_->scheduler,
                 actors::get_stats{[done = guarded(impl_->log, "stats_async's done callback", std::move(done)),
                                    writer = impl_->writer.get(),
                                    store = impl_->store.get(), census = impl_->job_actors,
                                    polls = impl_->own_system && impl_->config.idle_spin.count() > 0,
                                    gate = impl_->idle_spin_gate](engine_stats s) {
                   s.running_ok = true;
                   s.store_ok = writer->healthy();
                   if (!s.store_ok) s.store_error = writer->error();
                   s.corrupt_records = store->corrupt_records();
                   s.store_live_bytes = store->live_data_bytes();
                   s.store_rows_written = writer->rows_written();
                   s.store_job_rows_written = writer->job_rows_written();
                   s.job_actors = census->size();
                   s.idle_polling = polls && gate->load(std::memory_order_relaxed);
                   done(std::move(s));
                 }});
}

result<std::vector<delivery_view>> engine::deliveries(std::string_view job_id) const {
  return impl_->read_result<std::vector<delivery_view>>([&]() -> result<std::vector<delivery_view>> {
    auto found = webhooks::read_deliveries(*impl_->store, job_id);
    if (found.empty() && !impl_->store->get_job(job_id))
      return failure_info{errc::not_found, "no job " + tools::sanitize_utf8(job_id)};
    return found;
  });
}

std::vector<field_error> engine::check(const job_spec& spec) const {
  const auto in = impl_->enter();
  persistence::job_record scratch;
  return impl_->validate(spec, scratch, nullptr, static_cast<bool>(in)).errors;
}

std::vector<field_error> engine::check(const batch_spec& batch) const {
  const auto in = impl_->enter();
  actors::submit_batch scratch;
  return impl_->validate_batch(batch, scratch, static_cast<bool>(in));
}

void engine::submit_batch_async(batch_spec spec, std::function<void(batch_submit_result)> done) {
  const auto in = impl_->enter();
  auto answer = [&](batch_submit_result r) { call_host(*impl_->log, "submit_batch_async's done callback", done, std::move(r)); };  // at once, here
  if (!in) return answer({errc::not_running, {}, {}, "the engine is not started", {}});
  batch_submit_result out;
  actors::submit_batch m;
  out.errors = impl_->validate_batch(spec, m);
  if (!out.errors.empty()) {
    out.code = errc::invalid_spec;
    out.message = "the batch is invalid";
    return answer(std::move(out));
  }
  if (auto why = impl_->store_failure()) return answer({errc::store_failure, {}, {}, std::move(*why), {}});
  std::vector<std::string> file_ids;
  for (const auto& rec : m.jobs) {
    auto ids = impl_->record_file_ids(*rec);
    file_ids.insert(file_ids.end(), ids.begin(), ids.end());
  }
  if (!file_ids.empty()) {
    std::string missing;
    if (!impl_->files->pin(file_ids, missing))
      return answer({errc::invalid_spec, {}, {}, "the batch is invalid", {{"jobs", "no file " + missing}}});
    done = [files = impl_->files.get(), file_ids, done = std::move(done)](batch_submit_result r) {
      files->unpin(file_ids);
      done(std::move(r));
    };
  }
  m.reply = guarded(impl_->log, "submit_batch_async's done callback", std::move(done));
  caf::anon_send(impl_->scheduler, std::move(m));
}

std::vector<field_error> engine::impl::validate_batch(const batch_spec& spec, actors::submit_batch& m,
                                                     bool live) const {
  std::vector<field_error> errors;
  if (spec.jobs.empty()) errors.push_back({"jobs", "a batch needs at least one job"});
  if (spec.jobs.size() > 10000) errors.push_back({"jobs", "more than 10000 jobs"});
  if (spec.parallel_limit < 0) errors.push_back({"parallel_limit", "must not be negative"});
  tools::check_text("name", spec.name, 0, tools::max_name_chars, errors);
  m.batch.id = "batch_" + actors::new_job_id().substr(4);
  m.batch.name = spec.name;
  m.batch.parallel_limit = spec.parallel_limit;
  m.batch.fail_fast = spec.fail_fast;
  m.batch.owner = spec.owner;
  m.batch.created_at = std::chrono::time_point_cast<std::chrono::milliseconds>(clock::now());
  for (std::size_t i = 0; i < spec.jobs.size(); ++i) {
    const std::string prefix = "jobs[" + std::to_string(i) + "].";
    auto rec = std::make_shared<persistence::job_record>();
    auto job = spec.jobs[i];
    job.owner = spec.owner;
    auto checked = validate(job, *rec, nullptr, live);
    for (auto& e : checked.errors) errors.push_back({prefix + e.field, e.message});
    if (!spec.jobs[i].idempotency_key.empty())
      errors.push_back({prefix + "idempotency_key", "is not supported inside a batch"});
    rec->batch_id = m.batch.id;
    m.job_ops.push_back(notify_ops(job, rec->id));
    m.batch.job_ids.push_back(rec->id);
    m.jobs.push_back(std::move(rec));
  }
  return errors;
}

batch_submit_result engine::submit_batch(batch_spec spec) {
  return await_callback<batch_submit_result>([&](auto cb) { submit_batch_async(std::move(spec), std::move(cb)); },
                                    {errc::not_running, {}, {}, "the engine is stopping", {}});
}

namespace {

/// A batch's view: its record and its jobs' statuses.
result<batch_view> read_batch(const persistence::store& db, std::string_view batch_id) {
  auto b = db.get_batch(batch_id);
  if (!b) return failure_info{errc::not_found, "no batch " + tools::sanitize_utf8(batch_id)};
  batch_view v{b->id, b->name, b->parallel_limit, b->fail_fast, b->created_at, {}, {}, {}, b->owner};
  for (auto s : all_job_statuses) v.counts[std::string{to_string(s)}] = 0;
  std::size_t finished = 0, failed = 0, cancelled = 0, started = 0;
  for (const auto& id : b->job_ids) {
    auto rec = db.get_job(id);
    if (!rec) continue;  // deleted by retention
    v.jobs.emplace_back(id, rec->status);
    ++v.counts[std::string{to_string(rec->status)}];
    if (is_terminal(rec->status)) ++finished;
    if (rec->status == job_status::failed || rec->status == job_status::timed_out) ++failed;
    if (rec->status == job_status::cancelled) ++cancelled;
    if (rec->status != job_status::pending || rec->attempt > 0) ++started;
  }
  if (finished < v.jobs.size()) v.status = started > 0 ? "running" : "pending";
  else if (b->cancelled) v.status = "cancelled";
  else if (failed > 0) v.status = "failed";
  else if (cancelled > 0) v.status = "cancelled";
  else v.status = "completed";
  return v;
}

}  // namespace

result<batch_view> engine::get_batch(std::string_view batch_id) const {
  return impl_->read_result<batch_view>([&] { return read_batch(*impl_->store, batch_id); });
}

void engine::cancel_batch_async(std::string_view batch_id, std::function<void(change_result)> done,
                                std::string_view by) {
  const auto in = impl_->enter();
  auto answer = [&](change_result r) { call_host(*impl_->log, "cancel_batch_async's done callback", done, std::move(r)); };  // at once, here
  if (!in) return answer({errc::not_running, "the engine is not started", {}});
  if (auto why = impl_->store_failure()) return answer({errc::store_failure, std::move(*why), {}});
  caf::anon_send(impl_->scheduler,
                 actors::cancel_batch{std::string{batch_id}, guarded(impl_->log, "cancel_batch_async's done callback", std::move(done)),
                                      tools::sanitize_utf8(by)});
}

change_result engine::cancel_batch(std::string_view batch_id, std::string_view by) {
  return await_callback<change_result>([&](auto cb) { cancel_batch_async(batch_id, std::move(cb), by); },
                              change_not_running);
}

cache_stats engine::cache_statistics() const {
  const auto in = impl_->require_started();
  cache_stats s;
  const auto now = clock::now();
  impl_->store->for_each_cache([&](std::string_view, const persistence::cache_entry& e) {
    if (e.expires_at <= now) return;
    ++s.total_cached_results;
    s.total_size_bytes += e.result_bytes;
    if (!s.oldest || e.stored_at < *s.oldest) s.oldest = e.stored_at;
    if (!s.newest || e.stored_at > *s.newest) s.newest = e.stored_at;
  });
  s.hits = impl_->cache_hits;
  s.misses = impl_->cache_misses;
  const auto asked = s.hits + s.misses;
  s.hit_rate_percent = asked ? 100.0 * static_cast<double>(s.hits) / static_cast<double>(asked) : 0.0;
  return s;
}

result<std::size_t> engine::clear_cache(const cache_filter& f) {
  return await_callback<result<std::size_t>>([&](auto cb) { clear_cache_async(f, std::move(cb)); },
                                    failure_info{errc::not_running, "the engine is stopping"});
}

void engine::clear_cache_async(const cache_filter& f, std::function<void(result<std::size_t>)> done) {
  const auto in = impl_->enter();
  auto answer = [&](result<std::size_t> r) { call_host(*impl_->log, "clear_cache_async's done callback", done, std::move(r)); };  // at once, here
  if (!in) return answer(failure_info{errc::not_running, "the engine is not started"});
  if (auto why = impl_->store_failure()) return answer(failure_info{errc::store_failure, std::move(*why)});
  persistence::job_write w;
  auto scanned = impl_->read_result<std::size_t>([&] {
    impl_->store->for_each_cache([&](std::string_view key, const persistence::cache_entry& e) {
      if (!f.tool.empty() && e.tool != f.tool) return;
      if (!f.labels.empty() || f.owner) {
        auto src = impl_->store->get_job(e.source_job_id);
        if (!src || (f.owner && src->owner != *f.owner)) return;
        for (const auto& [k, v] : f.labels)
          if (auto it = src->labels.find(k); it == src->labels.end() || it->second != v) return;
      }
      w.ops.push_back({persistence::kv_op::kind::erase, persistence::family::cache, std::string{key}, {}});
    });
    return w.ops.size();
  });
  if (!scanned || *scanned == 0) return answer(std::move(scanned));
  const auto n = *scanned;
  impl_->writer->write({std::move(w)}, [n, done = guarded(impl_->log, "clear_cache_async's done callback",
                                                         std::move(done)),
                                        d = impl_.get()](bool ok) {
    if (ok) return done(n);
    done(failure_info{errc::store_failure, d->store_failure().value_or("the store could not clear the cache")});
  });
}

result<file_info> engine::add_file(const std::filesystem::path& source, std::string name, std::string owner) {
  const auto in = impl_->enter();
  if (!in || !impl_->files) return failure_info{errc::not_running, "the engine is not started"};
  if (auto why = impl_->store_failure()) return failure_info{errc::store_failure, std::move(*why)};
  return impl_->files->add(source, tools::sanitize_utf8(name), std::move(owner));
}

void engine::commit_upload_async(file_upload upload, std::function<void(result<file_info>)> done) {
  auto refuse = [&](failure_info f) {
    std::error_code ignored;  // the temporary file is ours from the call on
    std::filesystem::remove(upload.temp_path, ignored);
    call_host(*impl_->log, "commit_upload_async's done callback", done, result<file_info>{std::move(f)});
  };
  const auto in = impl_->enter();
  if (!in || !impl_->files) return refuse({errc::not_running, "the engine is not started"});
  if (auto why = impl_->store_failure()) return refuse({errc::store_failure, std::move(*why)});
  upload.name = tools::sanitize_utf8(upload.name);
  impl_->files->commit_upload_async(std::move(upload),
                                    guarded(impl_->log, "commit_upload_async's done callback", std::move(done)));
}

result<file_info> engine::get_file(std::string_view id) const {
  return impl_->read_result<file_info>([&] { return impl_->files->get(id); });
}

std::filesystem::path engine::file_path(std::string_view id) const {
  return persistence::files::stored_path(impl_->config.data_dir, id);
}

std::filesystem::path engine::upload_dir() const { return persistence::files::temp_dir(impl_->config.data_dir); }

file_list_result engine::list_files(const file_list_query& q) const {
  const auto in = impl_->require_started();
  return impl_->files->list(q);
}

void engine::delete_file_async(std::string_view id, std::function<void(result<void>)> done) {
  const auto in = impl_->enter();
  auto answer = [&](result<void> r) { call_host(*impl_->log, "delete_file_async's done callback", done, std::move(r)); };  // at once, here
  if (!in || !impl_->files) return answer(failure_info{errc::not_running, "the engine is not started"});
  if (auto why = impl_->store_failure()) return answer(failure_info{errc::store_failure, std::move(*why)});
  try {
    impl_->files->remove_async(std::string{id}, guarded(impl_->log, "delete_file_async's done callback", done));
  } catch (const error& e) {
    answer(failure_info{e.code(), e.what()});
  }
}

result<void> engine::delete_file(std::string_view id) {
  return await_callback<result<void>>([&](auto cb) { delete_file_async(id, std::move(cb)); },
                                      failure_info{errc::not_running, "the engine is stopping"});
}

std::size_t engine::run_retention() {
  const auto in = impl_->require_started();
  return impl_->cleaner->run_once();
}

caf::actor engine::scheduler() const {
  const auto in = impl_->enter();
  return in ? caf::actor_cast<caf::actor>(impl_->scheduler) : caf::actor{};
}

batch_list_result engine::list_batches(const batch_list_query& q) const {
  const auto in = impl_->require_started();
  batch_list_result out;
  // Batch ids are "batch_" + a ULID: the batches family in reverse key
  // order is newest first.
  auto& db = impl_->store->db();
  std::unique_ptr<rocksdb::Iterator> it{db.NewIterator({}, impl_->store->handle(persistence::family::batches))};
  std::vector<std::string> ids;
  for (it->SeekToLast(); it->Valid(); it->Prev()) ids.emplace_back(it->key().ToString());
  if (!it->status().ok())
    throw error{errc::store_failure, "cannot read the batches: " + it->status().ToString()};
  it.reset();
  for (const auto& id : ids) {
    auto b = impl_->store->get_batch(id);
    if (!b || (!q.name.empty() && b->name != q.name) || (q.created_after && b->created_at < *q.created_after) ||
        (q.created_before && b->created_at >= *q.created_before) || (q.owner && b->owner != *q.owner))
      continue;
    const bool in_page = out.total_count >= q.offset && out.batches.size() < q.limit;
    // Without a status filter a batch outside the page is counted unread.
    if (q.status.empty() && !in_page) {
      ++out.total_count;
      continue;
    }
    auto v = get_batch(id);
    if (!v && v.code() != errc::not_found) throw error{v.code(), v.message()};  // never a silent gap
    if (!v || (!q.status.empty() && v->status != q.status)) continue;
    if (in_page) out.batches.push_back(std::move(*v));
    ++out.total_count;
  }
  return out;
}

purge_result engine::purge(const list_query& q, bool dry_run) {
  const auto in = impl_->require_started();
  if (auto why = impl_->store_failure()) throw error{errc::store_failure, std::move(*why)};
  purge_result out;
  if (q.status && !is_terminal(*q.status)) return out;
  std::vector<persistence::job_record> found;
  auto flush = [&] {
    if (!dry_run && !found.empty()) out.deleted += impl_->cleaner->expire(found);
    found.clear();
  };
  // Each record read again, not taken from the walk: what is deleted is
  // built from it, and a job retried since the walk began must be seen so.
  impl_->store->scan_ids_newest_first(
    narrowest_index(q),
    [&](std::string_view id) {
      auto rec = impl_->store->get_job(id);
      if (!rec || !is_terminal(rec->status) || !matches(q, *rec)) return true;
      ++out.matched;
      found.push_back(std::move(*rec));
      if (found.size() >= 256) flush();  // bounded memory; each job's deletion stays atomic
      return true;
    },
    q.created_after, q.created_before);
  flush();
  if (!dry_run && impl_->writer) impl_->writer->purged(out.deleted);
  return out;
}

}  // namespace overseer
