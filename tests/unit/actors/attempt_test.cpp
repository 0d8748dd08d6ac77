// The boundary where a tool's strings enter the engine (actors/attempt.cpp):
// whatever bytes a C++ tool hands over, what is stored and published is
// valid UTF-8.
#include "actors/attempt.hpp"

#include <atomic>
#include <thread>

#include <catch2/catch.hpp>

#include <boost/json/serialize.hpp>

#include "support/engine_fixture.hpp"
#include "support/eventually.hpp"
#include "tools/utf8.hpp"

using namespace std::chrono_literals;
using namespace overseer;

namespace {

constexpr const char* fffd = "\xef\xbf\xbd";

bool all_valid(const boost::json::value& v) {
  // serialize() copies string bytes as they are, so the text is valid UTF-8
  // exactly when every key and string is.
  return tools::valid_utf8(boost::json::serialize(v));
}

std::string str(const boost::json::value& v) { return std::string(v.as_string()); }

}  // namespace

TEST_CASE("logs, progress and results of a tool are made valid UTF-8 before they are stored or sent",
          "[attempt][utf8]") {
  test::engine_fixture f;
  f.eng->tools().add({.name = "bytes"}, [](job_context& ctx) -> tool_result {
    ctx.log(log_level::info, "plain \xff\xfe end");
    ctx.log(log_level::warning, std::string("cut \xe2\x82 and \0 kept", 17));
    ctx.progress({.percent = 50, .step_name = "step \xc3"});
    return boost::json::object{{"text", "a\xff"}, {"k\xfe", boost::json::array{"\xed\xa0\x80", "ok"}}};
  });
  f.eng->tools().add({.name = "bad_failure"}, [](job_context&) -> tool_result {
    return failure("no \xff luck");
  });
  f.eng->tools().add({.name = "bad_throw"}, [](job_context&) -> tool_result {
    throw std::runtime_error("thrown \xc0\xaf");
  });
  f.start();

  auto v = f.eng->wait(f.eng->submit({.tool = "bytes"}), 30s);
  REQUIRE(v);
  REQUIRE(v->status == job_status::completed);
  REQUIRE(v->result);
  CHECK(all_valid(*v->result));
  CHECK(str(v->result->at("text")) == std::string("a") + fffd);
  const auto& arr = v->result->at(std::string("k") + fffd).as_array();
  CHECK(str(arr.at(0)) == std::string(fffd) + fffd + fffd);  // a surrogate: one per byte
  CHECK(str(arr.at(1)) == "ok");
  CHECK(v->progress.step_name == std::string("step ") + fffd);

  const auto logs = f.eng->logs(v->id, log_level::debug, 100, 0);
  REQUIRE(logs);
  std::vector<std::string> messages;
  for (const auto& l : logs->lines) messages.push_back(l.message);
  CHECK(std::find(messages.begin(), messages.end(), std::string("plain ") + fffd + fffd + " end") != messages.end());
  CHECK(std::find(messages.begin(), messages.end(), std::string("cut ") + fffd + std::string(" and \0 kept", 11)) !=
        messages.end());
  // What subscribers got is the same.
  for (const auto& e : f.events.of(v->id)) {
    CHECK(tools::valid_utf8(e.message));
    CHECK(tools::valid_utf8(e.progress.step_name));
  }

  for (const char* tool : {"bad_failure", "bad_throw"}) {
    auto failed = f.eng->wait(f.eng->submit({.tool = tool}), 30s);
    REQUIRE(failed);
    CHECK(failed->status == job_status::failed);
    CHECK(tools::valid_utf8(failed->error));
    CHECK_THAT(failed->error, Catch::Contains(fffd));
  }
}

TEST_CASE("a tool's last log line and progress, sent just before it returns, are kept, and a quiet tool's result too",
          "[attempt]") {
  // A tool that reported on the way sends its result behind those reports;
  // one that reported nothing hands its result to the scheduler, which
  // passes it on (actors/messages.hpp, attempt_exited). Both must end with
  // everything they said.
  test::engine_fixture f;
  f.eng->tools().add({.name = "last_words"}, [](job_context& ctx) -> tool_result {
    ctx.progress({.percent = 100, .step_name = "done"});
    ctx.log(log_level::info, "last words");
    return boost::json::object{{"n", ctx.attempt()}};
  });
  f.eng->tools().add({.name = "quiet"}, [](job_context&) -> tool_result { return boost::json::object{{"q", 1}}; });
  f.start();
  std::vector<std::string> talkers, quiet;
  for (int i = 0; i < 40; ++i) {
    talkers.push_back(f.eng->submit({.tool = "last_words"}));
    quiet.push_back(f.eng->submit({.tool = "quiet"}));
  }
  for (const auto& id : talkers) {
    auto v = f.eng->wait(id, 30s);
    REQUIRE(v);
    REQUIRE(v->status == job_status::completed);
    CHECK(v->progress.percent == 100);
    CHECK(v->progress.step_name == "done");
    const auto logs = f.eng->logs(id, log_level::debug, 100, 0);
    REQUIRE(logs);
    bool said = false;
    for (const auto& l : logs->lines) said = said || l.message == "last words";
    CHECK(said);
  }
  for (const auto& id : quiet) {
    auto v = f.eng->wait(id, 30s);
    REQUIRE(v);
    REQUIRE(v->status == job_status::completed);
    REQUIRE(v->result);
    CHECK(v->result->at("q").as_int64() == 1);
  }
}

TEST_CASE("a tool's latest progress, held back by the interval, is stored while the tool works on quietly",
          "[attempt][progress]") {
  // Two updates within one interval: the second is held back. A tool that
  // then only polls for a stop (as an exec tool's supervisor does while its
  // program computes) must not keep it back until it ends.
  std::atomic<bool> done{false};
  test::engine_fixture f;
  f.eng->tools().add({.name = "phases"}, [&](job_context& ctx) -> tool_result {
    ctx.progress({.percent = 10, .step_name = "phase 1"});
    ctx.progress({.percent = 20, .step_name = "phase 2"});
    while (!done && !ctx.stop_requested()) std::this_thread::sleep_for(5ms);
    return boost::json::object{};
  });
  f.start();
  const auto id = f.eng->submit({.tool = "phases"});
  const bool stored = test::eventually([&] {
    auto v = f.eng->get(id);
    return v && v->status == job_status::running && v->progress.step_name == "phase 2";
  }, 10s);
  done = true;
  CHECK(stored);
  auto v = f.eng->wait(id, 30s);
  REQUIRE(v);
  CHECK(v->status == job_status::completed);
  CHECK(v->progress.percent == 20);
}
