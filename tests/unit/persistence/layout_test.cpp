// The storage layout of schema 2 on real RocksDB: events stored in blocks and
// read from any seq (beside single events an older build wrote), a job's
// history in its record, unfinished jobs' records in their own family,
// status entries only for failed, cancelled and timed-out jobs, and the rows
// a job costs.
#include <cstdio>
#include <future>
#include <optional>
#include <tuple>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <rocksdb/db.h>
#include <rocksdb/table_properties.h>
#include <rocksdb/write_batch.h>

#include "actors/job_id.hpp"
#include "actors/job_writes.hpp"
#include "persistence/group_commit.hpp"
#include "persistence/key_layout.hpp"
#include "persistence/store.hpp"
#include "support/deletions_stepped_over.hpp"
#include "support/eventually.hpp"
#include "support/temp_dir.hpp"

using namespace overseer;
using namespace overseer::persistence;

namespace {

bool write_sync(group_commit& w, std::vector<job_write> writes) {
  std::promise<bool> done;
  w.write(std::move(writes), [&](bool ok) { done.set_value(ok); });
  return done.get_future().get();
}

job_write log_write(const std::string& job, int i) {
  job_write w;
  event e;
  e.job_id = job;
  e.kind = event_kind::log;
  e.message = "line " + std::to_string(i);
  w.events.push_back(std::move(e));
  return w;
}

// Ids as the engine makes them: "job_" and 26 characters.
const std::string DONE = "job_0000000000000000000000DONE";
const std::string FAILED = "job_000000000000000000000FAILS";
const std::string BIG = "job_00000000000000000000000BIG";
const std::string NOOP = "job_0000000000000000000000NOOP";

std::size_t rows(store& db, family f) {
  std::size_t n = 0;
  std::unique_ptr<rocksdb::Iterator> it{db.db().NewIterator({}, db.handle(f))};
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
  return n;
}

std::size_t index_entries(const store& db, std::string_view prefix) {
  std::size_t n = 0;
  db.for_each_index(prefix, [&](std::string_view, std::string_view) { ++n; });
  return n;
}

}  // namespace

TEST_CASE("events are stored in blocks and read back from any seq, older single events too", "[store][layout]") {
  test::temp_dir dir;
  store db{{.dir = dir.path()}};
  // Two events an older build wrote, one a value, keyed by their seq.
  for (std::uint64_t seq : {1, 2}) {
    event e;
    e.seq = seq;
    e.job_id = "job_old";
    e.kind = event_kind::log;
    e.message = "old " + std::to_string(seq);
    REQUIRE(db.db().Put({}, db.handle(family::events), keys::event(seq), encode(e)).ok());
  }
  std::vector<event> published;
  {
    group_commit w{db, [&](std::vector<event>&& es) { published.insert(published.end(), es.begin(), es.end()); }};
    // One commit of 600 events (three blocks: 256, 256, 88), then one of 1.
    std::vector<job_write> many;
    for (int i = 0; i < 600; ++i) many.push_back(log_write("job_a", i));
    REQUIRE(write_sync(w, std::move(many)));
    REQUIRE(write_sync(w, {log_write("job_b", 0)}));
    CHECK(w.rows_written() - w.job_rows_written() >= 4);  // the blocks, at least
  }
  REQUIRE(published.size() == 601);
  CHECK(published.front().seq == 3);
  CHECK(published.back().seq == 603);
  CHECK(db.next_seq() == 604);
  std::size_t values = 0;
  {
    std::unique_ptr<rocksdb::Iterator> it{db.db().NewIterator({}, db.handle(family::events))};
    for (it->SeekToFirst(); it->Valid(); it->Next()) ++values;
  }
  CHECK(values == 2 + 3 + 1);
  for (std::uint64_t after : {0, 1, 2, 3, 200, 257, 258, 259, 513, 514, 600, 602, 603, 700}) {
    const auto got = db.events_after(after, 1000);
    INFO("after " << after);
    REQUIRE(got.size() == (after >= 603 ? 0 : 603 - after));
    for (std::size_t i = 0; i < got.size(); ++i) REQUIRE(got[i].seq == after + 1 + i);
    if (after < 2) CHECK(got.front().message == "old " + std::to_string(after + 1));
  }
  const auto page = db.events_after(250, 10);
  REQUIRE(page.size() == 10);
  CHECK(page.front().seq == 251);
  CHECK(page.back().seq == 260);
  CHECK(page.back().message == "line 257");
}

TEST_CASE("a job's history is in its record, unfinished jobs are in open_jobs, and only unhappy ends have status entries",
          "[store][layout]") {
  test::temp_dir dir;
  store db{{.dir = dir.path()}};
  group_commit w{db, [](std::vector<event>&&) {}};
  auto make = [](std::string id) {
    job_record r;
    r.id = std::move(id);
    r.tool = "noop";
    r.created_at = clock::now();
    return r;
  };
  auto done = make(DONE), failed = make(FAILED);
  for (auto* r : {&done, &failed}) REQUIRE(write_sync(w, {actors::creation(*r, std::nullopt, {})}));
  CHECK(rows(db, family::open_jobs) == 2);
  CHECK(rows(db, family::jobs) == 0);
  CHECK(db.get_job(DONE)->history.empty());  // the creation is implied
  for (auto* r : {&done, &failed}) {
    r->attempt = 1;
    REQUIRE(write_sync(w, {*actors::change_status(*r, job_status::running, "started")}));
  }
  CHECK(rows(db, family::open_jobs) == 2);  // running moves nothing
  CHECK(index_entries(db, "status:") == 0);
  REQUIRE(write_sync(w, {*actors::change_status(done, job_status::completed, "completed", R"({"n":1})")}));
  REQUIRE(write_sync(w, {*actors::change_status(failed, job_status::failed, "boom")}));
  CHECK(rows(db, family::open_jobs) == 0);
  CHECK(rows(db, family::jobs) == 2);
  CHECK(index_entries(db, keys::status_prefix(job_status::completed)) == 0);
  CHECK(index_entries(db, keys::status_prefix(job_status::failed)) == 1);

  const auto h = db.history(DONE);
  REQUIRE(h.size() == 3);
  CHECK_FALSE(h[0].from);
  CHECK(h[0].reason == "submitted");
  CHECK(h[0].at == db.get_job(DONE)->created_at);
  CHECK(h[1].to == job_status::running);
  CHECK(h[2].to == job_status::completed);
  CHECK(h[2].attempt == 1);
  // The small result rides in the record; no results row.
  CHECK(db.get_job(DONE)->result == R"({"n":1})");
  CHECK(db.get_result(DONE) == R"({"n":1})");
  std::string row;
  CHECK(db.db().Get({}, db.handle(family::results), DONE, &row).IsNotFound());

  std::vector<std::string> seen;
  for (auto s : {job_status::completed, job_status::failed, job_status::pending})
    db.for_each_with_status(s, [&](job_record&& r) { seen.push_back(r.id + ":" + std::string{to_string(r.status)}); });
  CHECK(seen == std::vector<std::string>{DONE + ":completed", FAILED + ":failed"});

  // An explicit retry reopens the failed job: its record moves back, its
  // status entry goes; a listing of every job sees each once, newest first.
  REQUIRE(write_sync(w, {*actors::change_status(failed, job_status::pending, "retried")}));
  CHECK(rows(db, family::open_jobs) == 1);
  CHECK(rows(db, family::jobs) == 1);
  CHECK(index_entries(db, "status:") == 0);
  CHECK(db.get_job(FAILED)->status == job_status::pending);
  std::vector<std::string> ids;
  db.scan_ids_newest_first({}, [&](std::string_view id) {
    ids.emplace_back(id);
    return true;
  });
  CHECK(ids == std::vector<std::string>{FAILED, DONE});
  ids.clear();
  db.scan_ids_newest_first(keys::open_jobs_scan, [&](std::string_view id) {
    ids.emplace_back(id);
    return true;
  });
  CHECK(ids == std::vector<std::string>{FAILED});
  // The same walks with the records: the job families' from the walk
  // itself, an index's read by id; each as get_job reads it.
  const auto records = [&](std::string_view prefix) {
    std::vector<std::string> out;
    db.scan_jobs_newest_first(prefix, [&](job_record&& r) {
      CHECK(r.status == db.get_job(r.id)->status);
      CHECK(r.history.size() == db.get_job(r.id)->history.size());
      out.push_back(r.id + ":" + std::string{to_string(r.status)});
      return true;
    });
    return out;
  };
  CHECK(records({}) == std::vector<std::string>{FAILED + ":pending", DONE + ":completed"});
  CHECK(records(keys::open_jobs_scan) == std::vector<std::string>{FAILED + ":pending"});
  CHECK(records(keys::tool_prefix("noop")) == std::vector<std::string>{FAILED + ":pending", DONE + ":completed"});
  CHECK(db.count_unfinished_before(FAILED, 100) == 0);
  CHECK(db.count_unfinished_before("job_zzzzzzzzzzzzzzzzzzzzzzzzzz", 100) == 1);
}

TEST_CASE("an index walk reads its records in batches: each once, in the walk's order, the purged skipped, "
          "and it stops where asked",
          "[store][layout]") {
  test::temp_dir dir;
  store db{{.dir = dir.path()}};
  group_commit w{db, [](std::vector<event>&&) {}};
  // 150 jobs of one tool, over two batches and a part: every third finished.
  const auto t0 = clock::now();
  std::vector<std::string> made;
  for (int i = 0; i < 150; ++i) {
    job_record r;
    char id[32];
    std::snprintf(id, sizeof id, "job_00000000000000000000000%03d", i);
    r.id = id;
    r.tool = "noop";
    r.created_at = t0 + std::chrono::milliseconds(i);
    std::vector<job_write> writes{actors::creation(r, std::nullopt, {})};
    if (i % 3 == 0) {
      writes.push_back(*actors::change_status(r, job_status::running, "started"));
      writes.push_back(*actors::change_status(r, job_status::completed, "completed"));
    }
    REQUIRE(write_sync(w, std::move(writes)));
    made.push_back(r.id);
  }
  // Two records gone with their index entries left, as a purge that the
  // walk's index outlives: one unfinished, one finished.
  REQUIRE(db.db().Delete({}, db.handle(family::open_jobs), made[100]).ok());
  REQUIRE(db.db().Delete({}, db.handle(family::jobs), made[99]).ok());
  std::vector<std::string> expected;
  for (auto it = made.rbegin(); it != made.rend(); ++it)
    if (*it != made[100] && *it != made[99]) expected.push_back(*it);
  const auto walk = [&](std::size_t stop_after) {
    std::vector<std::string> seen;
    db.scan_jobs_newest_first(keys::tool_prefix("noop"), [&](job_record&& r) {
      const auto by_id = db.get_job(r.id);
      REQUIRE(by_id);
      CHECK(r.status == by_id->status);
      CHECK(r.history.size() == by_id->history.size());
      seen.push_back(r.id);
      return seen.size() < stop_after;
    });
    return seen;
  };
  CHECK(walk(1000) == expected);
  for (std::size_t stop : {1u, 2u, 3u, 4u, 7u, 8u, 63u, 64u, 65u, 100u, 127u, 128u, 147u})
    CHECK(walk(stop) == std::vector<std::string>(expected.begin(), expected.begin() + stop));
}

TEST_CASE("a large result has its own row", "[store][layout]") {
  test::temp_dir dir;
  store db{{.dir = dir.path()}};
  group_commit w{db, [](std::vector<event>&&) {}};
  job_record r;
  r.id = BIG;
  r.tool = "noop";
  r.created_at = clock::now();
  REQUIRE(write_sync(w, {actors::creation(r, std::nullopt, {})}));
  REQUIRE(write_sync(w, {*actors::change_status(r, job_status::running, "started")}));
  const std::string big = "\"" + std::string(inline_result_limit, 'x') + "\"";
  REQUIRE(write_sync(w, {*actors::change_status(r, job_status::completed, "completed", big)}));
  CHECK_FALSE(db.get_job(BIG)->result);
  CHECK(db.get_result(BIG) == big);
  CHECK(db.history(BIG).size() == 3);
}

TEST_CASE("a job writes five rows of its own from submit to completed, the engine's start line aside", "[store][layout]") {
  test::temp_dir dir;
  store db{{.dir = dir.path()}};
  group_commit w{db, [](std::vector<event>&&) {}};
  job_record r;
  r.id = NOOP;
  r.tool = "noop";
  r.created_at = clock::now();
  REQUIRE(write_sync(w, {actors::creation(r, std::nullopt, {})}));
  REQUIRE(write_sync(w, {*actors::change_status(r, job_status::running, "started")}));
  REQUIRE(write_sync(w, {*actors::change_status(r, job_status::completed, "completed", "{}")}));
  // Record and tool entry; record; record (with the result) and the
  // unfinished record's delete.
  CHECK(w.job_rows_written() == 5);
}

TEST_CASE("a tool's pause is stored as its time in ms and its reason, and read back exactly", "[store][layout]") {
  CHECK(keys::tool_pause("noop") == "pause:noop");
  const auto since = time_point{std::chrono::milliseconds{1764950400123}};
  const auto value = keys::tool_pause_value(since, "paused by client 127.0.0.1: a\nsecond line");
  CHECK(value == "1764950400123\npaused by client 127.0.0.1: a\nsecond line");
  const auto back = keys::read_tool_pause(value);
  REQUIRE(back);
  CHECK(back->first == since);
  CHECK(back->second == "paused by client 127.0.0.1: a\nsecond line");
  CHECK(keys::read_tool_pause("12\n")->second.empty());
  for (std::string_view bad : {"", "\nreason", "12x\nreason", "no newline", "-5\nreason", "9999999999999999999\nr"})
    CHECK_FALSE(keys::read_tool_pause(bad));
}

TEST_CASE("an index walk with creation bounds visits only the milliseconds they can match, newest first",
          "[store][layout]") {
  using std::chrono::microseconds;
  using std::chrono::milliseconds;
  test::temp_dir dir;
  store db{{.dir = dir.path()}};
  const auto at = [](auto d) { return time_point{std::chrono::duration_cast<time_point::duration>(d)}; };
  // Entries of tool t at 1000..1003 ms (two at 1002), and of tool tt, which
  // sorts among them byte for byte but is another prefix.
  const std::vector<std::pair<int, std::string>> entries{
    {1000, "job_00000000000000000000001000"}, {1001, "job_00000000000000000000001001"},
    {1002, "job_0000000000000000000001002A"}, {1002, "job_0000000000000000000001002B"},
    {1003, "job_00000000000000000000001003"}};
  for (const auto& [ms, id] : entries)
    REQUIRE(db.db().Put({}, db.handle(family::index), keys::index_entry(keys::tool_prefix("t"), at(milliseconds{ms}), id), "").ok());
  REQUIRE(db.db().Put({}, db.handle(family::index), keys::index_entry(keys::tool_prefix("tt"), at(milliseconds{1002}),
                                                                       "job_000000000000000000000OTHER"), "").ok());
  const auto walk = [&](std::optional<time_point> after, std::optional<time_point> before) {
    std::vector<std::string> ids;
    db.scan_ids_newest_first(keys::tool_prefix("t"), [&](std::string_view id) {
      ids.emplace_back(id.substr(id.size() - 5));
      return true;
    }, after, before);
    return ids;
  };
  using v = std::vector<std::string>;
  CHECK(walk({}, {}) == v{"01003", "1002B", "1002A", "01001", "01000"});
  // created_after is inclusive, created_before exclusive.
  CHECK(walk(at(milliseconds{1001}), at(milliseconds{1003})) == v{"1002B", "1002A", "01001"});
  // Within a millisecond the walk keeps the entries of that millisecond: the
  // record, with its exact time, decides.
  CHECK(walk(at(microseconds{1001500}), {}) == v{"01003", "1002B", "1002A", "01001"});
  CHECK(walk({}, at(microseconds{1002500})) == v{"1002B", "1002A", "01001", "01000"});
  CHECK(walk(at(milliseconds{1002}), at(microseconds{1002001})) == v{"1002B", "1002A"});
  // Bounds outside the entries, and an empty range.
  CHECK(walk(at(milliseconds{5000}), {}).empty());
  CHECK(walk({}, at(milliseconds{1000})).empty());
  CHECK(walk(at(milliseconds{1002}), at(milliseconds{1002})).empty());
  CHECK(walk(at(milliseconds{0}), at(milliseconds{99999})).size() == 5);
  CHECK(walk({}, time_point{}).empty());
}

TEST_CASE("a walk of the job families by created_after stops at it by id, a second before it in an older store",
          "[store][layout]") {
  using std::chrono::milliseconds;
  test::temp_dir dir;
  std::optional<store> db{std::in_place, store::options{.dir = dir.path()}};
  const auto at = [](int ms) { return time_point{std::chrono::duration_cast<time_point::duration>(milliseconds{ms})}; };
  // An id of millisecond ms with a random part that sorts after the least.
  const auto id_at = [](int ms) {
    auto id = actors::first_job_id_at(ms);
    id.back() = 'A';
    return id;
  };
  // Finished jobs at 10 s, 20 s and 40 s; unfinished ones at 29.5 s and 30 s.
  const std::vector<std::pair<family, std::string>> rows{{family::jobs, id_at(10'000)}, {family::jobs, id_at(20'000)},
                                                         {family::open_jobs, id_at(29'500)},
                                                         {family::open_jobs, id_at(30'000)}, {family::jobs, id_at(40'000)}};
  for (const auto& [f, id] : rows) REQUIRE(db->db().Put({}, db->handle(f), id, "").ok());
  const auto walk = [&](std::string_view prefix, std::optional<time_point> after, std::optional<time_point> before) {
    std::vector<std::string> ids;
    db->scan_ids_newest_first(prefix, [&](std::string_view id) {
      ids.emplace_back(id);
      return true;
    }, after, before);
    return ids;
  };
  using v = std::vector<std::string>;
  const auto& [j10, j20, j29, j30, j40] = std::tie(rows[0].second, rows[1].second, rows[2].second, rows[3].second,
                                                   rows[4].second);
  const v all{j40, j30, j29, j20, j10};
  // A store this build made: no id's millisecond is before its job's
  // created_at, so the walk stops below created_after's millisecond.
  CHECK(walk("", {}, {}) == all);
  CHECK(walk("", at(30'000), {}) == v{j40, j30});
  CHECK(walk("", at(29'500), {}) == v{j40, j30, j29});
  CHECK(walk("", at(40'001), {}).empty());
  CHECK(walk("", at(0), {}) == all);
  CHECK(walk(keys::open_jobs_scan, at(29'501), {}) == v{j30});
  // created_before does not bound a walk by id: after a clock step back an
  // id made later may hold an earlier created_at.
  CHECK(walk("", {}, at(15'000)) == all);
  CHECK(walk("", at(20'000), at(25'000)) == v{j40, j30, j29, j20});

  // The same ids in a store an older build made (no exact_ids_from): their
  // created_at may follow their millisecond by a little, so the walk reads
  // from created_after's millisecond less a second: 29.5 s is read (the
  // caller drops it on its record), 20 s is not.
  REQUIRE(db->db().Delete({}, db->handle(family::meta), keys::exact_ids_from_key).ok());
  db.reset();
  db.emplace(store::options{.dir = dir.path()});
  std::string from;
  REQUIRE(db->db().Get({}, db->handle(family::meta), keys::exact_ids_from_key, &from).ok());
  CHECK(from > j40);
  CHECK(walk("", at(30'000), {}) == v{j40, j30, j29});
  CHECK(walk("", at(30'600), {}) == v{j40, j30});
  CHECK(walk("", at(40'001), {}) == v{j40});
  CHECK(walk("", at(50'000), {}).empty());
  CHECK(walk(keys::open_jobs_scan, at(30'000), {}) == v{j30, j29});
  CHECK(walk(keys::open_jobs_scan, at(30'501), {}) == v{j30});
  CHECK(walk("", {}, at(15'000)) == all);
  // Ids made from now on are past the mark: for a created_after a second
  // past it, the walk is exact again.
  const auto now_ms = std::chrono::duration_cast<milliseconds>(clock::now().time_since_epoch()).count();
  const auto later = actors::first_job_id_at(now_ms + 10'000);
  REQUIRE(db->db().Put({}, db->handle(family::jobs), later, "").ok());
  REQUIRE(db->db().Put({}, db->handle(family::jobs), actors::first_job_id_at(now_ms + 9'500), "").ok());
  std::vector<std::string> seen;
  db->scan_ids_newest_first("", [&](std::string_view id) {
    seen.emplace_back(id);
    return true;
  }, time_point{milliseconds{now_ms + 10'000}});
  CHECK(seen == v{later});
}

namespace {

/// Entries and deletions in the tables (not the memtables) of a family.
std::pair<std::uint64_t, std::uint64_t> table_entries(store& db, family f) {
  std::uint64_t entries = 0, deletions = 0;
  rocksdb::TablePropertiesCollection tables;
  REQUIRE(db.db().GetPropertiesOfAllTables(db.handle(f), &tables).ok());
  for (const auto& [name, props] : tables) {
    entries += props->num_entries;
    deletions += props->num_deletions;
  }
  return {entries, deletions};
}

}  // namespace

TEST_CASE("a walk of one index prefix ends at its edge, not after the deleted entries beside it", "[store][layout]") {
  test::temp_dir dir;
  store db{{.dir = dir.path()}};
  auto* index = db.handle(family::index);
  const auto at = [](int ms) {
    return time_point{std::chrono::duration_cast<time_point::duration>(std::chrono::milliseconds{ms})};
  };
  const auto id_at = [](int ms) { return actors::first_job_id_at(ms); };
  // Tools a and c sort on either side of b. All of their entries are
  // deleted (a purge of both tools); b keeps three.
  constexpr int purged = 2000;
  for (const char* tool : {"a", "c"})
    for (int i = 0; i < purged; ++i) {
      const auto key = keys::index_entry(keys::tool_prefix(tool), at(1000 + i), id_at(1000 + i));
      REQUIRE(db.db().Put({}, index, key, "").ok());
      REQUIRE(db.db().Delete({}, index, key).ok());
    }
  for (int i = 0; i < 3; ++i)
    REQUIRE(db.db().Put({}, index, keys::index_entry(keys::tool_prefix("b"), at(5000 + i), id_at(5000 + i)), "").ok());

  std::size_t seen = 0;
  // Newest first (a listing of tool b), down past b's oldest entry.
  CHECK(test::deletions_stepped_over([&] {
          db.scan_ids_newest_first(keys::tool_prefix("b"), [&](std::string_view) { return ++seen, true; });
        }) == 0);
  CHECK(seen == 3);
  // Oldest first, up past b's newest.
  seen = 0;
  CHECK(test::deletions_stepped_over([&] {
          db.for_each_index(keys::tool_prefix("b"), [&](std::string_view, std::string_view) { ++seen; });
        }) == 0);
  CHECK(seen == 3);
  // Within a prefix the deleted entries are still stepped over (compaction
  // removes those): the walk of a itself visits every one of them.
  CHECK(test::deletions_stepped_over([&] {
          db.scan_ids_newest_first(keys::tool_prefix("a"), [&](std::string_view) { return true; });
        }) == purged);
}

TEST_CASE("a table of mostly deleted index entries is compacted away without being asked", "[store][layout][compaction]") {
  test::temp_dir dir;
  store db{{.dir = dir.path()}};
  auto* index = db.handle(family::index);
  // 5,000 entries in one table, their deletions (a purge) in a second one.
  rocksdb::WriteBatch puts, deletes;
  for (int i = 0; i < 5000; ++i) {
    const auto ms = 1000 + i;
    const auto key = keys::index_entry(
      keys::tool_prefix("gone"), time_point{std::chrono::duration_cast<time_point::duration>(std::chrono::milliseconds{ms})},
      actors::first_job_id_at(ms));
    REQUIRE(puts.Put(index, key, "").ok());
    REQUIRE(deletes.Delete(index, key).ok());
  }
  REQUIRE(db.db().Write({}, &puts).ok());
  REQUIRE(db.db().Flush({}, index).ok());
  REQUIRE(db.db().Write({}, &deletes).ok());
  REQUIRE(db.db().Flush({}, index).ok());
  // Two tables in level 0 is below the count at which RocksDB compacts it:
  // only the mark on the table of deletions starts a compaction, which drops
  // the deleted entries and their deletions together.
  CHECK(test::eventually([&] { return table_entries(db, family::index) == std::pair<std::uint64_t, std::uint64_t>{0, 0}; },
                         std::chrono::seconds(30)));
  std::size_t left = 0;
  db.for_each_index(keys::tool_prefix("gone"), [&](std::string_view, std::string_view) { ++left; });
  CHECK(left == 0);
}

TEST_CASE("after a purge the deleted rows are compacted away, also those never written to a table",
          "[store][layout][compaction]") {
  test::temp_dir dir;
  store db{{.dir = dir.path()}};
  // Records of 1,500 jobs that were written and deleted while still in the
  // memtable (a purge right after they ran), and, in a table of their own,
  // index entries deleted later (a purge of older jobs).
  rocksdb::WriteBatch records, entries, deleted_entries;
  for (int i = 0; i < 1500; ++i) {
    const auto id = actors::first_job_id_at(1000 + i);
    REQUIRE(records.Put(db.handle(family::jobs), id, std::string(200, 'r')).ok());
    REQUIRE(records.Delete(db.handle(family::jobs), id).ok());
    const auto key = keys::index_entry(
      keys::tool_prefix("old"), time_point{std::chrono::duration_cast<time_point::duration>(std::chrono::milliseconds{1000 + i})}, id);
    REQUIRE(entries.Put(db.handle(family::index), key, "").ok());
    REQUIRE(deleted_entries.Delete(db.handle(family::index), key).ok());
  }
  // A job that stays, in both families.
  const auto kept = actors::first_job_id_at(9000);
  REQUIRE(records.Put(db.handle(family::jobs), kept, "r").ok());
  REQUIRE(db.db().Write({}, &records).ok());
  REQUIRE(db.db().Write({}, &entries).ok());
  REQUIRE(db.db().Flush({}, db.handle(family::index)).ok());
  REQUIRE(db.db().Write({}, &deleted_entries).ok());

  std::atomic<bool> canceled{false};
  CHECK_FALSE(db.compact_deleted_ranges(&canceled));
  // RocksDB may be compacting the table of deletions it flushed (the
  // deletions mark it) while compact_deleted_ranges reads the tables: then
  // that compaction finishes the work, a moment later.
  CHECK(test::eventually([&] { return table_entries(db, family::jobs) == std::pair<std::uint64_t, std::uint64_t>{1, 0}; },
                         std::chrono::seconds(30)));
  CHECK(test::eventually([&] { return table_entries(db, family::index) == std::pair<std::uint64_t, std::uint64_t>{0, 0}; },
                         std::chrono::seconds(30)));
  std::size_t walked = 0;
  CHECK(test::deletions_stepped_over([&] {
          db.scan_ids_newest_first("", [&](std::string_view) { return ++walked, true; });
        }) == 0);
  CHECK(walked == 1);
}

TEST_CASE("a purge's compaction leaves a range to RocksDB when it would rewrite far more than the deletions",
          "[store][layout][compaction]") {
  test::temp_dir dir;
  store db{{.dir = dir.path()}};
  auto* index = db.handle(family::index);
  // RocksDB's own compactions off: only compact_deleted_ranges compacts.
  REQUIRE(db.db().SetOptions(index, {{"disable_auto_compactions", "true"}}).ok());
  const auto at = [](int ms) {
    return time_point{std::chrono::duration_cast<time_point::duration>(std::chrono::milliseconds{ms})};
  };
  // A table of 60,000 live entries of tool b, and a table of deletions of
  // tools a and c on either side, whose range spans it.
  rocksdb::WriteBatch live, gone;
  for (int i = 0; i < 60000; ++i)
    REQUIRE(live.Put(index, keys::index_entry(keys::tool_prefix("b"), at(i), actors::first_job_id_at(i)), std::string(200, 'v')).ok());
  for (const char* tool : {"a", "c"})
    for (int i = 0; i < 1500; ++i) {
      const auto key = keys::index_entry(keys::tool_prefix(tool), at(i), actors::first_job_id_at(i));
      REQUIRE(gone.Put(index, key, "").ok());
      REQUIRE(gone.Delete(index, key).ok());
    }
  REQUIRE(db.db().Write({}, &live).ok());
  REQUIRE(db.db().Flush({}, index).ok());
  REQUIRE(db.db().Write({}, &gone).ok());
  std::atomic<bool> canceled{false};
  // Rewriting the live entries for 3,000 deletions (60,000 - 2 x 3,000
  // entries kept, by the counts) is more than 8 times them.
  CHECK_FALSE(db.compact_deleted_ranges(&canceled, 0));
  CHECK(table_entries(db, family::index) == std::pair<std::uint64_t, std::uint64_t>{63000, 3000});
  // Under the floor (64 MiB by default) it is compacted.
  CHECK_FALSE(db.compact_deleted_ranges(&canceled));
  CHECK(table_entries(db, family::index) == std::pair<std::uint64_t, std::uint64_t>{60000, 0});
}
