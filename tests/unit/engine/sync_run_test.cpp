// Synchronous runs (engine::run, wait_async), immediate tools' own pool,
// trace ids and estimates on the engine (docs/api.md, "Synchronous runs",
// "Trace ids", "Estimates").
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>

#include <catch2/catch.hpp>

#include "support/engine_fixture.hpp"
#include "support/eventually.hpp"

using namespace std::chrono_literals;
using namespace overseer;
using overseer::test::engine_fixture;
using overseer::test::eventually;

namespace {

/// Blocks until released or stopped.
struct gate {
  std::atomic<bool> open{false};
  std::atomic<int> running{0};
  tool_function body() {
    return [this](job_context& ctx) -> tool_result {
      ++running;
      while (!open && !ctx.stop_requested()) ctx.sleep_for(5ms);
      --running;
      return boost::json::object{{"ok", true}};
    };
  }
};

tool_definition def(std::string name, tool_mode mode = tool_mode::queued) {
  tool_definition d;
  d.name = std::move(name);
  d.mode = mode;
  return d;
}

const std::string trace = "4bf92f3577b34da6a3ce929d0e0e4736";

}  // namespace

TEST_CASE("run answers the finished job's view, or times out with the job going on", "[engine][sync]") {
  engine_fixture f;
  gate g;
  f.eng->tools().add(def("gate"), g.body());
  f.start();
  auto done = f.eng->run({.tool = "noop"}, 10s);
  REQUIRE(done.code == errc::ok);
  REQUIRE(done.view);
  CHECK(done.view->status == job_status::completed);
  CHECK(done.view->id == done.submitted.job_id);

  auto slow = f.eng->run({.tool = "gate"}, 100ms);
  CHECK(slow.code == errc::timeout);
  REQUIRE(slow.view);
  CHECK_FALSE(is_terminal(slow.view->status));
  CHECK_FALSE(slow.submitted.job_id.empty());
  g.open = true;
  CHECK(f.eng->wait(slow.submitted.job_id, 10s)->status == job_status::completed);

  auto refused = f.eng->run({.tool = "no_such_tool"}, 1s);
  CHECK(refused.code == errc::unknown_tool);
  CHECK_FALSE(refused.view);
}

TEST_CASE("many waits at once are each answered once, without a thread each", "[engine][sync]") {
  engine_fixture f;
  gate g;
  f.eng->tools().add(def("gate"), g.body());
  f.start();
  constexpr int n = 200;
  std::mutex m;
  std::condition_variable cv;
  int answered = 0, completed = 0;
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) ids.push_back(f.eng->submit({.tool = "gate"}));
  for (const auto& id : ids)
    f.eng->wait_async(id, 30s, [&](result<job_view> v) {
      std::lock_guard lock{m};
      ++answered;
      if (v && v->status == job_status::completed) ++completed;
      cv.notify_all();
    });
  CHECK(answered == 0);  // nothing has ended: every waiter is waiting
  g.open = true;
  std::unique_lock lock{m};
  REQUIRE(cv.wait_for(lock, 30s, [&] { return answered == n; }));
  CHECK(completed == n);
  // A job already finished is answered on the calling thread.
  bool at_once = false;
  f.eng->wait_async(ids.front(), 1s, [&](result<job_view> v) { at_once = v && v->status == job_status::completed; });
  CHECK(at_once);
}

TEST_CASE("a wait for a job that ends is answered after every subscriber has heard the ending", "[engine][sync]") {
  engine_fixture f;
  gate g;
  f.eng->tools().add(def("gate"), g.body());
  f.start();
  const auto id = f.eng->submit({.tool = "gate"});
  // A host's subscriber, subscribed after the engine's waiters were.
  std::atomic<bool> heard{false};
  auto sub = f.eng->subscribe(filter::all(), [&](const event& e) {
    if (e.job_id == id && e.kind == event_kind::transition && is_terminal(e.to)) heard = true;
  });
  std::mutex m;
  std::condition_variable cv;
  bool answered = false, heard_first = false;
  f.eng->wait_async(id, 30s, [&](result<job_view> v) {
    std::lock_guard lock{m};
    answered = true;
    heard_first = v && heard.load();
    cv.notify_all();
  });
  g.open = true;
  {
    std::unique_lock lock{m};
    REQUIRE(cv.wait_for(lock, 30s, [&] { return answered; }));
    CHECK(heard_first);
  }
}

TEST_CASE("a wait still open when the engine stops is answered not_running", "[engine][sync]") {
  engine_fixture f;
  gate g;
  f.eng->tools().add(def("gate"), g.body());
  f.start();
  const auto id = f.eng->submit({.tool = "gate"});
  std::atomic<int> code{-1};
  f.eng->wait_async(id, 1h, [&](result<job_view> v) { code = static_cast<int>(v.code()); });
  f.eng->stop();
  CHECK(code == static_cast<int>(errc::not_running));
  // A subscription that outlives the stop is reset without harm.
  f.sub.reset();
}

TEST_CASE("an immediate tool runs in its own pool while long jobs hold every slot", "[engine][sync][scheduler]") {
  engine_fixture f{{.max_concurrent = 1, .immediate_concurrent = 1}};
  gate long_jobs;
  f.eng->tools().add(def("long"), long_jobs.body());
  f.eng->tools().add(def("quick", tool_mode::immediate), [](job_context&) -> tool_result {
    return boost::json::object{{"quick", true}};
  });
  f.start();
  const auto a = f.eng->submit({.tool = "long"});
  const auto b = f.eng->submit({.tool = "long"});  // queued behind a
  REQUIRE(eventually([&] { return long_jobs.running == 1; }));
  for (int i = 0; i < 3; ++i) {
    auto r = f.eng->run({.tool = "quick"}, 10s);
    REQUIRE(r.code == errc::ok);
    CHECK(r.view->status == job_status::completed);
  }
  CHECK(f.eng->get(b)->status == job_status::pending);  // the long queue did not move
  long_jobs.open = true;
  CHECK(f.eng->wait(a, 10s)->status == job_status::completed);
  CHECK(f.eng->wait(b, 10s)->status == job_status::completed);
}

TEST_CASE("a job keeps its trace id: view, events, listing, restart", "[engine][trace]") {
  engine_fixture f;
  f.start();
  const auto traced = f.eng->submit({.tool = "noop", .trace_id = trace});
  const auto other = f.eng->submit({.tool = "noop"});
  REQUIRE(f.eng->wait(traced, 10s));
  REQUIRE(f.eng->wait(other, 10s));
  CHECK(f.eng->get(traced)->trace_id == trace);
  CHECK(f.eng->get(other)->trace_id.empty());
  for (const auto& e : f.events.of(traced)) CHECK(e.trace_id == trace);
  auto found = f.eng->list({.trace_id = trace});
  REQUIRE(found.jobs.size() == 1);
  CHECK(found.jobs[0].id == traced);

  auto bad = f.eng->try_submit({.tool = "noop", .trace_id = "not-a-trace"});
  REQUIRE(bad.code == errc::invalid_spec);
  REQUIRE(bad.errors.size() == 1);
  CHECK(bad.errors[0].field == "trace_id");

  f.close();
  f.open({});
  f.start();
  CHECK(f.eng->get(traced)->trace_id == trace);
  CHECK(f.eng->list({.trace_id = trace}).jobs.size() == 1);
  // Retention takes the index entry with the job.
  CHECK(f.eng->purge({.trace_id = trace}).deleted == 1);
  CHECK(f.eng->list({.trace_id = trace}).jobs.empty());
}

TEST_CASE("estimates appear once a tool has a history", "[engine][estimates]") {
  engine_fixture f{{.max_concurrent = 1}};
  gate g;
  f.eng->tools().add(def("gate"), g.body());
  f.start();
  auto first = f.eng->try_submit({.tool = "sleep", .params = {{"seconds", 0.05}}});
  CHECK_FALSE(first.estimated_duration_s);  // no history yet
  // Runs of the sleep tool take 0.05 s plus a durable checkpoint per step.
  double shortest = 1e9, longest = 0;
  for (int i = 0; i < 4; ++i) {
    auto r = f.eng->run({.tool = "sleep", .params = {{"seconds", 0.05}}}, 10s);
    REQUIRE(r.code == errc::ok);
    const double took = std::chrono::duration<double>(*r.view->completed_at - *r.view->started_at).count();
    shortest = std::min(shortest, took);
    longest = std::max(longest, took);
  }
  // The slot is held: queued sleeps wait in waves of one.
  const auto holder = f.eng->submit({.tool = "gate"});
  REQUIRE(eventually([&] { return g.running == 1; }));
  submit_result queued;
  REQUIRE(eventually([&] {
    queued = f.eng->try_submit({.tool = "sleep", .params = {{"seconds", 0.05}}});
    return queued.estimated_duration_s.has_value();
  }));
  // Within the runs seen (the histogram's bucket may widen it a little);
  // the waves ahead of it make the job's own estimate longer.
  auto v = f.eng->get(queued.job_id);
  REQUIRE(v->estimated_run_s);
  CHECK(*v->estimated_run_s >= shortest * 0.5);
  CHECK(*v->estimated_run_s <= longest * 2);
  REQUIRE(v->estimated_duration_s);
  CHECK(*v->estimated_duration_s >= *v->estimated_run_s);
  g.open = true;
  REQUIRE(f.eng->wait(holder, 10s));
  auto ended = f.eng->wait(queued.job_id, 10s);
  REQUIRE(ended);
  CHECK_FALSE(ended->estimated_duration_s);  // finished: nothing to estimate
}
