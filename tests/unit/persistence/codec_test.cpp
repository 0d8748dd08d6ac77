#include "persistence/codec.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "support/records.hpp"

using namespace overseer;
using namespace overseer::persistence;
using namespace std::chrono_literals;
using overseer::test::at_ms;
using overseer::test::full_job;

namespace {

// Rewrites the trailing checksum so a deliberately altered record gets past
// the integrity check and reaches the check under test.
std::string reseal(std::string bytes) {
  const auto crc = crc32(std::string_view(bytes).substr(0, bytes.size() - 4));
  for (int i = 0; i < 4; ++i) bytes[bytes.size() - 4 + i] = static_cast<char>((crc >> (8 * i)) & 0xFF);
  return bytes;
}

}  // namespace

TEST_CASE("a fully populated job record round-trips", "[codec]") {
  const auto r = full_job();
  REQUIRE(r.checkpoint->size() == 17);
  const auto d = decode_job(encode(r));
  REQUIRE(d);
  CHECK(d.error.empty());
  CHECK(*d.value == r);
}

TEST_CASE("a minimal job record round-trips", "[codec]") {
  job_record r;
  r.id = "j";
  r.tool = "noop";
  const auto d = decode_job(encode(r));
  REQUIRE(d);
  CHECK(*d.value == r);
  CHECK_FALSE(d.value->checkpoint);
  CHECK_FALSE(d.value->started_at);
}

// Records are built in a per-thread scratch buffer that grows to the largest
// record its thread has encoded and is reused: a record past its size must
// come out whole, and the next, smaller record must carry nothing of it.
TEST_CASE("a record larger than any before it encodes whole, and the next one carries nothing of it", "[codec]") {
  job_record small;
  small.id = "j";
  small.tool = "noop";
  const auto small_before = encode(small);

  auto big = full_job();
  big.params_json = "{\"text\":\"" + std::string(300'000, 'x') + "\"}";
  big.result = std::string(5'000, 'r');
  const auto big_bytes = encode(big);
  CHECK(big_bytes.size() > 305'000);
  const auto d = decode_job(big_bytes);
  REQUIRE(d);
  CHECK(*d.value == big);

  CHECK(encode(small) == small_before);
  CHECK(encode(big) == big_bytes);
}

TEST_CASE("threads encoding at once each get their own records' bytes", "[codec]") {
  // Each thread encodes records of its own size; the bytes are compared on
  // this thread afterwards (no assertions from the others).
  const auto record_of = [](int n) {
    job_record r;
    r.id = "job-" + std::to_string(n);
    r.tool = "noop";
    r.params_json = std::string(static_cast<std::size_t>(100 + 700 * n), 'p');
    return r;
  };
  constexpr int threads = 4;
  constexpr int rounds = 200;
  std::vector<std::vector<std::string>> got(threads);
  {
    std::vector<std::jthread> workers;
    for (int t = 0; t < threads; ++t)
      workers.emplace_back([&, t] {
        for (int i = 0; i < rounds; ++i) got[static_cast<std::size_t>(t)].push_back(encode(record_of(t)));
      });
  }
  for (int t = 0; t < threads; ++t) {
    const auto expected = encode(record_of(t));
    REQUIRE(got[static_cast<std::size_t>(t)].size() == rounds);
    for (const auto& bytes : got[static_cast<std::size_t>(t)]) REQUIRE(bytes == expected);
  }
}

TEST_CASE("a job record decodes in place as it decodes whole, and a corrupt one is refused alike", "[codec]") {
  const auto r = full_job();
  const auto bytes = encode(r);
  job_record in_place;
  CHECK(decode_job_into(bytes, in_place).empty());
  CHECK(in_place == r);
  CHECK(in_place == *decode_job(bytes).value);

  auto corrupt = bytes;
  corrupt[corrupt.size() / 2] = static_cast<char>(corrupt[corrupt.size() / 2] ^ 0x40);
  job_record refused;
  const auto error = decode_job_into(corrupt, refused);
  CHECK(error == "checksum mismatch");
  CHECK(decode_job(corrupt).error == error);
  const auto truncated = decode_job(reseal(bytes.substr(0, bytes.size() - 9) + "0000"));
  job_record short_one;
  CHECK_FALSE(truncated);
  CHECK(decode_job_into(reseal(bytes.substr(0, bytes.size() - 9) + "0000"), short_one) == truncated.error);
}

TEST_CASE("a transition round-trips with and without a from status", "[codec]") {
  transition t{.from = job_status::running, .to = job_status::timed_out,
               .at = at_ms(1'700'000'000'999), .attempt = 3, .reason = "deadline passed"};
  SECTION("with from") {}
  SECTION("creation entry without from") { t.from.reset(); t.to = job_status::pending; t.attempt = 0; }
  const auto d = decode_transition(encode(t));
  REQUIRE(d);
  CHECK(d.value->from == t.from);
  CHECK(d.value->to == t.to);
  CHECK(d.value->at == t.at);
  CHECK(d.value->attempt == t.attempt);
  CHECK(d.value->reason == t.reason);
}

TEST_CASE("a log line round-trips", "[codec]") {
  const log_line l{.at = at_ms(1'700'000'000'500), .level = log_level::critical,
                   .message = "disk full\nretrying", .component = "tool"};
  const auto d = decode_log(encode(l));
  REQUIRE(d);
  CHECK(d.value->at == l.at);
  CHECK(d.value->level == l.level);
  CHECK(d.value->message == l.message);
  CHECK(d.value->component == l.component);
}

TEST_CASE("an event of each kind round-trips", "[codec]") {
  event e;
  e.seq = 0xFFFF'FFFF'0000'0001ull;
  e.job_id = "01J9Z8Q4K5";
  e.at = at_ms(1'700'000'000'777);
  e.tool = "render";
  SECTION("transition") {
    e.kind = event_kind::transition;
    e.from = job_status::pending;
    e.to = job_status::running;
    e.attempt = 1;
    e.reason = "started";
  }
  SECTION("progress") {
    e.kind = event_kind::progress;
    e.progress = {.percent = 99.9, .current_step = 9, .total_steps = 10,
                  .step_name = "upload", .estimated_completion = at_ms(1'700'000'001'000)};
  }
  SECTION("log") {
    e.kind = event_kind::log;
    e.level = log_level::warning;
    e.message = "slow disk";
  }
  const auto d = decode_event(encode(e));
  REQUIRE(d);
  const auto& x = *d.value;
  CHECK(x.seq == e.seq);
  CHECK(x.job_id == e.job_id);
  CHECK(x.kind == e.kind);
  CHECK(x.at == e.at);
  CHECK(x.from == e.from);
  CHECK(x.to == e.to);
  CHECK(x.attempt == e.attempt);
  CHECK(x.reason == e.reason);
  CHECK(x.progress == e.progress);
  CHECK(x.level == e.level);
  CHECK(x.message == e.message);
  CHECK(x.tool == e.tool);
}

TEST_CASE("crc32 matches the IEEE check value", "[codec]") {
  CHECK(crc32("123456789") == 0xCBF43926u);
  CHECK(crc32("") == 0u);
  // Longer than one 8-byte slice, with a tail: the sliced loop and the byte
  // loop must agree (values from zlib's crc32).
  CHECK(crc32("The quick brown fox jumps over the lazy dog") == 0x414FA339u);
  CHECK(crc32("12345678") == 0x9AE0DAAFu);
  CHECK(crc32(std::string(1000, 'a')) == 0x9A38DA03u);
}

TEST_CASE("crc32 agrees with a bitwise CRC-32 at every length and alignment", "[codec]") {
  // From 64 bytes on, x86-64 folds 16-byte blocks by carry-less
  // multiplication and leaves the tail to the tables: every length up to
  // past a few folds, at every offset from a 16-byte boundary, must give
  // what the polynomial gives bit by bit.
  const auto bitwise = [](std::string_view bytes) {
    std::uint32_t c = 0xFFFFFFFFu;
    for (const char ch : bytes) {
      c ^= static_cast<unsigned char>(ch);
      for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return c ^ 0xFFFFFFFFu;
  };
  std::string data(1200, '\0');
  std::uint64_t x = 0x9E3779B97F4A7C15u;
  for (auto& ch : data) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    ch = static_cast<char>(x & 0xFF);
  }
  const std::string_view all{data};
  int mismatches = 0;
  for (std::size_t offset = 0; offset < 16; ++offset)
    for (std::size_t n = 0; offset + n <= all.size(); ++n)
      if (crc32(all.substr(offset, n)) != bitwise(all.substr(offset, n))) ++mismatches;
  CHECK(mismatches == 0);
  CHECK(crc32(all) == bitwise(all));
}

TEST_CASE("every single-bit flip of a job record is rejected", "[codec]") {
  const auto good = encode(full_job());
  for (std::size_t i = 0; i < good.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      auto bad = good;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      const auto d = decode_job(bad);
      INFO("byte " << i << " bit " << bit);
      REQUIRE_FALSE(d);
      REQUIRE_FALSE(d.error.empty());
    }
  }
}

TEST_CASE("every truncation of a job record is rejected", "[codec]") {
  const auto good = encode(full_job());
  for (std::size_t n = 0; n < good.size(); ++n) {
    const auto d = decode_job(std::string_view(good).substr(0, n));
    INFO("prefix of " << n << " bytes");
    REQUIRE_FALSE(d);
    REQUIRE_FALSE(d.error.empty());
  }
}

TEST_CASE("a record from a newer format version is refused", "[codec]") {
  auto bytes = encode(full_job());
  bytes[1] = static_cast<char>(bytes[1] + 1);
  const auto d = decode_job(reseal(bytes));
  REQUIRE_FALSE(d);
  CHECK_THAT(d.error, Catch::Contains("newer"));
}

TEST_CASE("an event of format version 1 reads back, its log line from the tool", "[codec]") {
  event e;
  e.seq = 7;
  e.job_id = "j1";
  e.kind = event_kind::log;
  e.at = at_ms(1000);
  e.message = "hello";
  e.tool = "sleep";
  e.component = "engine";
  auto bytes = encode(e);
  // Version 1 had no component (nor the owner of version 3, nor the trace
  // id of version 4): drop the three length-prefixed strings (4 + 6, 4 + 0
  // and 4 + 0 bytes before the CRC) and mark the record as version 1.
  REQUIRE(bytes[1] == 6);  // events gained no field in 5 or 6
  bytes.erase(bytes.size() - 4 - (4 + e.component.size()) - 4 - 4, 4 + e.component.size() + 4 + 4);
  bytes[1] = 1;
  const auto d = decode_event(reseal(bytes));
  REQUIRE(d);
  CHECK(d.value->message == "hello");
  CHECK(d.value->tool == "sleep");
  CHECK(d.value->component == "tool");
  e.component = "engine";
  const auto now = decode_event(encode(e));
  REQUIRE(now);
  CHECK(now.value->component == "engine");
}

TEST_CASE("a record of another type is refused", "[codec]") {
  const auto d = decode_job(encode(log_line{.at = at_ms(0), .level = log_level::info, .message = "hello", .component = "engine"}));
  REQUIRE_FALSE(d);
  CHECK_THAT(d.error, Catch::Contains("not a job record"));
}

TEST_CASE("an out-of-range status is refused", "[codec]") {
  auto bytes = encode(transition{.from = std::nullopt, .to = job_status::failed, .at = at_ms(0), .attempt = 0, .reason = ""});
  // Layout: tag, version, from presence (0), to.
  REQUIRE(bytes[3] == static_cast<char>(job_status::failed));
  bytes[3] = 7;
  const auto d = decode_transition(reseal(bytes));
  REQUIRE_FALSE(d);
  CHECK_THAT(d.error, Catch::Contains("job status 7"));
}

TEST_CASE("a corrupted checksum is reported as such", "[codec]") {
  auto bytes = encode(full_job());
  bytes.back() = static_cast<char>(bytes.back() ^ 0x10);
  const auto d = decode_job(bytes);
  REQUIRE_FALSE(d);
  CHECK(d.error == "checksum mismatch");
}

TEST_CASE("trailing bytes after the last field are refused", "[codec]") {
  auto bytes = encode(log_line{.at = at_ms(0), .level = log_level::info, .message = "hello", .component = "engine"});
  bytes.insert(bytes.size() - 4, "xx");
  const auto d = decode_log(reseal(bytes));
  REQUIRE_FALSE(d);
  CHECK_THAT(d.error, Catch::Contains("unexpected bytes"));
}

TEST_CASE("a string length past the end is refused", "[codec]") {
  auto bytes = encode(log_line{.at = at_ms(0), .level = log_level::info, .message = "hello", .component = "engine"});
  // Layout: tag, version, at (8), level, then the message length.
  bytes[11 + 3] = 0x7F;
  const auto d = decode_log(reseal(bytes));
  REQUIRE_FALSE(d);
  CHECK_THAT(d.error, Catch::Contains("overruns"));
}

TEST_CASE("batch records and cache entries round-trip and reject corruption", "[codec]") {
  using namespace overseer::persistence;
  const auto t = overseer::time_point(std::chrono::milliseconds(1'700'000'000'123));
  batch_record b{"batch_01M880PHE1F1GN54T6TES72772", "nightly", {"job_a", "job_b"}, 2, true, t, true};
  auto bytes = encode(b);
  auto back = decode_batch(bytes);
  REQUIRE(back);
  CHECK(*back.value == b);
  bytes[bytes.size() / 2] ^= 0x10;
  CHECK_FALSE(decode_batch(bytes));

  cache_entry c{"job_a", "sleep", t, t + std::chrono::hours(24), 1234};
  auto cbytes = encode(c);
  auto cback = decode_cache_entry(cbytes);
  REQUIRE(cback);
  CHECK(*cback.value == c);
  CHECK_FALSE(decode_batch(cbytes));  // a cache entry is not a batch
  cbytes.pop_back();
  CHECK_FALSE(decode_cache_entry(cbytes));
}
