// `overseer watch` on a real terminal: tmux runs it in a detached session
// of fixed size and capture-pane shows what a person would see.
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <unistd.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "http/json_mapping.hpp"
#include "integration/cli_helpers.hpp"
#include "support/daemon.hpp"
#include "support/eventually.hpp"
#include "support/http_helpers.hpp"
#include "support/temp_dir.hpp"

using namespace overseer::test;
namespace json = boost::json;

namespace {

/// A tmux server of our own (its own socket), so the test neither sees nor
/// touches anyone else's sessions; killed with its session at the end.
class tmux_session {
public:
  /// Runs `command` through sh in a detached 100x30 pane. The pane stays
  /// after the command ends and shows "[exit N]".
  explicit tmux_session(const std::string& command) {
    static std::atomic<int> counter{0};
    socket_ = "overseer-cli-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    auto r = tmux({"new-session", "-d", "-s", "t", "-x", "100", "-y", "30",
                   command + "; echo \"[exit $?]\"; exec cat"});
    if (r.exit_code != 0) throw std::runtime_error("tmux did not start: " + r.err);
  }
  ~tmux_session() {
    (void)tmux({"kill-server"});
    // tmux leaves its socket file behind; it is ours, so it goes too.
    const char* dir = std::getenv("TMUX_TMPDIR");
    std::error_code ignored;
    std::filesystem::remove(std::filesystem::path{dir && *dir ? dir : "/tmp"} /
                                ("tmux-" + std::to_string(::getuid())) / socket_,
                            ignored);
  }
  tmux_session(const tmux_session&) = delete;
  tmux_session& operator=(const tmux_session&) = delete;

  /// The pane's rows, trailing blanks dropped, colours stripped.
  std::vector<std::string> capture() const {
    auto rows = lines_of(tmux({"capture-pane", "-p", "-t", "t"}).out);
    for (auto& row : rows) row = trim(row);
    while (!rows.empty() && rows.back().empty()) rows.pop_back();
    return rows;
  }

private:
  program_result tmux(std::vector<std::string> args) const {
    args.insert(args.begin(), {"tmux", "-L", socket_, "-f", "/dev/null"});
    return run_program(std::move(args), {}, {}, std::chrono::seconds(20));
  }
  std::string socket_;
};

std::string watch_command(unsigned short port, const std::string& args) {
  return "OVERSEER_URL=http://127.0.0.1:" + std::to_string(port) + " " + OVERSEER_CLI_PATH + " " + args;
}

/// The percentage on a bar row ("[####......]  40%"), or -1.
int bar_percent(const std::string& row) {
  const auto close = row.find("] ");
  if (row.find('[') == std::string::npos || close == std::string::npos) return -1;
  const auto pct = row.find('%', close);
  if (pct == std::string::npos) return -1;
  return std::stoi(row.substr(close + 2, pct - close - 2));
}

struct bar_sighting {
  std::size_t row;
  int percent;
};

/// Captures the pane until `done` holds for it, recording where each bar
/// of `job` was seen and with which percentage.
std::vector<bar_sighting> observe(const tmux_session& pane, const std::string& job,
                                  const std::function<bool(const std::vector<std::string>&)>& done,
                                  std::vector<std::string>& last, std::chrono::seconds limit) {
  std::vector<bar_sighting> seen;
  const bool ended = eventually(
      [&] {
        last = pane.capture();
        std::size_t bars = 0;
        for (std::size_t i = 0; i < last.size(); ++i) {
          if (last[i].find(job) == std::string::npos) continue;
          if (const int p = bar_percent(last[i]); p >= 0) {
            ++bars;
            if (seen.empty() || seen.back().percent != p || seen.back().row != i) seen.push_back({i, p});
          }
        }
        CHECK(bars <= 1);  // one bar per job, redrawn, never a second copy
        return done(last);
      },
      limit);
  CHECK(ended);
  return seen;
}

bool has_exit_line(const std::vector<std::string>& rows) {
  return !rows.empty() && rows.back().starts_with("[exit ");
}

}  // namespace

TEST_CASE("watch on a terminal redraws one bar in place, and its last line says completed", "[cli][terminal]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data", {"--max-concurrent", "8"}};
  http_client c{d.port()};
  const auto id = submit(c, json::parse(R"({"tool":"sleep","params":{"seconds":4,"steps":8}})"));
  tmux_session pane{watch_command(d.port(), "watch " + id)};
  std::vector<std::string> rows;
  const auto seen = observe(pane, id, has_exit_line, rows, std::chrono::seconds(60));
  INFO([&] {
    std::string all;
    for (const auto& r : rows) all += r + "\n";
    return all;
  }());
  // The bar advanced: several percentages, growing, all on one row.
  REQUIRE(seen.size() >= 3);
  for (std::size_t i = 1; i < seen.size(); ++i) {
    CHECK(seen[i].row == seen[0].row);
    CHECK(seen[i].percent > seen[i - 1].percent);
  }
  REQUIRE(rows.size() >= 2);
  CHECK(rows.back() == "[exit 0]");
  const auto& final_line = rows[rows.size() - 2];
  CHECK(final_line.starts_with(id + "  sleep  completed  100%  step 8/8  in "));
  for (const auto& r : rows) CHECK(bar_percent(r) < 0);  // the bar is gone, replaced by the summary
  CHECK(count_lines_with([&] {
          std::string all;
          for (const auto& r : rows) all += r + "\n";
          return all;
        }(),
                         "running -> completed") == 1);
}

TEST_CASE("watch on a terminal ends a failing job's bar with failed and exit status 1", "[cli][terminal]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data", {"--max-concurrent", "8"}};
  http_client c{d.port()};
  // Fails its first attempt, retries after up to 1.5 s, fails again: the
  // bar shows retrying in between.
  const auto id = submit(c, json::parse(R"({"tool":"fail","params":{"failures":5,"message":"index missing"},
      "retry":{"max_attempts":2,"initial_backoff_ms":1500,"max_backoff_ms":1500,"multiplier":1},"delay_s":1})"));
  tmux_session pane{watch_command(d.port(), "watch " + id)};
  std::vector<std::string> rows;
  bool saw_retrying_bar = false;
  (void)observe(
      pane, id,
      [&](const std::vector<std::string>& now) {
        for (const auto& r : now)
          if (bar_percent(r) >= 0 && r.find("retrying") != std::string::npos) saw_retrying_bar = true;
        return has_exit_line(now);
      },
      rows, std::chrono::seconds(60));
  // The backoff is drawn with full jitter, from 0 to 1.5 s: a draw of a few
  // ms is over before the pane is read again. How long it was is in the
  // history: the bar is checked whenever it stood for 300 ms or more.
  const auto history = c.get("/v1/jobs/" + id + "/history").json().at("transitions").as_array();
  std::optional<std::chrono::milliseconds> retrying_for;
  for (std::size_t i = 0; i + 1 < history.size(); ++i)
    if (history[i].at("to") == "retrying") {
      const auto from = overseer::http::parse_time(std::string{history[i].at("at").as_string()});
      const auto to = overseer::http::parse_time(std::string{history[i + 1].at("at").as_string()});
      REQUIRE(from);
      REQUIRE(to);
      retrying_for = std::chrono::duration_cast<std::chrono::milliseconds>(*to - *from);
    }
  REQUIRE(retrying_for);
  if (*retrying_for >= std::chrono::milliseconds(300)) CHECK(saw_retrying_bar);
  else WARN("the drawn backoff was " << retrying_for->count() << " ms: the retrying bar is not checked this run");
  REQUIRE(rows.size() >= 2);
  CHECK(rows.back() == "[exit 1]");
  CHECK(rows[rows.size() - 2].starts_with(id + "  fail  failed"));
  CHECK(rows[rows.size() - 2].find("index missing (attempt 2)") != std::string::npos);
}

TEST_CASE("watch on a terminal resumes after the daemon restarts, no transition lost or repeated", "[cli][terminal]") {
  temp_dir dir;
  auto d = std::make_unique<overseerd_process>(dir.path() / "data");
  const auto port = d->port();
  std::string id;
  {
    http_client c{port};
    id = submit(c, json::parse(R"({"tool":"sleep","params":{"seconds":3,"steps":6},"delay_s":2})"));
  }
  tmux_session pane{watch_command(port, "watch " + id)};
  std::vector<std::string> rows;
  // Wait until the bar is at step 2 of the first attempt, then kill the daemon.
  (void)observe(
      pane, id,
      [&](const std::vector<std::string>& now) {
        for (const auto& r : now)
          if (bar_percent(r) >= 33) return true;
        return false;
      },
      rows, std::chrono::seconds(30));
  d->kill9();
  REQUIRE(eventually([&] { return count_lines_with([&] {
                                    std::string all;
                                    for (const auto& r : pane.capture()) all += r + "\n";
                                    return all;
                                  }(), "-- connection lost") == 1; }));
  d = std::make_unique<overseerd_process>(dir.path() / "data",
                                          std::vector<std::string>{"--listen", "127.0.0.1:" + std::to_string(port)});
  (void)observe(pane, id, has_exit_line, rows, std::chrono::seconds(60));
  std::string screen;
  for (const auto& r : rows) screen += r + "\n";
  INFO(screen);
  CHECK(rows.back() == "[exit 0]");
  CHECK(count_lines_with(screen, "-- reconnected") == 1);
  CHECK(count_lines_with(screen, "-- caught up; live from here") == 1);
  http_client c{port};
  const auto history = c.get("/v1/jobs/" + id + "/history").json().at("transitions").as_array();
  REQUIRE(history.size() == 5);  // submitted, started, interrupted, attempt 2, completed
  for (std::size_t i = 1; i < history.size(); ++i) {
    const auto& t = history[i];
    CHECK(count_lines_with(screen, str(t, "from") + " -> " + str(t, "to") + " (attempt " +
                                       std::to_string(t.at("attempt").as_int64()) + ": " + str(t, "reason") +
                                       ")") == 1);
  }
  CHECK(count_lines_with(screen, " -> ") == history.size() - 1);
  CHECK(rows[rows.size() - 2].starts_with(id + "  sleep  completed  100%  step 6/6"));
}
