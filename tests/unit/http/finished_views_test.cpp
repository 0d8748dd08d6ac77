// The kept answers of finished jobs: kept until the writer names the job,
// never kept from a read that a change overtook, bounded by bytes.
#include <array>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "http/finished_views.hpp"

using overseer::http::finished_views;

namespace {

void changed(finished_views& v, std::vector<std::string_view> ids) { v.changed(ids, false); }

std::string job(int i) { return "job_" + std::to_string(i); }

}  // namespace

TEST_CASE("finished views: a kept answer is found until its job changes", "[http][finished_views]") {
  finished_views v{1 << 20};
  CHECK(v.find("job_1") == nullptr);
  CHECK(v.misses.value() == 1);
  v.keep("job_1", v.before_read("job_1"), "alice", R"({"job_id":"job_1"})");
  const auto hit = v.find("job_1");
  REQUIRE(hit != nullptr);
  CHECK(hit->owner == "alice");
  CHECK(hit->body == R"({"job_id":"job_1"})");
  CHECK(v.hits.value() == 1);
  CHECK(v.entries() == 1);
  CHECK(v.bytes() > hit->body.size());

  changed(v, {"job_2"});
  CHECK(v.find("job_1") != nullptr);
  changed(v, {"job_2", "job_1"});
  CHECK(v.find("job_1") == nullptr);
  CHECK(v.entries() == 0);
  CHECK(v.bytes() == 0);
  // An answer found before the change stays whole for whoever holds it.
  CHECK(hit->body == R"({"job_id":"job_1"})");
}

TEST_CASE("finished views: a read overtaken by a change is not kept", "[http][finished_views]") {
  finished_views v{1 << 20};
  // The reader takes its ticket, then the writer commits a change of the
  // job and names it, then the reader (which may have read the old record)
  // tries to keep what it rendered.
  const auto t = v.before_read("job_1");
  changed(v, {"job_1"});
  v.keep("job_1", t, "", "old");
  CHECK(v.find("job_1") == nullptr);
  // A change of another job of the same shard refuses it too (the shard is
  // what the ticket sees); one read after the change is kept.
  std::string other;
  for (int i = 2; other.empty(); ++i) {
    const auto t1 = v.before_read("job_1");
    const auto t2 = v.before_read(job(i));
    if (t1.shard == t2.shard) other = job(i);
  }
  const auto before = v.before_read("job_1");
  changed(v, {other});
  v.keep("job_1", before, "", "old");
  CHECK(v.find("job_1") == nullptr);
  v.keep("job_1", v.before_read("job_1"), "", "new");
  REQUIRE(v.find("job_1") != nullptr);
  CHECK(v.find("job_1")->body == "new");
}

TEST_CASE("finished views: a change that may touch any job drops every answer", "[http][finished_views]") {
  finished_views v{1 << 20};
  for (int i = 0; i < 100; ++i) v.keep(job(i), v.before_read(job(i)), "", "{}");
  CHECK(v.entries() == 100);
  const auto t = v.before_read("job_7");
  v.changed({}, true);
  CHECK(v.entries() == 0);
  CHECK(v.bytes() == 0);
  v.keep("job_7", t, "", "{}");  // read before the change
  CHECK(v.find("job_7") == nullptr);
}

TEST_CASE("finished views: the least recently read go first, within the bytes given", "[http][finished_views]") {
  // 16 shards of 4 KiB: each holds a few answers of 1 KiB.
  finished_views v{16 * 4096};
  const std::string body(1000, 'x');
  for (int i = 0; i < 400; ++i) {
    v.keep(job(i), v.before_read(job(i)), "", body);
    // job_0 is read after every keep: always the most recently used of its shard.
    REQUIRE(v.find("job_0") != nullptr);
  }
  CHECK(v.bytes() <= 16 * 4096);
  CHECK(v.entries() < 400);
  CHECK(v.entries() >= 16 * 3);
  CHECK(v.find(job(399)) != nullptr);  // the newest
  CHECK(v.find(job(1)) == nullptr);    // long evicted
  // Keeping an answer again replaces it, counted once.
  const auto n = v.entries();
  v.keep(job(399), v.before_read(job(399)), "", "short");
  CHECK(v.entries() == n);
  CHECK(v.find(job(399))->body == "short");
  // One too large for a shard is not kept, and evicts nothing.
  v.keep("job_big", v.before_read("job_big"), "", std::string(8192, 'y'));
  CHECK(v.find("job_big") == nullptr);
  CHECK(v.entries() == n);
}

TEST_CASE("finished views: zero bytes keeps nothing", "[http][finished_views]") {
  finished_views v{0};
  v.keep("job_1", v.before_read("job_1"), "", "{}");
  CHECK(v.find("job_1") == nullptr);
  CHECK(v.entries() == 0);
  CHECK(v.hits.value() == 0);
}
