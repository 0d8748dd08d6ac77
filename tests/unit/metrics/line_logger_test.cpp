// The daemon's log lines: JSON and text, escaped so no value can forge a line.
#include <string>

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include "logging/line_logger.hpp"

using overseer::log_level;
using overseer::log_record;
using overseer::logging::line_logger;

TEST_CASE("a JSON line is one valid object with every field", "[logging]") {
  line_logger log{-1, log_level::info, line_logger::format::json};
  const std::string reason = "tool said \"no\"\n{\"level\":\"critical\"}\x1b[31m\xFF";
  const auto line = log.format_line({log_level::warning, "job", "transition", {{"reason", reason}, {"to", "failed"}}});
  REQUIRE(line.back() == '\n');
  CHECK(line.find('\n') == line.size() - 1);  // one line, whatever the reason holds
  CHECK(line.find('\x1b') == std::string::npos);
  const auto v = boost::json::parse(line.substr(0, line.size() - 1)).as_object();
  CHECK(v.at("level") == "warning");
  CHECK(v.at("component") == "job");
  CHECK(v.at("msg") == "transition");
  CHECK(v.at("to") == "failed");
  CHECK(v.at("reason") == "tool said \"no\"\n{\"level\":\"critical\"}\x1b[31m\xEF\xBF\xBD");
  CHECK(v.contains("ts"));
}

TEST_CASE("a text line quotes and escapes values that are not one plain word", "[logging]") {
  line_logger log{-1, log_level::info, line_logger::format::text};
  const auto line =
    log.format_line({log_level::info, "http", "request", {{"status", "200"}, {"path", "/v1/x y\n\"z\""}}});
  CHECK(line.find(" info http: request status=200 path=\"/v1/x y\\n\\\"z\\\"\"\n") != std::string::npos);
  CHECK(line.find('\n') == line.size() - 1);
}

TEST_CASE("levels below the minimum are not enabled; names parse", "[logging]") {
  line_logger log{-1, log_level::warning, line_logger::format::text};
  CHECK_FALSE(log.enabled(log_level::info));
  CHECK(log.enabled(log_level::error));
  CHECK(line_logger::parse_level("debug") == log_level::debug);
  CHECK(line_logger::parse_level("critical") == log_level::critical);
  CHECK_FALSE(line_logger::parse_level("verbose"));
  CHECK(line_logger::parse_format("json") == line_logger::format::json);
  CHECK_FALSE(line_logger::parse_format("xml"));
}
