// The outbox on an embedded engine: rows written with the job and its
// events, read by engine::deliveries, deleted with the job by retention.
#include <future>

#include <catch2/catch.hpp>
#include <rocksdb/db.h>

#include "overseer/engine.hpp"
#include "persistence/group_commit.hpp"
#include "persistence/store.hpp"
#include "support/engine_fixture.hpp"
#include "webhooks/outbox.hpp"

using namespace overseer;
using namespace overseer::test;
using namespace std::chrono_literals;

namespace {

/// Every key of the webhooks family that belongs to `job_id`.
std::vector<std::string> rows_of(persistence::store& db, const std::string& job_id) {
  std::vector<std::string> out;
  std::unique_ptr<rocksdb::Iterator> it{db.db().NewIterator({}, db.handle(persistence::family::webhooks))};
  for (it->SeekToFirst(); it->Valid(); it->Next())
    if (it->key().ToString().find(job_id) != std::string::npos) out.push_back(it->key().ToString());
  return out;
}

engine_config unreachable_receiver() {
  engine_config c;
  c.webhooks.allow = {"127.0.0.1"};
  c.webhooks.initial_backoff = 1h;  // one refused attempt, then a long wait
  c.webhooks.max_backoff = 1h;
  return c;
}

}  // namespace

TEST_CASE("a job's notify row and its events' outbox rows are written with them, and retention deletes them",
          "[webhooks][retention]") {
  engine_fixture f{unreachable_receiver()};
  f.start();
  // Port 1 on loopback: refused at once.
  const notify_spec to{"http://127.0.0.1:1/hook", {true, false, true}};
  auto id = f.eng->submit({.tool = "noop", .notify = to});
  auto plain = f.eng->submit({.tool = "noop"});
  auto batch = f.eng->submit_batch({.jobs = {{.tool = "noop", .notify = to}, {.tool = "noop"}}});
  REQUIRE(batch.code == errc::ok);
  for (const auto& j : {id, plain, batch.job_ids[0], batch.job_ids[1]}) REQUIRE(f.eng->wait(j, 20s));
  // transitions and the engine's log lines, each a pending delivery
  auto ds = f.eng->deliveries(id);
  REQUIRE(ds);
  REQUIRE(ds->size() >= 4);
  std::uint64_t last = 0;
  for (const auto& d : *ds) {
    CHECK(d.seq > last);
    last = d.seq;
    CHECK(d.status == "pending");
    CHECK(d.url == to.url);
    CHECK(d.id == "dlv_" + std::to_string(d.seq) + "_job");
    CHECK(d.event != event_kind::progress);
  }
  CHECK(f.eng->deliveries(plain)->empty());
  CHECK(f.eng->deliveries(batch.job_ids[0])->size() >= 4);
  CHECK(f.eng->deliveries(batch.job_ids[1])->empty());
  CHECK(f.eng->deliveries("job_00000000000000000000000000").code() == errc::not_found);
  f.close();
  {
    persistence::store db{{f.dir.path() / "data"}};
    const auto rows = rows_of(db, id);
    CHECK(std::count_if(rows.begin(), rows.end(), [](auto& k) { return k.starts_with("n:"); }) == 1);
    CHECK(std::count_if(rows.begin(), rows.end(), [](auto& k) { return k.starts_with("o:"); }) ==
          static_cast<std::ptrdiff_t>(ds->size()));
    CHECK(rows_of(db, plain).empty());
    // Age the jobs by two days, as if time had passed.
    persistence::group_commit w{db, [](std::vector<event>&&) {}};
    for (const auto& j : {id, plain}) {
      auto rec = db.get_job(j);
      REQUIRE(rec);
      rec->completed_at = *rec->completed_at - std::chrono::hours(48);
      std::promise<bool> p;
      persistence::job_write jw;
      jw.record.emplace(*rec);
      jw.previous_status = rec->status;
      w.write({std::move(jw)}, [&](bool ok) { p.set_value(ok); });
      REQUIRE(p.get_future().get());
    }
  }
  f.open(unreachable_receiver());
  f.start();
  CHECK(f.eng->run_retention() == 2);
  CHECK(f.eng->deliveries(id).code() == errc::not_found);
  CHECK(f.eng->deliveries(batch.job_ids[0])->size() >= 4);  // not expired: kept
  f.close();
  persistence::store db{{f.dir.path() / "data"}};
  CHECK(rows_of(db, id).empty());
}

TEST_CASE("a notify URL off the allow-list, or naming no event, is refused by the engine", "[webhooks]") {
  engine_fixture f{unreachable_receiver()};
  f.start();
  auto errors = f.eng->check(job_spec{.tool = "noop", .notify = notify_spec{"http://10.0.0.1/", {}}});
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].field == "notify.url");
  errors = f.eng->check(job_spec{.tool = "noop", .notify = notify_spec{"http://127.0.0.1/", {false, false, false}}});
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].field == "notify.events");
  auto batch = f.eng->check(batch_spec{.jobs = {{.tool = "noop"}, {.tool = "noop", .notify = notify_spec{"gopher://x", {}}}}});
  REQUIRE(batch.size() == 1);
  CHECK(batch[0].field == "jobs[1].notify.url");
  CHECK(f.eng->try_submit({.tool = "noop", .notify = notify_spec{"http://10.0.0.1/", {}}}).code == errc::invalid_spec);
  CHECK(f.eng->list({}).total_count == 0);
}
