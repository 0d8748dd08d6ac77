// result<T>: the engine's one error style, on its own and through the
// engine's calls (not_found, timeout and not_running told apart).
#include <string>

#include <catch2/catch.hpp>

#include "overseer/result.hpp"
#include "support/engine_fixture.hpp"

using namespace std::chrono_literals;
using namespace overseer;
using overseer::test::engine_fixture;

namespace {

result<int> half(int n) {
  if (n % 2 != 0) return failure_info{errc::invalid_spec, "odd", {{"n", std::to_string(n) + " is odd"}}};
  return n / 2;
}

struct point {
  int x = 0;
  int y = 0;
};

}  // namespace

TEST_CASE("an ok result holds its value and reads like an optional", "[result]") {
  auto r = half(8);
  REQUIRE(r);
  CHECK(r.ok());
  CHECK(r.has_value());
  CHECK(r.code() == errc::ok);
  CHECK(r.message().empty());
  CHECK(r.errors().empty());
  CHECK(*r == 4);
  CHECK(r.value() == 4);
  CHECK(r.value_or(-1) == 4);
  CHECK(r.as_optional() == std::optional<int>{4});

  result<point> p = point{1, 2};
  CHECK(p->y == 2);
  p->x = 5;
  CHECK((*p).x == 5);
  const result<std::string> s{std::string{"moved"}};
  CHECK(std::string{*s} == "moved");
  CHECK(result<std::string>{std::string{"taken"}}.value() == "taken");
}

TEST_CASE("a failed result carries its code, message and field errors, and value() throws them", "[result]") {
  auto r = half(3);
  REQUIRE_FALSE(r);
  CHECK_FALSE(r.ok());
  CHECK_FALSE(r.has_value());
  CHECK(r.code() == errc::invalid_spec);
  CHECK(r.message() == "odd");
  REQUIRE(r.errors().size() == 1);
  CHECK(r.errors()[0].field == "n");
  CHECK(r.value_or(-1) == -1);
  CHECK_FALSE(r.as_optional());
  try {
    (void)r.value();
    FAIL("value() of a failed result returned");
  } catch (const overseer::error& e) {
    CHECK(e.code() == errc::invalid_spec);
    CHECK(std::string{e.what()} == "odd; n: 3 is odd");
    REQUIRE(e.fields().size() == 1);
    CHECK(e.fields()[0].message == "3 is odd");
  }
  auto f = result<point>::failure(errc::not_found, "no point");
  CHECK(f.code() == errc::not_found);
  CHECK(f.message() == "no point");
  CHECK_THROWS_AS(std::move(f).value(), overseer::error);
}

TEST_CASE("a failure hands on as a result of another type", "[result]") {
  auto r = half(5);
  result<std::string> s = r.as_failure();
  CHECK(s.code() == errc::invalid_spec);
  CHECK(s.message() == "odd");
  CHECK(s.errors().size() == 1);
  // A failure built with errc::ok would read as ok without a value: it is not ok.
  result<int> bad = failure_info{errc::ok, "forgot the code"};
  CHECK_FALSE(bad);
  CHECK(bad.code() != errc::ok);
}

TEST_CASE("result<void> says only whether the call worked", "[result]") {
  result<void> ok;
  CHECK(ok);
  CHECK(ok.code() == errc::ok);
  CHECK_NOTHROW(ok.value());
  auto no = result<void>::failure(errc::conflict, "busy");
  CHECK_FALSE(no);
  CHECK(no.code() == errc::conflict);
  CHECK_THROWS_AS(no.value(), overseer::error);
  result<void> from = failure_info{errc::timeout, "late"};
  CHECK(from.message() == "late");
}

TEST_CASE("the engine's readers answer not_running before start, and never throw", "[result][engine]") {
  engine_fixture f;
  const std::string id = "job_01M8RESULTTEST00000000000001";
  CHECK(f.eng->get(id).code() == errc::not_running);
  CHECK(f.eng->get_with_seq(id).code() == errc::not_running);
  CHECK(f.eng->logs(id, log_level::debug, 10, 0).code() == errc::not_running);
  CHECK(f.eng->get_batch("batch_x").code() == errc::not_running);
  CHECK(f.eng->wait(id, 10ms).code() == errc::not_running);
  CHECK(f.eng->pause_tool("noop").code() == errc::not_running);
  CHECK(f.eng->resume_tool("noop").code() == errc::not_running);
  CHECK(f.eng->clear_cache({}).code() == errc::not_running);
}

TEST_CASE("an unknown id is not_found, a job still running at the deadline is timeout", "[result][engine]") {
  engine_fixture f;
  f.start();
  const std::string unknown = "job_01M8RESULTTEST00000000000002";
  auto g = f.eng->get(unknown);
  CHECK(g.code() == errc::not_found);
  CHECK(g.message() == "no job " + unknown);
  CHECK(f.eng->get_with_seq(unknown).code() == errc::not_found);
  CHECK(f.eng->logs(unknown, log_level::debug, 10, 0).code() == errc::not_found);
  CHECK(f.eng->wait(unknown, 10s).code() == errc::not_found);  // at once: no waiting for an unknown id
  CHECK(f.eng->get_batch("batch_nothing").code() == errc::not_found);
  CHECK(f.eng->get_batch("batch_nothing").message() == "no batch batch_nothing");

  const auto id = f.eng->submit({.tool = "sleep", .params = {{"seconds", 30}, {"steps", 30}}});
  auto w = f.eng->wait(id, 50ms);
  CHECK(w.code() == errc::timeout);
  CHECK_THAT(w.message(), Catch::Contains(id) && Catch::Contains("50 ms"));
  CHECK(f.eng->cancel(id).code == errc::ok);
  auto done = f.eng->wait(id, 20s);
  REQUIRE(done);
  CHECK(done->status == job_status::cancelled);
}

TEST_CASE("get_with_seq answers the view and the seq it reflects, logs answer a page and the total",
          "[result][engine]") {
  engine_fixture f;
  f.start();
  const auto id = f.eng->submit({.tool = "fail", .params = {{"failures", 1}}});
  REQUIRE(f.eng->wait(id, 20s));
  auto s = f.eng->get_with_seq(id);
  REQUIRE(s);
  CHECK(s->view.id == id);
  CHECK(s->view.status == job_status::failed);
  CHECK(s->seq > 0);
  CHECK(s->seq <= f.eng->last_seq());
  CHECK(f.eng->events_after(s->seq, 1000).empty());  // the view shows every event of the job so far

  auto all = f.eng->logs(id, log_level::debug, 1000, 0);
  REQUIRE(all);
  REQUIRE(all->total >= 2);
  CHECK(all->lines.size() == all->total);
  auto page = f.eng->logs(id, log_level::debug, 1, 1);
  REQUIRE(page);
  CHECK(page->total == all->total);
  REQUIRE(page->lines.size() == 1);
  CHECK(page->lines[0].message == all->lines[1].message);
}
