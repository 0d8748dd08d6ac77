// The `overseer` command-line client, the real binary, against the real
// overseerd on loopback: every command, its exit status and --output json.
#include <array>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <sys/socket.h>

#include <boost/asio/buffers_iterator.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "integration/cli_helpers.hpp"
#include "support/daemon.hpp"
#include "support/eventually.hpp"
#include "support/http_helpers.hpp"
#include "support/temp_dir.hpp"
#include "support/tools_file.hpp"

using namespace overseer::test;
namespace json = boost::json;

namespace {

// The exit statuses docs/cli.md promises.
constexpr int ok = 0, job_failed = 1, usage = 2, job_cancelled = 3, job_timed_out = 4, unreachable = 5,
              not_found = 6, conflict = 7, unauthorized = 8, server_error = 9;

json::value parse_out(const program_result& r) {
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  return json::parse(r.out);
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

/// A port nothing listens on: bind one, then close it.
unsigned short closed_port() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor a{ioc, {boost::asio::ip::make_address("127.0.0.1"), 0}};
  return a.local_endpoint().port();
}

}  // namespace

TEST_CASE("submit types NAME=VALUE by the tool's schema, and --wait exits with the job's final status", "[cli]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data", {"--max-concurrent", "8"}};
  http_client c{d.port()};

  auto r = overseer_cli(d.port(), {"submit", "sleep", "seconds=0.3", "steps=2", "--label", "sample=42", "--name",
                                   "nap", "--priority", "7", "--wait"});
  INFO(r.err);
  REQUIRE(r.exit_code == ok);
  const auto lines = lines_of(r.out);
  REQUIRE(lines.size() == 2);
  const std::string id = lines[0].substr(0, lines[0].find(' '));
  CHECK(id.starts_with("job_"));
  CHECK(lines[1].find("completed") != std::string::npos);
  const auto view = c.get("/v1/jobs/" + id).json();
  CHECK(view.at("params").at("seconds").as_double() == Approx(0.3));  // a number, not "0.3"
  CHECK(view.at("params").at("steps").is_int64());
  CHECK(str(view.at("labels"), "sample") == "42");
  CHECK(str(view, "name") == "nap");
  CHECK(view.at("priority").as_int64() == 7);

  SECTION("a failed job exits 1, a timed-out one 4, and --retries gives it more attempts") {
    CHECK(overseer_cli(d.port(), {"submit", "fail", "failures=1", "--wait"}).exit_code == job_failed);
    CHECK(overseer_cli(d.port(), {"submit", "sleep", "seconds=5", "--timeout", "0.5", "--wait"}).exit_code ==
          job_timed_out);
    auto retried = overseer_cli(d.port(), {"submit", "fail", "failures=1", "--retries", "1", "--wait", "--output", "json"});
    REQUIRE(retried.exit_code == ok);
    const auto last = json::parse(lines_of(retried.out).back());
    CHECK(str(last, "status") == "completed");
    CHECK(last.at("attempt").as_int64() == 2);
    CHECK(last.at("retry").at("max_attempts").as_int64() == 2);
  }
  SECTION("a cancelled job ends --wait with 3") {
    const auto job = trim(overseer_cli(d.port(), {"submit", "sleep", "seconds=30", "--output", "ids"}).out);
    program waiter{{OVERSEER_CLI_PATH, "watch", job},
                   {"OVERSEER_URL=http://127.0.0.1:" + std::to_string(d.port())}};
    REQUIRE(eventually([&] { return waiter.out_so_far().find("running") != std::string::npos; }));
    CHECK(overseer_cli(d.port(), {"cancel", job}).exit_code == ok);
    const auto end = waiter.wait();
    CHECK(end.exit_code == job_cancelled);
    CHECK(count_lines_with(end.out, "running -> cancelled") == 1);
  }
  SECTION("--depends-on, --delay, --idempotency-key, --use-cache and --params-file reach the spec") {
    std::ofstream(dir.path() / "params.json") << R"({"seconds": 0.1, "steps": 3})";
    auto a = overseer_cli(d.port(), {"submit", "sleep", "--params-file", (dir.path() / "params.json").string(),
                                     "steps=1", "--use-cache", "--idempotency-key", "k1", "--output", "json"});
    REQUIRE(a.exit_code == ok);
    const std::string a_id = str(parse_out(a), "job_id");
    auto again = overseer_cli(d.port(), {"submit", "sleep", "--params-file", (dir.path() / "params.json").string(),
                                         "steps=1", "--use-cache", "--idempotency-key", "k1", "--output", "ids"});
    CHECK(trim(again.out) == a_id);  // the same job
    auto b = overseer_cli(d.port(), {"submit", "noop", "--depends-on", a_id, "--delay", "0.2", "--output", "json"});
    REQUIRE(b.exit_code == ok);
    const auto a_view = c.get("/v1/jobs/" + a_id).json();
    CHECK(a_view.at("params").at("steps").as_int64() == 1);  // NAME=VALUE wins over the file
    CHECK(a_view.at("params").at("seconds").as_double() == Approx(0.1));
    CHECK(a_view.at("use_cache").as_bool());
    CHECK(str(a_view, "idempotency_key") == "k1");
    const auto b_view = c.get("/v1/jobs/" + str(parse_out(b), "job_id")).json();
    CHECK(b_view.at("depends_on").as_array().at(0).as_string() == a_id);
    CHECK(b_view.as_object().contains("run_at"));
  }
}

TEST_CASE("bad params are refused before anything is sent, naming the param with a did-you-mean", "[cli]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data", {"--max-concurrent", "8"}};
  http_client c{d.port()};

  auto r = overseer_cli(d.port(), {"submit", "sleep", "stpes=2", "seconds=x"});
  CHECK(r.exit_code == usage);
  CHECK(r.err.find("param \"stpes\": unknown for tool sleep; did you mean \"steps\"?") != std::string::npos);
  CHECK(r.err.find("param \"seconds\": expected a number, found \"x\"") != std::string::npos);

  r = overseer_cli(d.port(), {"submit", "slep"});
  CHECK(r.exit_code == usage);
  CHECK(r.err.find("unknown tool \"slep\"; did you mean \"sleep\"?") != std::string::npos);

  r = overseer_cli(d.port(), {"submit", "fail", "failures=1.5"});
  CHECK(r.exit_code == usage);
  CHECK(r.err.find("param \"failures\": expected an integer, found \"1.5\"") != std::string::npos);

  r = overseer_cli(d.port(), {"submit", "sleep", "--label", "nokey"});
  CHECK(r.exit_code == usage);
  CHECK(r.err.find("--label \"nokey\"") != std::string::npos);

  CHECK(c.get("/v1/jobs").json().at("total_count").as_int64() == 0);  // nothing was submitted

  SECTION("what only the server checks comes back as one line naming every field") {
    r = overseer_cli(d.port(), {"submit", "sleep", "--priority", "11", "--delay", "-1"});
    CHECK(r.exit_code == usage);
    CHECK(lines_of(r.err).size() == 1);
    CHECK(r.err.find("the job spec is invalid (400)") != std::string::npos);
    CHECK(r.err.find("priority: 11 is outside 0-10") != std::string::npos);
    CHECK(r.err.find("delay_s: ") != std::string::npos);
  }
}

TEST_CASE("get, list, history, logs and result show jobs, as tables, JSON documents and ids", "[cli]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data", {"--max-concurrent", "8"}};
  http_client c{d.port()};
  const auto a = submit(c, json::parse(R"({"tool":"sleep","params":{"seconds":0.2,"steps":2},"labels":{"sample":"42"},"name":"first"})"));
  const auto b = submit(c, json::parse(R"({"tool":"fail","params":{"failures":1}})"));
  await_status(c, a);
  await_status(c, b);

  SECTION("get") {
    auto r = overseer_cli(d.port(), {"get", a});
    CHECK(r.exit_code == ok);
    CHECK(r.out.find("status    completed") != std::string::npos);
    CHECK(r.out.find("labels    sample=42") != std::string::npos);
    CHECK(r.out.find("result    {\"slept_seconds\":0.2,\"steps\":2}") != std::string::npos);
    r = overseer_cli(d.port(), {"get", a, "--output", "json"});
    CHECK(parse_out(r) == c.get("/v1/jobs/" + a).json());  // the API's own document
    r = overseer_cli(d.port(), {"--output", "ids", "get", a});
    CHECK(trim(r.out) == a);
    r = overseer_cli(d.port(), {"get", "job_01M880PHE1F1GN54T6TES72772"});
    CHECK(r.exit_code == not_found);
    CHECK(r.err.find("no job job_01M880PHE1F1GN54T6TES72772 (404)") != std::string::npos);
  }
  SECTION("list and its filters") {
    auto r = overseer_cli(d.port(), {"list"});
    CHECK(r.exit_code == ok);
    REQUIRE(lines_of(r.out).size() == 3);
    CHECK(lines_of(r.out)[0].starts_with("JOB ID"));
    CHECK(lines_of(r.out)[1].starts_with(b));  // newest first
    r = overseer_cli(d.port(), {"list", "--status", "completed", "--tool", "sleep", "--label", "sample=42",
                                "--since", "1h", "--output", "ids"});
    CHECK(trim(r.out) == a);
    r = overseer_cli(d.port(), {"list", "--status", "failed", "--output", "ids"});
    CHECK(trim(r.out) == b);
    r = overseer_cli(d.port(), {"list", "--limit", "1"});
    CHECK(r.out.find("1 of 2 shown; the next ones with --offset 1") != std::string::npos);
    r = overseer_cli(d.port(), {"list", "--output", "json", "--limit", "1", "--offset", "1"});
    const auto doc = parse_out(r);
    CHECK(doc.at("total_count").as_int64() == 2);
    CHECK(str(doc.at("jobs").as_array().at(0), "job_id") == a);
    r = overseer_cli(d.port(), {"list", "--status", "done"});
    CHECK(r.exit_code == usage);
    CHECK(r.err.find("status: \"done\" is not a status") != std::string::npos);
    r = overseer_cli(d.port(), {"list", "--since", "yesterday"});
    CHECK(r.exit_code == usage);
  }
  SECTION("history") {
    auto r = overseer_cli(d.port(), {"history", b});
    CHECK(r.exit_code == ok);
    CHECK(count_lines_with(r.out, "pending  running  1        started") == 1);
    CHECK(count_lines_with(r.out, "running  failed") == 1);
    r = overseer_cli(d.port(), {"history", b, "--output", "json"});
    CHECK(parse_out(r) == c.get("/v1/jobs/" + b + "/history").json());
  }
  SECTION("logs, with --level") {
    auto r = overseer_cli(d.port(), {"logs", b});
    CHECK(r.exit_code == ok);
    CHECK(count_lines_with(r.out, "[engine] attempt 1 (1 of 1 allowed) started") == 1);
    r = overseer_cli(d.port(), {"logs", b, "--level", "error"});
    CHECK(r.out.find("started") == std::string::npos);
    CHECK(r.out.find("failed") != std::string::npos);
    r = overseer_cli(d.port(), {"logs", b, "--output", "json"});
    CHECK(parse_out(r).at("total").as_int64() == c.get("/v1/jobs/" + b + "/logs").json().at("total").as_int64());
    CHECK(overseer_cli(d.port(), {"logs", b, "--level", "loud"}).exit_code == usage);
  }
  SECTION("result, to stdout or a file; a job without a result is a conflict") {
    auto r = overseer_cli(d.port(), {"result", a});
    CHECK(r.exit_code == ok);
    CHECK(json::parse(r.out) == json::parse(R"({"slept_seconds":0.2,"steps":2})"));
    const auto file = dir.path() / "result.json";
    r = overseer_cli(d.port(), {"result", a, "-o", file.string()});
    CHECK(r.exit_code == ok);
    std::ifstream in(file);
    CHECK(json::parse(std::string{std::istreambuf_iterator<char>(in), {}}) == json::parse(R"({"slept_seconds":0.2,"steps":2})"));
    // `-o -` is standard output, as in curl: no file named "-".
    const bool dash_before = std::filesystem::exists("-");
    r = overseer_cli(d.port(), {"result", a, "-o", "-"});
    CHECK(r.exit_code == ok);
    CHECK(json::parse(r.out) == json::parse(R"({"slept_seconds":0.2,"steps":2})"));
    CHECK(std::filesystem::exists("-") == dash_before);
    r = overseer_cli(d.port(), {"result", b});
    CHECK(r.exit_code == conflict);
    CHECK(r.err.find("job_status failed") != std::string::npos);
    r = overseer_cli(d.port(), {"result", a, "--output", "json"});
    CHECK(parse_out(r) == c.get("/v1/jobs/" + a + "/result").json());
  }
}

TEST_CASE("cancel and retry act on several jobs, with conflict and not-found statuses", "[cli]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data", {"--max-concurrent", "8"}};
  http_client c{d.port()};
  const auto done = submit(c, json::parse(R"({"tool":"noop"})"));
  await_status(c, done);
  const auto long1 = submit(c, json::parse(R"({"tool":"sleep","params":{"seconds":30}})"));
  const auto long2 = submit(c, json::parse(R"({"tool":"sleep","params":{"seconds":30}})"));

  auto r = overseer_cli(d.port(), {"cancel", long1, long2});
  CHECK(r.exit_code == ok);
  CHECK(count_lines_with(r.out, "cancelled") == 2);
  CHECK(str(c.get("/v1/jobs/" + long2).json(), "status") == "cancelled");

  r = overseer_cli(d.port(), {"cancel", long1, "--output", "json"});
  CHECK(r.exit_code == conflict);
  CHECK(r.err.find("is cancelled; only pending, retrying or running jobs can be cancelled (409)") != std::string::npos);

  r = overseer_cli(d.port(), {"cancel", "job_01M880PHE1F1GN54T6TES72772", long1});
  CHECK(r.exit_code == not_found);  // the worse of 404 and 409

  r = overseer_cli(d.port(), {"retry", long1, long2, "--output", "ids"});
  CHECK(r.exit_code == ok);
  CHECK(lines_of(r.out) == std::vector<std::string>{long1, long2});
  CHECK(str(c.get("/v1/jobs/" + long1).json(), "status") != "cancelled");

  r = overseer_cli(d.port(), {"retry", done});
  CHECK(r.exit_code == conflict);
  CHECK(r.err.find("is completed; only failed, timed_out or cancelled jobs can be retried") != std::string::npos);
  // The operator's reason goes into each job's history; a refused one changes nothing.
  r = overseer_cli(d.port(), {"cancel", long1, long2, "--reason", ""});
  CHECK(r.exit_code == usage);
  CHECK(r.err.find("--reason needs text") != std::string::npos);
  r = overseer_cli(d.port(), {"cancel", long1, long2, "--reason", "two\nlines"});
  CHECK(r.exit_code == usage);  // the daemon's 400, with the field
  CHECK(r.err.find("reason: must be one line of text") != std::string::npos);
  CHECK(str(c.get("/v1/jobs/" + long1).json(), "status") != "cancelled");
  r = overseer_cli(d.port(), {"cancel", long1, long2, "--reason", "wrong reference genome"});
  INFO(r.err);
  CHECK(r.exit_code == ok);
  r = overseer_cli(d.port(), {"retry", long1, "--reason", "genome fixed"});
  CHECK(r.exit_code == ok);
  std::vector<std::string> reasons;
  const auto history = c.get("/v1/jobs/" + long1 + "/history").json();  // held: the loop reads into it
  for (const auto& t : history.at("transitions").as_array()) reasons.push_back(str(t, "reason"));
  CHECK(std::count(reasons.begin(), reasons.end(), "cancelled by client 127.0.0.1: wrong reference genome") == 1);
  CHECK(std::count(reasons.begin(), reasons.end(), "retried by client 127.0.0.1: genome fixed") == 1);
  CHECK(overseer_cli(d.port(), {"cancel", long1}).exit_code == ok);
}

TEST_CASE("logs -f follows a job to its end, every line once", "[cli]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data", {"--max-concurrent", "8"}};
  http_client c{d.port()};
  const auto id = submit(c, json::parse(R"({"tool":"fail","params":{"failures":2},
      "retry":{"max_attempts":3,"initial_backoff_ms":300,"max_backoff_ms":300}})"));
  auto r = overseer_cli(d.port(), {"logs", id, "-f"});
  CHECK(r.exit_code == ok);
  CHECK(str(c.get("/v1/jobs/" + id).json(), "status") == "completed");
  for (int attempt = 1; attempt <= 3; ++attempt)
    CHECK(count_lines_with(r.out, "attempt " + std::to_string(attempt) + " (" + std::to_string(attempt) +
                                      " of 3 allowed) started") == 1);
  CHECK(lines_of(r.out).size() == static_cast<std::size_t>(c.get("/v1/jobs/" + id + "/logs").json().at("total").as_int64()));
  r = overseer_cli(d.port(), {"logs", id, "-f", "--level", "warning"});  // finished: the stored lines
  CHECK(count_lines_with(r.out, "retry scheduled") == 2);
  CHECK(r.out.find("started") == std::string::npos);
}

namespace {

/// A TCP relay in front of the daemon that can hold each stream connection
/// (a request for /v1/stream) before passing it on, so that the job ends
/// between a command's look and its subscription, and cut it mid-stream.
class stream_delaying_relay {
public:
  /// What happens to the n-th /v1/stream connection: held until `until`
  /// holds (polled, at most 20 s) before it reaches the daemon; then cut
  /// (both directions shut down) once `cut_after` has reached the client.
  struct plan {
    std::function<bool()> until{};
    std::string cut_after{};
  };
  stream_delaying_relay(unsigned short upstream, std::vector<plan> plans)
      : upstream_(upstream), plans_(std::move(plans)) {
    acceptor_thread_ = std::thread([this] {
      for (;;) {
        auto client = std::make_shared<tcp::socket>(ioc_);
        boost::system::error_code ec;
        acceptor_.accept(*client, ec);
        if (ec || stopping_) return;
        std::lock_guard lock{mutex_};
        relays_.emplace_back([this, client] { relay(client); });
      }
    });
  }
  ~stream_delaying_relay() {
    stopping_ = true;
    boost::asio::io_context ioc;  // wake the accept with one last connection
    tcp::socket poke{ioc};
    boost::system::error_code ec;
    poke.connect({boost::asio::ip::make_address("127.0.0.1"), port()}, ec);
    acceptor_thread_.join();
    std::lock_guard lock{mutex_};
    // shutdown(2) wakes a blocked read from another thread; the sockets stay
    // open (held here) until the relays are joined.
    for (auto& s : sockets_) ::shutdown(s->native_handle(), SHUT_RDWR);
    for (auto& t : relays_) t.join();
  }
  [[nodiscard]] unsigned short port() const { return acceptor_.local_endpoint().port(); }
  /// The /v1/stream connections seen.
  [[nodiscard]] int streams_held() const { return streams_held_; }

private:
  using tcp = boost::asio::ip::tcp;

  void relay(const std::shared_ptr<tcp::socket>& client) {
    auto server = std::make_shared<tcp::socket>(ioc_);
    server->open(tcp::v4());
    {
      std::lock_guard lock{mutex_};
      sockets_.push_back(client);
      sockets_.push_back(server);
    }
    boost::system::error_code ec;
    boost::asio::streambuf head;
    boost::asio::read_until(*client, head, "\r\n\r\n", ec);
    if (ec) return;
    const std::string bytes{boost::asio::buffers_begin(head.data()), boost::asio::buffers_end(head.data())};
    plan p;
    if (bytes.find(" /v1/stream") != std::string::npos) {
      const auto n = static_cast<std::size_t>(streams_held_++);
      if (n < plans_.size()) p = plans_[n];
      if (p.until) (void)eventually([&] { return stopping_ || p.until(); }, std::chrono::seconds(20));
    }
    server->connect({boost::asio::ip::make_address("127.0.0.1"), upstream_}, ec);
    if (ec) return;
    boost::asio::write(*server, boost::asio::buffer(bytes), ec);
    std::thread back{[&] {
      pump(*server, *client, p.cut_after, [&] {
        ::shutdown(client->native_handle(), SHUT_RDWR);  // the client sees the connection drop
        ::shutdown(server->native_handle(), SHUT_RDWR);
      });
    }};
    pump(*client, *server, {}, {});
    back.join();
  }
  /// Copies `from` to `to`; once the bytes passed on contain `cut_after`
  /// (server frames are unmasked, so the text shows as is), calls `cut`.
  static void pump(tcp::socket& from, tcp::socket& to, const std::string& cut_after,
                   const std::function<void()>& cut) {
    std::array<char, 16384> buf{};
    std::string seen;
    boost::system::error_code ec;
    for (;;) {
      const auto n = from.read_some(boost::asio::buffer(buf), ec);
      if (ec || boost::asio::write(to, boost::asio::buffer(buf.data(), n), ec) != n || ec) break;
      if (cut_after.empty()) continue;
      seen.append(buf.data(), n);
      if (seen.find(cut_after) != std::string::npos) return cut();
    }
    to.shutdown(tcp::socket::shutdown_send, ec);
  }

  unsigned short upstream_;
  std::vector<plan> plans_;
  boost::asio::io_context ioc_;
  tcp::acceptor acceptor_{ioc_, {boost::asio::ip::make_address("127.0.0.1"), 0}};
  std::atomic<bool> stopping_{false};
  std::atomic<int> streams_held_{0};
  std::mutex mutex_;
  std::vector<std::shared_ptr<tcp::socket>> sockets_;
  std::vector<std::thread> relays_;
  std::thread acceptor_thread_;
};

}  // namespace

TEST_CASE("logs -f ends with every stored line when the job ends before its stream subscribes", "[cli]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data", {"--max-concurrent", "8"}};
  http_client c{d.port()};
  // The command's first look finds the job running; its stream connection
  // is held until the job has ended, so the subscription's snapshot is
  // already terminal and no newer event will ever come.
  const auto id = submit(c, json::parse(R"({"tool":"sleep","params":{"seconds":0.5,"steps":2}})"));
  REQUIRE(eventually([&] { return str(c.get("/v1/jobs/" + id).json(), "status") == "running"; }));
  stream_delaying_relay relay{d.port(), {{status_is(d.port(), id, "completed"), {}}}};
  auto r = overseer_cli(relay.port(), {"logs", id, "-f"});
  CHECK(r.exit_code == ok);  // before the fix: killed after 60 s, still waiting
  CHECK(relay.streams_held() == 1);
  CHECK(str(c.get("/v1/jobs/" + id).json(), "status") == "completed");
  const auto total = c.get("/v1/jobs/" + id + "/logs").json().at("total").as_int64();
  CHECK(total > 0);
  CHECK(lines_of(r.out).size() == static_cast<std::size_t>(total));
  CHECK(count_lines_with(r.out, "attempt 1 (1 of") == 1);
}

TEST_CASE("logs -f that loses its stream while the job ends resumes, prints every line once and ends",
          "[cli]") {
  temp_dir dir;
  const auto tools =
      script_tool_file(dir.path(), "ticker", "for i in $(seq 1 15); do echo \"tick $i\"; sleep 0.1; done\n");
  overseerd_process d{dir.path() / "data", {"--tools", tools.string()}};
  http_client c{d.port()};
  // The first stream connection is cut once "tick 3" has reached the
  // command, mid-job; the second is held until the job has ended. The
  // resubscription's snapshot is then terminal: the follow prints what it
  // missed from the replay and ends. (That it ends at the daemon's
  // caught_up, not at a quiet moment, is log_follow_test's: here the replay
  // comes in one go, so both would end after the last line.)
  const auto id = submit(c, json::parse(R"({"tool":"ticker"})"));
  REQUIRE(eventually([&] { return str(c.get("/v1/jobs/" + id).json(), "status") == "running"; }));
  stream_delaying_relay relay{d.port(), {{{}, "tick 3"}, {status_is(d.port(), id, "completed"), {}}}};
  auto r = overseer_cli(relay.port(), {"logs", id, "-f"});
  INFO(r.err);
  CHECK(r.exit_code == ok);
  CHECK(relay.streams_held() == 2);  // it did resubscribe
  CHECK(str(c.get("/v1/jobs/" + id).json(), "status") == "completed");
  const auto stored = c.get("/v1/jobs/" + id + "/logs").json().at("logs").as_array();
  CHECK(stored.size() > 15);  // the ticks and the engine's own lines
  const auto printed = lines_of(r.out);
  REQUIRE(printed.size() == stored.size());  // none missed, none twice
  for (std::size_t i = 0; i < stored.size(); ++i) {
    INFO(printed[i]);
    CHECK(printed[i].find(std::string{stored[i].at("message").as_string()}) != std::string::npos);
  }
}

TEST_CASE("batches: submit from a list or a file, get, watch and cancel", "[cli]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data", {"--max-concurrent", "8"}};
  http_client c{d.port()};
  std::ofstream(dir.path() / "jobs.txt") << "# one job per line\nsleep seconds=0.2 steps=2\n\nnoop\n";
  auto r = overseer_cli(d.port(), {"batch", "submit", "--from-list", (dir.path() / "jobs.txt").string(), "--name",
                                   "nightly", "--parallel-limit", "1", "--wait"});
  INFO(r.err);
  CHECK(r.exit_code == ok);
  CHECK(r.out.find("batch batch_") != std::string::npos);
  CHECK(count_lines_with(r.out, "completed") >= 2);
  const std::string batch = lines_of(r.out)[0].substr(0, lines_of(r.out)[0].find(' '));
  const auto view = c.get("/v1/batches/" + batch).json();
  CHECK(str(view, "name") == "nightly");
  CHECK(view.at("parallel_limit").as_int64() == 1);
  CHECK(str(view, "batch_status") == "completed");

  r = overseer_cli(d.port(), {"batch", "get", batch, "--output", "json"});
  CHECK(parse_out(r) == view);
  r = overseer_cli(d.port(), {"batch", "get", batch, "--output", "ids"});
  CHECK(lines_of(r.out).size() == 2);
  r = overseer_cli(d.port(), {"batch", "cancel", batch});
  CHECK(r.exit_code == conflict);

  std::ofstream(dir.path() / "bad.txt") << "sleep secs=1\nslep\n";
  r = overseer_cli(d.port(), {"batch", "submit", "--from-list", (dir.path() / "bad.txt").string()});
  CHECK(r.exit_code == usage);
  CHECK(r.err.find("line 1: param \"secs\"") != std::string::npos);
  CHECK(r.err.find("line 2: unknown tool \"slep\"") != std::string::npos);

  std::ofstream(dir.path() / "batch.json") << R"({"fail_fast": true, "jobs": [{"tool":"fail"}, {"tool":"sleep","params":{"seconds":30}}]})";
  r = overseer_cli(d.port(), {"batch", "submit", (dir.path() / "batch.json").string(), "--output", "json"});
  REQUIRE(r.exit_code == ok);
  const auto answer = parse_out(r);
  const std::string b2{answer.at("batch_id").as_string()};
  r = overseer_cli(d.port(), {"batch", "watch", b2});
  CHECK(r.exit_code == job_failed);  // one failed, fail-fast cancelled the other
  CHECK(r.out.find("batch " + b2 + " failed") != std::string::npos);

  std::ofstream(dir.path() / "long.json") << R"([{"tool":"sleep","params":{"seconds":30}}])";
  r = overseer_cli(d.port(), {"batch", "submit", (dir.path() / "long.json").string(), "--output", "json"});
  const std::string b3{parse_out(r).at("batch_id").as_string()};
  r = overseer_cli(d.port(), {"batch", "cancel", b3, "--reason", "wrong samples"});
  CHECK(r.exit_code == ok);
  CHECK(r.out.find("cancelled") != std::string::npos);
  const auto b3_view = c.get("/v1/batches/" + b3).json();
  const auto b3_job = str(b3_view.at("jobs").as_array().at(0), "job_id");
  const auto b3_history = c.get("/v1/jobs/" + b3_job + "/history").json();
  CHECK(str(b3_history.at("transitions").as_array().back(), "reason") ==
        "batch cancelled by client 127.0.0.1: wrong samples");
  CHECK(overseer_cli(d.port(), {"batch", "get", "batch_01M8832WF3AQTGGB5DVGN2756T"}).exit_code == not_found);
}

TEST_CASE("tools, health and the cache", "[cli]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data", {"--max-concurrent", "8"}};
  http_client c{d.port()};

  auto r = overseer_cli(d.port(), {"tools"});
  CHECK(r.exit_code == ok);
  CHECK(r.out.find("sleep (version 1)") != std::string::npos);
  CHECK(r.out.find("seconds  number   default 1, 0 to 86400") != std::string::npos);
  CHECK(parse_out(overseer_cli(d.port(), {"tools", "--output", "json"})) == c.get("/v1/tools").json());
  CHECK(lines_of(overseer_cli(d.port(), {"tools", "--output", "ids"}).out) ==
        std::vector<std::string>{"fail", "fasta_stats", "noop", "sleep"});
  CHECK(overseer_cli(d.port(), {"tools", "nope"}).exit_code == not_found);

  r = overseer_cli(d.port(), {"health"});
  CHECK(r.exit_code == ok);
  CHECK(first_line(r.out) == "healthy");
  CHECK(r.out.find("queue: 0 pending, 0 running, 0 retrying") != std::string::npos);
  CHECK(parse_out(overseer_cli(d.port(), {"health", "--output", "json"})).at("status") == "healthy");

  const auto spec = json::parse(R"({"tool":"sleep","params":{"seconds":0.1,"steps":1},"use_cache":true})");
  await_status(c, submit(c, spec));
  r = overseer_cli(d.port(), {"submit", "sleep", "seconds=0.1", "steps=1", "--use-cache"});
  CHECK(r.out.find("completed  (from the result cache)") != std::string::npos);
  r = overseer_cli(d.port(), {"cache", "stats"});
  CHECK(r.out.find("cached results  1") != std::string::npos);
  CHECK(r.out.find("hit rate        50.0% (1 hits, 1 misses") != std::string::npos);
  CHECK(parse_out(overseer_cli(d.port(), {"cache", "stats", "--output", "json"})) == c.get("/v1/cache/stats").json());
  r = overseer_cli(d.port(), {"cache", "clear", "--tool", "sleep"});
  CHECK(trim(r.out) == "cleared 1 cached results");
  CHECK(c.get("/v1/cache/stats").json().at("total_cached_results").as_int64() == 0);
}

TEST_CASE("an unreachable server, a bad URL and bad arguments have their own exit statuses", "[cli]") {
  const auto port = closed_port();
  auto r = overseer_cli(port, {"list"});
  CHECK(r.exit_code == unreachable);
  CHECK(r.err.find("cannot connect to 127.0.0.1:" + std::to_string(port)) != std::string::npos);
  CHECK(overseer_cli(port, {"watch", "job_01M880PHE1F1GN54T6TES72772"}).exit_code == unreachable);
  CHECK(overseer_cli(port, {"list", "--url", "https://example.org"}).exit_code == usage);
  CHECK(overseer_cli(port, {}).exit_code == usage);
  CHECK(overseer_cli(port, {"frobnicate"}).exit_code == usage);
  CHECK(overseer_cli(port, {"list", "--output", "xml"}).exit_code == usage);
  CHECK(overseer_cli(port, {"submit", "sleep", "--retries", "-1"}).exit_code == usage);
  CHECK(overseer_cli(port, {"watch"}).exit_code == usage);
  // Each usage error is one line on stderr, "overseer: ", its reason and
  // where help is; nothing on stdout.
  const std::vector<std::pair<std::vector<std::string>, std::string>> refused = {
      {{"get"}, "overseer: id is required (overseer get --help)\n"},
      {{"list", "--bogus"}, "overseer: unexpected argument: --bogus (overseer list --help)\n"},
      {{"get", "a", "b", "c"}, "overseer: unexpected arguments: b c (overseer get --help)\n"},
      // Numbers in decimal only: CLI11 alone would read 0x10 as 16 and 010 as 8.
      {{"list", "--limit", "0x10"}, "overseer: --limit: \"0x10\" is not a whole number in decimal (overseer list --help)\n"},
      {{"submit", "sleep", "--priority", "0x5"},
       "overseer: --priority: \"0x5\" is not a whole number in decimal (overseer submit --help)\n"},
      {{"submit", "sleep", "--timeout", "nan"}, "overseer: --timeout: \"nan\" is not a decimal number (overseer submit --help)\n"},
      {{"submit", "sleep", "--delay", "0x1p3"},
       "overseer: --delay: \"0x1p3\" is not a decimal number (overseer submit --help)\n"},
      {{"list", "--limit", "abc"}, "overseer: --limit: \"abc\" is not a whole number in decimal (overseer list --help)\n"},
      {{"submit", "sleep", "--priority", "x"},
       "overseer: --priority: \"x\" is not a whole number in decimal (overseer submit --help)\n"},
      {{"tool"}, "overseer: tool needs a subcommand: pause, resume (overseer tool --help)\n"},
      {{"batch", "frobnicate"},
       "overseer: unknown batch subcommand \"frobnicate\"; it takes submit, get, watch, list, cancel (overseer batch "
       "--help)\n"},
      {{"--output", "json", "frobnicate"},
       "overseer: unknown command \"frobnicate\"; the commands are submit, get, list, watch, logs, history, result, "
       "cancel, purge, retry, batch, tools, tool, health, cache (overseer --help)\n"},
  };
  for (const auto& [args, line] : refused) {
    INFO(args.front());
    r = overseer_cli(port, args);
    CHECK(r.exit_code == usage);
    CHECK(r.err == line);
    CHECK(r.out.empty());
  }
  CHECK(overseer_cli(port, {}).err.starts_with("overseer: a command is needed: submit, get, "));
  auto help = overseer_cli(port, {"watch", "--help"});
  CHECK(help.exit_code == ok);
  CHECK(help.out.find("Example:\n  overseer watch") != std::string::npos);
}

TEST_CASE("tokens come from OVERSEER_TOKEN or --token, without one the exit status is 8", "[cli]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data", {"--token", "s3cret"}};
  auto r = overseer_cli(d.port(), {"list"});
  CHECK(r.exit_code == unauthorized);
  CHECK(r.err.find("a valid bearer token is required (401)") != std::string::npos);
  CHECK(overseer_cli(d.port(), {"list"}, {"OVERSEER_TOKEN=s3cret"}).exit_code == ok);
  CHECK(overseer_cli(d.port(), {"list", "--token", "s3cret"}).exit_code == ok);
  // The stream needs the token too.
  r = overseer_cli(d.port(), {"submit", "noop", "--wait"}, {"OVERSEER_TOKEN=s3cret"});
  CHECK(r.exit_code == ok);
  CHECK(r.out.find("completed") != std::string::npos);
}

TEST_CASE("watch off a terminal prints plain lines, every transition once, and ends with the status", "[cli][watch]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data", {"--max-concurrent", "8"}};
  http_client c{d.port()};
  // Delayed, so the watch (a process to start, under ASan too, and a
  // WebSocket to open) subscribes before the job starts: a transition before
  // the subscription is only in the snapshot, and not printed as a line.
  const auto id = submit(c, json::parse(R"({"tool":"sleep","params":{"seconds":0.6,"steps":3},"delay_s":1.5})"));
  auto r = overseer_cli(d.port(), {"watch", id});
  CHECK(r.exit_code == ok);
  CHECK(r.out.find('\x1b') == std::string::npos);  // no escapes off a terminal
  CHECK(count_lines_with(r.out, "pending -> running (attempt 1: started)") == 1);
  CHECK(count_lines_with(r.out, "running -> completed (attempt 1: completed)") == 1);
  CHECK(count_lines_with(r.out, "step 3/3") >= 1);
  CHECK(lines_of(r.out).back().find(id + "  sleep  completed  100%  step 3/3  in ") == 0);

  SECTION("--output json prints the stream's messages") {
    r = overseer_cli(d.port(), {"watch", id, "--output", "json"});
    CHECK(r.exit_code == ok);
    const auto first = json::parse(lines_of(r.out).at(0));
    CHECK(str(first, "type") == "subscribed");
    CHECK(str(first.at("snapshot"), "status") == "completed");
  }
}

TEST_CASE("watch resumes after the daemon restarts, without losing or repeating a transition", "[cli][watch]") {
  temp_dir dir;
  auto d = std::make_unique<overseerd_process>(dir.path() / "data");
  const auto port = d->port();
  std::string id;
  {
    http_client c{port};
    id = submit(c, json::parse(R"({"tool":"sleep","params":{"seconds":3,"steps":6},"delay_s":2})"));
  }
  program watcher{{OVERSEER_CLI_PATH, "watch", id}, {"OVERSEER_URL=http://127.0.0.1:" + std::to_string(port)}};
  REQUIRE(eventually([&] { return watcher.out_so_far().find("step 2/6") != std::string::npos; },
                     std::chrono::seconds(20)));
  d->kill9();
  d = std::make_unique<overseerd_process>(dir.path() / "data",
                                          std::vector<std::string>{"--listen", "127.0.0.1:" + std::to_string(port)});
  const auto r = watcher.wait(std::chrono::seconds(60));
  INFO(r.out << r.err);
  CHECK(r.exit_code == ok);
  CHECK(count_lines_with(r.out, "-- connection lost") == 1);
  CHECK(count_lines_with(r.out, "-- reconnected") == 1);
  // The replay (with the interruption the restart wrote) ends with the
  // daemon's caught_up: said once, after what was missed.
  CHECK(count_lines_with(r.out, "-- caught up; live from here") == 1);
  CHECK(r.out.find("-- caught up") > r.out.find("(attempt 1: interrupted)"));
  // Every transition after the first snapshot, exactly once, in order.
  http_client c{port};
  const auto history = c.get("/v1/jobs/" + id + "/history").json().at("transitions").as_array();
  REQUIRE(history.size() == 5);  // submitted, started, interrupted, attempt 2, completed
  std::size_t at = 0;
  const auto lines = lines_of(r.out);
  for (std::size_t i = 1; i < history.size(); ++i) {
    const auto& t = history[i];
    const std::string text = str(t, "from") + " -> " + str(t, "to") + " (attempt " +
                             std::to_string(t.at("attempt").as_int64()) + ": " + str(t, "reason") + ")";
    CHECK(count_lines_with(r.out, text) == 1);
    const auto found = std::find_if(lines.begin() + static_cast<long>(at), lines.end(),
                                    [&](const std::string& l) { return l.find(text) != std::string::npos; });
    CHECK(found != lines.end());  // after the previous one
    if (found != lines.end()) at = static_cast<std::size_t>(found - lines.begin());
  }
  CHECK(count_lines_with(r.out, " -> ") == history.size() - 1);
}

namespace {

/// A server that answers every request with the same canned response,
/// for what a real overseerd never sends.
class canned_server {
public:
  explicit canned_server(std::string response) : response_(std::move(response)) {
    thread_ = std::thread([this] {
      for (;;) {
        boost::asio::ip::tcp::socket s{ioc_};
        boost::system::error_code ec;
        acceptor_.accept(s, ec);
        if (ec || stopping_) return;
        boost::asio::streambuf request;
        boost::asio::read_until(s, request, "\r\n\r\n", ec);
        {
          std::lock_guard lock{mutex_};
          last_request_.assign(boost::asio::buffers_begin(request.data()), boost::asio::buffers_end(request.data()));
        }
        boost::asio::write(s, boost::asio::buffer(response_), ec);
        s.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
      }
    });
  }
  ~canned_server() {
    stopping_ = true;
    boost::asio::io_context ioc;  // wake the accept with one last connection
    boost::asio::ip::tcp::socket poke{ioc};
    boost::system::error_code ec;
    poke.connect({boost::asio::ip::make_address("127.0.0.1"), port()}, ec);
    thread_.join();
  }
  [[nodiscard]] unsigned short port() const { return acceptor_.local_endpoint().port(); }
  /// The head of the last request read.
  [[nodiscard]] std::string last_request() {
    std::lock_guard lock{mutex_};
    return last_request_;
  }

private:
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_{ioc_, {boost::asio::ip::make_address("127.0.0.1"), 0}};
  std::string response_;
  std::mutex mutex_;
  std::string last_request_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

/// Accepts connections and reads, but never answers, until destroyed: a
/// server that hangs.
class silent_server {
public:
  silent_server() {
    thread_ = std::thread([this] {
      std::vector<std::unique_ptr<boost::asio::ip::tcp::socket>> held;
      for (;;) {
        auto s = std::make_unique<boost::asio::ip::tcp::socket>(ioc_);
        boost::system::error_code ec;
        acceptor_.accept(*s, ec);
        if (ec || stopping_) return;
        held.push_back(std::move(s));
      }
    });
  }
  ~silent_server() {
    stopping_ = true;
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::socket poke{ioc};
    boost::system::error_code ec;
    poke.connect({boost::asio::ip::make_address("127.0.0.1"), port()}, ec);
    thread_.join();
  }
  [[nodiscard]] unsigned short port() const { return acceptor_.local_endpoint().port(); }

private:
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_{ioc_, {boost::asio::ip::make_address("127.0.0.1"), 0}};
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

std::string response(const std::string& status, const std::string& type, const std::string& body) {
  return "HTTP/1.1 " + status + "\r\nContent-Type: " + type + "\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

}  // namespace

TEST_CASE("odd server output is reported, never a crash, and never reaches the terminal raw", "[cli]") {
  SECTION("escape sequences and control characters in a log line are replaced") {
    canned_server s{response("200 OK", "application/json",
                             R"({"job_id":"job_x","logs":[{"at":"2026-12-01T10:00:00.000Z","level":"info",)"
                             R"("message":"\u001b]0;owned\u0007\u001b[2Jred\u009b1m\r\nnext","component":"tool"}],"total":1})")};
    auto r = overseer_cli(s.port(), {"logs", "job_x"});
    CHECK(r.exit_code == ok);
    CHECK(r.out.find('\x1b') == std::string::npos);
    CHECK(r.out.find('\x07') == std::string::npos);
    CHECK(r.out.find('\r') == std::string::npos);
    CHECK(r.out.find("\xc2\x9b") == std::string::npos);
    CHECK(lines_of(r.out).size() == 1);  // the newline inside the message does not split the record
    CHECK(r.out.find("\xEF\xBF\xBD]0;owned") != std::string::npos);
  }
  SECTION("a view with every field of the wrong type") {
    canned_server s{response("200 OK", "application/json",
                             R"({"job_id":5,"status":["x"],"progress":"lots","labels":7,"retry":null,"created_at":12})")};
    for (const auto* output : {"table", "json", "ids"}) {
      auto r = overseer_cli(s.port(), {"get", "job_x", "--output", output});
      CHECK(r.exit_code == ok);
    }
    auto r = overseer_cli(s.port(), {"list"});
    CHECK(r.exit_code == ok);
    CHECK(r.out.find("no jobs match") != std::string::npos);
  }
  SECTION("a body that is not JSON, and an error page that is not a problem document") {
    canned_server html{response("200 OK", "text/html", "<html>proxy</html>")};
    auto r = overseer_cli(html.port(), {"list"});
    // The Host field names the port, which is not 80 (RFC 9110 7.2).
    CHECK(html.last_request().find("Host: 127.0.0.1:" + std::to_string(html.port()) + "\r\n") != std::string::npos);
    CHECK(r.exit_code == server_error);
    CHECK(r.err.find("not JSON") != std::string::npos);
    canned_server bad_gateway{response("502 Bad Gateway", "text/html", "<html>\x1b[31mdown\xff</html>")};
    r = overseer_cli(bad_gateway.port(), {"get", "job_x"});
    CHECK(r.exit_code == server_error);
    CHECK(r.err.find("the server answered 502: <html>") != std::string::npos);
    CHECK(r.err.find('\x1b') == std::string::npos);
    CHECK(r.err.find('\xff') == std::string::npos);
  }
}

TEST_CASE("numbers with leading zeros are decimal, and signs and fractions are taken", "[cli]") {
  canned_server s{response("200 OK", "application/json", R"({"jobs":[],"total_count":0})")};
  auto r = overseer_cli(s.port(), {"list", "--limit", "010", "--offset", "+007"});
  CHECK(r.exit_code == ok);
  CHECK(s.last_request().find("limit=10") != std::string::npos);
  CHECK(s.last_request().find("offset=7") != std::string::npos);
}

TEST_CASE("a server that never answers is unreachable after the deadline, not a hang", "[cli]") {
  silent_server s;
  const std::string url = "http://127.0.0.1:" + std::to_string(s.port());
  // The default deadline is 30 s; each run below is stopped at 20 s, so
  // only a deadline taken from the option or the environment passes.
  const auto bound = std::chrono::seconds(20);
  auto r = run_program({OVERSEER_CLI_PATH, "--url", url, "--request-timeout", "1.5", "get", "job_x"}, {}, {}, bound);
  CHECK_FALSE(r.timed_out);
  CHECK(r.exit_code == unreachable);
  CHECK(r.err.find("no answer from 127.0.0.1:" + std::to_string(s.port()) + " within 1.5 s (--request-timeout)") !=
        std::string::npos);
  r = run_program({OVERSEER_CLI_PATH, "get", "job_x"}, {"OVERSEER_URL=" + url, "OVERSEER_REQUEST_TIMEOUT=1"}, {}, bound);
  CHECK_FALSE(r.timed_out);
  CHECK(r.exit_code == unreachable);
  CHECK(r.err.find("within 1 s (--request-timeout)") != std::string::npos);
  // A follower asks for the job before it opens the stream.
  r = run_program({OVERSEER_CLI_PATH, "--url", url, "logs", "-f", "job_x", "--request-timeout", "1"}, {}, {}, bound);
  CHECK_FALSE(r.timed_out);
  CHECK(r.exit_code == unreachable);
  // Waits that are not a positive number of seconds are usage errors,
  // before anything is sent.
  for (const auto* bad : {"0", "-1", "nan", "0x10", "1e400", "soon", "100000"}) {
    CAPTURE(bad);
    r = run_program({OVERSEER_CLI_PATH, "--url", url, "--request-timeout", bad, "get", "job_x"}, {}, {}, bound);
    CHECK(r.exit_code == usage);
    CHECK(r.err.find("--request-timeout") != std::string::npos);
  }
}

TEST_CASE("what the CLI cannot send or write is refused or reported, never sent broken or lost silently", "[cli]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  const auto jobs = [&] { return parse_out(overseer_cli(d.port(), {"list", "--output", "json"})).at("total_count").as_int64(); };
  // Text that is not UTF-8 and numbers that are not finite: every field
  // named, nothing sent.
  auto r = overseer_cli(d.port(), {"submit", "sleep", "seconds=1", "--name", "n\xff", "--label", "k=\xff"});
  CHECK(r.exit_code == usage);
  CHECK(r.err.find("name is not valid UTF-8") != std::string::npos);
  CHECK(r.err.find("labels.k is not valid UTF-8") != std::string::npos);
  r = overseer_cli(d.port(), {"submit", "sleep", "seconds=1", "--timeout", "1e400"});
  CHECK(r.exit_code == usage);
  CHECK(r.err.find("timeout_s is not a finite number") != std::string::npos);
  CHECK(jobs() == 0);
  // A token that would break the request's head.
  r = overseer_cli(d.port(), {"list", "--token", "a\r\nX-Evil: 1"});
  CHECK(r.exit_code == usage);
  CHECK(r.err.find("printable ASCII") != std::string::npos);
  // A directory given as a file.
  r = overseer_cli(d.port(), {"submit", "sleep", "--params-file", dir.path().string()});
  CHECK(r.exit_code == usage);
  CHECK(r.err.find("is a directory") != std::string::npos);
  // Output that cannot be written is an exit status, not success.
  r = run_program({"/bin/sh", "-c", std::string{OVERSEER_CLI_PATH} + " list > /dev/full"},
                  {"OVERSEER_URL=http://127.0.0.1:" + std::to_string(d.port())});
  CHECK(r.exit_code == 10);
  CHECK(r.err.find("cannot write to standard output") != std::string::npos);
  // logs -f stops at SIGTERM (or Ctrl-C) with 130, also while the job goes on.
  const auto id = trim(overseer_cli(d.port(), {"submit", "sleep", "seconds=30", "--output", "ids"}).out);
  r = run_program({"/bin/sh", "-c",
                   std::string{OVERSEER_CLI_PATH} + " logs -f " + id +
                     " > \"$OUT\" & p=$!; n=0; until [ -s \"$OUT\" ] || [ $n -ge 600 ]; do sleep 0.05; n=$((n+1)); done; "
                     "kill -TERM $p; wait $p"},
                  {"OVERSEER_URL=http://127.0.0.1:" + std::to_string(d.port()),
                   "OUT=" + (dir.path() / "follow.out").string()});
  CHECK(r.exit_code == 130);
  CHECK(overseer_cli(d.port(), {"cancel", id}).exit_code == ok);
}

TEST_CASE("the bash completion offers commands, tools from the server, and a command's options", "[cli]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  const std::string script = std::string{OVERSEER_SOURCE_DIR} + "/cli/completions/overseer.bash";
  const std::string bin_dir = std::filesystem::path{OVERSEER_CLI_PATH}.parent_path().string();
  const std::string daemon_url = "http://127.0.0.1:" + std::to_string(d.port());
  const auto complete = [&](const std::string& words, const std::string& env_url = "") {
    const std::string body = "source '" + script + "'; COMP_WORDS=(" + words +
                             "); COMP_CWORD=$((${#COMP_WORDS[@]}-1)); _overseer; printf '%s\\n' \"${COMPREPLY[@]}\"";
    auto r = run_program({"bash", "-c", body},
                         {"PATH=" + bin_dir + ":/usr/bin:/bin", "OVERSEER_URL=" + (env_url.empty() ? daemon_url : env_url)});
    INFO(r.err);
    CHECK(r.exit_code == 0);
    return lines_of(r.out);
  };
  CHECK(complete("overseer su") == std::vector<std::string>{"submit"});
  CHECK(complete("overseer submit ''") == std::vector<std::string>{"fail", "fasta_stats", "noop", "sleep"});
  CHECK(complete("overseer submit sleep --w") == std::vector<std::string>{"--wait", "--watch"});
  CHECK(complete("overseer logs x --level e") == std::vector<std::string>{"error"});
  CHECK(complete("overseer batch ''") == std::vector<std::string>{"submit", "list", "get", "watch", "cancel"});
  CHECK(complete("overseer purge --d") == std::vector<std::string>{"--dry-run"});
  CHECK(complete("overseer tool pause noop --rea") == std::vector<std::string>{"--reason"});
  CHECK(complete("overseer tool resume noop --rea") == std::vector<std::string>{"--reason"});
  CHECK(complete("overseer cancel x --rea") == std::vector<std::string>{"--reason"});
  CHECK(complete("overseer retry x --rea") == std::vector<std::string>{"--reason"});
  const auto purge_options = complete("overseer purge --");
  CHECK(std::find(purge_options.begin(), purge_options.end(), "--dry-run") != purge_options.end());
  CHECK(std::find(purge_options.begin(), purge_options.end(), "--reason") == purge_options.end());  // a purge has none
  CHECK(complete("overseer tool pause --reason why ''") == std::vector<std::string>{"fail", "fasta_stats", "noop", "sleep"});
  // The server the command line names, not OVERSEER_URL's. Bash splits a
  // word at '=' and ':' too, so --url=http://127.0.0.1:PORT arrives in pieces.
  const std::string nowhere = "http://127.0.0.1:" + std::to_string(closed_port());
  const std::string port = std::to_string(d.port());
  const std::vector<std::string> tools = {"fail", "fasta_stats", "noop", "sleep"};
  const auto unasked = complete("overseer submit ''", nowhere);
  CHECK(std::find(unasked.begin(), unasked.end(), "noop") == unasked.end());
  CHECK(complete("overseer --url http : //127.0.0.1 : " + port + " submit ''", nowhere) == tools);
  CHECK(complete("overseer --url = http : //127.0.0.1 : " + port + " submit ''", nowhere) == tools);
  CHECK(complete("overseer submit --url = http : //127.0.0.1 : " + port + " ''", nowhere) == tools);
  CHECK(complete("overseer --output = ids --url = http : //127.0.0.1 : " + port + " tool pause ''", nowhere) == tools);
  CHECK(complete("overseer --req") == std::vector<std::string>{"--request-timeout"});
  CHECK(complete("overseer --request-timeout 5 submit ''") == tools);
  // A server that hangs holds a tab press for two seconds, not the
  // default thirty: the run is stopped at twenty.
  silent_server hung;
  const std::string body = "source '" + script + "'; COMP_WORDS=(overseer submit ''); COMP_CWORD=2; _overseer; "
                           "printf '%s\\n' \"${COMPREPLY[@]}\"";
  auto r = run_program({"bash", "-c", body},
                       {"PATH=" + bin_dir + ":/usr/bin:/bin", "OVERSEER_URL=http://127.0.0.1:" + std::to_string(hung.port())},
                       {}, std::chrono::seconds(20));
  CHECK_FALSE(r.timed_out);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("noop") == std::string::npos);
}

TEST_CASE("tool pause and tool resume hold and release a tool's queued jobs", "[cli][pause]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  http_client c{d.port()};
  auto r = overseer_cli(d.port(), {"tool", "pause", "noop"});
  INFO(r.err);
  CHECK(r.exit_code == ok);
  CHECK(r.out == "noop paused (paused by client 127.0.0.1); its queued jobs wait, running ones go on\n");
  const auto held = submit(c, json::parse(R"({"tool":"noop"})"));
  CHECK(c.get("/v1/health").json().at("components").at("tools").at("noop").at("status") == "paused");

  r = overseer_cli(d.port(), {"tool", "resume", "noop", "--output", "json"});
  CHECK(r.exit_code == ok);
  const auto doc = json::parse(r.out);
  CHECK(doc.at("name") == "noop");
  CHECK(doc.at("paused") == false);
  CHECK(str(await_status(c, held), "status") == "completed");

  r = overseer_cli(d.port(), {"tool", "pause", "sleep", "--reason", "license server down"});
  CHECK(r.exit_code == ok);
  CHECK(r.out ==
        "sleep paused (paused by client 127.0.0.1: license server down); its queued jobs wait, running ones go on\n");
  r = overseer_cli(d.port(), {"tool", "pause", "noop", "--reason", "two\nlines"});
  CHECK(r.exit_code == usage);  // the server's 400, named
  CHECK(r.err.find("reason: must be one line of text, without control characters") != std::string::npos);
  r = overseer_cli(d.port(), {"tool", "resume", "sleep", "--reason", std::string(501, 'x')});
  CHECK(r.exit_code == usage);
  CHECK(r.err.find("reason: at most 500 bytes, found 501") != std::string::npos);
  CHECK(c.get("/v1/health").json().at("components").at("tools").at("sleep").at("status") == "paused");
  r = overseer_cli(d.port(), {"tool", "resume", "sleep", "--reason", "license server back"});
  CHECK(r.exit_code == ok);
  CHECK(r.out == "sleep resumed; 0 queued\n");

  r = overseer_cli(d.port(), {"tool", "pause", "nope"});
  CHECK(r.exit_code == not_found);
  CHECK(r.err.find("no tool named \"nope\" (404)") != std::string::npos);
  r = overseer_cli(d.port(), {"tool", "stop", "noop"});
  CHECK(r.exit_code == usage);
}

TEST_CASE("health names the stored pause of a tool taken out of the tools file, and tool resume lifts it",
          "[cli][pause]") {
  temp_dir dir;
  const auto data = dir.path() / "data";
  {
    overseerd_process d{data, {"--tools", script_tool_file(dir.path(), "retired", "true\n").string()}};
    REQUIRE(overseer_cli(d.port(), {"tool", "pause", "retired", "--reason", "replaced by v2"}).exit_code == ok);
  }
  overseerd_process d{data};
  auto r = overseer_cli(d.port(), {"health"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == ok);  // degraded still serves
  CHECK(first_line(r.out) == "degraded");
  CHECK(r.out.find("paused, not registered") != std::string::npos);
  CHECK(r.out.find("retired is no longer registered but its pause is stored (paused by client 127.0.0.1: replaced "
                   "by v2); `overseer tool resume retired` lifts it\n") != std::string::npos);
  r = overseer_cli(d.port(), {"tool", "resume", "retired"});
  CHECK(r.exit_code == ok);
  CHECK(r.out == "retired resumed; 0 queued\n");
  r = overseer_cli(d.port(), {"health"});
  CHECK(first_line(r.out) == "healthy");
  CHECK(r.out.find("retired") == std::string::npos);
}

TEST_CASE("cancel and purge by filter, with a dry run, and batch list", "[cli][bulk]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  http_client c{d.port()};
  std::vector<std::string> slow;
  for (int i = 0; i < 2; ++i)
    slow.push_back(submit(c, json::parse(R"({"tool":"sleep","params":{"seconds":30},"labels":{"team":"x"}})")));

  auto r = overseer_cli(d.port(), {"cancel", "--label", "team=x", "--dry-run"});
  INFO(r.err);
  CHECK(r.exit_code == ok);
  CHECK(r.out == "2 jobs match; they would be cancelled (dry run: nothing changed)\n");
  r = overseer_cli(d.port(), {"cancel", "--label", "team=x", "--reason", "the panel was wrong"});
  CHECK(r.exit_code == ok);
  CHECK(r.out == "2 jobs matched, 2 cancelled\n");
  for (const auto& id : slow) {
    CHECK(str(c.get("/v1/jobs/" + id).json(), "status") == "cancelled");
    const auto history = c.get("/v1/jobs/" + id + "/history").json();
    CHECK(str(history.at("transitions").as_array().back(), "reason") ==
          "cancelled by client 127.0.0.1: the panel was wrong");
  }
  r = overseer_cli(d.port(), {"purge", "--status", "cancelled", "--output", "json"});
  CHECK(r.exit_code == ok);
  const auto doc = json::parse(r.out);
  CHECK(doc.at("matched") == 2);
  CHECK(doc.at("deleted") == 2);
  CHECK(c.get("/v1/jobs/" + slow[0]).status == 404);

  CHECK(overseer_cli(d.port(), {"purge"}).exit_code == usage);
  CHECK(overseer_cli(d.port(), {"cancel"}).exit_code == usage);
  CHECK(overseer_cli(d.port(), {"cancel", "job_x", "--all"}).exit_code == usage);
  CHECK(overseer_cli(d.port(), {"purge", "--older-than", "soon"}).exit_code == usage);
  r = overseer_cli(d.port(), {"purge", "--status", "finished"});
  CHECK(r.exit_code == usage);
  CHECK(r.err.find("status") != std::string::npos);

  // --name: a part of the name, letters in any case, for list, cancel and purge.
  const auto sample = submit(c, json::parse(R"({"tool":"sleep","params":{"seconds":30},"name":"Annotate SAMPLE 17"})"));
  const auto convert = submit(c, json::parse(R"({"tool":"sleep","params":{"seconds":30},"name":"convert 18"})"));
  r = overseer_cli(d.port(), {"list", "--name", "sample 17", "--output", "ids"});
  CHECK(r.exit_code == ok);
  CHECK(r.out == sample + "\n");
  r = overseer_cli(d.port(), {"cancel", "--name", "SAMPLE", "--dry-run"});
  CHECK(r.exit_code == ok);
  CHECK(r.out == "1 job matches; it would be cancelled (dry run: nothing changed)\n");
  r = overseer_cli(d.port(), {"cancel", "--name", "sample"});
  CHECK(r.exit_code == ok);
  CHECK(str(c.get("/v1/jobs/" + sample).json(), "status") == "cancelled");
  CHECK(str(c.get("/v1/jobs/" + convert).json(), "status") != "cancelled");
  r = overseer_cli(d.port(), {"purge", "--name", "annotate", "--output", "json"});
  CHECK(r.exit_code == ok);
  CHECK(json::parse(r.out).at("deleted") == 1);
  r = overseer_cli(d.port(), {"list", "--name", std::string(257, 'x')});
  CHECK(r.exit_code == usage);
  CHECK(r.err.find("name_contains") != std::string::npos);
  CHECK(overseer_cli(d.port(), {"cancel", "--all"}).exit_code == ok);

  auto b = c.post("/v1/batches", json::parse(R"({"name":"nightly","jobs":[{"tool":"noop"}]})"));
  REQUIRE(b.status == 202);
  r = overseer_cli(d.port(), {"batch", "list", "--output", "ids"});
  CHECK(r.exit_code == ok);
  CHECK(r.out == str(b.json(), "batch_id") + "\n");
  r = overseer_cli(d.port(), {"batch", "list", "--name", "nightly"});
  CHECK(r.exit_code == ok);
  CHECK(r.out.find("nightly") != std::string::npos);
  CHECK(r.out.find(str(b.json(), "batch_id")) != std::string::npos);
}
