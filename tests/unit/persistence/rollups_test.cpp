// The rollup cells of GET /v1/metrics: their stored form, percentiles, and
// how the writer stores them.
#include <catch2/catch.hpp>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "persistence/rollups.hpp"
#include "persistence/store.hpp"
#include "support/temp_dir.hpp"

using overseer::persistence::rollup_cell;

TEST_CASE("a rollup cell survives encode and decode", "[rollups]") {
  rollup_cell c;
  c.completed = 7;
  c.failed = 2;
  c.cancelled = 1;
  c.timed_out = 3;
  c.cache_hits = 4;
  c.timed = 9;
  c.duration_micros = 123456789;
  c.histogram[0] = 5;
  c.histogram[19] = 4;
  const auto back = rollup_cell::decode(c.encode());
  REQUIRE(back);
  CHECK(back->completed == 7);
  CHECK(back->failed == 2);
  CHECK(back->cancelled == 1);
  CHECK(back->timed_out == 3);
  CHECK(back->cache_hits == 4);
  CHECK(back->timed == 9);
  CHECK(back->duration_micros == 123456789);
  CHECK(back->histogram == c.histogram);
  CHECK(back->total() == 13);
  // Another version or a truncated value is refused, not misread.
  auto bytes = c.encode();
  CHECK_FALSE(rollup_cell::decode(bytes.substr(0, bytes.size() - 1)));
  bytes[0] = 9;
  CHECK_FALSE(rollup_cell::decode(bytes));
}

TEST_CASE("percentiles interpolate within the run-time buckets", "[rollups]") {
  rollup_cell c;
  CHECK_FALSE(c.quantile(0.5));
  // Buckets: 0 (<= 10 ms), 1 (<= 25 ms), ... 6 (<= 1 s, from 0.5 s).
  c.histogram[6] = 10;
  c.timed = 10;
  CHECK(*c.quantile(0.5) == Approx(0.75));
  CHECK(*c.quantile(0.95) == Approx(0.975));
  rollup_cell d;
  d.histogram[0] = 90;
  d.histogram[6] = 10;
  d.timed = 100;
  c.add(d);
  CHECK(c.timed == 110);
  CHECK(*d.quantile(0.5) < 0.01);
  CHECK(*d.quantile(0.95) == Approx(0.75));
}

TEST_CASE("a commit writes each changed rollup cell once, however many jobs it finishes", "[rollups]") {
  using namespace overseer;
  overseer::test::temp_dir dir;
  persistence::store db{{dir.path()}};
  persistence::rollup_writer writer{db};
  const auto now = clock::now();
  auto finished = [&](const std::string& tool, job_status to) {
    event e;
    e.kind = event_kind::transition;
    e.tool = tool;
    e.from = job_status::running;
    e.to = to;
    e.at = now;
    return e;
  };
  rocksdb::WriteBatch wb;
  for (int i = 0; i < 500; ++i) writer.count(finished("a", job_status::completed), now - std::chrono::milliseconds{5}, wb);
  for (int i = 0; i < 20; ++i) writer.count(finished("b", job_status::failed), std::nullopt, wb);
  const auto before = wb.Count();  // the range deletes of old rows, if any
  writer.write_changed(wb);
  // A minute and an hour cell per tool: four rows, not two per job.
  CHECK(wb.Count() - before == 4);
  REQUIRE(db.db().Write({}, &wb).ok());
  const auto w = persistence::read_rollups(db, now, std::chrono::hours{1});
  CHECK(w.by_tool.at("a").completed == 500);
  CHECK(w.by_tool.at("a").timed == 500);
  CHECK(w.by_tool.at("b").failed == 20);
  CHECK(w.all.total() == 520);
  // Nothing changed since: nothing to write.
  rocksdb::WriteBatch again;
  writer.write_changed(again);
  CHECK(again.Count() == 0);
}
