// Worker nodes (docs/cluster.md) with real processes on loopback: one
// scheduler node and two `overseerd --worker` processes, over mutual TLS.
// Jobs spread across the workers; a worker killed with kill -9 mid-attempt
// loses its attempt, which runs again on the other worker from its last
// checkpoint without using up a retry; a restarted worker rejoins; after a
// kill -9 of the scheduler node the workers rejoin the restarted one and no
// attempt runs twice; a node without a valid certificate cannot join.
//
// The tool writes a marker file per attempt (job, attempt, node, where it
// started from, a line per step with the time), so the test sees where and
// when every attempt ran.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "integration/cli_helpers.hpp"
#include "support/child_process.hpp"
#include "support/daemon.hpp"
#include "support/eventually.hpp"
#include "support/http_helpers.hpp"
#include "support/temp_dir.hpp"

using namespace overseer::test;
using namespace std::chrono_literals;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

/// A CA, certificates it signed for the scheduler node and two workers, and
/// a certificate of another CA (a node that must not get in).
void make_certificates(const fs::path& dir) {
  const std::string d = dir.string();
  std::string script = "set -e; cd '" + d + "'\n";
  script +=
    "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=overseer-test-ca -keyout ca.key -out ca.pem\n"
    "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=rogue-ca -keyout rogue-ca.key -out rogue-ca.pem\n"
    "for n in scheduler w1 w2 rogue; do\n"
    "  ca=ca; [ $n = rogue ] && ca=rogue-ca\n"
    "  openssl req -newkey rsa:2048 -nodes -subj /CN=$n -keyout $n.key -out $n.csr\n"
    "  openssl x509 -req -in $n.csr -CA $ca.pem -CAkey $ca.key -CAcreateserial -days 2 -out $n.pem\n"
    "done\n";
  const auto path = dir / "make.sh";
  std::ofstream{path} << script;
  const auto rc = std::system(("sh '" + path.string() + "' >'" + d + "/make.log' 2>&1").c_str());
  REQUIRE(rc == 0);
}

/// The tool: `steps` steps of `step_s` seconds, a checkpoint after each; it
/// resumes from the checkpoint. Its marker file (MARKERS/JOB.ATTEMPT) is
/// created with noclobber: a second run of the same attempt cannot reuse it.
void write_tool(const fs::path& dir, const fs::path& markers) {
  std::ofstream{dir / "steps.sh"} << R"SH(#!/bin/sh
set -e
start=0
if [ -s "$OVERSEER_CHECKPOINT_FILE" ]; then start=$(cat "$OVERSEER_CHECKPOINT_FILE"); fi
marker="$MARKERS/$OVERSEER_JOB_ID.$OVERSEER_ATTEMPT"
set -C
echo "node $NODE_NAME start $start begin $(date +%s.%N)" > "$marker"
set +C
i=$start
while [ "$i" -lt "$1" ]; do
  sleep "$2"
  i=$((i + 1))
  echo "step $i $(date +%s.%N)" >> "$marker"
  printf '@overseer {"checkpoint": "%d", "current_step": %d, "total_steps": %d}\n' "$i" "$i" "$1"
done
printf '@overseer {"result": {"node": "%s", "start": %d}}\n' "$NODE_NAME" "$start"
)SH";
  fs::permissions(dir / "steps.sh", fs::perms::owner_all);
  // Prints LINES short lines as fast as it can once MARKERS/go exists, then
  // leaves MARKERS/flood.done.
  std::ofstream{dir / "flood.sh"} << R"SH(#!/bin/sh
until [ -e "$MARKERS/go" ]; do sleep 0.05; done
seq 1 "$1"
touch "$MARKERS/flood.done"
)SH";
  fs::permissions(dir / "flood.sh", fs::perms::owner_all);
  for (const std::string node : {"scheduler", "w1", "w2", "rogue"}) {
    json::object flood{{"name", "flood"},
                       {"command", json::array{(dir / "flood.sh").string(), "{params.lines}"}},
                       {"params", json::object{{"lines", json::object{{"type", "integer"}, {"default", 50000}}}}},
                       {"env", json::object{{"MARKERS", markers.string()}}},
                       {"kill_grace_s", 1}};
    json::object tool{{"name", "steps"},
                      {"command", json::array{(dir / "steps.sh").string(), "{params.steps}", "{params.step_s}"}},
                      {"params", json::object{{"steps", json::object{{"type", "integer"}, {"default", 4}}},
                                              {"step_s", json::object{{"type", "number"}, {"default", 0.2}}}}},
                      {"env", json::object{{"MARKERS", markers.string()}, {"NODE_NAME", node}}},
                      {"kill_grace_s", 1}};
    std::ofstream{dir / ("tools-" + node + ".json")}
      << json::serialize(json::object{{"tools", json::array{tool, flood}}});
  }
}

struct cluster_files {
  temp_dir dir;
  fs::path certs = dir.path() / "certs";
  fs::path markers = dir.path() / "markers";
  fs::path tmp = dir.path() / "tmp";  ///< the workers' TMPDIR
  cluster_files() {
    fs::create_directories(tmp);
    fs::create_directories(certs);
    fs::create_directories(markers);
    make_certificates(certs);
    write_tool(dir.path(), markers);
  }
  [[nodiscard]] std::vector<std::string> tls(const std::string& node) const {
    return {"--cluster-cert", (certs / (node + ".pem")).string(), "--cluster-key", (certs / (node + ".key")).string(),
            "--cluster-ca", (certs / (node == "rogue" ? "rogue-ca.pem" : "ca.pem")).string()};
  }
  [[nodiscard]] std::string tools(const std::string& node) const {
    return (dir.path() / ("tools-" + node + ".json")).string();
  }
};

/// The scheduler node: no capacity of its own, so every attempt runs on a
/// worker.
std::vector<std::string> scheduler_args(const cluster_files& f, unsigned short cluster_port = 0) {
  std::vector<std::string> a{"--cluster-listen", "127.0.0.1:" + std::to_string(cluster_port), "--capacity", "0",
                             "--tools", f.tools("scheduler"), "--heartbeat-timeout", "3000", "--log-level",
                             "warning"};
  for (auto& x : f.tls("scheduler")) a.push_back(std::move(x));
  return a;
}

/// `overseerd --worker`, started and waited for until it has joined (its
/// "overseerd worker NAME joined" line).
struct worker {
  std::unique_ptr<child_process> process;
  worker(const cluster_files& f, const std::string& name, unsigned short cluster_port, int capacity = 2,
         bool wait_for_join = true, const std::string& stderr_file = {}, std::vector<std::string> extra = {}) {
    // Its scratch under the test's directory, so what a worker killed with
    // kill -9 leaves goes with the test. env(1) execs overseerd in place:
    // the pid stays the daemon's.
    std::vector<std::string> argv{"/usr/bin/env", "TMPDIR=" + f.tmp.string(), OVERSEERD_PATH, "--worker",
                                  "--join", "127.0.0.1:" + std::to_string(cluster_port), "--node-name", name,
                                  "--capacity", std::to_string(capacity), "--tools", f.tools(name),
                                  "--heartbeat-timeout", "3000", "--log-level", stderr_file.empty() ? "error" : "warning"};
    for (auto& x : f.tls(name)) argv.push_back(std::move(x));
    for (auto& x : extra) argv.push_back(std::move(x));
    process = std::make_unique<child_process>(argv, stderr_file);
    if (!wait_for_join) return;
    std::string line;
    REQUIRE(process->read_line(line));
    REQUIRE(line.starts_with("overseerd worker " + name + " joined"));
  }
};

std::set<std::string> node_names(http_client& c) {
  std::set<std::string> out;
  auto r = c.get("/v1/nodes");
  REQUIRE(r.status == 200);
  const auto body = r.json();
  for (const auto& n : body.at("nodes").as_array()) out.insert(std::string{n.at("name").as_string()});
  return out;
}

std::string submit_steps(http_client& c, int steps, double step_s) {
  auto r = c.post("/v1/jobs", json::object{{"tool", "steps"},
                                          {"params", json::object{{"steps", steps}, {"step_s", step_s}}},
                                          {"retry", json::object{{"max_attempts", 1}}}});
  REQUIRE(r.status == 202);
  return std::string{r.json().at("job_id").as_string()};
}

json::object job(http_client& c, const std::string& id) {
  auto r = c.get("/v1/jobs/" + id);
  REQUIRE(r.status == 200);
  return r.json().as_object();
}

std::string status_of(http_client& c, const std::string& id) { return std::string{job(c, id).at("status").as_string()}; }

/// The step the job's stored progress names. The tool reports a step in the
/// line that also carries its checkpoint, which is stored first: step k
/// stored means checkpoint k is durable.
std::int64_t stored_step(http_client& c, const std::string& id) {
  const auto v = job(c, id);
  const auto* p = v.if_contains("progress");
  return p && p->is_object() ? p->at("current_step").as_int64() : 0;
}

/// One attempt's marker: where it ran, where it started, when each step ended.
struct marker {
  std::string node;
  int start = -1;
  double begin = 0;
  std::vector<double> steps;
};

std::map<int, marker> markers_of(const fs::path& dir, const std::string& job_id) {
  std::map<int, marker> out;
  for (const auto& e : fs::directory_iterator{dir}) {
    const auto name = e.path().filename().string();
    if (!name.starts_with(job_id + ".")) continue;
    marker m;
    std::ifstream in{e.path()};
    std::string word;
    std::string line;
    std::getline(in, line);
    std::istringstream first{line};
    first >> word >> m.node >> word >> m.start >> word >> m.begin;
    while (std::getline(in, line)) {
      std::istringstream s{line};
      int i = 0;
      double at = 0;
      s >> word >> i >> at;
      m.steps.push_back(at);
    }
    out[std::stoi(name.substr(job_id.size() + 1))] = m;
  }
  return out;
}

/// The markers as one line each, for a failing check's message.
std::string describe(const std::map<int, marker>& m) {
  std::ostringstream out;
  for (const auto& [n, x] : m) out << "attempt " << n << " on " << x.node << " from " << x.start << "\n";
  return out.str();
}

/// Every attempt of a finished job ran once: one marker per attempt the
/// job's record counts (the tool refuses a second run of an attempt). On a
/// loaded machine a worker other than the one a test stops may miss its
/// heartbeats and be lost as well: that costs an attempt more, never a
/// double run. Returns the job's number of attempts.
int check_each_attempt_ran_once(http_client& c, const std::string& id, const std::map<int, marker>& m) {
  const auto attempts = job(c, id).at("attempt").as_int64();
  INFO(describe(m));
  INFO(c.get("/v1/jobs/" + id + "/history").body);
  CHECK(attempts >= 2);
  CHECK(m.size() == static_cast<std::size_t>(attempts));
  return static_cast<int>(attempts);
}

/// Waits (20 s at most) until attempt 1 of `id` has started and step `step`
/// is stored (its checkpoint durable); the node attempt 1 runs on, or "".
std::string first_node_at_step(http_client& c, const fs::path& markers, const std::string& id, std::int64_t step) {
  std::string node;
  eventually([&] {
    auto m = markers_of(markers, id);
    if (m.count(1) == 0 || stored_step(c, id) < step) return false;
    node = m[1].node;
    return true;
  }, std::chrono::seconds(20));
  return node;
}

bool history_has(http_client& c, const std::string& id, const std::string& reason_part) {
  const auto body = c.get("/v1/jobs/" + id + "/history").json();
  for (const auto& t : body.at("transitions").as_array())
    if (std::string{t.at("reason").as_string()}.find(reason_part) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("worker nodes over mutual TLS: spread, a worker killed mid-attempt, a worker rejoining",
          "[recovery][cluster]") {
  cluster_files f;
  temp_dir data;
  overseerd_process scheduler{data.path(), scheduler_args(f)};
  REQUIRE(scheduler.cluster_port() != 0);
  http_client c{scheduler.port()};
  worker w1{f, "w1", scheduler.cluster_port()};
  worker w2{f, "w2", scheduler.cluster_port()};
  REQUIRE(eventually([&] { return node_names(c).size() == 3; }));

  SECTION("GET /v1/nodes names every node with its capacity, tools and heartbeat") {
    const auto body = c.get("/v1/nodes").json();
    const auto& nodes = body.at("nodes").as_array();
    REQUIRE(nodes.size() == 3);
    CHECK(nodes[0].at("local").as_bool());
    CHECK(nodes[0].at("capacity").as_int64() == 0);
    CHECK(nodes[1].at("name").as_string() == "w1");
    CHECK(nodes[1].at("capacity").as_int64() == 2);
    bool offers_steps = false;
    for (const auto& t : nodes[1].at("tools").as_array()) offers_steps |= t.at("name").as_string() == "steps";
    CHECK(offers_steps);
    // The same in /metrics.
    const auto metrics = c.get("/metrics").body;
    CHECK(metrics.find("overseer_cluster_nodes 3") != std::string::npos);
    CHECK(metrics.find("overseer_node_capacity{node=\"w1\"} 2") != std::string::npos);
    CHECK(metrics.find("overseer_node_running{node=\"w2\"} 0") != std::string::npos);
  }

  SECTION("jobs spread across the workers, four at once on two workers of capacity two") {
    std::vector<std::string> ids;
    // 2.4 s each: long enough that all four overlap and a poll sees it,
    // after four synced submits and four dispatches to ASan-built workers.
    for (int i = 0; i < 4; ++i) ids.push_back(submit_steps(c, 3, 0.8));
    // All four run at once: two on each worker.
    REQUIRE(eventually([&] {
      int n = 0;
      for (const auto& id : ids) n += status_of(c, id) == "running";
      return n == 4;
    }));
    REQUIRE(eventually([&] {
      for (const auto& id : ids)
        if (status_of(c, id) != "completed") return false;
      return true;
    }, 30s));
    std::map<std::string, int> per_node;
    for (const auto& id : ids) {
      const auto result = job(c, id).at("result");
      ++per_node[std::string{result.at("node").as_string()}];
    }
    CHECK(per_node["w1"] == 2);
    CHECK(per_node["w2"] == 2);
  }

  SECTION("a worker killed with kill -9 mid-attempt: the job finishes on the other one from its checkpoint") {
    const auto id = submit_steps(c, 12, 0.25);
    const auto first_node = first_node_at_step(c, f.markers, id, 3);
    REQUIRE_FALSE(first_node.empty());
    (first_node == "w1" ? w1 : w2).process->kill9();
    REQUIRE(eventually([&] { return status_of(c, id) == "completed"; }, 30s));
    auto m = markers_of(f.markers, id);
    const auto attempts = check_each_attempt_ran_once(c, id, m);
    INFO(describe(m));
    REQUIRE(m.count(2) == 1);
    for (int a = 2; a <= attempts; ++a) CHECK(m[a].node != first_node);
    CHECK(m[2].start >= 3);  // resumed from a checkpoint, not from the start
    // max_attempts 1: completed, so the lost attempt did not use up the
    // only attempt there is.
    CHECK(history_has(c, id, "interrupted: node lost: " + first_node));
    REQUIRE(eventually([&] { return node_names(c).count(first_node) == 0; }));

    // The killed worker comes back under its name and takes work again.
    worker again{f, first_node, scheduler.cluster_port()};
    REQUIRE(eventually([&] { return node_names(c).count(first_node) == 1; }));
    std::vector<std::string> ids;
    for (int i = 0; i < 4; ++i) ids.push_back(submit_steps(c, 2, 0.3));
    REQUIRE(eventually([&] {
      for (const auto& j : ids)
        if (status_of(c, j) != "completed") return false;
      return true;
    }, 30s));
    std::set<std::string> used;
    for (const auto& j : ids) used.insert(std::string{job(c, j).at("result").at("node").as_string()});
    CHECK(used.count(first_node) == 1);
  }
}

TEST_CASE("a scheduler node killed with kill -9: workers rejoin the restarted one and no attempt runs twice",
          "[recovery][cluster]") {
  cluster_files f;
  temp_dir data;
  auto scheduler = std::make_unique<overseerd_process>(data.path(), scheduler_args(f));
  const auto cluster_port = scheduler->cluster_port();
  std::string id;
  {
    http_client c{scheduler->port()};
    const auto w1_log = (f.dir.path() / "w1.err").string();
    worker w1{f, "w1", cluster_port, 2, true, w1_log};
    worker w2{f, "w2", cluster_port};
    REQUIRE(eventually([&] { return node_names(c).size() == 3; }));
    id = submit_steps(c, 10, 0.25);
    REQUIRE(eventually([&] {
      auto m = markers_of(f.markers, id);
      return m.count(1) == 1 && stored_step(c, id) >= 2;
    }, 20s));
    scheduler->kill9();
    // The worker notices, stops the attempt it can no longer report, and
    // knocks until the scheduler node is back.
    scheduler = std::make_unique<overseerd_process>(data.path(), scheduler_args(f, cluster_port));
    http_client c2{scheduler->port()};
    const bool rejoined = eventually([&] { return node_names(c2).count("w1") + node_names(c2).count("w2") == 2; }, 20s);
    std::ifstream log{w1_log};
    const std::string text{std::istreambuf_iterator<char>{log}, {}};
    INFO("the worker's log:\n" << text);
    REQUIRE(rejoined);
    REQUIRE(eventually([&] { return status_of(c2, id) == "completed"; }, 30s));
    CHECK(history_has(c2, id, "interrupted"));
    // Attempt 1 had stopped before attempt 2 began: they never ran together.
    auto m = markers_of(f.markers, id);
    check_each_attempt_ran_once(c2, id, m);
    INFO(describe(m));
    REQUIRE(m.count(2) == 1);
    CHECK(m[2].start >= 2);
    REQUIRE(!m[1].steps.empty());
    CHECK(m[1].steps.back() <= m[2].begin);
    CHECK(m[1].steps.size() < 10);
    w1.process->terminate();
    w2.process->terminate();
  }
}

TEST_CASE("the cluster port refuses a node without a valid certificate, and needs TLS off loopback",
          "[recovery][cluster]") {
  cluster_files f;
  temp_dir data;
  overseerd_process scheduler{data.path(), scheduler_args(f)};
  http_client c{scheduler.port()};
  // A certificate of another CA, and no certificate at all: each knocks
  // (and is turned away, says its log) more than once.
  const auto rogue_log = (f.dir.path() / "rogue.err").string();
  const auto plain_log = (f.dir.path() / "plain.err").string();
  worker rogue{f, "rogue", scheduler.cluster_port(), 1, false, rogue_log};
  child_process plain{{"/usr/bin/env", "TMPDIR=" + f.tmp.string(), OVERSEERD_PATH, "--worker", "--join", "127.0.0.1:" + std::to_string(scheduler.cluster_port()),
                       "--node-name", "plain", "--log-level", "warning"},
                      plain_log};
  const auto refusals = [](const std::string& file) {
    std::ifstream in{file};
    std::size_t n = 0;
    for (std::string line; std::getline(in, line);) n += line.find("cannot reach the scheduler node") != line.npos;
    return n;
  };
  REQUIRE(eventually([&] { return refusals(rogue_log) >= 2 && refusals(plain_log) >= 2; }, 20s));
  // A good worker joins meanwhile: the refusals did not harm the port.
  worker w1{f, "w1", scheduler.cluster_port()};
  REQUIRE(eventually([&] { return node_names(c).count("w1") == 1; }));
  CHECK(node_names(c).size() == 2);  // this node and w1: neither rogue nor plain
  rogue.process->terminate();
  plain.terminate();

  // Off loopback without the TLS files: refused at start, with the reason.
  temp_dir other;
  const auto cmd = std::string{OVERSEERD_PATH} + " --data-dir '" + other.path().string() +
                   "' --listen 127.0.0.1:0 --cluster-listen 0.0.0.0:0 >/dev/null 2>'" +
                   (other.path() / "err").string() + "'";
  const int rc = std::system(cmd.c_str());
  CHECK(WEXITSTATUS(rc) == 1);
  std::ifstream err{other.path() / "err"};
  std::string text{std::istreambuf_iterator<char>{err}, {}};
  CHECK(text.find("not on a loopback address") != std::string::npos);

  // A cluster port already taken: refused at start, with the reason, and the
  // daemon exits (nothing it started keeps it alive).
  temp_dir third;
  const auto taken = std::string{"timeout 60 "} + OVERSEERD_PATH + " --data-dir '" + third.path().string() +
                     "' --listen 127.0.0.1:0 --cluster-listen 127.0.0.1:" + std::to_string(scheduler.cluster_port()) +
                     " >/dev/null 2>'" + (third.path() / "err").string() + "'";
  const int rc2 = std::system(taken.c_str());
  CHECK(WEXITSTATUS(rc2) == 1);
  std::ifstream err2{third.path() / "err"};
  const std::string text2{std::istreambuf_iterator<char>{err2}, {}};
  CHECK(text2.find("cannot listen for workers") != std::string::npos);
}

TEST_CASE("a job's node_selector: it waits for a node with its labels, and its history names the node",
          "[recovery][cluster]") {
  cluster_files f;
  temp_dir data;
  overseerd_process scheduler{data.path(), scheduler_args(f)};
  http_client c{scheduler.port()};
  worker w1{f, "w1", scheduler.cluster_port()};  // no labels
  REQUIRE(eventually([&] { return node_names(c).count("w1") == 1; }));
  auto r = c.post("/v1/jobs", json::object{{"tool", "steps"},
                                          {"params", json::object{{"steps", 1}, {"step_s", 0.1}}},
                                          {"node_selector", json::object{{"gpu", "a100"}}}});
  REQUIRE(r.status == 202);
  const std::string id{r.json().at("job_id").as_string()};
  // No connected node has the label: pending, and its view says why.
  REQUIRE(eventually([&] {
    auto v = job(c, id);
    const auto* w = v.if_contains("waiting_on");
    return w && w->as_array().size() == 1 && w->as_array()[0] == "node";
  }));
  CHECK(job(c, id).at("node_selector").at("gpu") == "a100");
  CHECK(status_of(c, id) == "pending");
  // Bad selectors are refused with every bad field named.
  auto bad = c.post("/v1/jobs", json::object{{"tool", "steps"},
                                            {"node_selector", json::object{{"gpu", 1}, {"", "x"}}}});
  CHECK(bad.status == 400);
  CHECK(bad.body.find("node_selector.gpu") != std::string::npos);
  CHECK(bad.body.find("label name") != std::string::npos);

  worker gpu{f, "w2", scheduler.cluster_port(), 1, true, {}, {"--node-label", "gpu=a100"}};
  REQUIRE(eventually([&] { return status_of(c, id) == "completed"; }, 20s));
  auto v = job(c, id);
  CHECK(v.at("node") == "w2");
  CHECK(v.at("result").at("node") == "w2");
  CHECK(v.if_contains("waiting_on") == nullptr);
  const auto history = c.get("/v1/jobs/" + id + "/history").json();
  int on_node = 0;
  for (const auto& t : history.at("transitions").as_array()) {
    if (t.at("from") == "running" || t.at("to") == "running") {
      CHECK(t.at("node") == "w2");
      ++on_node;
    } else {
      CHECK(t.as_object().if_contains("node") == nullptr);  // the creation is of no attempt
    }
  }
  CHECK(on_node == 2);
  // The CLI names it too: in the job's view, and in a column of its history.
  const auto get = overseer_cli(scheduler.port(), {"get", id});
  REQUIRE(get.exit_code == 0);
  const auto get_lines = lines_of(get.out);
  CHECK(std::count_if(get_lines.begin(), get_lines.end(), [](const std::string& l) {
          return l.starts_with("node ") && l.ends_with(" w2");
        }) == 1);
  const auto table = lines_of(overseer_cli(scheduler.port(), {"history", id}).out);
  REQUIRE(table.size() == 4);  // the head, created, running, completed
  CHECK(table[0].find("ATTEMPT  NODE  REASON") != std::string::npos);
  CHECK(table[1].find(" w2 ") == std::string::npos);  // the creation is of no attempt
  CHECK(table[2].find(" w2 ") != std::string::npos);
  CHECK(table[3].find(" w2 ") != std::string::npos);
}

TEST_CASE("the stream tells a nodes subscriber when a worker joins and when it is lost", "[recovery][cluster]") {
  cluster_files f;
  temp_dir data;
  overseerd_process scheduler{data.path(), scheduler_args(f)};
  ws_client ws{scheduler.port()};
  ws.send(json::object{{"op", "subscribe"}, {"nodes", true}});
  auto ack = ws.next();
  REQUIRE(ack);
  CHECK(ack->at("type") == "subscribed");
  CHECK(ack->at("nodes") == true);
  auto w1 = std::make_unique<worker>(f, "w1", scheduler.cluster_port());
  auto joined = ws.until([](const json::object& m) { return m.at("type") == "node"; });
  REQUIRE(joined);
  CHECK(joined->at("event") == "joined");
  CHECK(joined->at("node") == "w1");
  CHECK(joined->at("capacity") == 2);
  w1->process->kill9();
  auto lost = ws.until([](const json::object& m) { return m.at("type") == "node"; });
  REQUIRE(lost);
  CHECK(lost->at("event") == "lost");
  CHECK(lost->at("node") == "w1");
  CHECK(lost->at("reason") == "connection lost");
}

TEST_CASE("a worker cut off (SIGSTOP) is lost after the heartbeat timeout, and rejoins when it wakes",
          "[recovery][cluster]") {
  cluster_files f;
  temp_dir data;
  overseerd_process scheduler{data.path(), scheduler_args(f)};
  http_client c{scheduler.port()};
  worker w1{f, "w1", scheduler.cluster_port()};
  worker w2{f, "w2", scheduler.cluster_port()};
  REQUIRE(eventually([&] { return node_names(c).size() == 3; }));
  const auto id = submit_steps(c, 16, 0.25);
  const auto first = first_node_at_step(c, f.markers, id, 2);
  REQUIRE_FALSE(first.empty());
  auto& frozen = first == "w1" ? w1 : w2;
  // Its connection stays open: only the missing heartbeats tell.
  REQUIRE(::kill(frozen.process->pid(), SIGSTOP) == 0);
  REQUIRE(eventually([&] { return node_names(c).count(first) == 0; }, 15s));
  REQUIRE(eventually([&] { return status_of(c, id) == "completed"; }, 30s));
  CHECK(history_has(c, id, "interrupted: node lost: " + first));
  const auto result = job(c, id).at("result");
  CHECK(result.at("node") != first.c_str());
  CHECK(result.at("start").as_int64() >= 2);
  // It wakes, learns it was dropped, stops what it ran, and joins again.
  REQUIRE(::kill(frozen.process->pid(), SIGCONT) == 0);
  REQUIRE(eventually([&] { return node_names(c).count(first) == 1; }, 20s));
  // Every attempt ran once: one marker each (the tool would refuse a second
  // run of an attempt), the first on the frozen node and every later one on
  // the other. On a loaded machine the other node may miss its heartbeats
  // too and be lost once, which costs an attempt more, never a double run.
  auto m = markers_of(f.markers, id);
  const auto attempts = check_each_attempt_ran_once(c, id, m);
  INFO(describe(m));
  CHECK(m[1].node == first);
  for (int a = 2; a <= attempts; ++a) CHECK(m[a].node != first);
  if (attempts > 2) CHECK(history_has(c, id, "interrupted: node lost: " + std::string{first == "w1" ? "w2" : "w1"}));
}

TEST_CASE("a tool on a worker that prints faster than the scheduler node writes waits for it, and no line is lost",
          "[recovery][cluster][backpressure]") {
  cluster_files f;
  temp_dir data;
  overseerd_process scheduler{data.path(), scheduler_args(f)};
  http_client c{scheduler.port()};
  worker w1{f, "w1", scheduler.cluster_port()};
  REQUIRE(eventually([&] { return node_names(c).size() == 2; }));
  constexpr int lines = 50000;
  auto r = c.post("/v1/jobs", json::object{{"tool", "flood"}, {"params", json::object{{"lines", lines}}}});
  REQUIRE(r.status == 202);
  const std::string id{r.json().at("job_id").as_string()};
  REQUIRE(eventually([&] { return status_of(c, id) == "running"; }));
  // The scheduler node stops answering (for less than the heartbeat
  // timeout); then the tool prints. The worker sends the lines up to its
  // bound and waits for the scheduler node to write them, so the program
  // blocks on its full pipe long before its last line. (Without the bound
  // the worker took all 50,000 lines into its memory in well under a
  // second.)
  REQUIRE(::kill(scheduler.pid(), SIGSTOP) == 0);
  std::ofstream{f.markers / "go"} << "go";
  const bool finished = eventually([&] { return fs::exists(f.markers / "flood.done"); }, 2s);
  REQUIRE(::kill(scheduler.pid(), SIGCONT) == 0);
  CHECK_FALSE(finished);
  // Awake, the scheduler node writes what waited; the tool goes on to the
  // end, and every line is in the job's log, once.
  REQUIRE(eventually([&] { return status_of(c, id) == "completed"; }, 120s));
  std::int64_t tool_lines = 0;
  bool in_order = true;
  for (std::int64_t offset = 0;; offset += 1000) {
    auto page = c.get("/v1/jobs/" + id + "/logs?limit=1000&offset=" + std::to_string(offset));
    REQUIRE(page.status == 200);
    const auto body = page.json();
    const auto& got = body.at("logs").as_array();
    for (const auto& l : got)
      if (l.at("component") == "tool") in_order = in_order && l.at("message").as_string() == std::to_string(++tool_lines);
    if (got.size() < 1000) break;
  }
  CHECK(tool_lines == lines);
  CHECK(in_order);
}

TEST_CASE("a worker heartbeats once a second while it is a member, not later as its requests' timeouts come due",
          "[recovery][cluster]") {
  // CAF 0.17 delivers a request's timeout even after its answer came; the
  // worker once waited for its next heartbeat in the actor that had asked,
  // and each such late message restarted the wait. Its heartbeats came up
  // to two seconds apart (and, as these messages chained, up to the
  // heartbeat timeout apart, so a healthy node was dropped as silent).
  cluster_files f;
  temp_dir data;
  overseerd_process scheduler{data.path(), scheduler_args(f)};
  http_client c{scheduler.port()};
  worker w1{f, "w1", scheduler.cluster_port()};
  REQUIRE(eventually([&] { return node_names(c).size() == 2; }));
  // The scheduler node's clock at each heartbeat it took, in ms of the day.
  auto last_heartbeat = [&]() -> std::int64_t {
    const auto body = c.get("/v1/nodes").json();
    for (const auto& n : body.at("nodes").as_array())
      if (n.at("name").as_string() == "w1") {
        const std::string t{n.at("last_heartbeat").as_string()};  // 2026-12-06T19:41:06.721Z
        return ((std::stoll(t.substr(11, 2)) * 60 + std::stoll(t.substr(14, 2))) * 60 + std::stoll(t.substr(17, 2))) *
                 1000 + std::stoll(t.substr(20, 3));
      }
    return -1;
  };
  std::vector<std::int64_t> seen;
  const auto until = std::chrono::steady_clock::now() + 8s;
  while (std::chrono::steady_clock::now() < until) {
    const auto at = last_heartbeat();
    REQUIRE(at >= 0);
    if (seen.empty() || at != seen.back()) seen.push_back(at);
    std::this_thread::sleep_for(50ms);
  }
  std::int64_t widest = 0;
  for (std::size_t i = 1; i < seen.size(); ++i) widest = std::max(widest, (seen[i] - seen[i - 1] + 86'400'000) % 86'400'000);
  INFO(seen.size() << " heartbeats, the widest gap " << widest << " ms");
  CHECK(seen.size() >= 7);
  CHECK(widest < 1'700);
}

TEST_CASE("a worker removes its scratch: each attempt's directory as it ends, its own when it stops, and what "
          "dead workers left",
          "[recovery][cluster]") {
  cluster_files f;
  temp_dir data;
  // What a worker killed with kill -9 left (its pid is gone), and the
  // directory of a live process under the same name, which must stay.
  const pid_t dead = ::fork();
  if (dead == 0) ::_exit(0);
  REQUIRE(dead > 0);
  REQUIRE(::waitpid(dead, nullptr, 0) == dead);
  const auto left = f.tmp / ("overseer-worker-" + std::to_string(dead));
  const auto live = f.tmp / ("overseer-worker-" + std::to_string(::getpid()));
  fs::create_directories(left / "job_x" / "1");
  std::ofstream{left / "job_x" / "1" / "partial.out"} << "half a result\n";
  fs::create_directories(live);
  overseerd_process scheduler{data.path(), scheduler_args(f)};
  http_client c{scheduler.port()};
  worker w1{f, "w1", scheduler.cluster_port()};
  CHECK_FALSE(fs::exists(left));
  CHECK(fs::is_directory(live));
  REQUIRE(eventually([&] { return node_names(c).size() == 2; }));
  const auto root = f.tmp / ("overseer-worker-" + std::to_string(w1.process->pid()));
  const auto id = submit_steps(c, 6, 0.2);
  // The exec tool runs in ROOT/JOB_ID/1 while the job runs.
  REQUIRE(eventually([&] { return fs::is_directory(root / id / "1"); }));
  REQUIRE(eventually([&] { return status_of(c, id) == "completed"; }, 30s));
  // The end is reported after the scratch is gone, job directory included.
  CHECK_FALSE(fs::exists(root / id));
  CHECK(fs::is_directory(root));
  CHECK(w1.process->terminate() == 0);
  CHECK_FALSE(fs::exists(root));
}

TEST_CASE("a worker given --work-dir makes it, works only there and removes what dead workers left there",
          "[recovery][cluster]") {
  cluster_files f;
  temp_dir data;
  // A scratch disk of its own, not yet made, with a space in its path.
  const auto scratch = f.dir.path() / "scratch disk" / "overseer";
  const pid_t dead = ::fork();
  if (dead == 0) ::_exit(0);
  REQUIRE(dead > 0);
  REQUIRE(::waitpid(dead, nullptr, 0) == dead);
  const auto left = scratch / ("overseer-worker-" + std::to_string(dead));
  fs::create_directories(left / "job_x" / "1");
  overseerd_process scheduler{data.path(), scheduler_args(f)};
  http_client c{scheduler.port()};
  worker w1{f, "w1", scheduler.cluster_port(), 2, true, {}, {"--work-dir", scratch.string()}};
  const auto root = scratch / ("overseer-worker-" + std::to_string(w1.process->pid()));
  CHECK(fs::is_directory(root));  // made at start
  CHECK_FALSE(fs::exists(left));
  REQUIRE(eventually([&] { return node_names(c).size() == 2; }));
  const auto id = submit_steps(c, 6, 0.2);
  REQUIRE(eventually([&] { return fs::is_directory(root / id / "1"); }));
  REQUIRE(eventually([&] { return status_of(c, id) == "completed"; }, 30s));
  CHECK_FALSE(fs::exists(root / id));
  // Nothing under TMPDIR.
  CHECK(fs::is_empty(f.tmp));
  CHECK(w1.process->terminate() == 0);
  CHECK_FALSE(fs::exists(root));
  CHECK(fs::is_directory(scratch));  // the operator's directory stays

  // One it cannot make (a file is in the way): refused at start, exit 1.
  std::ofstream{f.dir.path() / "a file"} << "not a directory\n";
  const auto err = f.dir.path() / "bad-work-dir.err";
  auto rc = std::system((std::string{OVERSEERD_PATH} + " --worker --join 127.0.0.1:" +
                         std::to_string(scheduler.cluster_port()) + " --work-dir '" +
                         (f.dir.path() / "a file" / "sub").string() + "' >/dev/null 2>'" + err.string() + "'")
                          .c_str());
  CHECK(WEXITSTATUS(rc) == 1);
  std::ifstream in{err};
  const std::string text{std::istreambuf_iterator<char>{in}, {}};
  CHECK(text.find("cannot make the worker's scratch") != std::string::npos);
  // A scheduler node has DATA_DIR/work: the flag is a usage error there.
  rc = std::system((std::string{OVERSEERD_PATH} + " --data-dir '" + (f.dir.path() / "other").string() +
                    "' --work-dir /tmp >/dev/null 2>&1")
                     .c_str());
  CHECK(WEXITSTATUS(rc) == 2);
  CHECK_FALSE(fs::exists(f.dir.path() / "other"));
}
