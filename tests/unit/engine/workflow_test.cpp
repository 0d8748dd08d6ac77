// Batches, dependencies, delayed jobs, the result cache, idempotency and
// retention, on a real engine and store.
#include <atomic>
#include <set>
#include <thread>

#include <catch2/catch.hpp>

#include <future>

#include "persistence/group_commit.hpp"
#include "persistence/key_layout.hpp"
#include "persistence/store.hpp"
#include "support/engine_fixture.hpp"

using namespace std::chrono_literals;
using namespace overseer;
using overseer::test::engine_fixture;
using overseer::test::reached;

namespace {

/// Blocks until released or stopped; counts how many run at once and
/// records the order they started in (by their "tag" param).
struct gate_tool {
  std::atomic<int> now{0};
  std::atomic<int> peak{0};
  std::atomic<bool> release{false};
  std::mutex m;
  std::vector<std::string> started;

  tool_function body() {
    return [this](job_context& ctx) -> tool_result {
      const int n = ++now;
      for (int p = peak; n > p && !peak.compare_exchange_weak(p, n);) {}
      {
        std::lock_guard lock{m};
        started.push_back(ctx.params().contains("tag") ? std::string{ctx.params().at("tag").as_string()} : "");
      }
      while (!release && !ctx.stop_requested()) ctx.sleep_for(5ms);
      --now;
      if (ctx.params().contains("fail")) return failure("asked to fail");
      return ctx.stop_requested() ? stopped() : tool_result{boost::json::object{{"ok", true}}};
    };
  }
};

tool_definition gate_def() {
  tool_definition d;
  d.name = "gate";
  d.params = boost::json::object{{"tag", boost::json::object{{"type", "string"}}},
                                 {"fail", boost::json::object{{"type", "boolean"}}}};
  return d;
}

job_spec gate(std::string tag) { return {.tool = "gate", .params = {{"tag", tag}}}; }

}  // namespace

TEST_CASE("a batch never runs more than its parallel limit, in list order", "[workflow][batch]") {
  gate_tool g;
  engine_fixture f{{.max_concurrent = 4}};
  f.eng->tools().add(gate_def(), g.body());
  f.start();
  batch_spec b{.name = "six", .parallel_limit = 2};
  for (int i = 0; i < 6; ++i) b.jobs.push_back(gate("j" + std::to_string(i)));
  auto r = f.eng->submit_batch(b);
  REQUIRE(r.code == errc::ok);
  REQUIRE(r.job_ids.size() == 6);
  // Two running transitions are durable (the tools may start a moment before).
  REQUIRE(f.events.wait_for(reached(r.job_ids[0], job_status::running)));
  REQUIRE(f.events.wait_for(reached(r.job_ids[1], job_status::running)));
  auto view = f.eng->get_batch(r.batch_id);
  REQUIRE(view);
  CHECK(view->status == "running");
  CHECK(view->counts.at("running") == 2);
  CHECK(view->counts.at("pending") == 4);
  // The transitions can be durable before the pool threads enter the tools:
  // release only once both bodies run, so the peak is really reached.
  REQUIRE(f.events.wait_for([&](auto&) { return g.now == 2; }));
  g.release = true;
  for (auto& id : r.job_ids) CHECK(f.eng->wait(id, 20s)->status == job_status::completed);
  CHECK(g.peak == 2);  // reached, never exceeded
  // They started (by the scheduler's durable record) in list order.
  REQUIRE(f.events.wait_for(reached(r.job_ids.back(), job_status::completed)));
  std::vector<std::string> order;
  for (const auto& e : f.events.snapshot())
    if (e.kind == event_kind::transition && e.to == job_status::running) order.push_back(e.job_id);
  CHECK(order == r.job_ids);
  CHECK(f.eng->get_batch(r.batch_id)->status == "completed");
  CHECK(f.eng->cancel_batch(r.batch_id).code == errc::conflict);
  CHECK(f.eng->list({.batch_id = r.batch_id}).total_count == 6);
}

TEST_CASE("fail-fast cancels the rest of the batch, running jobs too", "[workflow][batch]") {
  gate_tool g;
  engine_fixture f{{.max_concurrent = 4}};
  f.eng->tools().add(gate_def(), g.body());
  f.start();
  batch_spec b{.parallel_limit = 2, .fail_fast = true};
  b.jobs.push_back({.tool = "fail", .params = {{"failures", 5}}});
  for (int i = 0; i < 4; ++i) b.jobs.push_back(gate("g" + std::to_string(i)));
  auto r = f.eng->submit_batch(b);
  REQUIRE(r.code == errc::ok);
  for (auto& id : r.job_ids) REQUIRE(f.eng->wait(id, 20s));
  auto view = f.eng->get_batch(r.batch_id);
  CHECK(view->status == "failed");
  CHECK(view->counts.at("failed") == 1);
  CHECK(view->counts.at("cancelled") == 4);
  CHECK(f.eng->get(r.job_ids[1])->attempt <= 1);
}

TEST_CASE("cancelling a batch cancels every unfinished job", "[workflow][batch]") {
  gate_tool g;
  engine_fixture f{{.max_concurrent = 2}};
  f.eng->tools().add(gate_def(), g.body());
  f.start();
  batch_spec b{.parallel_limit = 1};
  for (int i = 0; i < 3; ++i) b.jobs.push_back(gate("c" + std::to_string(i)));
  auto r = f.eng->submit_batch(b);
  REQUIRE(f.events.wait_for(reached(r.job_ids[0], job_status::running)));
  CHECK(f.eng->cancel_batch(r.batch_id).code == errc::ok);
  for (auto& id : r.job_ids) CHECK(f.eng->wait(id, 20s)->status == job_status::cancelled);
  CHECK(f.eng->get_batch(r.batch_id)->status == "cancelled");
  CHECK(f.eng->cancel_batch("batch_00000000000000000000000000").code == errc::not_found);
}

TEST_CASE("a batch with one bad job is refused whole, naming the job", "[workflow][batch]") {
  engine_fixture f;
  f.start();
  auto r = f.eng->submit_batch({.jobs = {{.tool = "noop"}, {.tool = "noop", .priority = 11}}});
  CHECK(r.code == errc::invalid_spec);
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].field == "jobs[1].priority");
  CHECK(f.eng->list({}).total_count == 0);
}

TEST_CASE("a three-deep dependency chain runs in order", "[workflow][deps]") {
  gate_tool g;
  engine_fixture f{{.max_concurrent = 4}};
  f.eng->tools().add(gate_def(), g.body());
  f.start();
  auto a = f.eng->submit(gate("a"));
  auto b = f.eng->submit({.tool = "gate", .params = {{"tag", "b"}}, .depends_on = {a}});
  auto c = f.eng->submit({.tool = "gate", .params = {{"tag", "c"}}, .depends_on = {b}});
  REQUIRE(f.events.wait_for(reached(a, job_status::running)));
  auto vc = f.eng->get(c);
  CHECK(vc->status == job_status::pending);
  CHECK(vc->waiting_on == std::vector<std::string>{b});
  g.release = true;
  CHECK(f.eng->wait(c, 20s)->status == job_status::completed);
  std::lock_guard lock{g.m};
  CHECK(g.started == std::vector<std::string>{"a", "b", "c"});
}

TEST_CASE("when the head of a chain fails, every job down the chain fails naming it", "[workflow][deps]") {
  engine_fixture f;
  f.start();
  auto a = f.eng->submit({.tool = "fail", .params = {{"failures", 3}}});
  auto b = f.eng->submit({.tool = "noop", .depends_on = {a}});
  auto c = f.eng->submit({.tool = "noop", .depends_on = {b}});
  auto vb = f.eng->wait(b, 20s);
  auto vc = f.eng->wait(c, 20s);
  REQUIRE(vb);
  REQUIRE(vc);
  CHECK(vb->status == job_status::failed);
  CHECK(vb->error.find(a) != std::string::npos);
  CHECK(vc->status == job_status::failed);
  CHECK(vc->error.find(b) != std::string::npos);
  CHECK(vb->attempt == 0);  // never ran
  // A dependency that already finished badly fails the job at once.
  auto d = f.eng->submit({.tool = "noop", .depends_on = {a}});
  CHECK(f.eng->wait(d, 20s)->status == job_status::failed);
  // Unknown dependencies are refused at submit.
  auto r = f.eng->try_submit({.tool = "noop", .depends_on = {"job_00000000000000000000000000"}});
  CHECK(r.code == errc::invalid_spec);
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].field == "depends_on[0]");
}

TEST_CASE("a delayed job does not start early, and a restart honours its time", "[workflow][delay]") {
  engine_fixture f;
  f.start();
  auto quick = f.eng->submit({.tool = "noop", .delay = 300ms});
  // Long enough for a close and an open (RocksDB's, under ASan, on a disk
  // that may stall) to fit before it is due.
  auto later = f.eng->submit({.tool = "noop", .delay = 3000ms});
  auto v = f.eng->wait(quick, 20s);
  REQUIRE(v);
  CHECK(*v->started_at - v->created_at >= 300ms);
  REQUIRE(v->run_at);
  f.close();  // `later` is still waiting for its time
  f.open({});
  f.start();
  CHECK(f.eng->get(later)->status == job_status::pending);
  auto lv = f.eng->wait(later, 20s);
  REQUIRE(lv);
  CHECK(lv->status == job_status::completed);
  CHECK(*lv->started_at - lv->created_at >= 3000ms);
}

TEST_CASE("the result cache answers equal params in any order, and expires", "[workflow][cache]") {
  engine_fixture f{{.cache_ttl = 2s}};
  f.start();
  auto first = f.eng->submit({.tool = "sleep", .params = {{"seconds", 0.1}, {"steps", 2}}, .use_cache = true});
  REQUIRE(f.eng->wait(first, 20s)->status == job_status::completed);
  // Same params, other key order and number spelling: a hit, created completed.
  auto hit = f.eng->try_submit({.tool = "sleep", .params = {{"steps", 2.0}, {"seconds", 0.1}}, .use_cache = true});
  REQUIRE(hit.code == errc::ok);
  CHECK(hit.status == job_status::completed);
  auto hv = f.eng->get(hit.job_id);
  CHECK(hv->status == job_status::completed);
  REQUIRE(hv->cache_info);
  CHECK(hv->cache_info->source_job_id == first);
  CHECK(hv->result->at("steps").as_int64() == 2);
  auto h = f.eng->history(hit.job_id);
  REQUIRE(h.size() == 1);
  CHECK(h[0].reason == "cache hit");
  // Other params: a miss that runs.
  auto miss = f.eng->submit({.tool = "sleep", .params = {{"seconds", 0.2}}, .use_cache = true});
  CHECK(f.eng->wait(miss, 20s)->attempt == 1);
  auto stats = f.eng->cache_statistics();
  CHECK(stats.total_cached_results == 2);
  CHECK(stats.hits == 1);
  CHECK(stats.hit_rate_percent > 0);
  // Past the TTL (wall-clock time) the entry no longer answers.
  REQUIRE(f.events.wait_for([&](auto&) { return f.eng->cache_statistics().total_cached_results < 2; }, 10s));
  auto stale = f.eng->try_submit({.tool = "sleep", .params = {{"seconds", 0.1}, {"steps", 2}}, .use_cache = true});
  CHECK(stale.status == job_status::pending);
  CHECK(f.eng->wait(stale.job_id, 20s)->attempt == 1);
}

TEST_CASE("clearing the cache by tool and label removes only matching entries", "[workflow][cache]") {
  engine_fixture f;
  f.start();
  auto a = f.eng->submit({.tool = "noop", .labels = {{"team", "x"}}, .use_cache = true});
  auto b = f.eng->submit({.tool = "sleep", .params = {{"seconds", 0}}, .labels = {{"team", "y"}}, .use_cache = true});
  REQUIRE(f.eng->wait(a, 20s));
  REQUIRE(f.eng->wait(b, 20s));
  CHECK(f.eng->cache_statistics().total_cached_results == 2);
  CHECK(f.eng->clear_cache({.tool = "noop", .labels = {{"team", "y"}}}).value() == 0);
  CHECK(f.eng->clear_cache({.labels = {{"team", "y"}}}).value() == 1);
  CHECK(f.eng->cache_statistics().total_cached_results == 1);
  CHECK(f.eng->clear_cache({}).value() == 1);
  CHECK(f.eng->get(a)->status == job_status::completed);  // the jobs stay
}

TEST_CASE("an idempotency key returns the same job for the same spec and conflicts otherwise", "[workflow][idempotency]") {
  engine_fixture f;
  f.start();
  auto r1 = f.eng->try_submit({.tool = "noop", .idempotency_key = "k1"});
  REQUIRE(r1.code == errc::ok);
  CHECK_FALSE(r1.existing);
  auto r2 = f.eng->try_submit({.tool = "noop", .idempotency_key = "k1"});
  CHECK(r2.code == errc::ok);
  CHECK(r2.existing);
  CHECK(r2.job_id == r1.job_id);
  auto r3 = f.eng->try_submit({.tool = "noop", .priority = 9, .idempotency_key = "k1"});
  CHECK(r3.code == errc::conflict);
  // Spelling out a default is the same request.
  auto d1 = f.eng->try_submit({.tool = "sleep", .params = {{"seconds", 0}}, .idempotency_key = "k3"});
  auto d2 = f.eng->try_submit({.tool = "sleep", .params = {{"seconds", 0}, {"steps", 4}}, .idempotency_key = "k3"});
  CHECK(d2.existing);
  CHECK(d2.job_id == d1.job_id);
  // Concurrent repeats: exactly one job.
  std::vector<std::thread> threads;
  std::mutex m;
  std::set<std::string> ids;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&] {
      auto r = f.eng->try_submit({.tool = "noop", .idempotency_key = "k2"});
      std::lock_guard lock{m};
      if (r.code == errc::ok) ids.insert(r.job_id);
    });
  for (auto& t : threads) t.join();
  CHECK(ids.size() == 1);
  CHECK(f.eng->list({}).total_count == 3);
}

TEST_CASE("retention deletes every row of an expired job and nothing else", "[workflow][retention]") {
  engine_fixture f;
  f.start();
  auto old_job = f.eng->submit({.tool = "fasta_stats", .params = {{"path", "/nonexistent"}}, .use_cache = true});
  auto keep = f.eng->submit({.tool = "noop"});
  auto cached = f.eng->submit({.tool = "noop", .use_cache = true});
  REQUIRE(f.eng->wait(old_job, 20s));
  REQUIRE(f.eng->wait(keep, 20s));
  REQUIRE(f.eng->wait(cached, 20s));
  CHECK(f.eng->run_retention() == 0);  // nothing is old yet
  f.close();
  {
    // Age two of the jobs by two days, as if time had passed.
    persistence::store db{{f.dir.path() / "data"}};
    for (auto id : {old_job, cached}) {
      auto rec = db.get_job(id);
      REQUIRE(rec);
      rec->completed_at = *rec->completed_at - std::chrono::hours(48);
      persistence::group_commit w{db, [](std::vector<event>&&) {}};
      std::promise<bool> p;
      persistence::job_write jw;
      jw.record.emplace(*rec);
      jw.previous_status = rec->status;
      w.write({std::move(jw)}, [&](bool ok) { p.set_value(ok); });
      REQUIRE(p.get_future().get());
    }
  }
  f.open({});
  f.start();
  CHECK(f.eng->run_retention() == 2);
  for (auto id : {old_job, cached}) {
    INFO(id);
    CHECK(f.eng->get(id).code() == errc::not_found);
    CHECK(f.eng->history(id).empty());
    // not_found only when no log line of the job is left either.
    CHECK(f.eng->logs(id, log_level::debug, 10, 0).code() == errc::not_found);
  }
  CHECK(f.eng->cache_statistics().total_cached_results == 0);  // the entry it was the source of
  CHECK(f.eng->get(keep)->status == job_status::completed);
  CHECK(f.eng->history(keep).size() == 3);
  auto all = f.eng->list({});
  CHECK(all.total_count == 1);
  CHECK(f.eng->list({.status = job_status::failed}).total_count == 0);
  CHECK(f.eng->list({.tool = "noop"}).total_count == 1);
}

TEST_CASE("check names every error of a job or a batch and submits nothing", "[engine][validation]") {
  engine_fixture f;
  f.start();
  auto errors = f.eng->check(job_spec{.tool = "sleep", .params = {{"seconds", -1}}, .priority = 11});
  REQUIRE(errors.size() == 2);
  CHECK(errors[0].field == "params.seconds");
  CHECK(errors[1].field == "priority");
  batch_spec b;
  b.jobs.push_back({.tool = "sleep", .params = {{"seconds", -2}}});
  b.jobs.push_back({.tool = "noop"});
  b.jobs.push_back({.tool = "slep"});
  errors = f.eng->check(b);
  REQUIRE(errors.size() == 2);
  CHECK(errors[0].field == "jobs[0].params.seconds");
  CHECK(errors[1].field == "jobs[2].tool");
  CHECK(errors[1].message.find("did you mean \"sleep\"") != std::string::npos);
  CHECK(f.eng->check(job_spec{.tool = "noop"}).empty());
  CHECK(f.eng->list({}).total_count == 0);
}
