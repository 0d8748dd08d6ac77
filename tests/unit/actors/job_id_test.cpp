#include "actors/job_id.hpp"

#include <chrono>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

using namespace overseer;
using overseer::actors::looks_like_job_id;
using overseer::actors::new_job_id;
using namespace std::chrono_literals;

namespace {
constexpr std::string_view crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
}  // namespace

TEST_CASE("a job id is job_ and 26 Crockford base32 characters", "[job_id]") {
  for (int i = 0; i < 100; ++i) {
    const auto id = new_job_id();
    CAPTURE(id);
    REQUIRE(id.size() == 30);
    CHECK(id.starts_with("job_"));
    for (char c : id.substr(4)) CHECK(crockford.find(c) != std::string_view::npos);
    // 128 bits in 26 digits leave 2 pad bits: a ULID starts with 0-7.
    CHECK(id[4] >= '0');
    CHECK(id[4] <= '7');
    CHECK(looks_like_job_id(id));
  }
}

TEST_CASE("a job id carries its millisecond time in its first ten characters", "[job_id]") {
  // Minted with the current clock, so no earlier id can hold a later time.
  const auto before = clock::now();
  const auto id = new_job_id(before);
  const auto decode = [](std::string_view digits) {
    std::uint64_t v = 0;
    for (char c : digits) v = v * 32 + crockford.find(c);
    return v;
  };
  const auto ms = static_cast<std::int64_t>(decode(std::string_view{id}.substr(4, 10)));
  const auto before_ms =
    std::chrono::duration_cast<std::chrono::milliseconds>(before.time_since_epoch()).count();
  // The 48-bit time is the given millisecond (or, if a concurrent call got
  // there first, a slightly later one): never earlier, never far ahead.
  CHECK(ms >= before_ms);
  CHECK(ms <= before_ms + 60'000);
}

TEST_CASE("looks_like_job_id accepts well-formed ids", "[job_id]") {
  const std::string id = GENERATE(as<std::string>{}, "job_01J9Z8Q4K5M6N7P8Q9R0S1T2V3",
                                  "job_00000000000000000000000000",
                                  "job_7ZZZZZZZZZZZZZZZZZZZZZZZZZ");
  CAPTURE(id);
  CHECK(looks_like_job_id(id));
}

TEST_CASE("looks_like_job_id refuses variants of a job id", "[job_id]") {
  const std::string id = GENERATE(as<std::string>{},
                                  "",
                                  "job_",
                                  "01J9Z8Q4K5M6N7P8Q9R0S1T2V3",       // no prefix
                                  "JOB_01J9Z8Q4K5M6N7P8Q9R0S1T2V3",   // prefix upper case
                                  "job-01J9Z8Q4K5M6N7P8Q9R0S1T2V3",   // wrong separator
                                  "jobs01J9Z8Q4K5M6N7P8Q9R0S1T2V3",   // wrong separator
                                  "run_01J9Z8Q4K5M6N7P8Q9R0S1T2V3",   // wrong prefix
                                  "jb_01J9Z8Q4K5M6N7P8Q9R0S1T2V3X",   // wrong prefix, 30 chars
                                  "job_01j9z8q4k5m6n7p8q9r0s1t2v3",   // lower case
                                  "job_01J9Z8Q4K5M6N7P8Q9R0S1T2v3",   // one lower case letter
                                  "job_01J9Z8Q4K5M6N7P8Q9R0S1T2U3",   // U is not Crockford
                                  "job_01J9Z8Q4K5M6N7P8Q9R0S1T2I3",   // I is not Crockford
                                  "job_01J9Z8Q4K5M6N7P8Q9R0S1T2L3",   // L is not Crockford
                                  "job_01J9Z8Q4K5M6N7P8Q9R0S1T2O3",   // O is not Crockford
                                  "job_01J9Z8Q4K5M6N7P8Q9R0S1T2V",    // 29 chars
                                  "job_01J9Z8Q4K5M6N7P8Q9R0S1T2V34",  // 31 chars
                                  "job_01J9Z8Q4K5M6N7P8Q9R0S1T2-3",   // punctuation
                                  "job_01J9Z8Q4K5M6N7P8Q9R0S1T2 3",   // space
                                  " job_01J9Z8Q4K5M6N7P8Q9R0S1T2V",   // leading space, 30 chars
                                  "job_01J9Z8Q4K5M6N7P8Q9R0S1T2V\n"); // trailing newline
  CAPTURE(id);
  CHECK_FALSE(looks_like_job_id(id));
}

TEST_CASE("looks_like_job_id refuses an id with an embedded NUL", "[job_id]") {
  const std::string id("job_01J9Z8Q4K5M6N7P8Q9R0S1T2\0" "3", 30);
  REQUIRE(id.size() == 30);
  CHECK_FALSE(looks_like_job_id(id));
}

TEST_CASE("ids made in a tight loop strictly increase and are unique", "[job_id]") {
  std::vector<std::string> ids;
  ids.reserve(10000);
  for (int i = 0; i < 10000; ++i) ids.push_back(new_job_id());
  std::set<std::string> unique(ids.begin(), ids.end());
  CHECK(unique.size() == ids.size());
  for (std::size_t i = 1; i < ids.size(); ++i) {
    if (!(ids[i - 1] < ids[i])) {
      CAPTURE(i, ids[i - 1], ids[i]);
      FAIL("ids out of order");
    }
  }
}

TEST_CASE("ids made within one millisecond strictly increase", "[job_id]") {
  const auto now = clock::now();
  std::string previous = new_job_id(now);
  for (int i = 0; i < 1000; ++i) {
    auto id = new_job_id(now);
    if (!(previous < id)) {
      CAPTURE(i, previous, id);
      FAIL("ids out of order");
    }
    previous = std::move(id);
  }
}

TEST_CASE("an id made with an earlier time still sorts after the previous one", "[job_id]") {
  const auto now = clock::now();
  const auto first = new_job_id(now);
  const auto earlier = GENERATE(as<time_point::duration>{}, 1ms, 1s, 1h, 24h * 365);
  CAPTURE(earlier.count());
  const auto second = new_job_id(now - earlier);
  CHECK(first < second);
  CHECK(looks_like_job_id(second));
  const auto epoch = new_job_id(time_point{});
  CHECK(second < epoch);
  const auto third = new_job_id();
  CHECK(epoch < third);
}

TEST_CASE("first_job_id_at is the least id of its millisecond", "[job_id]") {
  using overseer::actors::first_job_id_at;
  const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(clock::now());
  const auto ms = now.time_since_epoch().count();
  const auto id = new_job_id(now);  // at ms, or later if an earlier call got there first
  CHECK(looks_like_job_id(first_job_id_at(ms)));
  CHECK(first_job_id_at(ms) <= id);
  CHECK(first_job_id_at(ms - 1) < first_job_id_at(ms));
  CHECK(first_job_id_at(ms).ends_with("0000000000000000"));
  // An id of an earlier millisecond sorts below it, whatever its random part.
  CHECK(first_job_id_at(ms - 1).substr(0, 14) + "ZZZZZZZZZZZZZZZZ" < first_job_id_at(ms));
  // Out of range: the least id, and the greatest time 48 bits hold.
  CHECK(first_job_id_at(-5) == "job_00000000000000000000000000");
  CHECK(first_job_id_at(std::int64_t{1} << 50) == "job_7ZZZZZZZZZ0000000000000000");
  CHECK(first_job_id_at(1) == "job_00000000010000000000000000");
  CHECK(first_job_id_at(32) == "job_00000000100000000000000000");
}
