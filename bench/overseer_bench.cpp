// overseer_bench: measures every performance target (docs/performance.md) and checks
// its own results (RocksDB tools/db_bench_tool.cc, River riverbench).
//
//   overseer_bench --benchmarks=embedded_noop,http_submit,http_poll,http_sync,ws_fanout,restart,memory
//   overseer_bench --benchmarks=fair_share   (1 vs 1,000 principals; not in the default list)
//   overseer_bench --benchmarks=list         (a listing by creation time; not in the default list)
//                  [--jobs=N] [--repetitions=R] [--smoke] [--only=FIGURE_PREFIX,...]
//                  [--open-loop=25,50,75] [--open-loop-seconds=S]
//                  [--overseerd=PATH] [--work-dir=DIR]
//
// http_submit and http_poll run closed loop first (each connection sends its
// next request when the answer to the previous one arrives: the maximum
// throughput R), then open loop at fixed offered rates, percentages of R
// (--open-loop; empty turns it off), latency counted from each request's
// intended send time so a stall counts for every request it delays.
//
// It prints the environment (lines starting with '#'), then one line per
// figure: name, median, MAD, min, max, unit, parameters, whitespace
// separated, so bench/run.sh can read them. Completions are counted from the
// event stream (embedded) or the daemon's own counters (HTTP), never assumed.
// A wrong count (a lost completion, a non-2xx answer, a dropped transition)
// makes it exit with status 1; --smoke runs every workload tiny, for ctest.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <malloc.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include <csignal>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include "floor.hpp"
#include "net_floor.hpp"
#include "metrics/engine_metrics.hpp"
#include "persistence/commit_stats.hpp"
#include "overseer/engine.hpp"

extern char** environ;

namespace {

namespace fs = std::filesystem;
namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace websocket = beast::websocket;
namespace json = boost::json;
using tcp = net::ip::tcp;
using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

double seconds_since(steady::time_point t0) {
  return std::chrono::duration<double>(steady::now() - t0).count();
}

// -- options and results -----------------------------------------------------

struct options {
  std::set<std::string> benchmarks;
  std::size_t jobs = 0;  // 0: each workload's own default
  int repetitions = 0;   // 0: 3, or 1 with --smoke
  bool smoke = false;
  std::string overseerd = OVERSEERD_PATH;
  fs::path work_dir;
  fs::path restart_dir;  // a prepared data dir to reuse across runs
  int connections = 64;
  int threads = 2;
  double ws_rate = 0;  // ws_fanout submits per second; 0: 50 (200 with --smoke)
  std::vector<std::string> only;  // --only: run only workloads whose figure starts with one of these
  std::vector<std::size_t> scaling_stored = {0, 100000, 1000000, 10000000};
  std::vector<std::size_t> scaling_queued = {10000, 100000, 1000000};
  std::vector<int> open_loop = {25, 50, 75};  // offered rates, % of the closed-loop throughput; empty: off
  double open_loop_seconds = 0;               // per offered rate; 0: 5 s (0.5 s with --smoke)
  double open_loop_base = 0;  // req/s the percentages are of; 0: the closed loop's median (A/Bs set it)
};

options opt;
int failures = 0;

void check(bool ok, const std::string& what) {
  if (ok) return;
  ++failures;
  std::fprintf(stderr, "overseer_bench: CHECK FAILED: %s\n", what.c_str());
}

/// Whether the workload that reports `figure` runs (--only).
bool wanted(const std::string& figure) {
  if (opt.only.empty()) return true;
  for (const auto& prefix : opt.only)
    if (figure.starts_with(prefix)) return true;
  return false;
}

std::size_t jobs_or(std::size_t full, std::size_t smoke) {
  if (opt.jobs) return opt.jobs;
  return opt.smoke ? smoke : full;
}
int reps() { return opt.repetitions ? opt.repetitions : (opt.smoke ? 1 : 3); }

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double percentile(std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto i = static_cast<std::size_t>(std::ceil(p / 100.0 * sorted.size())) ;
  return sorted[std::min(sorted.size() - 1, i == 0 ? 0 : i - 1)];
}

void report(const std::string& name, const std::vector<double>& samples, const std::string& unit,
            const std::string& params) {
  const double med = median(samples);
  std::vector<double> dev;
  for (double s : samples) dev.push_back(std::fabs(s - med));
  const auto [lo, hi] = std::minmax_element(samples.begin(), samples.end());
  std::printf("%-30s %14.3f %12.3f %14.3f %14.3f %-8s %s\n", name.c_str(), med, median(dev),
              samples.empty() ? 0 : *lo, samples.empty() ? 0 : *hi, unit.c_str(), params.c_str());
  std::fflush(stdout);
}

struct series {  // one figure over the repetitions
  std::string name, unit, params;
  std::vector<double> samples;
};
struct figures {
  std::map<std::string, series> by_name;
  std::vector<std::string> order;
  void add(const std::string& name, double v, const std::string& unit, const std::string& params) {
    if (!by_name.count(name)) order.push_back(name);
    auto& s = by_name[name];
    s.name = name, s.unit = unit, s.params = params;
    s.samples.push_back(v);
  }
  void print() const {
    for (const auto& n : order) {
      const auto& s = by_name.at(n);
      report(s.name, s.samples, s.unit, s.params);
    }
  }
};

/// The req/s the open-loop percentages are of: --open-loop-base, else the
/// median of the closed-loop figure `closed` (0 when it did not run).
double open_loop_base(const figures& out, const std::string& closed) {
  if (opt.open_loop_base > 0) return opt.open_loop_base;
  const auto it = out.by_name.find(closed);
  return it == out.by_name.end() ? 0 : median(it->second.samples);
}

fs::path fresh_dir(const std::string& stem) {
  static int counter = 0;
  auto p = opt.work_dir / (stem + "-" + std::to_string(++counter));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

/// CPU time of this process (all its threads: during a load run, the load client's).
double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

/// User + system time from a /proc stat file (a process' or a thread's).
double stat_cpu_seconds(const std::string& stat_path) {
  std::ifstream in{stat_path};
  std::string stat;
  std::getline(in, stat);
  const auto name_end = stat.rfind(')');
  if (name_end == std::string::npos || name_end + 2 > stat.size()) return 0;  // a thread that has just ended
  // Fields after the command name in parentheses (which may hold spaces):
  // state is field 3, utime 14, stime 15.
  std::istringstream rest{stat.substr(name_end + 2)};
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stod(field);
    if (i == 15) stime = std::stod(field);
  }
  return (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

/// CPU time of another process (user + system), from /proc/PID/stat.
double process_cpu_seconds(pid_t pid) { return stat_cpu_seconds("/proc/" + std::to_string(pid) + "/stat"); }

/// The CPU time of this process' threads by what they do, from their names
/// (tools/thread_name.hpp): the group-commit writer, CAF's workers (the
/// scheduler and the job actors), the attempt pool (tool bodies), the event
/// bus. The bench's own threads are left out.
struct thread_cpu {
  struct reading {
    std::string name;
    double seconds = 0;
    /// Times the thread went to sleep (voluntary_ctxt_switches): each is
    /// a wake-up later, which on a slow host costs more than most handlers.
    std::uint64_t sleeps = 0;
  };
  std::map<pid_t, reading> at_start;  ///< by tid

  static std::uint64_t voluntary_switches(const fs::path& status_path) {
    std::ifstream in{status_path};
    constexpr std::string_view key = "voluntary_ctxt_switches:";
    for (std::string line; std::getline(in, line);)
      if (line.starts_with(key)) return std::stoull(line.substr(key.size()));
    return 0;
  }
  static std::map<pid_t, reading> now() {
    std::map<pid_t, reading> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/proc/self/task", ec)) {
      std::ifstream comm{e.path() / "comm"};
      std::string name;
      std::getline(comm, name);
      out[static_cast<pid_t>(std::stol(e.path().filename().string()))] = {
        name, stat_cpu_seconds(e.path() / "stat"), voluntary_switches(e.path() / "status")};
    }
    return out;
  }
  void start() { at_start = now(); }
  /// Microseconds of CPU per job since start(), by role, as figures
  /// `name`.cpu.<role>, and the times its threads went to sleep per job,
  /// `name`.sleeps.<role>; threads that ended meanwhile are not counted.
  void add(figures& out, const std::string& name, std::size_t jobs) const {
    static const std::vector<std::pair<std::string, std::string>> roles = {
      {"writer", "ovs.writer"}, {"actors", "caf.multiplexer"}, {"tools", "ovs.tool"}, {"events", "ovs.events"}};
    std::map<std::string, double> spent;
    std::map<std::string, std::uint64_t> slept;
    for (const auto& [tid, t] : now()) {
      const auto before = at_start.find(tid);
      const bool known = before != at_start.end();
      const double d = t.seconds - (known ? before->second.seconds : 0.0);
      const std::uint64_t z = t.sleeps - (known ? std::min(before->second.sleeps, t.sleeps) : 0);
      for (const auto& [role, thread] : roles)
        if (t.name == thread) {
          spent[role] += d;
          slept[role] += z;
        }
    }
    double total = 0;
    std::uint64_t sleeps = 0;
    for (const auto& [role, thread] : roles) {
      out.add(name + ".cpu." + role, 1e6 * spent[role] / static_cast<double>(jobs), "us",
              "threads named " + thread + ",per job");
      total += spent[role];
    }
    out.add(name + ".cpu.total", 1e6 * total / static_cast<double>(jobs), "us", "the four above,per job");
    for (const auto& [role, thread] : roles) {
      out.add(name + ".sleeps." + role, static_cast<double>(slept[role]) / static_cast<double>(jobs), "sleeps",
              "threads named " + thread + ",voluntary context switches per job");
      sleeps += slept[role];
    }
    out.add(name + ".sleeps.total", static_cast<double>(sleeps) / static_cast<double>(jobs), "sleeps",
            "the four above,per job");
  }
};

std::size_t rss_bytes() {
  std::ifstream in{"/proc/self/status"};
  for (std::string line; std::getline(in, line);)
    if (line.starts_with("VmRSS:")) return std::stoull(line.substr(6)) * 1024;
  return 0;
}

// -- embedded ------------------------------------------------------------------

// Counts terminal transitions from the event stream: the bench's only source
// of truth for "done".
struct completion_counter {
  std::mutex m;
  std::condition_variable cv;
  std::size_t completed = 0, other_terminal = 0, running = 0;
  void on(const overseer::event& e) {
    if (e.kind != overseer::event_kind::transition) return;
    std::lock_guard lock{m};
    if (e.to == overseer::job_status::completed) ++completed;
    else if (e.to == overseer::job_status::running) ++running;
    else if (overseer::is_terminal(e.to)) ++other_terminal;
    cv.notify_all();
  }
  bool wait_for(std::size_t n, std::chrono::seconds limit) {
    std::unique_lock lock{m};
    return cv.wait_for(lock, limit, [&] { return completed + other_terminal >= n; });
  }
  bool wait_running(std::size_t n, std::chrono::seconds limit) {
    std::unique_lock lock{m};
    return cv.wait_for(lock, limit, [&] { return running >= n; });
  }
};

overseer::filter transitions_only() {
  auto f = overseer::filter::all();
  f.include_logs = false;
  return f;
}

// `submit(done)` (an asynchronous submit) from `threads` threads, each with
// at most `window` submits in flight (so the caller, not an unbounded
// mailbox, absorbs back-pressure). Returns the number of accepted submits.
template <class Submit>
std::size_t submit_many_with(Submit submit, std::size_t n, int threads, std::size_t window) {
  std::atomic<std::size_t> accepted{0}, refused{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([&, t] {
      const std::size_t mine = n / threads + (static_cast<std::size_t>(t) < n % threads ? 1 : 0);
      std::mutex m;
      std::condition_variable cv;
      std::size_t in_flight = 0, done = 0;
      for (std::size_t i = 0; i < mine; ++i) {
        {
          std::unique_lock lock{m};
          cv.wait(lock, [&] { return in_flight < window; });
          ++in_flight;
        }
        submit([&](overseer::submit_result r) {
          (r.code == overseer::errc::ok ? accepted : refused).fetch_add(1);
          std::lock_guard lock{m};
          --in_flight, ++done;
          cv.notify_all();
        });
      }
      std::unique_lock lock{m};
      cv.wait(lock, [&] { return done == mine; });
    });
  for (auto& t : ts) t.join();
  check(refused == 0, std::to_string(refused.load()) + " submits refused");
  return accepted;
}

// submit_many_with through the engine's submit_async.
std::size_t submit_many(overseer::engine& e, std::size_t n, int threads, std::size_t window,
                        const overseer::job_spec& spec) {
  return submit_many_with([&](std::function<void(overseer::submit_result)> done) { e.submit_async(spec, std::move(done)); },
                          n, threads, window);
}

// Submits n no-op jobs from `threads` threads (submit_async, `window` in
// flight each) to a started engine and waits until every one completed;
// returns jobs/s from the first submit to the last completion, and fails
// the run (check) named `what` if any did not complete.
double noop_throughput(overseer::engine& e, std::size_t n, const std::string& what, int threads = 2,
                       std::size_t window = 1024) {
  completion_counter c;
  auto sub = e.subscribe(transitions_only(), [&](const overseer::event& ev) { c.on(ev); });
  const auto t0 = steady::now();
  const auto accepted = submit_many(e, n, threads, window, {.tool = "noop"});
  const bool all = c.wait_for(n, 300s);
  const double s = seconds_since(t0);
  check(all && accepted == n && c.completed == n && c.other_terminal == 0,
        what + ": completed " + std::to_string(c.completed) + " of " + std::to_string(n) + " (other terminal " +
          std::to_string(c.other_terminal) + ")");
  return n / s;
}

// Every RocksDB row the writer wrote, per job (the job's own rows and its
// share of each commit's: event blocks, rollups, the event sequence), and
// the job's own rows alone.
void add_rows_per_job(figures& out, const std::string& name, const overseer::engine_stats& st, std::size_t jobs) {
  out.add(name + ".rows_per_job", static_cast<double>(st.store_rows_written) / static_cast<double>(jobs), "rows",
          "jobs=" + std::to_string(jobs) + ",puts+deletes+range deletes");
  out.add(name + ".own_rows_per_job", static_cast<double>(st.store_job_rows_written) / static_cast<double>(jobs),
          "rows", "jobs=" + std::to_string(jobs) + ",without the rows each commit writes once");
}

// The writer's commits per job since start(): each is a batch written and
// (durable) synced, and a wake-up of whoever waits for it; the fewer, the
// larger the groups.
struct commits_per_job {
  std::uint64_t at_start = 0;
  void start() { at_start = overseer::persistence::commit_statistics().commits.value(); }
  void add(figures& out, const std::string& name, std::size_t jobs) const {
    const auto n = overseer::persistence::commit_statistics().commits.value() - at_start;
    out.add(name + ".commits_per_job", static_cast<double>(n) / static_cast<double>(jobs), "commits",
            "jobs=" + std::to_string(jobs));
  }
};

void bench_embedded_noop(figures& out) {
  const std::size_t n = jobs_or(100000, 2000);
  const std::size_t n_serial = opt.jobs ? opt.jobs : (opt.smoke ? 300 : 10000);
  const int threads = 2;
  const std::size_t window = 1024;
  for (int rep = 0; rep < reps(); ++rep)
    for (bool sync : {true, false}) {
      const std::string mode = sync ? "sync" : "nosync";
      double engine_rate = 0;
      if (wanted("embedded_noop.async." + mode)) {  // a few threads, submit_async
        overseer::engine e{{.data_dir = fresh_dir("embedded"), .sync = sync}};
        e.start();
        thread_cpu cpu;
        cpu.start();
        commits_per_job commits;
        commits.start();
        const double rate = noop_throughput(e, n, "embedded_noop." + mode, threads, window);
        engine_rate = rate;
        out.add("embedded_noop.async." + mode, rate, "jobs/s",
                "jobs=" + std::to_string(n) + ",threads=" + std::to_string(threads) + ",window=" +
                  std::to_string(window) + ",sync=" + (sync ? "true" : "false"));
        cpu.add(out, "embedded_noop.async." + mode, n);
        commits.add(out, "embedded_noop.async." + mode, n);
        add_rows_per_job(out, "embedded_noop.async." + mode, e.stats(), n);
      }
      // The same workload through the design's floor (bench/floor.hpp), with
      // and without an actor per job, right after the engine's run: the
      // ratio of the engine to the floor is an A/B seconds apart.
      for (bool actors : {true, false}) {
        const std::string name = std::string{"floor.async."} + (actors ? "" : "no_job_actor.") + mode;
        if (!wanted(name)) continue;
        completion_counter c;
        overseer::bench::floor_pipeline f{fresh_dir("floor"), sync, [&](const overseer::event& ev) { c.on(ev); },
                                          actors};
        thread_cpu cpu;
        cpu.start();
        commits_per_job commits;
        commits.start();
        const auto t0 = steady::now();
        const auto accepted = submit_many_with(
          [&](std::function<void(overseer::submit_result)> done) { f.submit_async(std::move(done)); }, n, threads,
          window);
        const bool all = c.wait_for(n, 300s);
        const double rate = n / seconds_since(t0);
        check(all && accepted == n && c.completed == n && c.other_terminal == 0,
              name + ": completed " + std::to_string(c.completed) + " of " + std::to_string(n));
        out.add(name, rate, "jobs/s",
                "jobs=" + std::to_string(n) + ",threads=" + std::to_string(threads) + ",window=" +
                  std::to_string(window) + ",sync=" + (sync ? "true" : "false"));
        cpu.add(out, name, n);
        commits.add(out, name, n);
        out.add(name + ".rows_per_job", static_cast<double>(f.rows_written()) / static_cast<double>(n), "rows",
                "jobs=" + std::to_string(n));
        if (actors && engine_rate > 0)
          out.add("embedded_noop.async." + mode + ".of_floor", 100 * engine_rate / rate, "%",
                  "the engine's jobs/s as a share of the floor's, this repetition");
      }
      if (wanted("embedded_noop.serial." + mode)) {  // one client, one at a time: the peers' workload
        overseer::engine e{{.data_dir = fresh_dir("embedded"), .sync = sync}};
        e.start();
        completion_counter c;
        auto sub = e.subscribe(transitions_only(), [&](const overseer::event& ev) { c.on(ev); });
        auto& commits = overseer::persistence::commit_statistics();
        const auto commits0 = commits.commits.value(), delays0 = commits.delays.value(),
                   joined0 = commits.joined.value();
        const auto t0 = steady::now();
        for (std::size_t i = 0; i < n_serial; ++i) (void)e.submit({.tool = "noop"});
        const bool all = c.wait_for(n_serial, 300s);
        const double s = seconds_since(t0);
        const auto per_job = [&](std::uint64_t v) { return static_cast<double>(v) / static_cast<double>(n_serial); };
        out.add("embedded_noop.serial." + mode + ".commits_per_job", per_job(commits.commits.value() - commits0),
                "commits", "jobs=" + std::to_string(n_serial) + ",group commits from the first submit to the last end");
        out.add("embedded_noop.serial." + mode + ".delays_per_job", per_job(commits.delays.value() - delays0),
                "commits", "jobs=" + std::to_string(n_serial) + ",commits that waited for company");
        out.add("embedded_noop.serial." + mode + ".joined_per_job", per_job(commits.joined.value() - joined0),
                "commits", "jobs=" + std::to_string(n_serial) + ",of those, the ones a submit joined");
        check(all && c.completed == n_serial, "embedded_noop.serial." + mode + ": completed " +
                                                std::to_string(c.completed) + " of " + std::to_string(n_serial));
        out.add("embedded_noop.serial." + mode, n_serial / s, "jobs/s",
                "jobs=" + std::to_string(n_serial) + ",threads=1,one_at_a_time,sync=" + (sync ? "true" : "false"));
        add_rows_per_job(out, "embedded_noop.serial." + mode, e.stats(), n_serial);
      }
    }
}

// Fair share's cost (docs/performance.md): the same noop workload owned by
// 1 principal and by 1,000 (round-robin over them, weight 1 each, as
// engine_config::shares). Two figures each: submit_async throughput until
// every submit is acknowledged, and the drain of a queue filled while the
// tool is paused (every start is a pop_next over one queue per principal).
void bench_fair_share(figures& out) {
  const std::size_t n = jobs_or(50000, 2000);
  const int threads = 2;
  const std::size_t window = 1024;
  for (int rep = 0; rep < reps(); ++rep)
    for (std::size_t principals : {std::size_t{1}, std::size_t{1000}}) {
      const std::string p = std::to_string(principals);
      auto shares = std::make_shared<overseer::principal_shares>();
      std::map<std::string, overseer::principal_share> table;
      for (std::size_t i = 0; i < principals; ++i) table["p" + std::to_string(i)] = {1, 0};
      shares->set(table);
      overseer::engine e{{.data_dir = fresh_dir("fair"), .sync = false, .shares = shares}};
      e.start();
      completion_counter c;
      auto sub = e.subscribe(transitions_only(), [&](const overseer::event& ev) { c.on(ev); });
      (void)e.pause_tool("noop", "bench");
      std::atomic<std::size_t> next{0}, accepted{0};
      std::vector<std::thread> ts;
      const auto t0 = steady::now();
      for (int t = 0; t < threads; ++t)
        ts.emplace_back([&] {
          std::mutex m;
          std::condition_variable cv;
          std::size_t in_flight = 0;
          for (std::size_t i; (i = next.fetch_add(1)) < n;) {
            {
              std::unique_lock lock{m};
              cv.wait(lock, [&] { return in_flight < window; });
              ++in_flight;
            }
            e.submit_async({.tool = "noop", .owner = "p" + std::to_string(i % principals)},
                           [&](overseer::submit_result r) {
                             if (r.code == overseer::errc::ok) accepted.fetch_add(1);
                             std::lock_guard lock{m};
                             --in_flight;
                             cv.notify_all();
                           });
          }
          std::unique_lock lock{m};
          cv.wait(lock, [&] { return in_flight == 0; });
        });
      for (auto& t : ts) t.join();
      const double submit_s = seconds_since(t0);
      check(accepted == n, "fair_share: " + std::to_string(accepted.load()) + " of " + std::to_string(n) + " accepted");
      out.add("fair_share.submit.principals_" + p, n / submit_s, "jobs/s",
              "jobs=" + std::to_string(n) + ",principals=" + p + ",threads=2,window=1024,sync=false,tool_paused");
      const auto t1 = steady::now();
      (void)e.resume_tool("noop");
      const bool all = c.wait_for(n, 300s);
      const double drain_s = seconds_since(t1);
      check(all && c.completed == n, "fair_share: completed " + std::to_string(c.completed) + " of " + std::to_string(n));
      out.add("fair_share.drain.principals_" + p, n / drain_s, "jobs/s",
              "jobs=" + std::to_string(n) + ",principals=" + p + ",queued_first,sync=false");
    }
}

// -- the daemon ----------------------------------------------------------------

std::vector<std::string> daemon_args(const fs::path& data_dir, std::vector<std::string> extra) {
  std::vector<std::string> args = {opt.overseerd, "--data-dir", data_dir.string(), "--listen", "127.0.0.1:0"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

/// This program again, as the network's floor server (bench/net_floor.hpp).
std::vector<std::string> floor_server_args(const std::string& kind, const std::string& body,
                                           const fs::path& dir = {}) {
  return {fs::read_symlink("/proc/self/exe").string(), "--serve-floor=" + kind, "--floor-body=" + body,
          "--floor-dir=" + dir.string()};
}
const std::string floor_listening = "floor listening on http://127.0.0.1:";

class daemon_process {
public:
  daemon_process(const fs::path& data_dir, std::vector<std::string> extra = {})
    : daemon_process(daemon_args(data_dir, std::move(extra)), "overseerd listening on http://127.0.0.1:") {}
  /// Any server that prints `prefix` followed by its port on stdout.
  daemon_process(std::vector<std::string> args, const std::string& prefix) {
    int out[2];
    if (::pipe(out) != 0) throw std::runtime_error("pipe failed");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    // Its log (the access log at info) goes where a service's would go
    // unread: not to the terminal running the bench.
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    started_ = steady::now();
    const int rc = ::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    if (rc != 0) throw std::runtime_error("cannot start " + args[0]);
    FILE* in = ::fdopen(out[0], "r");
    char line[512];
    while (std::fgets(line, sizeof line, in)) {
      std::string s{line};
      if (s.starts_with(prefix)) {
        listening_after_ = seconds_since(started_);
        port_ = static_cast<unsigned short>(std::stoi(s.substr(prefix.size())));
        break;
      }
    }
    drain_ = std::thread([in] {
      char buf[512];
      while (std::fgets(buf, sizeof buf, in)) {}
      std::fclose(in);
    });
    if (port_ == 0) {
      stop();
      throw std::runtime_error(args[0] + " did not report a listening port");
    }
  }
  ~daemon_process() { stop(); }
  void stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      const auto deadline = steady::now() + 30s;
      int status = 0;
      while (::waitpid(pid_, &status, WNOHANG) == 0) {
        if (steady::now() > deadline) {
          ::kill(pid_, SIGKILL);
          ::waitpid(pid_, &status, 0);
          break;
        }
        std::this_thread::sleep_for(5ms);
      }
      pid_ = -1;
    }
    if (drain_.joinable()) drain_.join();
  }
  [[nodiscard]] unsigned short port() const { return port_; }
  [[nodiscard]] steady::time_point started() const { return started_; }
  [[nodiscard]] double listening_after() const { return listening_after_; }
  [[nodiscard]] pid_t pid() const { return pid_; }

private:
  pid_t pid_ = -1;
  unsigned short port_ = 0;
  steady::time_point started_;
  double listening_after_ = 0;
  std::thread drain_;
};

// A blocking keep-alive client, for set-up and checks.
class sync_client {
public:
  explicit sync_client(unsigned short port) : port_(port) { connect(); }
  std::pair<int, std::string> request(bhttp::verb verb, const std::string& target, const std::string& body = {}) {
    bhttp::request<bhttp::string_body> req{verb, target, 11};
    req.set(bhttp::field::host, "127.0.0.1");
    if (!body.empty()) {
      req.set(bhttp::field::content_type, "application/json");
      req.body() = body;
    }
    req.prepare_payload();
    bhttp::write(stream_, req);
    bhttp::response<bhttp::string_body> res;
    bhttp::read(stream_, buffer_, res);
    if (!res.keep_alive()) connect();
    return {res.result_int(), res.body()};
  }
  json::value get_json(const std::string& target) { return json::parse(request(bhttp::verb::get, target).second); }

private:
  void connect() {
    beast::error_code ignored;
    stream_.socket().close(ignored);
    stream_.connect(tcp::endpoint{net::ip::make_address("127.0.0.1"), port_});
    buffer_.clear();
  }
  unsigned short port_;
  net::io_context ioc_;
  beast::tcp_stream stream_{ioc_};
  beast::flat_buffer buffer_;
};

bool wait_idle(sync_client& c, std::chrono::seconds limit) {
  const auto deadline = steady::now() + limit;
  while (steady::now() < deadline) {
    auto h = c.get_json("/v1/health");
    const auto& q = h.at("queue_stats").as_object();
    if (q.at("pending_jobs").to_number<std::int64_t>() == 0 && q.at("running_jobs").to_number<std::int64_t>() == 0)
      return true;
    std::this_thread::sleep_for(2ms);
  }
  return false;
}

std::int64_t count_jobs(sync_client& c, const std::string& status) {
  return c.get_json("/v1/jobs?status=" + status + "&limit=1").at("total_count").to_number<std::int64_t>();
}

// The health counters drop a job from "running" a moment before its
// `completed` transition is durable, so "idle" alone ends early: wait until
// the store holds every job as finished.
bool wait_finished(sync_client& c, std::size_t n, std::chrono::seconds limit) {
  const auto deadline = steady::now() + limit;
  while (steady::now() < deadline) {
    if (count_jobs(c, "completed") + count_jobs(c, "failed") >= static_cast<std::int64_t>(n)) return true;
    std::this_thread::sleep_for(5ms);
  }
  return false;
}

// -- the HTTP load client --------------------------------------------------------

// C keep-alive connections over T threads, one request in flight per
// connection (no pipelining), like wrk -tT -cC, for a fixed request count.
struct load_result {
  double seconds = 0;
  double client_cpu = 0;  // CPU seconds the load client used
  std::size_t ok = 0, bad = 0;
  std::vector<double> latency_ms;  // sorted
  std::vector<std::string> bodies;  // when asked
};

struct load_spec {
  std::size_t requests = 0;
  int connections = 64;
  int threads = 2;
  std::function<void(std::size_t i, bhttp::request<bhttp::string_body>&)> make;
  unsigned expected_status = 200;
  bool keep_bodies = false;
};

class load_connection : public std::enable_shared_from_this<load_connection> {
public:
  struct shared {
    const load_spec* spec;
    std::atomic<std::size_t>* next;
    std::vector<double> latency_ms;
    std::vector<std::string> bodies;
    std::size_t ok = 0, bad = 0;
  };
  load_connection(net::io_context& ioc, shared& sh, unsigned short port) : stream_(ioc), sh_(sh), port_(port) {}
  void start() {
    stream_.socket().connect(tcp::endpoint{net::ip::make_address("127.0.0.1"), port_});
    stream_.socket().set_option(tcp::no_delay(true));
    next();
  }

private:
  void next() {
    const std::size_t i = sh_.next->fetch_add(1);
    if (i >= sh_.spec->requests) return;
    req_ = {};
    req_.version(11);
    req_.set(bhttp::field::host, "127.0.0.1");
    sh_.spec->make(i, req_);
    req_.prepare_payload();
    t0_ = steady::now();
    bhttp::async_write(stream_, req_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->fail(ec);
      self->res_ = {};
      bhttp::async_read(self->stream_, self->buffer_, self->res_, [self](beast::error_code ec, std::size_t) {
        if (ec) return self->fail(ec);
        self->sh_.latency_ms.push_back(std::chrono::duration<double, std::milli>(steady::now() - self->t0_).count());
        if (self->res_.result_int() == self->sh_.spec->expected_status) ++self->sh_.ok;
        else {
          if (self->sh_.bad++ == 0)
            std::fprintf(stderr, "overseer_bench: unexpected %u: %s\n", self->res_.result_int(),
                         self->res_.body().substr(0, 300).c_str());
        }
        if (self->sh_.spec->keep_bodies) self->sh_.bodies.push_back(std::move(self->res_.body()));
        self->next();
      });
    });
  }
  void fail(beast::error_code ec) {
    ++sh_.bad;
    std::fprintf(stderr, "overseer_bench: connection error: %s\n", ec.message().c_str());
  }
  beast::tcp_stream stream_;
  shared& sh_;
  unsigned short port_;
  beast::flat_buffer buffer_;
  bhttp::request<bhttp::string_body> req_;
  bhttp::response<bhttp::string_body> res_;
  steady::time_point t0_;
};

load_result run_load(unsigned short port, const load_spec& spec) {
  std::atomic<std::size_t> next{0};
  std::vector<std::unique_ptr<net::io_context>> ioc;
  std::vector<std::unique_ptr<load_connection::shared>> shared;
  for (int t = 0; t < spec.threads; ++t) {
    ioc.push_back(std::make_unique<net::io_context>(1));
    shared.push_back(std::make_unique<load_connection::shared>(load_connection::shared{&spec, &next, {}, {}, 0, 0}));
    shared.back()->latency_ms.reserve(spec.requests / spec.threads + 16);
  }
  const auto t0 = steady::now();
  const double cpu0 = cpu_seconds();
  for (int c = 0; c < spec.connections; ++c)
    std::make_shared<load_connection>(*ioc[c % spec.threads], *shared[c % spec.threads], port)->start();
  std::vector<std::thread> ts;
  for (int t = 0; t < spec.threads; ++t) ts.emplace_back([&, t] { ioc[t]->run(); });
  for (auto& t : ts) t.join();
  load_result r;
  r.seconds = seconds_since(t0);
  r.client_cpu = cpu_seconds() - cpu0;
  for (auto& s : shared) {
    r.ok += s->ok, r.bad += s->bad;
    r.latency_ms.insert(r.latency_ms.end(), s->latency_ms.begin(), s->latency_ms.end());
    for (auto& b : s->bodies) r.bodies.push_back(std::move(b));
  }
  std::sort(r.latency_ms.begin(), r.latency_ms.end());
  return r;
}

void submit_request(std::size_t, bhttp::request<bhttp::string_body>& req) {
  req.method(bhttp::verb::post);
  req.target("/v1/jobs");
  req.set(bhttp::field::content_type, "application/json");
  req.body() = R"({"tool":"noop"})";
}

// -- the open-loop load client ---------------------------------------------------

// Fixed offered rate, like wrk2: request i is due at t0 + i / rate, and goes on
// connection i mod C, so each of the C keep-alive connections has its own
// schedule at rate / C. A connection sends a request at its due time, or at
// once when it is late (its previous answer arrived after the due time: that
// wait is queueing, and it is counted). Latency runs from the due time, not
// from the write, so a stall of the server counts for every request that
// should have been sent during it (no coordinated omission).
struct open_loop_spec {
  double rate = 0;     // offered requests per second, over all connections
  double seconds = 5;  // requests are due during [t0, t0 + seconds)
  int connections = 64;
  int threads = 2;
  std::function<void(std::size_t i, bhttp::request<bhttp::string_body>&)> make;
  unsigned expected_status = 200;
};

struct open_loop_result {
  std::size_t scheduled = 0, ok = 0, bad = 0;
  std::size_t late = 0;            // sent more than 1 ms after the due time
  double seconds = 0;              // t0 to the last answer, at least spec.seconds
  double client_cpu = 0;           // CPU seconds the load client used
  std::vector<double> latency_ms;  // sorted; from the due time to the whole answer read
  [[nodiscard]] double achieved() const { return seconds > 0 ? ok / seconds : 0; }
};

class open_loop_connection : public std::enable_shared_from_this<open_loop_connection> {
public:
  struct shared {
    const open_loop_spec* spec;
    steady::time_point t0;
    std::size_t total = 0;
    std::vector<double> latency_ms;
    std::size_t ok = 0, bad = 0, late = 0;
    steady::time_point last;
  };
  open_loop_connection(net::io_context& ioc, shared& sh, std::size_t first, std::size_t stride)
      : stream_(ioc), timer_(ioc), sh_(sh), i_(first), stride_(stride) {}
  void connect(unsigned short port) {
    stream_.socket().connect(tcp::endpoint{net::ip::make_address("127.0.0.1"), port});
    stream_.socket().set_option(tcp::no_delay(true));
  }
  void start() { schedule(); }

private:
  void schedule() {
    if (i_ >= sh_.total) return;
    due_ = sh_.t0 + std::chrono::duration_cast<steady::duration>(
                      std::chrono::duration<double>(static_cast<double>(i_) / sh_.spec->rate));
    if (due_ <= steady::now()) return send();
    timer_.expires_at(due_);
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->send();
    });
  }
  void send() {
    if (steady::now() - due_ > 1ms) ++sh_.late;
    req_ = {};
    req_.version(11);
    req_.set(bhttp::field::host, "127.0.0.1");
    sh_.spec->make(i_, req_);
    req_.prepare_payload();
    bhttp::async_write(stream_, req_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->fail(ec);
      self->res_ = {};
      bhttp::async_read(self->stream_, self->buffer_, self->res_, [self](beast::error_code ec, std::size_t) {
        if (ec) return self->fail(ec);
        const auto now = steady::now();
        self->sh_.last = std::max(self->sh_.last, now);
        self->sh_.latency_ms.push_back(std::chrono::duration<double, std::milli>(now - self->due_).count());
        if (self->res_.result_int() == self->sh_.spec->expected_status) ++self->sh_.ok;
        else if (self->sh_.bad++ == 0)
          std::fprintf(stderr, "overseer_bench: unexpected %u: %s\n", self->res_.result_int(),
                       self->res_.body().substr(0, 300).c_str());
        self->i_ += self->stride_;
        self->schedule();
      });
    });
  }
  void fail(beast::error_code ec) {
    ++sh_.bad;  // the connection's remaining requests are never sent: the caller's count shows them
    std::fprintf(stderr, "overseer_bench: connection error: %s\n", ec.message().c_str());
  }
  beast::tcp_stream stream_;
  net::steady_timer timer_;
  shared& sh_;
  std::size_t i_, stride_;
  steady::time_point due_;
  beast::flat_buffer buffer_;
  bhttp::request<bhttp::string_body> req_;
  bhttp::response<bhttp::string_body> res_;
};

open_loop_result run_open_loop(unsigned short port, const open_loop_spec& spec) {
  open_loop_result r;
  r.scheduled = static_cast<std::size_t>(std::llround(spec.rate * spec.seconds));
  if (r.scheduled == 0 || spec.rate <= 0) return r;
  std::vector<std::unique_ptr<open_loop_connection::shared>> shared;  // outlives the io_contexts' handlers
  std::vector<std::unique_ptr<net::io_context>> ioc;
  for (int t = 0; t < spec.threads; ++t) {
    ioc.push_back(std::make_unique<net::io_context>(1));
    shared.push_back(std::make_unique<open_loop_connection::shared>());
    shared.back()->spec = &spec;
    shared.back()->total = r.scheduled;
    shared.back()->latency_ms.reserve(r.scheduled / spec.threads + 16);
  }
  const auto conns = static_cast<std::size_t>(spec.connections);
  std::vector<std::shared_ptr<open_loop_connection>> cs;
  for (std::size_t c = 0; c < conns; ++c) {
    const auto t = c % static_cast<std::size_t>(spec.threads);
    cs.push_back(std::make_shared<open_loop_connection>(*ioc[t], *shared[t], c, conns));
    cs.back()->connect(port);  // all connected before t0: set-up is not latency
  }
  const auto t0 = steady::now() + 20ms;
  for (auto& s : shared) s->t0 = t0, s->last = t0;
  const double cpu0 = cpu_seconds();
  for (auto& c : cs) c->start();
  cs.clear();
  // A watchdog: a daemon that stops answering ends the run (the missing
  // answers then fail the caller's check) instead of hanging the bench.
  std::mutex m;
  std::condition_variable cv;
  int running = spec.threads;
  std::vector<std::thread> ts;
  for (int t = 0; t < spec.threads; ++t)
    ts.emplace_back([&, t] {
      ioc[t]->run();
      std::lock_guard lock{m};
      --running;
      cv.notify_all();
    });
  {
    std::unique_lock lock{m};
    const auto limit = std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(spec.seconds)) + 60s;
    if (!cv.wait_until(lock, t0 + limit, [&] { return running == 0; })) {
      std::fprintf(stderr, "overseer_bench: open loop: no answer for 60 s after the last due time, stopping\n");
      for (auto& i : ioc) i->stop();
    }
  }
  for (auto& t : ts) t.join();
  r.client_cpu = cpu_seconds() - cpu0;
  auto last = t0;
  for (auto& s : shared) {
    r.ok += s->ok, r.bad += s->bad, r.late += s->late;
    last = std::max(last, s->last);
    r.latency_ms.insert(r.latency_ms.end(), s->latency_ms.begin(), s->latency_ms.end());
  }
  r.seconds = std::max(spec.seconds, std::chrono::duration<double>(last - t0).count());
  std::sort(r.latency_ms.begin(), r.latency_ms.end());
  return r;
}

double open_loop_seconds() {
  if (opt.open_loop_seconds > 0) return opt.open_loop_seconds;
  return opt.smoke ? 0.5 : 5;
}

/// The open-loop figures of one run: `<name>.open<pct>.{achieved,p50,p99,p999}`,
/// the offered rate in the parameters; checks that every scheduled request
/// got its expected answer.
void add_open_loop(figures& out, const std::string& name, int pct, const open_loop_spec& spec,
                   open_loop_result& r, const std::string& extra) {
  const std::string fig = name + ".open" + std::to_string(pct);
  check(r.ok == r.scheduled && r.bad == 0, fig + ": " + std::to_string(r.ok) + " of " + std::to_string(r.scheduled) +
                                             " scheduled requests got " + std::to_string(spec.expected_status) +
                                             " (" + std::to_string(r.bad) + " bad)");
  char secs[32];
  std::snprintf(secs, sizeof secs, "%g", spec.seconds);
  const std::string p = "offered=" + std::to_string(std::llround(spec.rate)) + ",of_closed=" + std::to_string(pct) +
                        "%,seconds=" + secs + ",connections=" + std::to_string(spec.connections) + ",threads=" +
                        std::to_string(spec.threads) + ",latency_from=due_time" + extra;
  out.add(fig + ".achieved", r.achieved(), "req/s", p);
  out.add(fig + ".p50", percentile(r.latency_ms, 50), "ms", p);
  out.add(fig + ".p99", percentile(r.latency_ms, 99), "ms", p);
  out.add(fig + ".p999", percentile(r.latency_ms, 99.9), "ms", p);
  std::fprintf(stderr,
               "overseer_bench: %s: offered %.0f req/s, achieved %.0f, %zu of %zu sent > 1 ms after due, "
               "client CPU %.0f %% of a core\n",
               fig.c_str(), spec.rate, r.achieved(), r.late, r.scheduled, 100 * r.client_cpu / r.seconds);
}

void raise_nofile() {
  rlimit r{};
  ::getrlimit(RLIMIT_NOFILE, &r);
  r.rlim_cur = r.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &r);
}

void bench_http_submit(figures& out) {
  const std::size_t n = jobs_or(100000, 2000);
  const int conns = opt.smoke ? 8 : opt.connections;
  const std::size_t n_serial = opt.jobs ? opt.jobs : (opt.smoke ? 300 : 10000);
  // The closed loop of POSTs against `port`, as `name` and its percentiles.
  auto closed_loop = [&](const std::string& name, unsigned short port) {
    auto r = run_load(port, {.requests = n, .connections = conns, .threads = opt.threads, .make = submit_request,
                             .expected_status = 202});
    check(r.ok == n && r.bad == 0, name + ": " + std::to_string(r.ok) + " of " + std::to_string(n) + " got 202");
    const std::string p = "jobs=" + std::to_string(n) + ",connections=" + std::to_string(conns) +
                          ",threads=" + std::to_string(opt.threads) + ",keep-alive,no-pipelining,durable";
    out.add(name, r.ok / r.seconds, "req/s", p);
    out.add(name + ".p50", percentile(r.latency_ms, 50), "ms", p);
    out.add(name + ".p99", percentile(r.latency_ms, 99), "ms", p);
    out.add(name + ".p999", percentile(r.latency_ms, 99.9), "ms", p);
    return r;
  };
  for (int rep = 0; rep < reps(); ++rep) {
    std::string answer;  // one of the daemon's own 202s, for the floor to send
    if (wanted("http_submit")) {
      daemon_process d{fresh_dir("http_submit")};
      const auto r = closed_loop("http_submit", d.port());
      std::fprintf(stderr, "overseer_bench: http_submit: closed loop %.0f req/s, client CPU %.0f %% of a core\n",
                   r.ok / r.seconds, 100 * r.client_cpu / r.seconds);
      sync_client c{d.port()};
      check(wait_idle(c, 300s) && wait_finished(c, n, 60s), "http_submit: the daemon never finished");
      const auto done = count_jobs(c, "completed");
      check(done == static_cast<std::int64_t>(n), "http_submit: " + std::to_string(done) + " of " +
                                                     std::to_string(n) + " jobs completed, " +
                                                     std::to_string(count_jobs(c, "failed")) + " failed");
      answer = c.request(bhttp::verb::post, "/v1/jobs", R"({"tool":"noop"})").second;
    }
    // The floor (bench/net_floor.hpp), once the daemon is gone: Beast with
    // the daemon's threading, each request a no-op job of the design's
    // floor (bench/floor.hpp), answered with the daemon's own answer once
    // the job is durable. The same client and load.
    if (wanted("http_submit.floor") && !answer.empty()) {
      daemon_process f{floor_server_args("submit", answer, fresh_dir("http_submit_floor")), floor_listening};
      closed_loop("http_submit.floor", f.port());
    }
    if (wanted("http_e2e.serial")) {  // one client, one at a time, end to end: the peers' workload over HTTP
      daemon_process d{fresh_dir("http_serial")};
      sync_client c{d.port()};
      const auto t0 = steady::now();
      std::size_t ok = 0;
      for (std::size_t i = 0; i < n_serial; ++i) ok += c.request(bhttp::verb::post, "/v1/jobs", R"({"tool":"noop"})").first == 202;
      check(wait_idle(c, 300s) && wait_finished(c, n_serial, 60s), "http_submit.serial: never finished");
      const double s = seconds_since(t0);
      const auto done = count_jobs(c, "completed");
      check(ok == n_serial && done == static_cast<std::int64_t>(n_serial),
            "http_submit.serial: " + std::to_string(done) + " of " + std::to_string(n_serial) + " completed, " +
              std::to_string(count_jobs(c, "failed")) + " failed");
      out.add("http_e2e.serial", n_serial / s, "jobs/s",
              "jobs=" + std::to_string(n_serial) + ",connections=1,one_at_a_time,end_to_end,durable");
    }
  }
  // Open loop at fixed fractions of the closed-loop median, a fresh daemon for
  // each run like the closed loop's; every accepted job must still complete.
  const double closed = open_loop_base(out, "http_submit");
  for (int rep = 0; rep < reps() && closed > 0; ++rep)
    for (int pct : opt.open_loop) {
      daemon_process d{fresh_dir("http_submit_open")};
      const open_loop_spec spec{.rate = closed * pct / 100.0, .seconds = open_loop_seconds(), .connections = conns,
                                .threads = opt.threads, .make = submit_request, .expected_status = 202};
      auto r = run_open_loop(d.port(), spec);
      add_open_loop(out, "http_submit", pct, spec, r, ",keep-alive,no-pipelining,durable");
      sync_client c{d.port()};
      check(wait_idle(c, 300s) && wait_finished(c, r.ok, 60s), "http_submit.open: the daemon never finished");
      const auto done = count_jobs(c, "completed");
      check(done == static_cast<std::int64_t>(r.ok), "http_submit.open" + std::to_string(pct) + ": " +
                                                        std::to_string(done) + " of " + std::to_string(r.ok) +
                                                        " jobs completed, " + std::to_string(count_jobs(c, "failed")) +
                                                        " failed");
    }
}

/// How a client learns a job's end, one job at a time (docs/api.md,
/// "Synchronous runs"): one POST ?wait=; a POST then a long poll (GET
/// ?wait=); a POST then GETs every 10 ms, what a client without either
/// does. Latency is from the submit to the finished view in hand.
void bench_http_sync(figures& out) {
  const std::size_t n = opt.jobs ? opt.jobs : (opt.smoke ? 50 : 2000);
  daemon_process d{fresh_dir("http_sync")};
  sync_client c{d.port()};
  const std::string noop = R"({"tool":"noop"})";
  auto terminal = [](const json::value& v) {
    const auto s = v.at("status").as_string();
    return s == "completed" || s == "failed" || s == "cancelled" || s == "timed_out";
  };
  auto measure = [&](const std::string& name, const std::function<bool()>& one) {
    if (!wanted("http_sync." + name)) return;
    for (int rep = 0; rep < reps(); ++rep) {
      std::vector<double> ms;
      ms.reserve(n);
      std::size_t ok = 0;
      const auto t0 = steady::now();
      for (std::size_t i = 0; i < n; ++i) {
        const auto s = steady::now();
        ok += one();
        ms.push_back(std::chrono::duration<double, std::milli>(steady::now() - s).count());
      }
      const double secs = seconds_since(t0);
      check(ok == n, "http_sync." + name + ": " + std::to_string(ok) + " of " + std::to_string(n) + " ended completed");
      std::sort(ms.begin(), ms.end());
      const std::string p = "jobs=" + std::to_string(n) + ",connections=1,one_at_a_time,durable";
      out.add("http_sync." + name, n / secs, "jobs/s", p);
      out.add("http_sync." + name + ".p50", percentile(ms, 50), "ms", p);
      out.add("http_sync." + name + ".p99", percentile(ms, 99), "ms", p);
    }
  };
  auto completed = [](const std::pair<int, std::string>& r, int status) {
    return r.first == status && json::parse(r.second).at("status") == "completed";
  };
  measure("wait", [&] { return completed(c.request(bhttp::verb::post, "/v1/jobs?wait=10s", noop), 200); });
  measure("long_poll", [&] {
    auto r = c.request(bhttp::verb::post, "/v1/jobs", noop);
    if (r.first != 202) return false;
    const std::string id{json::parse(r.second).at("job_id").as_string()};
    return completed(c.request(bhttp::verb::get, "/v1/jobs/" + id + "?wait=10s"), 200);
  });
  measure("poll_10ms", [&] {
    auto r = c.request(bhttp::verb::post, "/v1/jobs", noop);
    if (r.first != 202) return false;
    const std::string id{json::parse(r.second).at("job_id").as_string()};
    for (int tries = 0; tries < 1000; ++tries) {
      auto v = json::parse(c.request(bhttp::verb::get, "/v1/jobs/" + id).second);
      if (terminal(v)) return v.at("status") == "completed";
      std::this_thread::sleep_for(10ms);  // the client's poll interval: the workload measured
    }
    return false;
  });
}

void bench_http_poll(figures& out) {
  const std::size_t n = jobs_or(200000, 4000);
  const std::size_t stored = opt.smoke ? 200 : 10000;
  const int conns = opt.smoke ? 8 : opt.connections;
  daemon_process d{fresh_dir("http_poll")};
  auto created = run_load(d.port(), {.requests = stored, .connections = 8, .threads = 1,
                                     .make = submit_request, .expected_status = 202, .keep_bodies = true});
  std::vector<std::string> ids;
  for (auto& b : created.bodies) ids.push_back(std::string{json::parse(b).at("job_id").as_string()});
  check(ids.size() == stored, "http_poll: set-up created " + std::to_string(ids.size()) + " jobs");
  sync_client c{d.port()};
  check(wait_idle(c, 300s) && wait_finished(c, stored, 60s), "http_poll: set-up never finished");
  auto get = [&](std::size_t i, bhttp::request<bhttp::string_body>& req) {
    req.method(bhttp::verb::get);
    req.target("/v1/jobs/" + ids[(i * 7919) % ids.size()]);
  };
  // The network's floor (bench/net_floor.hpp): Beast answering every
  // request with one of these answers, loaded the same way right after.
  daemon_process floor{floor_server_args("http", c.request(bhttp::verb::get, "/v1/jobs/" + ids[0]).second),
                       floor_listening};
  for (int rep = 0; rep < reps(); ++rep) {
    const std::string p = "requests=" + std::to_string(n) + ",stored_jobs=" + std::to_string(stored) +
                          ",connections=" + std::to_string(conns) + ",threads=" + std::to_string(opt.threads);
    for (const auto* name : {"http_poll", "http_poll.floor"}) {
      const bool of_floor = name != std::string_view{"http_poll"};
      auto r = run_load(of_floor ? floor.port() : d.port(),
                        {.requests = n, .connections = conns, .threads = opt.threads, .make = get});
      check(r.ok == n, std::string{name} + ": " + std::to_string(r.ok) + " of " + std::to_string(n) + " got 200");
      out.add(name, r.ok / r.seconds, "req/s", p);
      out.add(std::string{name} + ".p50", percentile(r.latency_ms, 50), "ms", p);
      out.add(std::string{name} + ".p99", percentile(r.latency_ms, 99), "ms", p);
      out.add(std::string{name} + ".p999", percentile(r.latency_ms, 99.9), "ms", p);
      std::fprintf(stderr, "overseer_bench: %s: closed loop %.0f req/s, client CPU %.0f %% of a core\n", name,
                   r.ok / r.seconds, 100 * r.client_cpu / r.seconds);
    }
    // One client, one look-up at a time: the peers' status look-up workload.
    const std::size_t ns = opt.smoke ? 500 : 20000;
    auto s = run_load(d.port(), {.requests = ns, .connections = 1, .threads = 1, .make = get});
    check(s.ok == ns, "http_poll.serial: " + std::to_string(s.ok) + " of " + std::to_string(ns) + " got 200");
    const std::string ps = "requests=" + std::to_string(ns) + ",connections=1";
    out.add("http_poll.serial", s.ok / s.seconds, "req/s", ps);
    out.add("http_poll.serial.p50", percentile(s.latency_ms, 50), "ms", ps);
    out.add("http_poll.serial.p99", percentile(s.latency_ms, 99), "ms", ps);
  }
  // Open loop at fixed fractions of the closed-loop median, same daemon and ids.
  const double closed = open_loop_base(out, "http_poll");
  for (int rep = 0; rep < reps() && closed > 0; ++rep)
    for (int pct : opt.open_loop) {
      const open_loop_spec spec{.rate = closed * pct / 100.0, .seconds = open_loop_seconds(), .connections = conns,
                                .threads = opt.threads, .make = get};
      auto r = run_open_loop(d.port(), spec);
      add_open_loop(out, "http_poll", pct, spec, r, ",stored_jobs=" + std::to_string(stored));
    }
}

// -- WebSocket fan-out -----------------------------------------------------------

// "2026-11-24T05:43:00.123Z" as milliseconds since the epoch.
std::optional<double> parse_at_ms(std::string_view s) {
  if (s.size() < 24) return std::nullopt;
  std::tm tm{};
  auto num = [&](std::size_t pos, std::size_t len) { return std::atoi(std::string{s.substr(pos, len)}.c_str()); };
  tm.tm_year = num(0, 4) - 1900, tm.tm_mon = num(5, 2) - 1, tm.tm_mday = num(8, 2);
  tm.tm_hour = num(11, 2), tm.tm_min = num(14, 2), tm.tm_sec = num(17, 2);
  return static_cast<double>(::timegm(&tm)) * 1000.0 + num(20, 3);
}

double wall_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// One subscriber: Beast's HTTP code does the upgrade, then the frames are
// read straight off the socket, as a lean load generator (wrk) reads its
// answers: a server sends whole, unmasked frames, and this client only
// needs each text frame's payload. Beast's websocket::stream cost about as
// much CPU per message as the daemon's whole fan-out on these 2 shared
// cores (docs/performance.md); the tests, not the bench, check the
// protocol (tests/integration, Python's and the browsers' clients).
struct ws_subscriber : std::enable_shared_from_this<ws_subscriber> {
  tcp::socket socket;
  beast::flat_buffer buffer;  // bytes read and not yet parsed into frames
  std::size_t transitions = 0;
  bool closed = false;
  std::string close_reason;
  std::vector<double> latency;  // this client's own: the reader threads share nothing
  explicit ws_subscriber(net::io_context& ioc) : socket(ioc) {}

  /// Connects and upgrades; throws unless the server switched protocols.
  void connect(unsigned short port, const std::string& target) {
    socket.connect(tcp::endpoint{net::ip::make_address("127.0.0.1"), port});
    bhttp::request<bhttp::empty_body> req{bhttp::verb::get, target, 11};
    req.set(bhttp::field::host, "127.0.0.1");
    req.set(bhttp::field::upgrade, "websocket");
    req.set(bhttp::field::connection, "Upgrade");
    req.set(bhttp::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
    req.set(bhttp::field::sec_websocket_version, "13");
    bhttp::write(socket, req);
    bhttp::response_parser<bhttp::empty_body> res;
    res.skip(true);  // a 101 has no body; what follows the header is frames
    bhttp::read_header(socket, buffer, res);
    check(res.get().result() == bhttp::status::switching_protocols, "ws_fanout: the upgrade was refused");
  }

  /// The payload of the next whole text frame in the buffer (the caller
  /// consumes `frame_size` bytes after reading it); other frames are
  /// skipped; nullopt when no whole frame is left.
  std::optional<std::string_view> next_text(std::size_t& frame_size) {
    for (;;) {
      const auto data = buffer.cdata();
      const auto* p = static_cast<const unsigned char*>(data.data());
      const std::size_t n = data.size();
      if (n < 2) return std::nullopt;
      const unsigned opcode = p[0] & 0x0Fu;
      std::uint64_t len = p[1] & 0x7Fu;
      std::size_t header = 2;
      if (len == 126) {
        if (n < 4) return std::nullopt;
        len = (std::uint64_t{p[2]} << 8) | p[3];
        header = 4;
      } else if (len == 127) {
        if (n < 10) return std::nullopt;
        len = 0;
        for (int i = 2; i < 10; ++i) len = (len << 8) | p[i];
        header = 10;
      }
      check((p[1] & 0x80u) == 0, "ws_fanout: the server masked a frame");
      if (n < header + len) return std::nullopt;
      frame_size = header + static_cast<std::size_t>(len);
      std::string_view payload{reinterpret_cast<const char*>(p + header), static_cast<std::size_t>(len)};
      if (opcode == 0x1) return payload;
      if (opcode == 0x8) {
        closed = true;
        if (payload.size() > 2) close_reason = std::string{payload.substr(2)};
      }
      // Pings (only after minutes of silence) and anything else: skipped.
      buffer.consume(frame_size);
    }
  }

  /// The "subscribed" acknowledgement, read before any event flows.
  void await_ack() {
    std::size_t size = 0;
    for (;;) {
      if (auto text = next_text(size)) {
        check(text->find("subscribed") != std::string_view::npos, "ws_fanout: no subscribed acknowledgement");
        buffer.consume(size);
        return;
      }
      check(!closed, "ws_fanout: closed before the acknowledgement");
      buffer.commit(socket.read_some(buffer.prepare(64 * 1024)));
    }
  }

  void read() {
    socket.async_read_some(buffer.prepare(64 * 1024), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
      if (ec) {
        self->closed = true;
        return;
      }
      self->buffer.commit(n);
      const double now = wall_ms();
      std::size_t size = 0;
      while (auto text = self->next_text(size)) {
        if (text->find(R"("type":"transition")") != std::string_view::npos) {
          ++self->transitions;
          if (auto p = text->find(R"("at":")"); p != std::string_view::npos)
            if (auto at = parse_at_ms(text->substr(p + 6, 24))) self->latency.push_back(now - *at);
        }
        self->buffer.consume(size);
      }
      if (!self->closed) self->read();
    });
  }
};

// One fan-out run against a server on `port` (the daemon or the network's
// floor): `clients` subscribers of every event, then `start` makes `jobs`
// jobs' events flow (three transitions each) and the run waits for every
// subscriber to have them all. Adds `name`.p50 ... to `out`.
void ws_fanout_run(figures& out, const std::string& name, unsigned short port, pid_t server, int clients,
                   std::size_t jobs, double rate, const std::function<void()>& start) {
  // Two reader threads, like wrk -t2: the clients alternate between them.
  std::array<net::io_context, 2> iocs{net::io_context{1}, net::io_context{1}};
  std::vector<std::shared_ptr<ws_subscriber>> subs;
  for (int i = 0; i < clients; ++i) {
    auto s = std::make_shared<ws_subscriber>(iocs[static_cast<std::size_t>(i) % iocs.size()]);
    s->connect(port, "/v1/stream?all=1");
    s->await_ack();  // the subscription is live
    subs.push_back(s);
  }
  for (auto& s : subs) s->read();
  std::vector<std::thread> readers;
  for (auto& ioc : iocs) readers.emplace_back([&ioc] { ioc.run(); });
  // CPU of each side while the events flow: the server's fan-out and the
  // subscribers' reads share the 2 cores, so the latency floor is their sum.
  const double server_cpu0 = process_cpu_seconds(server);
  const double client_cpu0 = cpu_seconds();
  const auto t0 = steady::now();
  start();
  // Every job makes three transitions: created pending, running, completed.
  const std::size_t expected = jobs * 3;
  const auto deadline = steady::now() + 30s;
  auto all_in = [&] {
    std::size_t n = 0;
    // Reads of `transitions` race benignly; the final count is read after stop.
    for (auto& s : subs) n += std::min(s->transitions, expected);
    return n == expected * subs.size();
  };
  while (!all_in() && steady::now() < deadline) std::this_thread::sleep_for(20ms);
  const double wall = seconds_since(t0);
  const double server_cpu = process_cpu_seconds(server) - server_cpu0;
  const double client_cpu = cpu_seconds() - client_cpu0;
  for (auto& ioc : iocs) ioc.stop();
  for (auto& t : readers) t.join();
  std::vector<double> latency;
  for (auto& s : subs) latency.insert(latency.end(), s->latency.begin(), s->latency.end());
  std::size_t received = 0, closed = 0, wrong = 0;
  std::string reason;
  for (auto& s : subs) {
    received += s->transitions;
    closed += s->closed;
    wrong += s->transitions != expected;
    if (s->closed && reason.empty()) reason = s->close_reason.empty() ? "no reason" : s->close_reason;
  }
  const std::size_t missing = expected * subs.size() > received ? expected * subs.size() - received : 0;
  check(missing == 0 && closed == 0 && wrong == 0,
        name + ": " + std::to_string(missing) + " transitions missing, " + std::to_string(closed) +
          " subscribers closed (" + reason + "), " + std::to_string(wrong) + " with a wrong count (expected " +
          std::to_string(expected) + " each)");
  std::sort(latency.begin(), latency.end());
  const std::string p = "subscribers=" + std::to_string(clients) + ",jobs=" + std::to_string(jobs) +
                        ",submits_per_s=" + std::to_string(static_cast<int>(rate)) +
                        ",client_threads=2,latency=recv-at(ms clock)";
  out.add(name + ".p50", percentile(latency, 50), "ms", p);
  out.add(name + ".p99", percentile(latency, 99), "ms", p);
  out.add(name + ".max", latency.empty() ? 0 : latency.back(), "ms", p);
  out.add(name + ".dropped", static_cast<double>(missing), "count", p);
  // Per event delivered to one subscriber (the daemon's figure includes
  // running the 500 no-op jobs: a few ms of its total).
  const double deliveries = static_cast<double>(expected * subs.size());
  const std::string pc = p + ",from_first_submit_to_last_delivery,wall_s=" + std::to_string(wall).substr(0, 5);
  out.add(name + ".server_cpu_per_delivery", 1e6 * server_cpu / deliveries, "us", pc);
  out.add(name + ".client_cpu_per_delivery", 1e6 * client_cpu / deliveries, "us", pc);
  out.add(name + ".cpu_busy", 100 * (server_cpu + client_cpu) / (2 * wall), "%", pc + ",of_2_cores");
  for (auto& s : subs) {
    beast::error_code ignored;
    s->socket.close(ignored);
  }
}

void bench_ws_fanout(figures& out) {
  const int clients = opt.smoke ? 50 : 1000;
  const std::size_t jobs = opt.smoke ? 20 : 500;
  const double rate = opt.ws_rate > 0 ? opt.ws_rate : (opt.smoke ? 200 : 50);  // submits per second
  raise_nofile();
  for (int rep = 0; rep < reps(); ++rep) {
    {
      daemon_process d{fresh_dir("ws_fanout")};
      sync_client c{d.port()};
      ws_fanout_run(out, "ws_fanout", d.port(), d.pid(), clients, jobs, rate, [&] {
        const auto t0 = steady::now();
        for (std::size_t i = 0; i < jobs; ++i) {
          std::this_thread::sleep_until(t0 + std::chrono::microseconds(static_cast<long>(i * 1e6 / rate)));
          check(c.request(bhttp::verb::post, "/v1/jobs", R"({"tool":"noop"})").first == 202,
                "ws_fanout: submit refused");
        }
        check(wait_idle(c, 120s) && wait_finished(c, jobs, 60s), "ws_fanout: never finished");
      });
    }
    // The network's floor (bench/net_floor.hpp), right after: the same
    // subscribers, the same frames at the same rate, one send() each.
    daemon_process f{floor_server_args("ws", ""), floor_listening};
    ws_fanout_run(out, "ws_fanout.floor", f.port(), f.pid(), clients, jobs, rate, [&] {
      sync_client c{f.port()};
      check(c.request(bhttp::verb::post, "/emit?jobs=" + std::to_string(jobs) + "&rate=" + std::to_string(rate))
                .first == 202,
            "ws_fanout.floor: the emission was refused");
    });
  }
}

// -- restart -------------------------------------------------------------------

// A data dir with `total` stored jobs, `unfinished` of them pending behind one
// long `sleep` job of priority 10: restarted with --max-concurrent 1, the
// daemon recovers them all yet runs none, so each repetition sees the same dir.
void prepare_restart_dir(const fs::path& dir, std::size_t total, std::size_t unfinished) {
  const auto marker = dir / "overseer-bench-prepared";
  if (fs::exists(marker)) {
    std::ifstream in{marker};
    std::size_t t = 0, u = 0;
    in >> t >> u;
    if (t == total && u == unfinished) return;
  }
  fs::remove_all(dir);
  fs::create_directories(dir);
  const auto t0 = steady::now();
  {
    overseer::engine e{{.data_dir = dir, .max_concurrent = 2, .sync = false}};
    e.start();
    completion_counter c;
    auto sub = e.subscribe(transitions_only(), [&](const overseer::event& ev) { c.on(ev); });
    const std::size_t finished = total - unfinished;
    check(submit_many(e, finished, 2, 2048, {.tool = "noop"}) == finished, "restart: set-up submits");
    check(c.wait_for(finished, 1800s), "restart: set-up jobs never finished");
    check(c.other_terminal == 0, "restart: set-up: " + std::to_string(c.other_terminal) + " noop jobs did not complete");
    sub.reset();
  }
  {
    overseer::engine e{{.data_dir = dir, .max_concurrent = 1, .sync = false}};
    e.start();
    completion_counter c;
    auto sub = e.subscribe(transitions_only(), [&](const overseer::event& ev) { c.on(ev); });
    (void)e.submit({.tool = "sleep", .params = {{"seconds", 86400}, {"steps", 1}}, .priority = 10});
    check(c.wait_running(1, 30s), "restart: the blocking job never ran");
    check(submit_many(e, unfinished - 1, 2, 2048, {.tool = "noop"}) == unfinished - 1, "restart: set-up submits");
    check(c.running == 1 && c.completed + c.other_terminal == 0,
          "restart: set-up: " + std::to_string(c.running) + " started, " + std::to_string(c.completed + c.other_terminal) +
            " ended while the blocking job ran");
    sub.reset();
    e.stop();
  }
  std::ofstream{marker} << total << ' ' << unfinished << '\n';
  std::fprintf(stderr, "overseer_bench: prepared %zu jobs (%zu unfinished) in %.1f s\n", total, unfinished,
               seconds_since(t0));
}

void bench_restart(figures& out) {
  const std::size_t total = opt.jobs ? opt.jobs : (opt.smoke ? 3000 : 1000000);
  const std::size_t unfinished = total / 10;
  const auto dir = opt.restart_dir.empty() ? opt.work_dir / "restart-data" : opt.restart_dir;
  prepare_restart_dir(dir, total, unfinished);
  std::uintmax_t bytes = 0;
  for (auto& f : fs::recursive_directory_iterator(dir))
    if (f.is_regular_file()) bytes += f.file_size();
  const std::string p = "stored_jobs=" + std::to_string(total) + ",unfinished=" + std::to_string(unfinished) +
                        ",data_mb=" + std::to_string(bytes >> 20) + ",max_concurrent=1";
  for (int rep = 0; rep < reps(); ++rep) {
    daemon_process d{dir, {"--max-concurrent", "1"}};
    sync_client c{d.port()};
    const auto [status, body] = c.request(bhttp::verb::get, "/v1/health");
    const double first_get = seconds_since(d.started());
    check(status == 200, "restart: GET /v1/health answered " + std::to_string(status));
    const auto q = json::parse(body).at("queue_stats").as_object();
    const auto queued = q.at("pending_jobs").to_number<std::int64_t>() + q.at("running_jobs").to_number<std::int64_t>();
    check(queued >= static_cast<std::int64_t>(unfinished),
          "restart: " + std::to_string(queued) + " jobs queued after restart, expected " + std::to_string(unfinished));
    out.add("restart.listening", d.listening_after(), "s", p);
    out.add("restart.first_get", first_get, "s", p);
  }
}

// -- memory --------------------------------------------------------------------

// How cost grows with work (docs/performance.md, "Scaling"; plotted by
// bench/plot_scaling.py). Two curves:
//  - stored: durable embedded throughput of 20,000 no-op jobs (submit_async,
//    2 threads) and the process's VmRSS, with S finished jobs already in the
//    store (filled with sync=false, then the engine restarted durable);
//  - queued: VmRSS per queued job with Q jobs queued behind a blocking job,
//    and the rate at which the engine then drains those Q jobs.
// Sizes: --scaling-stored / --scaling-queued (comma-separated), default
// 0,100000,1000000,10000000 and 10000,100000,1000000; --smoke shrinks them.
void bench_scaling(figures& out) {
  const std::size_t n = opt.smoke ? 500 : 20000;
  if (opt.smoke) {
    opt.scaling_stored = {0, 1000};
    opt.scaling_queued = {1000};
  }
  for (std::size_t stored : opt.scaling_stored) {
    const auto dir = fresh_dir("scaling");
    if (stored > 0) {
      overseer::engine fill{{.data_dir = dir, .max_concurrent = 2, .sync = false}};
      fill.start();
      completion_counter c;
      auto sub = fill.subscribe(transitions_only(), [&](const overseer::event& ev) { c.on(ev); });
      // In chunks, each submitted once the one before last has finished:
      // a fill submitted at once would hold millions of jobs queued (a peak
      // of 6.3 GiB at ten million), which the figures below do not need.
      constexpr std::size_t chunk = 100000;
      for (std::size_t sent = 0; sent < stored; sent += chunk) {
        if (sent >= 2 * chunk) check(c.wait_for(sent - chunk, 1800s), "scaling: the fill never finished");
        const auto now = std::min(chunk, stored - sent);
        check(submit_many(fill, now, 2, 2048, {.tool = "noop"}) == now, "scaling: fill submits");
      }
      check(c.wait_for(stored, 1800s), "scaling: the fill never finished");
    }
    overseer::engine e{{.data_dir = dir, .sync = true}};
    e.start();
    const double rate = noop_throughput(e, n, "scaling: stored=" + std::to_string(stored));
    const std::string p = "stored=" + std::to_string(stored) + ",jobs=" + std::to_string(n) + ",durable";
    out.add("scaling.stored" + std::to_string(stored) + ".jobs_per_s", rate, "jobs/s", p);
    ::malloc_trim(0);  // what the fill's engine freed goes back first
    out.add("scaling.stored" + std::to_string(stored) + ".rss", static_cast<double>(rss_bytes()), "bytes", p);
  }
  for (std::size_t queued : opt.scaling_queued) {
    // The tool paused: every job stays queued until it is resumed.
    overseer::engine e{{.data_dir = fresh_dir("scaling"), .max_concurrent = 64, .sync = true}};
    e.start();
    completion_counter c;
    auto sub = e.subscribe(transitions_only(), [&](const overseer::event& ev) { c.on(ev); });
    check(e.pause_tool("noop").ok(), "scaling: pausing noop");
    ::malloc_trim(0);
    const auto before = rss_bytes();
    check(submit_many(e, queued, 2, 1024, {.tool = "noop"}) == queued, "scaling: queued submits");
    ::malloc_trim(0);
    const auto after = rss_bytes();
    const std::string p = "queued=" + std::to_string(queued) + ",max_concurrent=64,durable";
    out.add("scaling.queued" + std::to_string(queued) + ".per_queued_job",
            (static_cast<double>(after) - static_cast<double>(before)) / static_cast<double>(queued), "bytes", p);
    // What a stats read (a /metrics scrape, a health check) costs with the
    // whole queue waiting: the median of 21.
    std::vector<double> stats_ms;
    for (int i = 0; i < 21; ++i) {
      const auto s0 = steady::now();
      check(e.stats().pending == queued, "scaling: stats while queued");
      stats_ms.push_back(seconds_since(s0) * 1000);
    }
    std::nth_element(stats_ms.begin(), stats_ms.begin() + 10, stats_ms.end());
    out.add("scaling.queued" + std::to_string(queued) + ".stats_ms", stats_ms[10], "ms", p);
    // How many job actors live at once while 64 slots drain the queue
    // (engine_stats::job_actors, sampled every 250 ms: a sample walks the
    // scheduler's active jobs): admitted jobs plus
    // ended ones that still wait for their writes.
    std::atomic<bool> drained{false};
    std::size_t peak_actors = 0;
    std::thread sampler{[&] {
      while (!drained.load()) {
        peak_actors = std::max(peak_actors, e.stats().job_actors);
        std::this_thread::sleep_for(250ms);
      }
    }};
    const auto t0 = steady::now();
    check(e.resume_tool("noop").ok(), "scaling: resuming noop");
    const bool finished = c.wait_for(queued, 1800s);
    const double took = seconds_since(t0);
    drained = true;
    sampler.join();
    check(finished, "scaling: queued=" + std::to_string(queued) + ": the drain never finished");
    out.add("scaling.queued" + std::to_string(queued) + ".drain_jobs_per_s", queued / took, "jobs/s", p);
    out.add("scaling.queued" + std::to_string(queued) + ".peak_job_actors", static_cast<double>(peak_actors), "actors", p);
    sub.reset();
  }
}

void bench_memory(figures& out) {
  const std::size_t n = jobs_or(1000000, 2000);
  for (int rep = 0; rep < reps(); ++rep) {
    std::atomic<bool> release{false};
    overseer::engine e{{.data_dir = fresh_dir("memory"), .max_concurrent = 1, .sync = false}};
    overseer::tool_definition hold;
    hold.name = "bench_hold";
    e.tools().add(hold, [&](overseer::job_context& ctx) -> overseer::tool_result {
      while (!release && !ctx.sleep_for(20ms)) {}
      return boost::json::object{};
    });
    e.start();
    completion_counter c;
    auto sub = e.subscribe(transitions_only(), [&](const overseer::event& ev) { c.on(ev); });
    (void)e.submit({.tool = "bench_hold", .priority = 10});
    check(c.wait_running(1, 30s), "memory: the blocking job never ran");
    ::malloc_trim(0);
    const auto before = rss_bytes();
    check(submit_many(e, n, 2, 1024, {.tool = "noop"}) == n, "memory: submits");
    std::this_thread::sleep_for(200ms);
    ::malloc_trim(0);
    const auto after = rss_bytes();
    const auto st = e.stats();
    check(st.pending == n, "memory: " + std::to_string(st.pending) + " pending, expected " + std::to_string(n));
    out.add("memory.per_queued_job", (static_cast<double>(after) - static_cast<double>(before)) / n, "bytes",
            "queued=" + std::to_string(n) + ",embedded,VmRSS delta incl. RocksDB memtable");
    release = true;
    sub.reset();
  }
}

// A listing narrowed by creation time: `GET /v1/jobs?tool=T&created_after=X`
// walks the tool's index from the newest entry and stops at X, so its cost
// follows the jobs in the range, not the jobs stored. Beside it the same
// listing without the bound, which walks the whole index (its total_count
// counts every match). Embedded, N finished noop jobs; the bound keeps the
// newest 1 %.
void bench_list(figures& out) {
  const std::size_t n = jobs_or(200000, 2000);
  for (int rep = 0; rep < reps(); ++rep) {
    overseer::engine e{{.data_dir = fresh_dir("list"), .sync = false}};
    e.start();
    completion_counter c;
    auto sub = e.subscribe(transitions_only(), [&](const overseer::event& ev) { c.on(ev); });
    check(submit_many(e, n, 2, 1024, {.tool = "noop"}) == n, "list: submits");
    check(c.wait_for(n, 300s), "list: not every job finished");
    sub.reset();
    const auto newest = e.list({.tool = "noop", .limit = n / 100});
    check(newest.jobs.size() == n / 100, "list: the newest jobs");
    const auto after = newest.jobs.back().created_at;
    const auto in_range = e.list({.tool = "noop", .created_after = after, .limit = 0}).total_count;
    check(in_range >= n / 100, "list: the range holds " + std::to_string(in_range) + " jobs");
    const auto time_of = [&](const overseer::list_query& q, std::size_t expect) {
      const int rounds = opt.smoke ? 3 : 20;
      const auto t0 = steady::now();
      for (int i = 0; i < rounds; ++i) check(e.list(q).total_count == expect, "list: a count changed");
      return seconds_since(t0) * 1000 / rounds;
    };
    const auto params = "stored=" + std::to_string(n) + ",in_range=" + std::to_string(in_range) + ",limit=50,embedded";
    out.add("list.tool.all", time_of({.tool = "noop", .limit = 50}, n), "ms", params);
    out.add("list.tool.newest_1pct", time_of({.tool = "noop", .created_after = after, .limit = 50}, in_range), "ms",
            params);
    // No index filter: the walk goes by job id over both job families.
    out.add("list.any.all", time_of({.limit = 50}, n), "ms", params);
    out.add("list.any.newest_1pct", time_of({.created_after = after, .limit = 50}, in_range), "ms", params);
    // The unfinished jobs, among N finished ones: a listing of `pending`
    // walks the open_jobs family, and a pending job's view counts the
    // unfinished jobs ahead of it there. Each finished job deleted its key.
    std::atomic<bool> release{false};
    overseer::tool_definition hold;
    hold.name = "bench_hold";
    hold.max_concurrent = 1;
    e.tools().add(hold, [&](overseer::job_context& ctx) -> overseer::tool_result {
      while (!release && !ctx.sleep_for(5ms)) {}
      return boost::json::object{};
    });
    const auto running_id = e.submit({.tool = "bench_hold"});
    const auto pending_id = e.submit({.tool = "bench_hold"});
    for (int i = 0; i < 1000 && e.get(running_id).value().status != overseer::job_status::running; ++i)
      std::this_thread::sleep_for(5ms);
    out.add("list.pending", time_of({.status = overseer::job_status::pending, .limit = 50}, 1), "ms", params);
    {
      const int rounds = opt.smoke ? 3 : 20;
      const auto t0 = steady::now();
      for (int i = 0; i < rounds; ++i) {
        auto v = e.get(pending_id);
        check(v.has_value() && v.value().status == overseer::job_status::pending, "list: the pending job");
      }
      out.add("get.pending", seconds_since(t0) * 1000 / rounds, "ms", params);
    }
    release = true;
    // Retention's work, as a purge: the oldest 90 % of the noop jobs go.
    // Every row deleted stays as a deletion that a walk over its range steps
    // over until a compaction drops it: listings of what is left, right
    // after the purge and 10 s later.
    const auto tenth = e.list({.tool = "noop", .limit = 1, .offset = n / 10});
    check(tenth.jobs.size() == 1, "list: the job before the purged ones");
    const auto cutoff = tenth.jobs.front().created_at;
    const auto t0 = steady::now();
    const auto purged = e.purge({.tool = "noop", .created_before = cutoff}).deleted;
    const double purge_s = seconds_since(t0);
    // About 90 %: the jobs of the cutoff's millisecond that sort before it
    // by id but were created after it stay too (many, in a smoke run).
    const auto kept = n - purged;
    check(e.list({.tool = "noop", .created_after = cutoff, .limit = 0}).total_count == kept,
          "list: the purge deleted " + std::to_string(purged) + " jobs, not every one created before the cutoff");
    const auto purge_params = "stored=" + std::to_string(n) + ",purged=" + std::to_string(purged) + ",limit=50,embedded";
    out.add("purge.jobs_per_s", purged / purge_s, "jobs/s", purge_params);
    out.add("list.tool.after_purge", time_of({.tool = "noop", .limit = 50}, kept), "ms", purge_params);
    out.add("list.any.after_purge", time_of({.limit = 50}, kept + 2), "ms", purge_params);
    std::this_thread::sleep_for(10s);
    out.add("list.tool.after_purge_10s", time_of({.tool = "noop", .limit = 50}, kept), "ms", purge_params);
    out.add("list.any.after_purge_10s", time_of({.limit = 50}, kept + 2), "ms", purge_params);
  }
}

// -- main ------------------------------------------------------------------------

void print_environment() {
  utsname u{};
  ::uname(&u);
  char date[64];
  const auto now = std::time(nullptr);
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  std::string cpu;
  std::ifstream info{"/proc/cpuinfo"};
  for (std::string line; std::getline(info, line);)
    if (line.starts_with("model name")) {
      cpu = line.substr(line.find(':') + 2);
      break;
    }
  std::printf("# overseer_bench %s\n# date %s\n# host %s %s %s\n# cpu %s\n# cores %u\n# memory_gib %.1f\n"
              "# build %s\n# mode %s repetitions=%d\n",
              "0.1", date, u.sysname, u.release, u.machine, cpu.c_str(), std::thread::hardware_concurrency(),
              static_cast<double>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE) / (1 << 30), OVERSEER_BENCH_BUILD_TYPE,
              opt.smoke ? "smoke" : "full", reps());
  std::printf("# %-28s %14s %12s %14s %14s %-8s %s\n", "name", "median", "mad", "min", "max", "unit", "parameters");
  std::fflush(stdout);
}

}  // namespace

// -- the cost of counting -------------------------------------------------------

// The same durable workload with the metrics off and on, interleaved in one
// run (off, on, off, on, ...) so drift of the machine hits both alike.
// Embedded: engine_metrics (the event-bus subscriber /metrics reads)
// attached or not; the group-commit counts are always on. HTTP: overseerd
// with --metrics false --log-level warning (no job counting, no access log)
// against the defaults (job counting, one access-log line per request).
void bench_metrics_overhead(figures& out) {
  const std::size_t n = jobs_or(50000, 2000);
  const std::size_t n_http = jobs_or(30000, 1000);
  const int conns = opt.smoke ? 8 : opt.connections;
  const int rounds = std::max(reps(), opt.smoke ? 1 : 5);
  for (int rep = 0; rep < rounds; ++rep)
    for (bool on : {false, true}) {
      const std::string mode = on ? "on" : "off";
      overseer::engine e{{.data_dir = fresh_dir("metrics"), .sync = true}};
      e.start();
      std::optional<overseer::metrics::engine_metrics> counting;
      if (on) counting.emplace(e);
      out.add("metrics.embedded." + mode, noop_throughput(e, n, "metrics_overhead.embedded." + mode), "jobs/s",
              "jobs=" + std::to_string(n) + ",threads=2,window=1024,sync=true");
    }
  for (int rep = 0; rep < rounds; ++rep)
    for (bool on : {false, true}) {
      const std::string mode = on ? "on" : "off";
      daemon_process d{fresh_dir("metrics_http"),
                       on ? std::vector<std::string>{} : std::vector<std::string>{"--metrics", "false", "--log-level", "warning"}};
      auto r = run_load(d.port(), {.requests = n_http, .connections = conns, .threads = opt.threads,
                                   .make = submit_request, .expected_status = 202});
      check(r.ok == n_http && r.bad == 0, "metrics_overhead.http." + mode + ": " + std::to_string(r.ok) + " of " +
                                            std::to_string(n_http) + " got 202");
      out.add("metrics.http_submit." + mode, r.ok / r.seconds, "req/s",
              "jobs=" + std::to_string(n_http) + ",connections=" + std::to_string(conns) + ",durable" +
                (on ? ",access_log" : ""));
      sync_client c{d.port()};
      check(wait_idle(c, 300s), "metrics_overhead.http: the daemon never finished");
    }
}

std::vector<std::size_t> size_list(const std::string& text) {
  std::vector<std::size_t> out;
  std::stringstream in{text};
  for (std::string p; std::getline(in, p, ',');)
    if (!p.empty()) out.push_back(std::stoull(p));
  return out;
}

int main(int argc, char** argv) {
  std::string list = "embedded_noop,http_submit,http_poll,http_sync,ws_fanout,restart,memory";
  // Started again by itself as the network's floor server.
  if (argc >= 2 && std::string_view{argv[1]}.starts_with("--serve-floor=")) {
    const std::string body = argc >= 3 && std::string_view{argv[2]}.starts_with("--floor-body=") ? argv[2] + 13 : "";
    const std::string dir = argc >= 4 && std::string_view{argv[3]}.starts_with("--floor-dir=") ? argv[3] + 12 : "";
    return overseer::bench::serve_floor(argv[1] + 14, body, dir);
  }
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* flag) -> std::optional<std::string> {
      const std::string f = std::string{flag} + "=";
      if (a.starts_with(f)) return a.substr(f.size());
      return std::nullopt;
    };
    if (a == "--smoke") opt.smoke = true;
    else if (auto v = value("--benchmarks")) list = *v;
    else if (auto v = value("--jobs")) opt.jobs = std::stoull(*v);
    else if (auto v = value("--repetitions")) opt.repetitions = std::stoi(*v);
    else if (auto v = value("--overseerd")) opt.overseerd = *v;
    else if (auto v = value("--work-dir")) opt.work_dir = *v;
    else if (auto v = value("--restart-dir")) opt.restart_dir = *v;
    else if (auto v = value("--connections")) opt.connections = std::stoi(*v);
    else if (auto v = value("--threads")) opt.threads = std::stoi(*v);
    else if (auto v = value("--ws-rate")) opt.ws_rate = std::stod(*v);
    else if (auto v = value("--open-loop-seconds")) opt.open_loop_seconds = std::stod(*v);
    else if (auto v = value("--open-loop-base")) opt.open_loop_base = std::stod(*v);
    else if (auto v = value("--open-loop")) {
      opt.open_loop.clear();
      std::stringstream in{*v};
      for (std::string p; std::getline(in, p, ',');)
        if (!p.empty()) opt.open_loop.push_back(std::stoi(p));
      if (std::any_of(opt.open_loop.begin(), opt.open_loop.end(), [](int p) { return p <= 0; })) {
        std::fprintf(stderr, "overseer_bench: --open-loop takes positive percentages, e.g. 25,50,75\n");
        return 2;
      }
    }
    else if (auto v = value("--scaling-stored")) opt.scaling_stored = size_list(*v);
    else if (auto v = value("--scaling-queued")) opt.scaling_queued = size_list(*v);
    else if (auto v = value("--only")) {
      std::stringstream in{*v};
      for (std::string p; std::getline(in, p, ',');) opt.only.push_back(p);
    } else {
      std::fprintf(stderr,
                   "usage: overseer_bench [--benchmarks=embedded_noop,http_submit,http_poll,http_sync,ws_fanout,restart,memory,\n"
                   "         metrics_overhead,fair_share]\n"
                   "         [--jobs=N] [--repetitions=R] [--smoke] [--connections=C] [--threads=T] [--ws-rate=R]\n"
                   "         [--only=FIGURE_PREFIX,...] [--overseerd=PATH] [--work-dir=DIR] [--restart-dir=DIR]\n"
                   "         [--open-loop=25,50,75 (%% of the closed-loop req/s; empty: off)] [--open-loop-seconds=5]\n"
                   "         [--open-loop-base=R (req/s the percentages are of: A/Bs at the same offered rates)]\n");
      return 2;
    }
  }
  std::stringstream in{list};
  for (std::string b; std::getline(in, b, ',');) opt.benchmarks.insert(b);
  const bool own_work_dir = opt.work_dir.empty();
  if (own_work_dir) {
    char tmpl[] = "/tmp/overseer-bench-XXXXXX";
    opt.work_dir = ::mkdtemp(tmpl);
  }
  std::signal(SIGPIPE, SIG_IGN);
  print_environment();
  const std::vector<std::pair<std::string, void (*)(figures&)>> all = {
    {"embedded_noop", bench_embedded_noop}, {"http_submit", bench_http_submit}, {"http_poll", bench_http_poll},
    {"http_sync", bench_http_sync},
    {"ws_fanout", bench_ws_fanout},         {"restart", bench_restart},         {"memory", bench_memory},
    {"metrics_overhead", bench_metrics_overhead}, {"fair_share", bench_fair_share}, {"scaling", bench_scaling}, {"list", bench_list}};
  for (const auto& b : opt.benchmarks)
    if (std::none_of(all.begin(), all.end(), [&](auto& p) { return p.first == b; })) {
      std::fprintf(stderr, "overseer_bench: unknown benchmark %s\n", b.c_str());
      return 2;
    }
  for (const auto& [name, run] : all) {
    if (!opt.benchmarks.count(name)) continue;
    figures f;
    const auto t0 = steady::now();
    try {
      run(f);
    } catch (const std::exception& e) {
      check(false, name + ": " + e.what());
    }
    f.print();
    std::fprintf(stderr, "overseer_bench: %s took %.1f s\n", name.c_str(), seconds_since(t0));
  }
  if (own_work_dir) {
    std::error_code ignored;
    fs::remove_all(opt.work_dir, ignored);
  }
  if (failures) std::printf("# FAILED: %d checks\n", failures);
  return failures ? 1 : 0;
}
