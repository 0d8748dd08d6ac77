#include "cli/text.hpp"

#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>

#include "cli/json_text.hpp"
#include "cli/problem.hpp"
#include "tools/utf8.hpp"

using namespace overseer::cli;

TEST_CASE("terminal_safe leaves no escape, control byte or invalid UTF-8", "[cli][text]") {
  const std::string nasty = "a\x1b]0;title\x07 b\x1b[2J c\xc2\x9b" "31m d\xff\xfe e\r\nf\tg \xe2\x82";
  const auto safe = terminal_safe(nasty);
  CHECK(overseer::tools::valid_utf8(safe));
  for (const char c : safe) {
    const auto u = static_cast<unsigned char>(c);
    CHECK((u >= 0x20 || u == '\t'));
    CHECK(u != 0x7f);
  }
  CHECK(safe.find("\xc2\x9b") == std::string::npos);
  CHECK(terminal_safe("déjà vu ✓") == "déjà vu ✓");
  CHECK(terminal_safe("two\nlines", true) == "two\nlines");
}

TEST_CASE("width, truncate and pad count characters, not bytes", "[cli][text]") {
  CHECK(width("déjà") == 4);
  CHECK(cut_to_width("déjà vu", 3) == "déj");
  CHECK(cut_to_width("abc", 10) == "abc");
  CHECK(pad("é", 3) == "é  ");
}

TEST_CASE("durations and timestamps read as people write them", "[cli][text]") {
  using std::chrono::milliseconds;
  CHECK(format_duration(milliseconds(400)) == "0.4s");
  CHECK(format_duration(milliseconds(12'000)) == "12s");
  CHECK(format_duration(milliseconds(185'000)) == "3m05s");
  CHECK(format_duration(milliseconds(7'440'000)) == "2h04m");
  CHECK(format_duration(milliseconds(-5)) == "0.0s");
  const auto t = parse_rfc3339("2026-11-25T00:12:23.108Z");
  REQUIRE(t);
  CHECK(format_rfc3339(*t) == "2026-11-25T00:12:23.108Z");
  CHECK(format_rfc3339(*parse_rfc3339("2026-11-25T02:12:23+02:00")) == "2026-11-25T00:12:23.000Z");
  CHECK_FALSE(parse_rfc3339("yesterday"));
  CHECK_FALSE(parse_rfc3339("2026-13-25T00:12:23Z"));
  CHECK(short_time("2026-11-25T00:12:23.108Z") == "2026-11-25 00:12:23");
}

TEST_CASE("colour only when asked for and allowed", "[cli][text]") {
  CHECK_FALSE(colour_wanted(false, false));
  CHECK_FALSE(colour_wanted(true, true));
  ::setenv("NO_COLOR", "1", 1);
  CHECK_FALSE(colour_wanted(true, false));
  ::unsetenv("NO_COLOR");
  CHECK(palette{}.status("failed") == "failed");
  CHECK(palette{.on = true}.status("failed") == "\x1b[31mfailed\x1b[0m");
}

TEST_CASE("a problem document becomes one line naming every field", "[cli][text]") {
  const auto line = problem_line(400, R"({"type":"t","title":"Bad Request","status":400,"detail":"the job spec is invalid",
    "errors":[{"field":"priority","message":"11 is outside 0-10"},{"field":"params.seconds","message":"expected number"}]})");
  CHECK(line == "the job spec is invalid (400): priority: 11 is outside 0-10; params.seconds: expected number");
  CHECK(problem_line(409, R"({"detail":"job j is running","job_status":"running"})") ==
        "job j is running (409) [job_status running]");
  // A quota's refusal says when to try again (the daemon's 429, as it is sent).
  CHECK(problem_line(429, R"({"type":"t","title":"Too Many Requests","status":429,"detail":"alice has 2 jobs queued; its max_queued is 2",
    "errors":[{"field":"max_queued","message":"quota reached"}],"retry_after_s":5})") ==
        "alice has 2 jobs queued; its max_queued is 2 (429): max_queued: quota reached; try again in 5 s");
  CHECK(problem_line(502, "<html>\x1b[1mBad\x1b[0m</html>").find('\x1b') == std::string::npos);
  CHECK(problem_line(500, "").starts_with("the server answered 500"));
  CHECK(exit_status_for_http(404) == exit_status::not_found);
  CHECK(exit_status_for_http(503) == exit_status::server_error);
}

TEST_CASE("JSON numbers in their shortest form", "[cli][text]") {
  CHECK(compact_json(boost::json::parse(R"({"a":0.2,"b":[1,2.5e-5],"c":"x\"y"})")) ==
        R"({"a":0.2,"b":[1,2.5e-05],"c":"x\"y"})");
  CHECK(pretty_json(boost::json::parse(R"({"a":{"b":[]}})")) == "{\n  \"a\": {\n    \"b\": []\n  }\n}");
}
