#include <catch2/catch.hpp>

#include "cli/api_client.hpp"
#include "cli/commands.hpp"

using namespace overseer::cli;

TEST_CASE("list --since takes an RFC 3339 time or an age before now", "[cli]") {
  const auto now = *parse_rfc3339("2026-12-01T12:00:00.000Z");
  CHECK(since_to_timestamp("2026-11-30T08:00:00Z", now) == "2026-11-30T08:00:00Z");
  CHECK(since_to_timestamp("90s", now) == "2026-12-01T11:58:30.000Z");
  CHECK(since_to_timestamp("15m", now) == "2026-12-01T11:45:00.000Z");
  CHECK(since_to_timestamp("2h", now) == "2026-12-01T10:00:00.000Z");
  CHECK(since_to_timestamp("3d", now) == "2026-11-28T12:00:00.000Z");
  for (const char* bad : {"", "h", "2w", "-2h", "yesterday", "1.5h", "9999999999d"})
    CHECK_FALSE(since_to_timestamp(bad, now));
}

TEST_CASE("a --from-list line splits on blanks, quotes group", "[cli]") {
  CHECK(split_words("sleep  seconds=2\tsteps=4") == std::vector<std::string>{"sleep", "seconds=2", "steps=4"});
  CHECK(split_words("fail message=\"two words\" x='a b'") ==
        std::vector<std::string>{"fail", "message=two words", "x=a b"});
  CHECK(split_words("noop \"\"") == std::vector<std::string>{"noop", ""});
  CHECK(split_words("   ") == std::vector<std::string>{});
  CHECK_FALSE(split_words("fail message=\"open"));
}

TEST_CASE("the --url option takes host and port, an optional scheme and prefix, and refuses the rest", "[cli]") {
  const auto e = parse_endpoint("http://127.0.0.1:8080");
  CHECK(e.host == "127.0.0.1");
  CHECK(e.port == "8080");
  CHECK(e.prefix.empty());
  const auto p = parse_endpoint("localhost:9000/overseer/");
  CHECK(p.host == "localhost");
  CHECK(p.port == "9000");
  CHECK(p.prefix == "/overseer");
  CHECK(parse_endpoint("http://example.org").port == "80");
  CHECK(parse_endpoint("http://[::1]:8080").host == "::1");
  for (const char* bad : {"https://example.org", "ftp://x", "http://:80", "http://h:0", "http://h:99999",
                          "http://h:x", "http://user:pw@h:1", ""})
    CHECK_THROWS_AS(parse_endpoint(bad), std::invalid_argument);
}
