// Job actors under supervision: a job actor that dies from a defect of the
// engine (not a tool's failure) is restarted by the scheduler from the job's
// last durable snapshot, and a job whose actor keeps dying is failed rather
// than restarted forever. The fault is injected through the scheduler's
// crash_job_actor message: the job actor throws from inside a handler.
#include <algorithm>
#include <atomic>
#include <mutex>

#include <catch2/catch.hpp>

#include "actors/messages.hpp"
#include "actors/scheduler.hpp"
#include "support/engine_fixture.hpp"
#include "support/eventually.hpp"

using namespace std::chrono_literals;
using namespace overseer;
using test::engine_lines;
using test::has_line;

namespace {

void crash_actor_of(engine& eng, const std::string& id) {
  caf::anon_send(caf::actor_cast<actors::scheduler_actor>(eng.scheduler()), actors::crash_job_actor{id});
}

/// A tool that saves a checkpoint on its first attempt, then waits to be
/// stopped; later attempts return what they resumed from.
struct resumable {
  std::atomic<int> attempts{0};
  std::atomic<bool> checkpointed{false};
  tool_definition def() const { return {.name = "resumable"}; }
  tool_function body() {
    return [this](job_context& ctx) -> tool_result {
      ++attempts;
      if (auto from = ctx.last_checkpoint()) return boost::json::object{{"resumed_from", *from}};
      ctx.checkpoint("half-way");
      checkpointed = true;
      ctx.sleep_for(1h);  // wakes at once on the stop request
      return stopped();
    };
  }
};

}  // namespace

TEST_CASE("a job actor that dies is restarted from the job's last durable snapshot",
          "[job_actor][supervision]") {
  resumable tool;
  std::mutex mutex;
  std::vector<std::string> diagnostics;
  engine_config cfg{.max_concurrent = 2};
  cfg.log = [&](const log_record& r) {
    std::lock_guard lock{mutex};
    diagnostics.emplace_back(std::string{r.component} + ": " + std::string{r.message});
  };
  test::engine_fixture f{cfg};
  f.eng->tools().add(tool.def(), tool.body());
  f.start();
  const auto id = f.eng->submit({.tool = "resumable", .retry = retry_policy{.max_attempts = 1}});
  REQUIRE(f.events.wait_for([&](auto&) { return tool.checkpointed.load(); }));

  crash_actor_of(*f.eng, id);

  // The new actor resumes the job from its checkpoint, in a new attempt
  // that does not use up the job's only allowed attempt.
  auto v = f.eng->wait(id, 20s);
  REQUIRE(v);
  CHECK(v->status == job_status::completed);
  REQUIRE(v->result);
  CHECK(v->result->at("resumed_from") == "half-way");
  CHECK(v->attempt == 2);
  CHECK(tool.attempts == 2);
  const auto lines = engine_lines(*f.eng, id);
  CHECK(has_line(lines, "attempt 1 was interrupted: the engine's job actor failed"));
  CHECK(has_line(lines, "it runs again from its last checkpoint, without using up a retry"));
  CHECK(has_line(lines, "attempt 2 (1 of 1 allowed) started, resuming from the checkpoint"));
  {
    std::lock_guard lock{mutex};
    CHECK(std::any_of(diagnostics.begin(), diagnostics.end(), [](auto& d) {
      return d.starts_with("scheduler: a job actor died unexpectedly");
    }));
  }
  // The interrupted attempt's slot came back: other jobs still run.
  CHECK(f.eng->wait(f.eng->submit({.tool = "noop"}), 20s)->status == job_status::completed);
  CHECK(f.eng->stats().running == 0);
}

TEST_CASE("a job actor that dies during a backoff is restarted still waiting for it", "[job_actor][supervision]") {
  std::atomic<int> deaths{0};
  engine_config cfg;
  cfg.log = [&](const log_record& r) {
    if (std::string_view{r.message}.starts_with("a job actor died unexpectedly")) ++deaths;
  };
  test::engine_fixture f{cfg};
  f.start();
  // The backoff is drawn with full jitter: use a job whose drawn delay
  // leaves time for the fault to land inside it.
  std::string id;
  for (int tries = 0; tries < 20 && id.empty(); ++tries) {
    auto candidate = f.eng->submit(
      {.tool = "fail",
       .params = {{"failures", 1}},
       .retry = retry_policy{.max_attempts = 3, .initial_backoff = 1500ms, .max_backoff = 1500ms, .multiplier = 1}});
    REQUIRE(f.events.wait_for(test::reached(candidate, job_status::retrying)));
    auto v = f.eng->get(candidate);
    REQUIRE(v);
    if (v->status == job_status::retrying && v->next_attempt_at && *v->next_attempt_at > clock::now() + 300ms)
      id = candidate;
  }
  REQUIRE_FALSE(id.empty());
  crash_actor_of(*f.eng, id);
  auto v = f.eng->wait(id, 20s);
  REQUIRE(v);
  CHECK(v->status == job_status::completed);
  CHECK(v->attempt == 2);  // the backoff was waited out once: no attempt was lost or added
  CHECK(deaths == 1);
}

TEST_CASE("a job whose actor keeps dying is failed, not restarted forever", "[job_actor][supervision]") {
  resumable tool;
  test::engine_fixture f;
  f.eng->tools().add(tool.def(), tool.body());
  f.eng->tools().add({.name = "forever"}, [](job_context& ctx) -> tool_result {
    ctx.sleep_for(1h);  // wakes at once on the stop request
    return stopped();
  });
  f.start();
  const auto id = f.eng->submit({.tool = "forever"});
  for (int round = 1; round <= actors::max_job_actor_restarts + 1; ++round) {
    // Wait for the attempt of this round to run, then kill its actor.
    REQUIRE(f.events.wait_for([&](const std::vector<event>& es) {
      return std::count_if(es.begin(), es.end(), [&](auto& e) {
               return e.job_id == id && e.kind == event_kind::transition && e.to == job_status::running;
             }) >= round;
    }));
    crash_actor_of(*f.eng, id);
  }
  auto v = f.eng->wait(id, 20s);
  REQUIRE(v);
  CHECK(v->status == job_status::failed);
  CHECK(v->error.find("its actor failed 4 times") != std::string::npos);
  CHECK(has_line(engine_lines(*f.eng, id), "the engine could not supervise this job"));
}

TEST_CASE("a cancel reaches a running job through its actor and stops the tool", "[job_actor][cancel]") {
  std::atomic<bool> started{false}, stopped_seen{false};
  test::engine_fixture f;
  f.eng->tools().add({.name = "block"}, [&](job_context& ctx) -> tool_result {
    started = true;
    ctx.sleep_for(1h);  // wakes at once on the stop request
    stopped_seen = true;
    return stopped();
  });
  f.start();
  const auto id = f.eng->submit({.tool = "block"});
  REQUIRE(f.events.wait_for([&](auto&) { return started.load(); }));
  auto r = f.eng->cancel(id, "test");
  REQUIRE(r.code == errc::ok);
  REQUIRE(r.view);
  CHECK(r.view->status == job_status::cancelled);
  CHECK(f.eng->get(id)->status == job_status::cancelled);  // durable before the answer
  REQUIRE(f.events.wait_for([&](auto&) { return stopped_seen.load(); }));
  CHECK(f.eng->cancel(id).code == errc::conflict);
}

TEST_CASE("pause_tool holds a tool's queued jobs with its reason until resume_tool", "[engine][supervision]") {
  test::engine_fixture f;
  f.start();
  REQUIRE(f.eng->pause_tool("noop", "operator"));
  const auto unknown = f.eng->pause_tool("no_such_tool");
  CHECK(unknown.code() == errc::not_found);
  CHECK(unknown.message() == "no tool no_such_tool");
  const auto id = f.eng->submit({.tool = "noop"});
  CHECK(f.eng->wait(id, 300ms).code() == errc::timeout);
  tool_health h;
  for (auto& t : f.eng->stats().tools)
    if (t.name == "noop") h = t;
  CHECK(h.paused);
  CHECK(h.paused_reason == "paused by operator");
  REQUIRE(h.paused_since);
  CHECK(*h.paused_since <= clock::now());
  CHECK(*h.paused_since > clock::now() - 60s);
  CHECK(h.queued == 1);
  REQUIRE(f.eng->resume_tool("noop"));
  CHECK(f.eng->wait(id, 20s)->status == job_status::completed);
}

namespace {

std::optional<tool_health> health_of(engine& eng, std::string_view tool) {
  for (auto& t : eng.stats().tools)
    if (t.name == tool) return t;
  return std::nullopt;
}

/// `t` to the millisecond, as the store keeps a pause's time.
time_point to_ms(time_point t) { return std::chrono::time_point_cast<std::chrono::milliseconds>(t); }

}  // namespace

TEST_CASE("a pause outlives a restart with its reason and time, until resume_tool", "[engine][supervision][recovery]") {
  test::engine_fixture f;
  f.start();
  REQUIRE(f.eng->pause_tool("noop", "operator"));
  REQUIRE(f.eng->pause_tool("noop", "someone else"));  // already paused: unchanged
  const auto before = health_of(*f.eng, "noop");
  REQUIRE(before);
  REQUIRE(before->paused_since);
  CHECK(before->paused_reason == "paused by operator");
  const auto id = f.eng->submit({.tool = "noop"});
  f.close();
  f.open({});
  f.start();
  const auto after = health_of(*f.eng, "noop");
  REQUIRE(after);
  CHECK(after->paused);
  CHECK(after->paused_reason == "paused by operator");
  REQUIRE(after->paused_since);
  CHECK(*after->paused_since == to_ms(*before->paused_since));
  CHECK(after->queued == 1);
  CHECK(f.eng->wait(id, 300ms).code() == errc::timeout);
  CHECK_FALSE(health_of(*f.eng, "sleep")->paused);
  REQUIRE(f.eng->resume_tool("noop"));
  CHECK(f.eng->wait(id, 20s)->status == job_status::completed);
  f.close();
  f.open({});
  f.start();
  CHECK_FALSE(health_of(*f.eng, "noop")->paused);
  CHECK(f.eng->wait(f.eng->submit({.tool = "noop"}), 20s)->status == job_status::completed);
}

TEST_CASE("an operator's reason for a pause is kept after who paused and outlives a restart",
          "[engine][supervision][recovery]") {
  test::engine_fixture f;
  f.start();
  REQUIRE(f.eng->pause_tool("noop", "alice", "the reference data is being rebuilt"));
  REQUIRE(f.eng->pause_tool("noop", "bob", "another reason"));  // already paused: the first reason stays
  CHECK(health_of(*f.eng, "noop")->paused_reason == "paused by alice: the reference data is being rebuilt");
  f.close();
  f.open({});
  f.start();
  CHECK(health_of(*f.eng, "noop")->paused_reason == "paused by alice: the reference data is being rebuilt");
}

TEST_CASE("a stored pause of a tool no longer registered can still be resumed", "[engine][supervision][recovery]") {
  const auto works = [](job_context&) -> tool_result { return boost::json::object{}; };
  test::engine_fixture f;
  f.eng->tools().add({.name = "retired"}, works);
  f.start();
  REQUIRE(f.eng->pause_tool("retired", "operator"));
  f.close();
  f.open({});  // the tool is gone from this start's registry; its pause is still stored
  f.start();
  // Listed, marked as not registered, so that an operator sees it.
  const auto stored = health_of(*f.eng, "retired");
  REQUIRE(stored);
  CHECK_FALSE(stored->registered);
  CHECK(stored->paused);
  CHECK(stored->paused_reason == "paused by operator");
  CHECK(stored->paused_since);
  CHECK(health_of(*f.eng, "noop")->registered);
  CHECK(f.eng->pause_tool("retired").code() == errc::not_found);  // no new pause of an unknown tool
  REQUIRE(f.eng->resume_tool("retired"));                          // but the stored one can be lifted
  CHECK_FALSE(health_of(*f.eng, "retired"));
  CHECK(f.eng->resume_tool("retired").code() == errc::not_found);  // and then it is gone
  f.close();
  f.open({});
  f.eng->tools().add({.name = "retired"}, works);  // back again: not paused
  f.start();
  CHECK_FALSE(health_of(*f.eng, "retired")->paused);
  CHECK(f.eng->wait(f.eng->submit({.tool = "retired"}), 20s)->status == job_status::completed);
}

TEST_CASE("a pause by restart intensity outlives a restart too", "[engine][supervision][recovery]") {
  const tool_definition strict{.name = "strict",
                               .supervision = supervision_strategy{.max_failures = 1,
                                                                   .window = 60s,
                                                                   .counts = {.crashes = true, .timeouts = true,
                                                                              .failures = true}}};
  const auto fails = [](job_context&) -> tool_result { return failure("bad input"); };
  test::engine_fixture f{{.max_concurrent = 1}};
  f.eng->tools().add(strict, fails);
  f.start();
  for (int i = 0; i < 2; ++i) REQUIRE(f.eng->wait(f.eng->submit({.tool = "strict"}), 20s)->status == job_status::failed);
  REQUIRE(overseer::test::eventually([&] { return health_of(*f.eng, "strict")->paused; }));
  const auto reason = health_of(*f.eng, "strict")->paused_reason;
  CHECK(reason == "more than 1 failed, crashed or timed-out attempts within 60000 ms");
  f.close();
  f.open({});
  f.eng->tools().add(strict, fails);
  f.start();
  const auto after = health_of(*f.eng, "strict");
  CHECK(after->paused);
  CHECK(after->paused_reason == reason);
  const auto id = f.eng->submit({.tool = "strict"});
  CHECK(f.eng->wait(id, 300ms).code() == errc::timeout);
  REQUIRE(f.eng->resume_tool("strict"));
  CHECK(f.eng->wait(id, 20s)->status == job_status::failed);
}

TEST_CASE("a job stopped with the engine stays running for the next start, whatever its tool reports last",
          "[job_actor][recovery]") {
  // The tool keeps the writer busy with progress and checkpoints, so that
  // writes of its job are in flight when the engine stops; its stopped
  // result must still not become the attempt's end.
  test::engine_fixture f;
  std::atomic<bool> busy{false};
  auto chatty = [&](job_context& ctx) -> tool_result {
    for (int i = 0; !ctx.stop_requested(); ++i) {
      ctx.progress({.percent = static_cast<double>(i % 100)});
      if (i % 10 == 0) ctx.checkpoint(std::to_string(i));
      busy = true;
    }
    return stopped();
  };
  f.eng->tools().add({.name = "chatty"}, chatty);
  f.start();
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(f.eng->submit({.tool = "chatty"}));
  REQUIRE(f.events.wait_for([&](auto&) { return busy.load(); }));
  f.close();
  f.open({});
  f.eng->tools().add({.name = "chatty"}, [](job_context&) -> tool_result { return boost::json::object{}; });
  f.start();
  for (const auto& id : ids) {
    auto v = f.eng->wait(id, 20s);
    REQUIRE(v);
    CHECK(v->status == job_status::completed);
    const auto lines = engine_lines(*f.eng, id);
    if (v->attempt > 1) CHECK(has_line(lines, "was interrupted by an engine restart"));
    CHECK_FALSE(has_line(lines, "tool stopped without a stop request"));
  }
}

TEST_CASE("a tool's own supervision strategy pauses it by its own rule, others keep the engine's",
          "[job_actor][supervision]") {
  test::engine_fixture f{{.max_concurrent = 1, .max_failures = 100, .failure_window = 60s}};
  // Counts the failures it returns, and pauses after more than one.
  f.eng->tools().add({.name = "strict",
                      .supervision = supervision_strategy{.max_failures = 1,
                                                          .window = 60s,
                                                          .counts = {.crashes = true, .timeouts = true, .failures = true}}},
                     [](job_context&) -> tool_result { return failure("bad input"); });
  f.start();
  for (int i = 0; i < 2; ++i) REQUIRE(f.eng->wait(f.eng->submit({.tool = "strict"}), 20s)->status == job_status::failed);
  for (int i = 0; i < 2; ++i)
    REQUIRE(f.eng->wait(f.eng->submit({.tool = "fail", .params = {{"failures", 5}}}), 20s)->status ==
            job_status::failed);
  tool_health strict, builtin;
  auto read = [&] {
    for (auto& t : f.eng->stats().tools) {
      if (t.name == "strict") strict = t;
      if (t.name == "fail") builtin = t;
    }
    return strict.paused;
  };
  // The scheduler hears of the last end after it is published: wait for it.
  CHECK(overseer::test::eventually(read));
  CHECK(strict.paused_reason == "more than 1 failed, crashed or timed-out attempts within 60000 ms");
  CHECK_FALSE(builtin.paused);
}
