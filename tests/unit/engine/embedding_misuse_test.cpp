// What a host embedding the engine may do wrong, or do at an awkward
// moment, and what the engine promises then (include/overseer/engine.hpp):
// calls racing stop(), callbacks that throw or block, tool output that JSON
// cannot carry, durations no clock can hold.
#include <atomic>
#include <cmath>
#include <future>
#include <limits>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

#include "support/engine_fixture.hpp"
#include "support/eventually.hpp"

using namespace std::chrono_literals;
using namespace overseer;
using overseer::test::engine_fixture;
using overseer::test::eventually;
using overseer::test::reached;

namespace {

/// A log sink that keeps the messages, for a test to read.
struct kept_log {
  std::mutex mutex;
  std::vector<std::string> lines;

  log_sink sink() {
    return [this](const log_record& r) {
      std::lock_guard lock{mutex};
      lines.push_back(std::string{r.message});
    };
  }
  std::size_t count(std::string_view part) {
    std::lock_guard lock{mutex};
    std::size_t n = 0;
    for (const auto& l : lines) n += l.find(part) != std::string::npos;
    return n;
  }
};

/// A tool that runs until its job is stopped.
tool_function until_stopped() {
  return [](job_context& ctx) -> tool_result {
    while (!ctx.stop_requested()) ctx.sleep_for(5ms);
    return stopped();
  };
}

}  // namespace

TEST_CASE("stop() while other threads read, list and submit: every call is answered, none touches a closed store",
          "[engine][embedding]") {
  engine_fixture f;
  f.start();
  for (int i = 0; i < 2000; ++i) (void)f.eng->submit({.tool = "noop"});
  const auto id = f.eng->submit({.tool = "noop"});
  std::atomic<bool> go{true};
  // Catch's assertions are for the test's thread: the others count.
  std::atomic<long> answered{0}, refused{0}, wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t)
    threads.emplace_back([&, t] {
      while (go) {
        try {
          if (t == 0) {
            auto v = f.eng->get(id);
            (v ? answered : refused)++;
            if (!v && v.code() != errc::not_running) ++wrong;
          } else if (t == 1) {
            (void)f.eng->list({.limit = 100000});
            ++answered;
          } else {
            auto s = f.eng->try_submit({.tool = "noop"});
            (s.code == errc::ok ? answered : refused)++;
            if (s.code != errc::ok && s.code != errc::not_running) ++wrong;
          }
        } catch (const error& e) {
          if (e.code() != errc::not_running) ++wrong;
          ++refused;
        }
      }
    });
  (void)eventually([&] { return answered >= 30; }, 20s);
  f.eng->stop();
  const long after_stop = refused;
  // Calls made after the stop: wait until some are answered, not a fixed time.
  (void)eventually([&] { return refused > after_stop; }, 20s);
  go = false;
  for (auto& t : threads) t.join();
  CHECK(refused > after_stop);  // calls went on after the stop, all refused
  CHECK(wrong == 0);
  CHECK(!f.eng->get(id));
  CHECK(f.eng->get(id).code() == errc::not_running);
}

TEST_CASE("a wait() or wait_async() on a running job is answered not_running when the engine stops",
          "[engine][embedding]") {
  engine_fixture f;
  f.eng->tools().add({.name = "forever"}, until_stopped());
  f.start();
  const auto id = f.eng->submit({.tool = "forever"});
  REQUIRE(f.events.wait_for(reached(id, job_status::running)));
  auto waited = std::async(std::launch::async, [&] { return f.eng->wait(id, 60s); });
  std::promise<result<job_view>> async_answer;
  f.eng->wait_async(id, 60s, [&](result<job_view> v) { async_answer.set_value(std::move(v)); });
  std::this_thread::sleep_for(50ms);
  f.eng->stop();
  // Answered by the stop, not by the 60 s timeout (the wait would say "timeout").
  REQUIRE(waited.wait_for(20s) == std::future_status::ready);
  const auto v = waited.get();
  CHECK(v.code() == errc::not_running);
  CHECK(async_answer.get_future().get().code() == errc::not_running);
}

TEST_CASE("a tool body that calls its own engine's stop() is refused with conflict, and the engine goes on", "[engine][embedding]") {
  engine_fixture f;
  std::promise<errc> refused;
  std::promise<bool> scratch_stopped;
  f.eng->tools().add({.name = "stopper"}, [&](job_context&) -> tool_result {
    // Another engine, started and stopped inside this body: its stop()
    // waits for its own bodies only, and is allowed.
    try {
      engine scratch{{.data_dir = f.dir.path() / "scratch"}};
      scratch.start();
      scratch.stop();
      scratch_stopped.set_value(true);
    } catch (const error&) {
      scratch_stopped.set_value(false);
    }
    try {
      f.eng->stop();
      refused.set_value(errc::ok);
    } catch (const error& e) {
      refused.set_value(e.code());
    }
    return boost::json::object{{"went_on", true}};
  });
  f.start();
  const auto id = f.eng->submit({.tool = "stopper"});
  CHECK(scratch_stopped.get_future().get());
  CHECK(refused.get_future().get() == errc::conflict);
  auto v = f.eng->wait(id, 20s);
  REQUIRE(v);
  CHECK(v->status == job_status::completed);
}

TEST_CASE("host callbacks that throw are reported through the log sink, and the engine goes on",
          "[engine][embedding]") {
  kept_log log;
  engine_config cfg;
  cfg.log = log.sink();
  engine_fixture f{cfg};
  f.start();
  auto sub = f.eng->subscribe(filter::all(), [](const event&) { throw std::runtime_error("subscriber bug"); });
  auto sub2 = f.eng->subscribe(filter::all(), [](const event&) { throw 42; });
  f.eng->watch_job_changes([](std::span<const std::string_view>, bool) { throw std::runtime_error("watcher bug"); });
  std::promise<std::string> submitted;
  f.eng->submit_async({.tool = "noop"}, [&](submit_result r) {
    submitted.set_value(r.job_id);
    throw std::runtime_error("done bug");
  });
  const auto id = submitted.get_future().get();
  std::promise<void> waited;
  f.eng->wait_async(id, 20s, [&](result<job_view>) {
    waited.set_value();
    throw std::runtime_error("wait done bug");
  });
  waited.get_future().get();
  std::promise<void> cancelled;
  f.eng->cancel_async(id, [&](change_result) {
    cancelled.set_value();
    throw std::runtime_error("cancel done bug");
  });
  cancelled.get_future().get();
  // The scheduler, the writer and the bus still serve.
  const auto next = f.eng->try_submit({.tool = "noop"});
  REQUIRE(next.code == errc::ok);
  auto v = f.eng->wait(next.job_id, 20s);
  REQUIRE(v);
  CHECK(v->status == job_status::completed);
  CHECK(f.eng->stats().running_ok);
  REQUIRE(f.events.wait_for(reached(next.job_id, job_status::completed)));  // the fixture's subscriber still hears
  CHECK(log.count("a subscriber's callback threw") >= 2);
  CHECK(log.count("submit_async's done callback threw") == 1);
  CHECK(log.count("wait_async's done callback threw") == 1);
  CHECK(log.count("a change's done callback threw") == 1);
  CHECK(log.count("watch_job_changes' callback threw") >= 1);
}

TEST_CASE("a done callback answered at once, on the caller's thread, that throws is reported and goes no further",
          "[engine][embedding]") {
  kept_log log;
  engine_config cfg;
  cfg.log = log.sink();
  engine_fixture f{cfg};
  const auto boom = [](auto&&) { throw std::runtime_error("answered at once"); };
  // Not started: each is refused on this thread.
  CHECK_NOTHROW(f.eng->submit_async({.tool = "noop"}, boom));
  CHECK_NOTHROW(f.eng->cancel_async("job_x", boom));
  CHECK_NOTHROW(f.eng->retry_async("job_x", boom));
  CHECK_NOTHROW(f.eng->wait_async("job_x", 1s, boom));
  CHECK_NOTHROW(f.eng->stats_async(boom));
  CHECK_NOTHROW(f.eng->submit_batch_async({}, boom));
  CHECK_NOTHROW(f.eng->cancel_batch_async("batch_x", boom));
  CHECK_NOTHROW(f.eng->clear_cache_async({}, boom));
  CHECK_NOTHROW(f.eng->delete_file_async("file_x", boom));
  CHECK(log.count("threw; the engine goes on") == 9);
  f.start();
  // Started: a refused spec, and a wait for a job that has ended.
  CHECK_NOTHROW(f.eng->submit_async({.tool = "no_such_tool"}, boom));
  const auto id = f.eng->submit({.tool = "noop"});
  REQUIRE(f.eng->wait(id, 20s));
  CHECK_NOTHROW(f.eng->wait_async(id, 1s, boom));
  CHECK(log.count("submit_async's done callback threw") == 2);
  CHECK(log.count("wait_async's done callback threw") == 2);
  CHECK(f.eng->try_submit({.tool = "noop"}).code == errc::ok);
}

TEST_CASE("a log sink that throws loses its line and nothing else", "[engine][embedding]") {
  engine_config cfg;
  std::atomic<int> calls{0};
  cfg.log = [&](const log_record&) {
    ++calls;
    throw std::runtime_error("sink bug");
  };
  engine_fixture f{cfg};
  f.eng->tools().add({.name = "fails"}, [](job_context&) -> tool_result { throw std::runtime_error("x"); });
  f.start();
  auto sub = f.eng->subscribe(filter::all(), [](const event&) { throw std::runtime_error("reported to the sink"); });
  const auto id = f.eng->submit({.tool = "noop"});
  REQUIRE(f.eng->wait(id, 20s));
  CHECK(calls > 0);
  const auto next = f.eng->try_submit({.tool = "noop"});
  CHECK(next.code == errc::ok);
  CHECK(f.eng->stats().running_ok);
}

TEST_CASE("a subscriber's callback that blocks holds up neither subscribe() nor a wait() for an ended job",
          "[engine][embedding]") {
  engine_fixture f;
  f.start();
  std::promise<void> release;
  auto released = release.get_future().share();
  std::atomic<bool> blocking{false};
  auto slow = f.eng->subscribe(filter::all(), [&, released](const event&) {
    blocking = true;
    (void)released.wait_for(20s);
    blocking = false;
  });
  const auto done = f.eng->submit({.tool = "noop"});
  while (!blocking) std::this_thread::sleep_for(1ms);
  // Ended in the store (the bus's news of it is queued behind the callback).
  for (auto v = f.eng->get(done); !v || !is_terminal(v->status); v = f.eng->get(done))
    std::this_thread::sleep_for(1ms);
  // While the dispatch thread is held in that callback:
  auto other = f.eng->subscribe(filter::all(), [](const event&) {});
  const auto v = f.eng->wait(done, 20s);
  const bool still_blocking = blocking;
  release.set_value();
  CHECK(still_blocking);
  REQUIRE(v);
  CHECK(is_terminal(v->status));
}

TEST_CASE("a tool's NaN and infinities become null in its result, and its progress stays in range",
          "[engine][embedding]") {
  engine_fixture f;
  f.eng->tools().add({.name = "odd_numbers"}, [](job_context& ctx) -> tool_result {
    progress p;
    p.percent = std::nan("");
    p.current_step = -3;
    p.step_name = "nan";
    ctx.progress(p);
    p.percent = 1e-300;  // after a while: an estimate past any clock
    p.step_name = "tiny";
    ctx.sleep_for(30ms);
    ctx.progress(p);
    ctx.sleep_for(300ms);  // past the progress interval: reported
    return boost::json::object{{"nan", std::nan("")},
                               {"inf", std::numeric_limits<double>::infinity()},
                               {"list", boost::json::array{-std::numeric_limits<double>::infinity(), 1.5}},
                               {"ok", 1}};
  });
  f.start();
  const auto id = f.eng->submit({.tool = "odd_numbers"});
  auto v = f.eng->wait(id, 20s);
  REQUIRE(v);
  REQUIRE(v->status == job_status::completed);
  REQUIRE(v->result);  // stored as written, it would not read back
  CHECK(boost::json::serialize(*v->result) == R"({"nan":null,"inf":null,"list":[null,1.5E0],"ok":1})");
  for (const auto& e : f.events.of(id)) {
    if (e.kind != event_kind::progress) continue;
    INFO(e.progress.step_name);
    CHECK(e.progress.percent >= 0);
    CHECK(e.progress.percent <= 100);
    CHECK(e.progress.current_step >= 0);
  }
  // The stored progress and any estimate made from it.
  const auto listed = f.eng->list({.tool = "odd_numbers"});
  REQUIRE(listed.jobs.size() == 1);
  CHECK(!std::isnan(listed.jobs[0].progress.percent));
}

TEST_CASE("an estimate from a tiny percent is no estimate, not a time before 1970", "[engine][embedding]") {
  engine_fixture f;
  std::promise<void> reported;
  f.eng->tools().add({.name = "crawls"}, [&](job_context& ctx) -> tool_result {
    ctx.sleep_for(50ms);
    ctx.progress({.percent = 1e-300});
    reported.set_value();
    while (!ctx.stop_requested()) ctx.sleep_for(5ms);
    return stopped();
  });
  f.start();
  const auto id = f.eng->submit({.tool = "crawls"});
  reported.get_future().get();
  REQUIRE(f.events.wait_for([&](const std::vector<event>& es) {
    for (const auto& e : es)
      if (e.job_id == id && e.kind == event_kind::progress) return true;
    return false;
  }));
  auto v = f.eng->get(id);
  REQUIRE(v);
  if (v->progress.estimated_completion) CHECK(*v->progress.estimated_completion > clock::now());
  CHECK(f.eng->cancel(id).code == errc::ok);
}

TEST_CASE("durations too long for a clock are refused, or waited for as long as a clock can", "[engine][embedding]") {
  SECTION("in a job spec") {
    engine_fixture f;
    f.start();
    auto r = f.eng->try_submit({.tool = "noop", .timeout = std::chrono::seconds::max()});
    CHECK(r.code == errc::invalid_spec);
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].field == "timeout_s");
    r = f.eng->try_submit({.tool = "noop", .delay = std::chrono::milliseconds::max()});
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].field == "delay_s");
    // (time_point::max() is in 2262: a far run_at, taken.)
    r = f.eng->try_submit({.tool = "noop", .run_at = time_point::min()});
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].field == "run_at");
    // The longest allowed is taken.
    CHECK(f.eng->try_submit({.tool = "noop", .timeout = std::chrono::seconds{1'000'000'000}}).code == errc::ok);
  }
  SECTION("in the engine's config") {
    engine_config c;
    c.data_dir = "/unused";
    c.retention_interval = std::chrono::milliseconds::max();
    c.cache_ttl = std::chrono::seconds::max();
    std::vector<std::string> fields;
    for (const auto& e : check_engine_config(c)) fields.push_back(e.field);
    CHECK(fields == std::vector<std::string>{"cache_ttl", "retention_interval"});
  }
  SECTION("in a wait and a tool's sleep") {
    engine_fixture f;
    std::atomic<int> woke{0};
    f.eng->tools().add({.name = "sleeps"}, [&](job_context& ctx) -> tool_result {
      while (!ctx.sleep_for(std::chrono::milliseconds::max())) ++woke;  // returns only once stopped
      return stopped();
    });
    f.start();
    const auto id = f.eng->submit({.tool = "sleeps"});
    REQUIRE(f.events.wait_for(reached(id, job_status::running)));
    auto waited = std::async(std::launch::async, [&] { return f.eng->wait(id, std::chrono::milliseconds::max()); });
    std::this_thread::sleep_for(100ms);
    CHECK(waited.wait_for(0ms) == std::future_status::timeout);  // not answered "timeout" at once
    CHECK(f.eng->cancel(id).code == errc::ok);
    const auto v = waited.get();
    REQUIRE(v);
    CHECK(v->status == job_status::cancelled);
    CHECK(woke == 0);
  }
}

TEST_CASE("logs() of what is not a job id is not_found, never other jobs' lines", "[engine][embedding]") {
  engine_fixture f;
  f.eng->tools().add({.name = "talks"}, [](job_context& ctx) -> tool_result {
    ctx.log(log_level::info, "secret of " + ctx.job_id());
    return boost::json::object{};
  });
  f.start();
  const auto a = f.eng->submit({.tool = "talks", .owner = "alice"});
  const auto b = f.eng->submit({.tool = "talks", .owner = "bob"});
  REQUIRE(f.eng->wait(a, 20s));
  REQUIRE(f.eng->wait(b, 20s));
  for (const std::string& prefix : {std::string{}, std::string{"job_"}, a.substr(0, a.size() - 1)}) {
    INFO("logs(\"" << prefix << "\")");
    auto page = f.eng->logs(prefix, log_level::debug, 100, 0);
    CHECK(page.code() == errc::not_found);
  }
  auto own = f.eng->logs(a, log_level::debug, 100, 0);
  REQUIRE(own);
  for (const auto& l : own->lines) CHECK(l.message.find(b) == std::string::npos);
}

TEST_CASE("params a host builds with NaN or infinity are refused, naming the field", "[engine][embedding]") {
  engine_fixture f;
  f.eng->tools().add({.name = "takes_any", .params = boost::json::object{{"x", {{"type", "object"}}}}},
                     [](job_context&) -> tool_result { return boost::json::object{}; });
  f.start();
  auto r = f.eng->try_submit(
    {.tool = "takes_any", .params = {{"x", boost::json::object{{"deep", std::numeric_limits<double>::infinity()}}}}});
  CHECK(r.code == errc::invalid_spec);
  bool named = false;
  for (const auto& e : r.errors) named = named || e.field == "params.x.deep";
  CHECK(named);
}

TEST_CASE("before start(), a submit naming a dependency is not_running, not an invalid spec", "[engine][embedding]") {
  engine_fixture f;
  f.start();
  const auto dep = f.eng->submit({.tool = "noop"});
  f.eng->stop();
  const auto r = f.eng->try_submit({.tool = "noop", .depends_on = {dep}});
  CHECK(r.code == errc::not_running);
}
