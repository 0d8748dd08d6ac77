// The daemon's log lines: JSON and text, escaped so no value can forge a line.
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include "logging/line_logger.hpp"

using overseer::log_level;
using overseer::log_record;
using overseer::logging::line_logger;

TEST_CASE("a JSON line is one valid object with every field", "[logging]") {
  line_logger log{-1, log_level::info, line_logger::format::json};
  const std::string reason = "tool said \"no\"\n{\"level\":\"critical\"}\x1b[31m\x7f\xFF";
  const auto line = log.format_line({log_level::warning, "job", "transition", {{"reason", reason}, {"to", "failed"}}});
  REQUIRE(line.back() == '\n');
  CHECK(line.find('\n') == line.size() - 1);  // one line, whatever the reason holds
  CHECK(line.find('\x1b') == std::string::npos);
  CHECK(line.find('\x7f') == std::string::npos);
  const auto v = boost::json::parse(line.substr(0, line.size() - 1)).as_object();
  CHECK(v.at("level") == "warning");
  CHECK(v.at("component") == "job");
  CHECK(v.at("msg") == "transition");
  CHECK(v.at("to") == "failed");
  CHECK(v.at("reason") == "tool said \"no\"\n{\"level\":\"critical\"}\x1b[31m\x7f\xEF\xBF\xBD");
  CHECK(v.contains("ts"));
}

namespace {

/// "2026-12-01T14:50:53.123Z" of a time, to the millisecond, as gmtime_r says.
std::string utc_millis(std::chrono::system_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t s = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

}  // namespace

TEST_CASE("every line's time is UTC to the millisecond, across a change of second", "[logging]") {
  // The date and time are kept per second: lines on both sides of a second's
  // change must each carry their own.
  line_logger log{-1, log_level::info, line_logger::format::json};
  const auto first = std::chrono::system_clock::now();
  const auto second_of = [](auto t) { return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()); };
  int checked = 0;
  std::vector<std::string> wrong;  // "ts outside [before, after]"
  for (;;) {
    const auto before = std::chrono::system_clock::now();
    const auto line = log.format_line({log_level::info, "t", "m", {}});
    const auto after = std::chrono::system_clock::now();
    const auto ts = std::string{boost::json::parse(line).as_object().at("ts").as_string()};
    if (ts < utc_millis(before) || ts > utc_millis(after))
      wrong.push_back(ts + " outside [" + utc_millis(before) + ", " + utc_millis(after) + "]");
    ++checked;
    if (second_of(before) > second_of(first) && checked > 1) break;
  }
  CHECK(checked > 1);
  CHECK(wrong.empty());
  if (!wrong.empty()) FAIL(wrong.front());
}

TEST_CASE("a text line quotes and escapes values that are not one plain word", "[logging]") {
  line_logger log{-1, log_level::info, line_logger::format::text};
  const auto line =
    log.format_line({log_level::info, "http", "request", {{"status", "200"}, {"path", "/v1/x y\n\"z\""}}});
  CHECK(line.find(" info http: request status=200 path=\"/v1/x y\\n\\\"z\\\"\"\n") != std::string::npos);
  CHECK(line.find('\n') == line.size() - 1);
}

TEST_CASE("levels below the minimum are not enabled, names parse", "[logging]") {
  line_logger log{-1, log_level::warning, line_logger::format::text};
  CHECK_FALSE(log.enabled(log_level::info));
  CHECK(log.enabled(log_level::error));
  CHECK(line_logger::parse_level("debug") == log_level::debug);
  CHECK(line_logger::parse_level("critical") == log_level::critical);
  CHECK_FALSE(line_logger::parse_level("verbose"));
  CHECK(line_logger::parse_format("json") == line_logger::format::json);
  CHECK_FALSE(line_logger::parse_format("xml"));
}

namespace {

/// Everything readable on `fd` until it has no writer.
std::string read_to_end(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    const auto n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return out;
    out.append(buf, static_cast<std::size_t>(n));
  }
}

std::vector<boost::json::object> json_lines(const std::string& text) {
  std::vector<boost::json::object> lines;
  std::istringstream in{text};
  for (std::string line; std::getline(in, line);) lines.push_back(boost::json::parse(line).as_object());
  return lines;
}

struct pipe_pair {
  int read = -1, write = -1;
  pipe_pair() {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    read = fds[0];
    write = fds[1];
  }
  ~pipe_pair() {
    if (read >= 0) ::close(read);
    if (write >= 0) ::close(write);
  }
  void close_write() {
    ::close(write);
    write = -1;
  }
};

}  // namespace

TEST_CASE("queued lines from many threads arrive whole and in each thread's order", "[logging]") {
  pipe_pair p;
  std::string text;
  std::thread reader{[&] { text = read_to_end(p.read); }};
  constexpr int threads = 4, per_thread = 3000;
  {
    line_logger log{p.write, log_level::info, line_logger::format::json};
    std::vector<std::thread> writers;
    for (int t = 0; t < threads; ++t)
      writers.emplace_back([&log, t] {
        for (int i = 0; i < per_thread; ++i)
          log.write({log_level::info, "http", "request", {{"thread", std::to_string(t)}, {"i", std::to_string(i)}}});
      });
    for (auto& w : writers) w.join();
    CHECK(log.dropped() == 0);
  }  // the destructor writes what is queued
  p.close_write();
  reader.join();
  const auto lines = json_lines(text);
  REQUIRE(lines.size() == threads * per_thread);
  std::vector<int> next(threads, 0);
  for (const auto& l : lines) {
    const int t = std::stoi(std::string{l.at("thread").as_string()});
    CHECK(std::stoi(std::string{l.at("i").as_string()}) == next[static_cast<std::size_t>(t)]++);
  }
  for (int n : next) CHECK(n == per_thread);
}

TEST_CASE("an info line waits for company, a warning is out at once, behind it", "[logging]") {
  pipe_pair p;
  ::fcntl(p.read, F_SETFL, O_NONBLOCK);
  line_logger log{p.write, log_level::info, line_logger::format::text, {.linger = std::chrono::hours(1)}};
  log.write({log_level::info, "http", "request", {{"n", "1"}}});
  char buf[4096];
  CHECK(::read(p.read, buf, sizeof buf) < 0);  // still queued: nothing to read
  log.write({log_level::warning, "store", "slow", {}});
  const auto n = ::read(p.read, buf, sizeof buf);
  REQUIRE(n > 0);
  const std::string text(buf, static_cast<std::size_t>(n));
  const auto info = text.find("info http: request n=1\n");
  const auto warning = text.find("warning store: slow\n");
  REQUIRE(info != std::string::npos);
  REQUIRE(warning != std::string::npos);
  CHECK(info < warning);
}

TEST_CASE("a queued line is written within its linger without a flush", "[logging]") {
  pipe_pair p;
  line_logger log{p.write, log_level::info, line_logger::format::text, {.linger = std::chrono::milliseconds(5)}};
  log.write({log_level::info, "http", "request", {{"n", "1"}}});
  // Blocks until the logger's thread writes it: no flush, no destructor.
  char buf[4096];
  const auto n = ::read(p.read, buf, sizeof buf);
  REQUIRE(n > 0);
  CHECK(std::string(buf, static_cast<std::size_t>(n)).find("request n=1") != std::string::npos);
}

TEST_CASE("lines a stalled reader cannot take are dropped, counted and reported", "[logging]") {
  pipe_pair p;
  REQUIRE(::fcntl(p.write, F_SETPIPE_SZ, 4096) >= 0);
  constexpr int total = 2000;
  std::string text;
  std::thread reader;
  std::uint64_t dropped = 0;
  {
    line_logger log{p.write, log_level::info, line_logger::format::json,
                    {.linger = std::chrono::milliseconds(1), .batch = 1024, .max_pending = 8192}};
    // Nobody reads: the pipe fills, the logger's thread blocks in write(2),
    // the queue fills; write() itself never blocks.
    for (int i = 0; i < total; ++i) log.write({log_level::info, "http", "request", {{"i", std::to_string(i)}}});
    dropped = log.dropped();
    CHECK(dropped > 0);
    CHECK(dropped < total);
    reader = std::thread{[&] { text = read_to_end(p.read); }};
  }
  p.close_write();
  reader.join();
  std::uint64_t requests = 0, reported = 0;
  int last = -1;
  for (const auto& l : json_lines(text)) {
    if (l.at("msg") == "request") {
      ++requests;
      const int i = std::stoi(std::string{l.at("i").as_string()});
      CHECK(i > last);  // what arrives keeps its order
      last = i;
    } else {
      CHECK(l.at("level") == "warning");
      CHECK(l.at("component") == "log");
      reported += std::stoull(std::string{l.at("count").as_string()});
    }
  }
  CHECK(requests + dropped == total);
  CHECK(reported == dropped);
}
