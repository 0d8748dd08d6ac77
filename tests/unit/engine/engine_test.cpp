#include <algorithm>
#include <atomic>
#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <thread>

#include <catch2/catch.hpp>

#include "actors/job_id.hpp"
#include "actors/job_lifecycle.hpp"
#include "persistence/commit_stats.hpp"
#include "support/deletions_stepped_over.hpp"
#include "support/engine_fixture.hpp"
#include "support/eventually.hpp"

using namespace std::chrono_literals;
using namespace overseer;
using test::engine_lines;
using test::has_line;
using overseer::test::engine_fixture;
using overseer::test::reached;

namespace {

/// Asserts the history is a legal walk of the state machine from creation.
void require_legal_history(const std::vector<transition>& h) {
  REQUIRE_FALSE(h.empty());
  std::optional<job_status> at;
  for (const auto& t : h) {
    INFO("transition " << (t.from ? to_string(*t.from) : "null") << " -> " << to_string(t.to));
    REQUIRE(t.from == at);
    REQUIRE(actors::can_transition(t.from, t.to));
    at = t.to;
  }
}

/// A tool that blocks until stopped (or `release` is set), counting how many
/// of it run at once.
struct gate_tool {
  std::atomic<int> now{0};
  std::atomic<int> peak{0};
  std::atomic<bool> release{false};
  std::mutex order_mutex;
  std::vector<std::string> started;  // job names, in start order

  tool_function body() {
    return [this](job_context& ctx) -> tool_result {
      const int n = ++now;
      for (int p = peak; n > p && !peak.compare_exchange_weak(p, n);) {}
      {
        std::lock_guard lock{order_mutex};
        started.push_back(ctx.params().contains("tag") ? std::string{ctx.params().at("tag").as_string()} : "");
      }
      while (!release && !ctx.stop_requested()) ctx.sleep_for(5ms);
      --now;
      if (ctx.stop_requested()) return stopped();
      return boost::json::object{{"ok", true}};
    };
  }
};

tool_definition gate_def(std::string name, int max_concurrent = 0) {
  tool_definition d;
  d.name = std::move(name);
  d.params = boost::json::object{{"tag", boost::json::object{{"type", "string"}}}};
  d.max_concurrent = max_concurrent;
  return d;
}

}  // namespace

TEST_CASE("a sleep job runs to completion with ordered events and progress", "[engine]") {
  engine_fixture f;
  f.start();
  auto id = f.eng->submit({.tool = "sleep", .params = {{"seconds", 0.2}, {"steps", 4}}});
  auto v = f.eng->wait(id, 20s);
  REQUIRE(v);
  CHECK(v->status == job_status::completed);
  CHECK(v->attempt == 1);
  REQUIRE(v->result);
  CHECK(v->result->at("steps").as_int64() == 4);
  REQUIRE(f.events.wait_for(reached(id, job_status::completed)));

  auto es = f.events.of(id);
  std::uint64_t last = 0;
  int progress = 0;
  for (auto& e : es) {
    CHECK(e.seq > last);
    last = e.seq;
    if (e.kind == event_kind::progress) ++progress;
  }
  CHECK(progress >= 1);  // coalesced, but the last one is always kept
  CHECK(es.front().kind == event_kind::transition);
  CHECK_FALSE(es.front().from.has_value());
  CHECK(es.back().to == job_status::completed);
  CHECK(v->progress.percent == Approx(100));
  require_legal_history(f.eng->history(id));
}

/// The engine's only slot held by a gate job tagged "blocker" (running
/// until `gate.release`), so jobs submitted after it queue up behind it.
struct one_slot_held {
  gate_tool gate;  // declared first: the engine's threads use it until it stops
  engine_fixture f{{.max_concurrent = 1}};
  one_slot_held() {
    f.eng->tools().add(gate_def("gate"), gate.body());
    f.start();
    auto blocker = f.eng->submit({.tool = "gate", .params = {{"tag", "blocker"}}});
    REQUIRE(f.events.wait_for(reached(blocker, job_status::running)));
  }
};

TEST_CASE("ready jobs start by priority, then in submission order", "[engine][scheduler]") {
  one_slot_held held;  // the others queue up behind its blocker
  auto& [gate, f] = held;
  std::vector<std::pair<std::string, int>> order = {
    {"low-1", 1}, {"high-1", 9}, {"mid-1", 5}, {"high-2", 9}, {"low-2", 1}, {"mid-2", 5}};
  std::vector<std::string> ids;
  for (auto& [tag, prio] : order)
    ids.push_back(f.eng->submit({.tool = "gate", .params = {{"tag", tag}}, .priority = prio}));
  gate.release = true;
  for (auto& id : ids) REQUIRE(f.eng->wait(id, 20s));
  std::lock_guard lock{gate.order_mutex};
  CHECK(gate.started == std::vector<std::string>{"blocker", "high-1", "high-2", "mid-1", "mid-2", "low-1", "low-2"});
}

TEST_CASE("a submit reports how many queued jobs are ahead", "[engine][scheduler]") {
  gate_tool gate;  // declared first: the engine's threads use it until it stops
  engine_fixture f{{.max_concurrent = 1}};
  f.eng->tools().add(gate_def("gate"), gate.body());
  f.start();
  auto blocker = f.eng->submit({.tool = "gate"});
  REQUIRE(f.events.wait_for(reached(blocker, job_status::running)));
  CHECK(f.eng->try_submit({.tool = "gate", .priority = 5}).position_in_queue == 0);
  CHECK(f.eng->try_submit({.tool = "gate", .priority = 5}).position_in_queue == 1);
  CHECK(f.eng->try_submit({.tool = "gate", .priority = 9}).position_in_queue == 0);
  CHECK(f.eng->try_submit({.tool = "gate", .priority = 1}).position_in_queue == 3);
  gate.release = true;
}

TEST_CASE("a submit, a cancel and a retry are answers due from the call until their callbacks have run",
          "[engine][spin]") {
  gate_tool gate;
  engine_fixture f{};
  f.eng->tools().add(gate_def("gate"), gate.body());
  f.start();
  auto& due = persistence::answers_due();
  const auto base = due.load();
  // `call` makes one asynchronous call; its callback sees it due, and
  // once the callback has run it is not (the count drops on the thread
  // that ran the callback, right after it: waited for here, yielding).
  auto seen_in_callback = [&](auto call) {
    auto seen = std::make_shared<std::promise<std::int64_t>>();
    auto answer = seen->get_future();
    call([&due, seen](auto) { seen->set_value(due.load()); });
    REQUIRE(answer.wait_for(20s) == std::future_status::ready);
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (due.load() != base && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    REQUIRE(due.load() == base);
    return answer.get();
  };
  // engine::answers_due: from one to expecting_max_due answers. Before
  // any call, so that none is on its way here.
  due = 1;
  CHECK(f.eng->answers_due());
  due = engine::expecting_max_due;
  CHECK(f.eng->answers_due());
  due = engine::expecting_max_due + 1;
  CHECK_FALSE(f.eng->answers_due());
  due = 0;
  CHECK_FALSE(f.eng->answers_due());
  due = base;
  // Refused before it reaches the scheduler: never due.
  CHECK(seen_in_callback([&](auto cb) { f.eng->submit_async({.tool = "no such tool"}, cb); }) == base);
  std::string id;
  CHECK(seen_in_callback([&](auto cb) {
          f.eng->submit_async({.tool = "gate"}, [cb, &id](submit_result r) {
            id = r.job_id;
            cb(r);
          });
        }) == base + 1);
  CHECK(seen_in_callback([&](auto cb) { f.eng->submit_async({.tool = "gate"}, cb); }) == base + 1);
  CHECK(seen_in_callback([&](auto cb) { f.eng->cancel_async(id, cb); }) == base + 1);
  CHECK(seen_in_callback([&](auto cb) { f.eng->retry_async(id, cb); }) == base + 1);
  gate.release = true;
}

TEST_CASE("jobs deep in the queue wait with their whole spec and start in order", "[engine][scheduler]") {
  // With more than 4,096 jobs queued, the scheduler holds a queued job encoded
  // and decodes it when it starts or is cancelled: nothing of it may change.
  one_slot_held held;
  auto& [gate, f] = held;
  constexpr int n = 4400;
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i)
    ids.push_back(f.eng->submit({.tool = "gate",
                                 .params = {{"tag", "j" + std::to_string(i)}},
                                 .name = "job " + std::to_string(i),
                                 .labels = {{"i", std::to_string(i)}}}));
  // One far back is cancelled while it waits; one overtakes them all.
  auto cancelled = f.eng->cancel(ids[4200]);
  REQUIRE(cancelled.code == errc::ok);
  CHECK(cancelled.view->status == job_status::cancelled);
  CHECK(cancelled.view->name == "job 4200");
  CHECK(cancelled.view->labels == std::map<std::string, std::string>{{"i", "4200"}});
  auto urgent = f.eng->submit({.tool = "gate", .params = {{"tag", "urgent"}}, .priority = 9});
  gate.release = true;
  REQUIRE(f.eng->wait(urgent, 20s));
  std::vector<std::string> expected{"blocker", "urgent"};
  for (int i = 0; i < n; ++i) {
    auto v = f.eng->wait(ids[static_cast<std::size_t>(i)], 20s);
    REQUIRE(v);
    INFO("job " << i);
    if (i == 4200) {
      CHECK(v->status == job_status::cancelled);
      CHECK(v->attempt == 0);
      continue;
    }
    expected.push_back("j" + std::to_string(i));
    CHECK(v->status == job_status::completed);
    CHECK(v->name == "job " + std::to_string(i));
    CHECK(v->labels == std::map<std::string, std::string>{{"i", std::to_string(i)}});
    CHECK(v->params == boost::json::object{{"tag", "j" + std::to_string(i)}});
    CHECK(v->attempt == 1);
  }
  std::lock_guard lock{gate.order_mutex};
  CHECK(gate.started == expected);
}

TEST_CASE("global and per-tool concurrency limits are never exceeded", "[engine][scheduler]") {
  gate_tool a, b;
  engine_fixture f{{.max_concurrent = 3}};
  f.eng->tools().add(gate_def("a", 2), a.body());
  f.eng->tools().add(gate_def("b"), b.body());
  f.start();
  std::vector<std::string> ids;
  for (int i = 0; i < 12; ++i) ids.push_back(f.eng->submit({.tool = i % 2 ? "a" : "b"}));
  // Let the slots fill, then check, then drain.
  REQUIRE(f.events.wait_for([&](const std::vector<event>& es) {
    int running = 0;
    for (auto& e : es)
      if (e.kind == event_kind::transition && e.to == job_status::running) ++running;
    return running >= 3;
  }));
  CHECK(a.now + b.now <= 3);
  a.release = true;
  b.release = true;
  for (auto& id : ids) REQUIRE(f.eng->wait(id, 20s)->status == job_status::completed);
  CHECK(a.peak <= 2);
  CHECK(a.peak + b.peak >= 3);  // the limit was reached, so the check had teeth
  CHECK(b.peak <= 3);
}

TEST_CASE("an attempt past its timeout is timed out and told to stop", "[engine][timeout]") {
  gate_tool gate;
  engine_fixture f;
  f.eng->tools().add(gate_def("gate"), gate.body());
  f.start();
  auto id = f.eng->submit({.tool = "gate", .timeout = 1s});
  auto v = f.eng->wait(id, 20s);
  REQUIRE(v);
  CHECK(v->status == job_status::timed_out);
  CHECK(v->error.find("timed out") != std::string::npos);
  // The tool saw its stop flag and returned.
  REQUIRE(f.events.wait_for([&](auto&) { return gate.now == 0; }));
  require_legal_history(f.eng->history(id));
}

TEST_CASE("a timed-out attempt is retried when the policy allows it", "[engine][timeout]") {
  std::atomic<int> calls{0};
  engine_fixture f;
  f.eng->tools().add({.name = "slow_once"}, [&](job_context& ctx) -> tool_result {
    if (++calls == 1) {
      while (!ctx.stop_requested()) ctx.sleep_for(5ms);
      return stopped();
    }
    return boost::json::object{};
  });
  f.start();
  auto id = f.eng->submit({.tool = "slow_once", .timeout = 1s,
                           .retry = retry_policy{.max_attempts = 2, .initial_backoff = 10ms,
                                                 .retry_on_timeout = true}});
  auto v = f.eng->wait(id, 20s);
  REQUIRE(v);
  CHECK(v->status == job_status::completed);
  CHECK(v->attempt == 2);
}

/// A tool whose first attempt, once told to stop, runs on for `linger`
/// before it returns (an exec tool within its kill grace does the same),
/// counting how many of its bodies run at once. Later attempts complete.
struct lingering_tool {
  std::chrono::milliseconds linger;
  std::atomic<int> calls{0};
  std::atomic<int> now{0};
  std::atomic<int> peak{0};
  std::atomic<bool> started{false};
  std::atomic<bool> lingering{false};  ///< the first body was told to stop and has not returned

  tool_function body() {
    return [this](job_context& ctx) -> tool_result {
      const int n = ++now;
      for (int p = peak; n > p && !peak.compare_exchange_weak(p, n);) {}
      if (++calls > 1) {
        --now;
        return boost::json::object{{"attempt", ctx.attempt()}};
      }
      started = true;
      while (!ctx.stop_requested()) ctx.sleep_for(5ms);
      lingering = true;
      std::this_thread::sleep_for(linger);  // the program's kill grace, not a wait for an event
      --now;
      lingering = false;
      return stopped();
    };
  }
};

/// The job's log says, once and before attempt 2 starts, that attempt 2
/// waits for attempt 1's body.
void require_wait_explained(engine& eng, const std::string& id) {
  auto page = eng.logs(id, log_level::debug, 100, 0);
  REQUIRE(page);
  int waits = 0;
  bool started_2 = false;
  for (const auto& l : page->lines) {
    if (l.message == "attempt 2 waits for attempt 1 to return: its tool was told to stop and is still running") {
      CHECK(l.level == log_level::warning);
      CHECK(l.component == "engine");
      CHECK_FALSE(started_2);
      ++waits;
    }
    if (l.message.starts_with("attempt 2 (")) started_2 = true;
  }
  CHECK(waits == 1);
  CHECK(started_2);
}

TEST_CASE("a job's next attempt starts only once the body of its last one has returned", "[engine][timeout][retry]") {
  lingering_tool tool{.linger = 1500ms};
  engine_fixture f{{.max_concurrent = 4}};  // free slots: only the rule keeps the two apart
  f.eng->tools().add({.name = "lingering"}, tool.body());
  f.start();
  auto id = f.eng->submit({.tool = "lingering", .timeout = 1s,
                           .retry = retry_policy{.max_attempts = 2, .initial_backoff = 10ms,
                                                 .retry_on_timeout = true}});
  auto v = f.eng->wait(id, 20s);
  REQUIRE(v);
  CHECK(v->status == job_status::completed);
  CHECK(v->attempt == 2);
  CHECK(tool.calls == 2);
  CHECK(tool.peak == 1);  // attempt 2 began after attempt 1's body returned
  require_legal_history(f.eng->history(id));
  require_wait_explained(*f.eng, id);
}

TEST_CASE("a job retried right after its cancel runs once the cancelled body has returned", "[engine][cancel][retry]") {
  lingering_tool tool{.linger = 1500ms};
  engine_fixture f{{.max_concurrent = 4}};
  f.eng->tools().add({.name = "lingering"}, tool.body());
  f.start();
  auto id = f.eng->submit({.tool = "lingering"});
  REQUIRE(test::eventually([&] { return tool.started.load(); }, 10s));
  REQUIRE(f.eng->cancel(id).code == errc::ok);
  REQUIRE(f.eng->retry(id).code == errc::ok);
  // Pending, not running, for as long as the cancelled body lingers.
  int looks = 0;
  REQUIRE(test::eventually([&] {
    auto mid = f.eng->get(id);
    if (!tool.lingering) return true;
    ++looks;
    CHECK((mid && mid->status == job_status::pending));
    CHECK(tool.calls == 1);
    return false;
  }, 10s));
  CHECK(looks > 0);
  auto v = f.eng->wait(id, 20s);
  REQUIRE(v);
  CHECK(v->status == job_status::completed);
  CHECK(tool.calls == 2);
  CHECK(tool.peak == 1);
  require_wait_explained(*f.eng, id);
}

TEST_CASE("cancellation works in every non-terminal state and wins over results", "[engine][cancel]") {
  gate_tool gate;  // declared first: the engine's threads use it until it stops
  std::atomic<bool> defiant_seen_stop{false};
  engine_fixture f{{.max_concurrent = 1}};
  f.eng->tools().add(gate_def("gate"), gate.body());
  f.eng->tools().add({.name = "defiant"}, [&](job_context& ctx) -> tool_result {
    while (!ctx.stop_requested()) ctx.sleep_for(5ms);
    defiant_seen_stop = true;
    return boost::json::object{{"late", true}};  // a result after cancel: must be dropped
  });
  f.start();

  SECTION("running") {
    auto id = f.eng->submit({.tool = "defiant"});
    REQUIRE(f.events.wait_for(reached(id, job_status::running)));
    auto r = f.eng->cancel(id);
    REQUIRE(r.code == errc::ok);
    CHECK(r.view->status == job_status::cancelled);
    REQUIRE(f.events.wait_for([&](auto&) { return defiant_seen_stop.load(); }));
    // Another job runs to completion after it: the late result was processed by now.
    auto after = f.eng->submit({.tool = "noop"});
    REQUIRE(f.eng->wait(after, 20s));
    auto v = f.eng->get(id);
    CHECK(v->status == job_status::cancelled);
    CHECK_FALSE(v->result);
    require_legal_history(f.eng->history(id));
  }
  SECTION("pending") {
    auto blocker = f.eng->submit({.tool = "gate"});
    REQUIRE(f.events.wait_for(reached(blocker, job_status::running)));
    auto id = f.eng->submit({.tool = "noop"});
    CHECK(f.eng->get(id)->status == job_status::pending);
    CHECK(f.eng->cancel(id).code == errc::ok);
    gate.release = true;
    REQUIRE(f.eng->wait(blocker, 20s));
    auto again = f.eng->submit({.tool = "noop"});
    REQUIRE(f.eng->wait(again, 20s));
    CHECK(f.eng->get(id)->status == job_status::cancelled);
    CHECK(f.eng->get(id)->attempt == 0);  // never ran
  }
  SECTION("retrying: a cancelled job is never retried") {
    // The backoff is drawn with full jitter, from 0 to 500 ms: cancel a job
    // whose drawn delay leaves time for the cancel to land inside it (on a
    // slow disk a draw of a few ms ends before the cancel arrives).
    std::string id;
    for (int tries = 0; tries < 20 && id.empty(); ++tries) {
      auto candidate = f.eng->submit({.tool = "fail", .params = {{"failures", 5}},
                                      .retry = retry_policy{.max_attempts = 5, .initial_backoff = 500ms,
                                                            .max_backoff = 500ms, .multiplier = 1.0}});
      REQUIRE(f.events.wait_for(reached(candidate, job_status::retrying)));
      auto v = f.eng->get(candidate);
      REQUIRE(v);
      if (v->status == job_status::retrying && v->next_attempt_at &&
          *v->next_attempt_at > std::chrono::system_clock::now() + 150ms)
        id = candidate;
      else (void)f.eng->cancel(candidate);  // out of the way; its state is not what is checked
    }
    REQUIRE_FALSE(id.empty());
    CHECK(f.eng->cancel(id).code == errc::ok);
    // Past the longest possible backoff, it has not moved.
    auto later = f.eng->submit({.tool = "sleep", .params = {{"seconds", 0.6}, {"steps", 1}}});
    REQUIRE(f.eng->wait(later, 20s));
    auto v = f.eng->get(id);
    CHECK(v->status == job_status::cancelled);
    CHECK(v->attempt == 1);
    require_legal_history(f.eng->history(id));
  }
  SECTION("terminal and unknown jobs") {
    auto id = f.eng->submit({.tool = "noop"});
    REQUIRE(f.eng->wait(id, 20s));
    CHECK(f.eng->cancel(id).code == errc::conflict);
    CHECK(f.eng->cancel("job_00000000000000000000000000").code == errc::not_found);
  }
}

TEST_CASE("fail with a retry policy completes after its failures", "[engine][retry]") {
  engine_fixture f;
  f.start();
  auto id = f.eng->submit({.tool = "fail", .params = {{"failures", 2}},
                           .retry = retry_policy{.max_attempts = 3, .initial_backoff = 20ms}});
  auto v = f.eng->wait(id, 20s);
  REQUIRE(v);
  CHECK(v->status == job_status::completed);
  CHECK(v->attempt == 3);
  auto h = f.eng->history(id);
  require_legal_history(h);
  CHECK(std::count_if(h.begin(), h.end(), [](auto& t) { return t.to == job_status::retrying; }) == 2);
}

TEST_CASE("without attempts left a failure is final, and an explicit retry starts afresh", "[engine][retry]") {
  engine_fixture f;
  f.start();
  auto id = f.eng->submit({.tool = "fail", .params = {{"failures", 2}, {"message", "boom"}},
                           .retry = retry_policy{.max_attempts = 2, .initial_backoff = 10ms}});
  auto v = f.eng->wait(id, 20s);
  REQUIRE(v->status == job_status::failed);
  CHECK(v->error.find("boom") != std::string::npos);
  auto r = f.eng->retry(id);
  REQUIRE(r.code == errc::ok);
  CHECK(r.view->status == job_status::pending);
  v = f.eng->wait(id, 20s);
  REQUIRE(v);
  CHECK(v->status == job_status::completed);
  CHECK(v->attempt == 3);
  CHECK(f.eng->retry(id).code == errc::conflict);  // completed
  CHECK(f.eng->retry("job_00000000000000000000000000").code == errc::not_found);
  require_legal_history(f.eng->history(id));
}

TEST_CASE("a throwing tool fails its attempt with the exception's message", "[engine]") {
  engine_fixture f;
  f.eng->tools().add({.name = "thrower"}, [](job_context&) -> tool_result {
    throw std::runtime_error("disk on fire");
  });
  f.start();
  auto v = f.eng->wait(f.eng->submit({.tool = "thrower"}), 20s);
  REQUIRE(v);
  CHECK(v->status == job_status::failed);
  CHECK(v->error.find("disk on fire") != std::string::npos);
  // The engine is fine afterwards.
  CHECK(f.eng->wait(f.eng->submit({.tool = "noop"}), 20s)->status == job_status::completed);
}

namespace {
tool_health health_of(engine& eng, const std::string& tool) {
  for (auto& t : eng.stats().tools)
    if (t.name == tool) return t;
  return tool_health{};
}
}  // namespace

TEST_CASE("a tool that keeps crashing is paused and can be resumed", "[engine][supervision]") {
  engine_fixture f{{.max_concurrent = 1, .max_failures = 2, .failure_window = 60s}};
  f.start();
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i)
    ids.push_back(f.eng->submit({.tool = "fail", .params = {{"failures", 10}, {"crash", true}}}));
  for (int i = 0; i < 3; ++i) REQUIRE(f.eng->wait(ids[i], 20s)->status == job_status::failed);
  CHECK(f.eng->get(ids[0])->error.find("tool threw: deliberate failure") != std::string::npos);
  // The scheduler hears of a job's end in a message sent after the job's
  // writes are queued: a stats request sent once the end is published can
  // overtake it.
  CHECK(overseer::test::eventually([&] { return health_of(*f.eng, "fail").paused; }));
  auto queued = f.eng->submit({.tool = "fail", .params = {{"failures", 0}}});
  CHECK(f.eng->wait(queued, 300ms).code() == errc::timeout);  // held while paused
  CHECK(f.eng->get(queued)->status == job_status::pending);
  CHECK(f.eng->wait(f.eng->submit({.tool = "noop"}), 20s));  // other tools still run
  REQUIRE(f.eng->resume_tool("fail"));
  CHECK(f.eng->wait(queued, 20s)->status == job_status::completed);
  CHECK_FALSE(health_of(*f.eng, "fail").paused);
  CHECK(f.eng->resume_tool("no_such_tool").code() == errc::not_found);
}

TEST_CASE("failures a tool returns do not pause it for other clients", "[engine][supervision]") {
  // One client's jobs with bad input fail; the tool is not broken, so
  // another client's job of the same tool still runs.
  engine_fixture f{{.max_concurrent = 1, .max_failures = 2, .failure_window = 60s}};
  f.start();
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(f.eng->submit({.tool = "fail", .params = {{"failures", 10}}}));
  for (auto& id : ids) REQUIRE(f.eng->wait(id, 20s)->status == job_status::failed);
  CHECK_FALSE(health_of(*f.eng, "fail").paused);
  CHECK(f.eng->wait(f.eng->submit({.tool = "fail", .params = {{"failures", 0}}}), 20s)->status ==
        job_status::completed);
}

TEST_CASE("an engine told to count returned failures pauses on them", "[engine][supervision]") {
  engine_config c{.max_concurrent = 1, .max_failures = 2, .failure_window = 60s};
  c.intensity.failures = true;
  engine_fixture f{c};
  f.start();
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(f.eng->submit({.tool = "fail", .params = {{"failures", 10}}}));
  for (auto& id : ids) REQUIRE(f.eng->wait(id, 20s)->status == job_status::failed);
  // The scheduler hears of a job's end in a message sent after the job's
  // writes are queued: a stats request sent once the end is published can
  // overtake it.
  CHECK(overseer::test::eventually([&] { return health_of(*f.eng, "fail").paused; }));
}

TEST_CASE("an invalid spec is refused with named fields and stores nothing", "[engine][validation]") {
  engine_fixture f;
  f.start();
  auto r = f.eng->try_submit({.tool = "nope"});
  CHECK(r.code == errc::unknown_tool);
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].field == "tool");

  r = f.eng->try_submit({.tool = "sleep", .params = {{"secnds", 1}}, .priority = 12, .ttl_hours = 0});
  CHECK(r.code == errc::invalid_spec);
  std::set<std::string> fields;
  for (auto& e : r.errors) fields.insert(e.field);
  CHECK(fields == std::set<std::string>{"params.secnds", "priority", "ttl_hours"});
  CHECK_THROWS_AS(f.eng->submit({.tool = ""}), overseer::error);
  CHECK(f.eng->list({}).total_count == 0);
}

TEST_CASE("list filters by status and tool, newest first, with paging", "[engine][list]") {
  engine_fixture f;
  f.start();
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(f.eng->submit({.tool = "noop"}));
  auto failed = f.eng->submit({.tool = "fail"});
  REQUIRE(f.eng->wait(failed, 20s));
  for (auto& id : ids) REQUIRE(f.eng->wait(id, 20s));

  auto all = f.eng->list({});
  CHECK(all.total_count == 6);
  CHECK(all.jobs.front().id == failed);
  auto noop = f.eng->list({.tool = "noop", .limit = 2, .offset = 1});
  CHECK(noop.total_count == 5);
  REQUIRE(noop.jobs.size() == 2);
  CHECK(noop.jobs[0].id == ids[3]);
  CHECK(noop.jobs[1].id == ids[2]);
  auto f1 = f.eng->list({.status = job_status::failed});
  REQUIRE(f1.total_count == 1);
  CHECK(f1.jobs[0].id == failed);
  CHECK(f.eng->list({.status = job_status::running}).total_count == 0);
}

TEST_CASE("a listing's total_count counted from the keys alone equals the count of a walk that reads each record",
          "[engine][list]") {
  // The jobs of every status a listing can count from its keys: completed,
  // failed (one of them retried to completion), cancelled while queued and
  // while running, timed out; in a batch and a trace too; then a purge.
  gate_tool gate;
  engine_fixture f;
  f.eng->tools().add(gate_def("gate", 1), gate.body());
  f.start();
  const std::string trace = "4bf92f3577b34da6a3ce929d0e0e4736";
  std::vector<std::string> waited;
  for (int i = 0; i < 4; ++i) waited.push_back(f.eng->submit({.tool = "noop"}));
  waited.push_back(f.eng->submit({.tool = "noop", .trace_id = trace}));
  for (int i = 0; i < 3; ++i) waited.push_back(f.eng->submit({.tool = "fail", .params = {{"failures", 5}}}));
  const auto retried = f.eng->submit({.tool = "fail", .params = {{"failures", 1}}});
  waited.push_back(f.eng->submit({.tool = "gate", .timeout = 1s}));
  const auto batch = f.eng->submit_batch({.jobs = {{.tool = "noop"}, {.tool = "fail", .params = {{"failures", 5}}}}});
  REQUIRE(batch.code == errc::ok);
  for (const auto& id : batch.job_ids) waited.push_back(id);
  for (const auto& id : waited) REQUIRE(f.eng->wait(id, 20s));
  REQUIRE(f.eng->wait(retried, 20s)->status == job_status::failed);
  REQUIRE(f.eng->retry(retried).code == errc::ok);
  REQUIRE(f.eng->wait(retried, 20s)->status == job_status::completed);
  // Cancelled while running, and while queued behind it (gate's limit is 1).
  const auto running = f.eng->submit({.tool = "gate"});
  const auto queued = f.eng->submit({.tool = "gate"});
  REQUIRE(test::eventually([&] { return f.eng->get(running)->status == job_status::running; }));
  REQUIRE(f.eng->cancel(queued).code == errc::ok);
  REQUIRE(f.eng->cancel(running).code == errc::ok);
  REQUIRE(f.eng->wait(running, 20s));
  const std::vector<list_query> shapes{
    {},
    {.status = job_status::completed},
    {.status = job_status::failed},
    {.status = job_status::cancelled},
    {.status = job_status::timed_out},
    {.tool = "noop"},
    {.tool = "fail"},
    {.tool = "gate"},
    {.tool = "none of ours"},
    {.batch_id = batch.batch_id},
    {.trace_id = trace},
  };
  // The same query with a date bound that every job passes reads each record.
  const auto compare = [&](const char* when) {
    for (auto q : shapes) {
      for (const auto& [limit, offset] : {std::pair<std::size_t, std::size_t>{1, 0}, {2, 1}, {100, 0}, {5, 50}}) {
        q.limit = limit;
        q.offset = offset;
        auto walked = q;
        walked.created_after = time_point{} + 1ms;
        const auto fast = f.eng->list(q);
        const auto slow = f.eng->list(walked);
        INFO(when << ": status " << (q.status ? to_string(*q.status) : "any") << ", tool '" << q.tool
                  << "', batch '" << q.batch_id << "', trace '" << q.trace_id << "', limit " << limit
                  << ", offset " << offset);
        CHECK(fast.total_count == slow.total_count);
        REQUIRE(fast.jobs.size() == slow.jobs.size());
        for (std::size_t i = 0; i < fast.jobs.size(); ++i) CHECK(fast.jobs[i].id == slow.jobs[i].id);
      }
    }
  };
  compare("before the purge");
  CHECK(f.eng->list({.status = job_status::completed}).total_count == 7);
  CHECK(f.eng->list({.status = job_status::failed}).total_count == 4);
  CHECK(f.eng->list({.status = job_status::cancelled}).total_count == 2);
  CHECK(f.eng->list({.status = job_status::timed_out}).total_count == 1);
  CHECK(f.eng->list({}).total_count == 14);
  REQUIRE(f.eng->purge({.status = job_status::failed}).deleted == 4);
  REQUIRE(f.eng->purge({.status = job_status::cancelled, .tool = "gate"}).deleted == 2);
  compare("after the purge");
  CHECK(f.eng->list({}).total_count == 8);
}

TEST_CASE("list and purge find jobs by a part of their name in any case", "[engine][list]") {
  engine_fixture f;
  f.start();
  const auto a = f.eng->submit({.tool = "noop", .name = "Annotate SAMPLE 17"});
  const auto b = f.eng->submit({.tool = "noop", .name = "annotate sample 18 \u00c9t\u00e9"});
  const auto c = f.eng->submit({.tool = "noop", .name = "convert 19"});
  const auto d = f.eng->submit({.tool = "noop"});  // no name
  for (const auto& id : {a, b, c, d}) REQUIRE(f.eng->wait(id, 20s));
  const auto ids = [&](const list_query& q) {
    std::set<std::string> out;
    for (const auto& v : f.eng->list(q).jobs) out.insert(v.id);
    return out;
  };
  CHECK(ids({.name_contains = "sample"}) == std::set<std::string>{a, b});
  CHECK(ids({.name_contains = "ANNOTATE sample 1"}) == std::set<std::string>{a, b});
  CHECK(ids({.name_contains = "sample 17"}) == std::set<std::string>{a});
  CHECK(ids({.name_contains = "\u00c9t\u00e9"}) == std::set<std::string>{b});  // UTF-8 as it is
  CHECK(ids({.name_contains = "\u00c9T\u00e9"}) == std::set<std::string>{b});  // the ASCII T folds
  CHECK(ids({.name_contains = "\u00e9t\u00e9"}).empty());  // other letters do not
  CHECK(ids({.name_contains = "19"}) == std::set<std::string>{c});
  CHECK(ids({.name_contains = "nothing like it"}).empty());
  CHECK(ids({.tool = "noop", .name_contains = "convert"}) == std::set<std::string>{c});
  CHECK(f.eng->list({.name_contains = "sample", .limit = 1}).total_count == 2);
  // Purge takes the same filter: only the matches go.
  CHECK(f.eng->purge({.name_contains = "SAMPLE"}, true).matched == 2);
  CHECK(f.eng->purge({.name_contains = "SAMPLE"}).deleted == 2);
  CHECK(ids({}) == std::set<std::string>{c, d});
}

TEST_CASE("list and purge by creation time through an index find exactly the jobs of the range", "[engine][list]") {
  engine_fixture f;
  f.start();
  // Three rounds of jobs, the rounds in different milliseconds: a noop job
  // (tool index) and a failing one (status index) in each.
  std::vector<std::string> noop, failed;
  std::vector<time_point> created;
  for (int round = 0; round < 3; ++round) {
    // Each round in a later millisecond than the previous round's jobs.
    while (round && std::chrono::time_point_cast<std::chrono::milliseconds>(clock::now()) <=
                      f.eng->get(failed.back())->created_at)
      std::this_thread::yield();
    noop.push_back(f.eng->submit({.tool = "noop"}));
    failed.push_back(f.eng->submit({.tool = "fail", .params = {{"failures", 5}}}));
  }
  for (const auto& id : noop) REQUIRE(f.eng->wait(id, 20s));
  for (const auto& id : failed) REQUIRE(f.eng->wait(id, 20s));
  for (const auto& id : noop) created.push_back(f.eng->get(id)->created_at);
  const auto ids = [&](const list_query& q) {
    std::set<std::string> out;
    for (const auto& v : f.eng->list(q).jobs) out.insert(v.id);
    return out;
  };
  using set = std::set<std::string>;
  // created_after is inclusive, to the exact time; created_before exclusive.
  CHECK(ids({.tool = "noop", .created_after = created[1]}) == set{noop[1], noop[2]});
  CHECK(ids({.tool = "noop", .created_after = created[1] + 1us}) == set{noop[2]});
  CHECK(ids({.tool = "noop", .created_before = created[1]}) == set{noop[0]});
  CHECK(ids({.tool = "noop", .created_before = created[1] + 1us}) == set{noop[0], noop[1]});
  CHECK(ids({.tool = "noop", .created_after = created[1], .created_before = created[2]}) == set{noop[1]});
  CHECK(ids({.status = job_status::failed, .created_after = created[2]}) == set{failed[2]});
  CHECK(ids({.status = job_status::failed, .created_before = created[1]}) == set{failed[0]});
  CHECK(f.eng->list({.status = job_status::failed, .created_after = created[1], .limit = 1}).total_count == 2);
  // Without an index the walk goes by id, which never holds a millisecond
  // before its job's created_at: date alone, and completed jobs.
  for (std::size_t i = 0; i < noop.size(); ++i) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(created[i].time_since_epoch()).count();
    CHECK(actors::first_job_id_at(ms) <= noop[i]);
  }
  CHECK(ids({.created_after = created[1]}) == set{noop[1], noop[2], failed[1], failed[2]});
  CHECK(ids({.created_before = created[1]}) == set{noop[0], failed[0]});
  CHECK(ids({.status = job_status::completed, .created_after = created[1]}) == set{noop[1], noop[2]});
  CHECK(f.eng->list({.created_after = created[0], .limit = 1}).total_count == 6);
  // Purge walks the same way: only the range goes.
  CHECK(f.eng->purge({.status = job_status::failed, .created_before = created[2]}, true).matched == 2);
  CHECK(f.eng->purge({.tool = "noop", .created_after = created[2]}).deleted == 1);
  CHECK(ids({.tool = "noop"}) == set{noop[0], noop[1]});
}

TEST_CASE("after a large purge, listings soon step over none of the deleted jobs", "[engine][list][compaction]") {
  engine_fixture f;
  f.start();
  // Enough jobs for the purge to flush what it deleted (1,000 or more).
  std::vector<std::string> gone;
  for (int i = 0; i < 1200; ++i) gone.push_back(f.eng->submit({.tool = "noop"}));
  for (const auto& id : gone) REQUIRE(f.eng->wait(id, 20s));
  REQUIRE(f.eng->purge({.tool = "noop"}).deleted == gone.size());
  const auto kept = f.eng->submit({.tool = "noop"});
  REQUIRE(f.eng->wait(kept, 20s));
  // A listing of the tool walks its index entries, over the 1,200 deleted
  // ones until a compaction drops them. These jobs' rows were never written
  // to a table, so RocksDB alone never would: the memtable holding their
  // deletions is written out only once it fills up, and then as a table of
  // deletions alone, which is moved down whole. The purge has the
  // compactor's thread do it.
  const auto listing = [&] {
    const auto all = f.eng->list({.tool = "noop"});
    REQUIRE(all.total_count == 1);
    CHECK(all.jobs.at(0).id == kept);
  };
  CHECK(test::eventually([&] { return test::deletions_stepped_over(listing) == 0; }, 30s));
}

TEST_CASE("logs are stored with their levels and filtered", "[engine][logs]") {
  engine_fixture f;
  f.eng->tools().add({.name = "chatty"}, [](job_context& ctx) -> tool_result {
    ctx.log(log_level::debug, "d");
    ctx.log(log_level::info, "i");
    ctx.log(log_level::warning, "w");
    ctx.log(log_level::error, "e");
    return boost::json::object{};
  });
  f.start();
  auto id = f.eng->submit({.tool = "chatty"});
  REQUIRE(f.eng->wait(id, 20s));
  auto page = f.eng->logs(id, log_level::debug, 100, 0);
  REQUIRE(page);
  CHECK(page->total == 5);  // the engine's "attempt started" line comes first
  const auto& all = page->lines;
  REQUIRE(all.size() == 5);
  CHECK(all[0].component == "engine");
  CHECK(all[1].message == "d");
  CHECK(all[1].component == "tool");
  CHECK(all[4].message == "e");
  auto warn = f.eng->logs(id, log_level::warning, 1, 1);
  REQUIRE(warn);
  CHECK(warn->total == 2);
  REQUIRE(warn->lines.size() == 1);
  CHECK(warn->lines[0].message == "e");
}

TEST_CASE("the engine writes attempts, failures and retries into the job's own log", "[engine][logs]") {
  engine_fixture f;
  f.start();
  auto id = f.eng->submit({.tool = "fail", .params = {{"failures", 5}, {"message", "bad input"}},
                           .retry = retry_policy{.max_attempts = 2, .initial_backoff = 10ms}});
  REQUIRE(f.eng->wait(id, 20s)->status == job_status::failed);
  const auto lines = engine_lines(*f.eng, id);
  std::string shown;
  for (auto& l : lines) shown += l + "\n";
  INFO(shown);
  REQUIRE(lines.size() == 5);
  CHECK(lines[0] == "attempt 1 (1 of 2 allowed) started");
  CHECK(lines[1].starts_with("attempt 1 (1 of 2 allowed) failed: "));
  CHECK(lines[1].find("bad input") != std::string::npos);
  CHECK(lines[2].starts_with("retry scheduled at 20"));
  CHECK(lines[2].find("attempt 2)") != std::string::npos);
  CHECK(lines[3] == "attempt 2 (2 of 2 allowed) started");
  CHECK(lines[4].ends_with("; no attempts left"));
  // The same lines reach subscribers as log events of component "engine".
  std::size_t published = 0;
  for (auto& e : f.events.of(id))
    if (e.kind == event_kind::log && e.component == "engine") ++published;
  CHECK(published == lines.size());
  // What the engine says about the ending comes before the ending: a
  // follower that stops at the terminal status has read it. (wait() hears
  // of the ending from the bus, maybe before this subscriber does.)
  REQUIRE(f.events.wait_for(reached(id, job_status::failed)));
  const auto seen = f.events.of(id);
  REQUIRE(seen.size() >= 2);
  CHECK(seen.back().kind == event_kind::transition);
  CHECK(seen.back().to == job_status::failed);
  CHECK(seen[seen.size() - 2].message.ends_with("; no attempts left"));
  // An explicit retry says so.
  REQUIRE(f.eng->retry(id).code == errc::ok);
  REQUIRE(f.eng->wait(id, 20s));
  CHECK(has_line(engine_lines(*f.eng, id), "retried by client"));
}

TEST_CASE("the engine logs a timeout, a cancel and a resume from a checkpoint", "[engine][logs]") {
  gate_tool gate;
  std::atomic<bool> checkpointed{false};
  engine_fixture f;
  f.eng->tools().add(gate_def("gate"), gate.body());
  f.eng->tools().add({.name = "saver"}, [&](job_context& ctx) -> tool_result {
    if (!ctx.last_checkpoint()) {
      ctx.checkpoint("step-1");
      checkpointed = true;
      while (!ctx.stop_requested()) ctx.sleep_for(5ms);
      return stopped();
    }
    return boost::json::object{};
  });
  f.start();
  auto timed = f.eng->submit({.tool = "gate", .timeout = 1s, .retry = retry_policy{.max_attempts = 2}});
  REQUIRE(f.eng->wait(timed, 20s)->status == job_status::timed_out);
  CHECK(has_line(engine_lines(*f.eng, timed), "timed out after 1"));
  CHECK(has_line(engine_lines(*f.eng, timed), "not retried: the retry policy does not retry timeouts"));

  auto cancelled = f.eng->submit({.tool = "gate"});
  REQUIRE(f.events.wait_for(reached(cancelled, job_status::running)));
  REQUIRE(f.eng->cancel(cancelled).code == errc::ok);
  CHECK(has_line(engine_lines(*f.eng, cancelled), "cancelled by client; attempt 1 is told to stop"));
  // On the stream, the engine's line about the cancel comes before it.
  REQUIRE(f.events.wait_for(reached(cancelled, job_status::cancelled)));
  {
    const auto seen = f.events.of(cancelled);
    const auto said = std::find_if(seen.begin(), seen.end(), [](const event& e) {
      return e.kind == event_kind::log && e.message.starts_with("cancelled by client");
    });
    const auto ended = std::find_if(seen.begin(), seen.end(), [](const event& e) {
      return e.kind == event_kind::transition && e.to == job_status::cancelled;
    });
    REQUIRE(said != seen.end());
    REQUIRE(ended != seen.end());
    CHECK(said < ended);
  }
  gate.release = true;

  auto resumed = f.eng->submit({.tool = "saver"});
  // checkpoint() returns once durable.
  REQUIRE(f.events.wait_for([&](auto&) { return checkpointed.load(); }));
  f.close();
  f.open({});
  f.eng->tools().add({.name = "saver"}, [](job_context&) -> tool_result { return boost::json::object{}; });
  f.start();
  REQUIRE(f.eng->wait(resumed, 20s)->status == job_status::completed);
  const auto lines = engine_lines(*f.eng, resumed);
  CHECK(has_line(lines, "attempt 1 was interrupted by an engine restart; it runs again from its last checkpoint"));
  CHECK(has_line(lines, "attempt 2 (1 of 1 allowed) started, resuming from the checkpoint of an earlier attempt"));
}

TEST_CASE("a restarted engine keeps jobs and continues sequence numbers", "[engine][recovery]") {
  engine_fixture f;
  f.start();
  auto id = f.eng->submit({.tool = "noop"});
  REQUIRE(f.eng->wait(id, 20s));
  const auto seq = f.eng->last_seq();
  CHECK(seq >= 3);
  f.close();
  f.open({});
  f.start();
  CHECK(f.eng->get(id)->status == job_status::completed);
  CHECK(f.eng->last_seq() == seq);
  auto next = f.eng->submit({.tool = "noop"});
  REQUIRE(f.events.wait_for(reached(next, job_status::pending)));
  CHECK(f.events.of(next).front().seq == seq + 1);
}

TEST_CASE("an attempt interrupted by a stop does not use up the job's retries", "[engine][recovery]") {
  std::atomic<bool> first_running{false};
  auto flaky = [&](job_context& ctx) -> tool_result {
    if (ctx.attempt() == 1) {  // interrupted by the engine's stop
      first_running = true;
      while (!ctx.stop_requested()) ctx.sleep_for(5ms);
      return stopped();
    }
    if (ctx.attempt() == 2) return failure("a real failure");
    return boost::json::object{{"attempt", ctx.attempt()}};
  };
  engine_fixture f;
  f.eng->tools().add({.name = "flaky"}, flaky);
  f.start();
  auto id = f.eng->submit({.tool = "flaky", .retry = retry_policy{.max_attempts = 2, .initial_backoff = 10ms}});
  REQUIRE(f.events.wait_for([&](auto&) { return first_running.load(); }));
  f.close();  // a clean stop: the job stays running and resumes as interrupted
  f.open({});
  f.eng->tools().add({.name = "flaky"}, flaky);
  f.start();
  auto v = f.eng->wait(id, 20s);
  REQUIRE(v);
  // Attempt 2 failed, and one retry remained because attempt 1 was the
  // engine's interruption, not the job's failure.
  CHECK(v->status == job_status::completed);
  CHECK(v->attempt == 3);
  require_legal_history(f.eng->history(id));
}

TEST_CASE("a stop while many attempts report lets every job actor finish first", "[engine][recovery]") {
  // 64 tools return at once and the engine stops at once: job actors still
  // hold their reports (and write them) after the scheduler has gone. The
  // engine must wait for them before its writer and store go (under
  // ASan, a write into a freed writer is a failure here), and whatever
  // each one managed to store, a restart finishes every job exactly once.
  constexpr int n = 64;
  for (int round = 0; round < 2; ++round) {
    INFO("round " << round);
    gate_tool gate;  // declared first: the engine's threads use it until it stops
    engine_fixture f{{.max_concurrent = n}};
    f.eng->tools().add(gate_def("gate"), gate.body());
    f.start();
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) ids.push_back(f.eng->submit({.tool = "gate"}));
    REQUIRE(f.events.wait_for([&](auto&) { return gate.now.load() == n; }));
    gate.release = true;
    f.close();
    f.open({.max_concurrent = n});
    f.eng->tools().add(gate_def("gate"), gate.body());
    f.start();
    for (const auto& id : ids) {
      auto v = f.eng->wait(id, 20s);
      REQUIRE(v);
      CHECK(v->status == job_status::completed);
      require_legal_history(f.eng->history(id));
    }
  }
}

TEST_CASE("a cancelled tool's last words that come as the engine stops are kept", "[engine][recovery]") {
  // The job's end is reported (cancelled), so the scheduler no longer
  // tracks its actor; the tool returns only as the engine stops. Its report
  // still belongs in the job's log, and the engine waits for it.
  std::atomic<bool> told{false};
  std::atomic<bool> finish{false};
  auto slow_to_stop = [&](job_context& ctx) -> tool_result {
    while (!ctx.sleep_for(1h)) {}  // wakes at once on the stop request
    told = true;
    while (!finish) std::this_thread::yield();
    return stopped("removed the scratch files");
  };
  engine_fixture f;
  f.eng->tools().add({.name = "slow"}, slow_to_stop);
  f.start();
  auto id = f.eng->submit({.tool = "slow"});
  REQUIRE(f.events.wait_for(reached(id, job_status::running)));
  REQUIRE(f.eng->cancel(id).code == errc::ok);
  REQUIRE(f.events.wait_for([&](auto&) { return told.load(); }));
  finish = true;
  f.close();
  f.open({});
  f.start();
  CHECK(f.eng->get(id)->status == job_status::cancelled);
  CHECK(has_line(engine_lines(*f.eng, id), "attempt 1 stopped: removed the scratch files"));
}

TEST_CASE("stats count the job actors alive: admitted jobs, until their ends are durable", "[engine][stats]") {
  gate_tool gate;  // declared first: the engine's threads use it until it stops
  engine_fixture f{{.max_concurrent = 2}};
  f.eng->tools().add(gate_def("gate"), gate.body());
  f.start();
  CHECK(f.eng->stats().job_actors == 0);
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(f.eng->submit({.tool = "gate"}));
  REQUIRE(f.events.wait_for([&](auto&) { return gate.now.load() == 2; }));
  CHECK(f.eng->stats().job_actors == 2);  // the third waits in the queue, without an actor
  gate.release = true;
  for (const auto& id : ids) REQUIRE(f.eng->wait(id, 20s));
  REQUIRE(f.events.wait_for([&](auto&) { return f.eng->stats().job_actors == 0; }));
}

TEST_CASE("stats count the jobs waiting out a backoff, by tool, however long the queue", "[engine][stats]") {
  engine_fixture f{{.max_concurrent = 1}};
  f.eng->tools().add({.name = "flaky"}, [](job_context&) -> tool_result { return failure("not yet"); });
  f.eng->tools().add({.name = "held"}, [](job_context&) -> tool_result { return boost::json::object{}; });
  f.start();
  REQUIRE(f.eng->pause_tool("held").ok());
  for (int i = 0; i < 50; ++i) (void)f.eng->submit({.tool = "held"});  // queued, never retrying
  auto id = f.eng->submit({.tool = "flaky", .retry = retry_policy{.max_attempts = 3, .initial_backoff = 1h, .max_backoff = 1h}});
  REQUIRE(f.events.wait_for(reached(id, job_status::retrying)));
  auto tool_of = [](const engine_stats& s, std::string_view name) {
    for (const auto& t : s.tools)
      if (t.name == name) return t;
    return tool_health{};
  };
  // The event follows the commit; the scheduler hears of the attempt's end
  // in a message the job actor sends after handing the writer its writes,
  // so a stats request sent on the event can overtake it: wait for it.
  engine_stats s;
  REQUIRE(f.events.wait_for([&](auto&) { return (s = f.eng->stats()).waiting == 1; }));
  CHECK(tool_of(s, "flaky").retrying == 1);
  CHECK(tool_of(s, "held").retrying == 0);
  CHECK(tool_of(s, "held").queued == 50);
  CHECK(s.job_actors == 1);  // the retrying job's actor holds its backoff
  REQUIRE(f.eng->cancel(id).code == errc::ok);
  s = f.eng->stats();
  CHECK(s.waiting == 0);
  CHECK(tool_of(s, "flaky").retrying == 0);
}

TEST_CASE("watch_job_changes names each job a commit changed before anybody is told", "[engine][watch]") {
  engine_fixture f;
  f.eng->tools().add({.name = "flaky"}, [](job_context&) -> tool_result { return failure("no"); });
  struct watcher {
    std::mutex m;
    std::multiset<std::string> named;
    int any = 0;
    void operator()(std::span<const std::string_view> ids, bool all) {
      std::lock_guard lock{m};
      for (auto id : ids) named.emplace(id);
      any += all;
    }
    std::size_t count(const std::string& id) {
      std::lock_guard lock{m};
      return named.count(id);
    }
  };
  auto before = std::make_shared<watcher>();  // watching before the start...
  f.eng->watch_job_changes([before](auto ids, bool all) { (*before)(ids, all); });
  f.start();
  auto after = std::make_shared<watcher>();  // ...and after it
  f.eng->watch_job_changes([after](auto ids, bool all) { (*after)(ids, all); });
  // Every event of a job comes after the commit that named it.
  std::atomic<int> told_first{0};
  auto check = f.eng->subscribe(filter::all(), [&](const event& e) {
    if (e.kind == event_kind::transition && before->count(e.job_id) == 0) ++told_first;
  });

  const auto done = f.eng->submit({.tool = "noop"});
  const auto failed = f.eng->submit({.tool = "flaky"});
  REQUIRE(f.eng->wait(done, 20s));
  REQUIRE(f.eng->wait(failed, 20s));
  REQUIRE(f.events.wait_for(reached(failed, job_status::failed)));
  // Created, started and finished: three commits each at most, one at least.
  for (auto* w : {before.get(), after.get()}) {
    CHECK(w->count(done) >= 1);
    CHECK(w->count(failed) >= 1);
  }
  const auto named = after->count(failed);
  REQUIRE(f.eng->retry(failed).code == errc::ok);  // answered after the commit that names it
  CHECK(after->count(failed) > named);
  REQUIRE(f.eng->wait(failed, 20s));

  const auto done_named = after->count(done);
  const auto purged = f.eng->purge({.status = job_status::completed});
  CHECK(purged.deleted == 1);
  CHECK(after->count(done) > done_named);
  CHECK(f.eng->get(done).code() == errc::not_found);
  CHECK(told_first == 0);
  CHECK(after->any == 0);  // every change here names its jobs
}

TEST_CASE("idle workers poll only while fewer jobs wait for a slot than there are slots", "[engine][spin]") {
  SECTION("50 us, the default") {
    engine_fixture f{{.max_concurrent = 2}};
    f.eng->tools().add({.name = "held"}, [](job_context&) -> tool_result { return boost::json::object{}; });
    f.start();
    CHECK(f.eng->stats().idle_polling);
    REQUIRE(f.eng->pause_tool("held").ok());
    std::vector<std::string> ids;
    for (int i = 0; i < 2; ++i) ids.push_back(f.eng->submit({.tool = "held"}));
    CHECK(f.eng->stats().pending == 2);
    // Two waiting, two slots: closed once the scheduler has dispatched.
    CHECK(overseer::test::eventually([&] { return !f.eng->stats().idle_polling; }));
    REQUIRE(f.eng->resume_tool("held").ok());
    for (const auto& id : ids) REQUIRE(f.eng->wait(id, 20s));
    CHECK(overseer::test::eventually([&] { return f.eng->stats().idle_polling; }));
  }
  SECTION("0: never") {
    engine_fixture f{{.idle_spin = 0us}};
    f.start();
    CHECK_FALSE(f.eng->stats().idle_polling);
  }
}
