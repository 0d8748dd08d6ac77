#include "persistence/crc32c.hpp"

#include <catch2/catch.hpp>

#include <random>
#include <string>

// RocksDB's own entry point; in this test program the link sends it to
// persistence/link/rocksdb_crc32c.cpp where the build could (CMakeLists.txt).
namespace rocksdb::crc32c {
std::uint32_t Extend(std::uint32_t crc, const char* data, std::size_t size);
}

#if OVERSEER_TEST_CRC32C_WRAPPED
// RocksDB's original, table-driven Extend, under the name --wrap gives it.
extern "C" std::uint32_t rocksdb_original_extend(std::uint32_t, const char*, std::size_t)
    __asm__("__real__ZN7rocksdb6crc32c6ExtendEjPKcm");
#endif

using overseer::persistence::crc32c_extend;

namespace {

// CRC-32C the slow way, one bit at a time: the reference for both.
std::uint32_t bitwise(std::uint32_t crc, const std::string& bytes, std::size_t from, std::size_t size) {
  std::uint32_t c = ~crc;
  for (std::size_t i = from; i < from + size; ++i) {
    c ^= static_cast<unsigned char>(bytes[i]);
    for (int k = 0; k < 8; ++k) c = (c & 1u) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
  }
  return ~c;
}

std::string random_bytes(std::size_t n, std::uint32_t seed) {
  std::mt19937 gen{seed};
  std::string s(n, '\0');
  for (auto& ch : s) ch = static_cast<char>(gen() & 0xFF);
  return s;
}

}  // namespace

TEST_CASE("crc32c matches the Castagnoli check values", "[crc32c]") {
  const std::string nine = "123456789";
  CHECK(crc32c_extend(0, nine.data(), nine.size()) == 0xE3069283u);
  CHECK(rocksdb::crc32c::Extend(0, nine.data(), nine.size()) == 0xE3069283u);
  CHECK(crc32c_extend(0, nullptr, 0) == 0u);
  // RFC 3720 B.4: 32 bytes of zeros, of 0xFF.
  const std::string zeros(32, '\0'), ones(32, '\xFF');
  CHECK(crc32c_extend(0, zeros.data(), zeros.size()) == 0x8A9136AAu);
  CHECK(crc32c_extend(0, ones.data(), ones.size()) == 0x62A8AB43u);
}

TEST_CASE("crc32c agrees with the bitwise CRC at every length, alignment and starting value", "[crc32c]") {
  const auto bytes = random_bytes(600, 7);
  for (std::size_t from = 0; from < 9; ++from)
    for (std::size_t size = 0; size + from <= 530; size += (size < 40 ? 1 : 37)) {
      for (const std::uint32_t start : {0u, 0xFFFFFFFFu, 0x12345678u}) {
        const auto want = bitwise(start, bytes, from, size);
        INFO("from " << from << ", size " << size << ", start " << start);
        CHECK(crc32c_extend(start, bytes.data() + from, size) == want);
        CHECK(rocksdb::crc32c::Extend(start, bytes.data() + from, size) == want);
      }
    }
  // Extend continues a CRC: in two pieces as in one.
  const auto whole = crc32c_extend(0, bytes.data(), bytes.size());
  for (std::size_t cut : {0, 1, 7, 8, 9, 300, 599, 600})
    CHECK(crc32c_extend(crc32c_extend(0, bytes.data(), cut), bytes.data() + cut, bytes.size() - cut) == whole);
}

#if OVERSEER_TEST_CRC32C_WRAPPED
TEST_CASE("RocksDB's checksums go to the crc32 instruction and equal RocksDB's own, bit for bit", "[crc32c]") {
  // Equal values: write-ahead logs and table files written by either read
  // with the other (an older data directory, a host without the wrap).
  std::mt19937 gen{11};
  for (int i = 0; i < 2000; ++i) {
    const auto size = static_cast<std::size_t>(gen() % 4096);
    const auto bytes = random_bytes(size + 8, static_cast<std::uint32_t>(i));
    const auto from = static_cast<std::size_t>(gen() % 8);
    const auto start = static_cast<std::uint32_t>(gen());
    INFO("size " << size << ", from " << from);
    REQUIRE(rocksdb::crc32c::Extend(start, bytes.data() + from, size) ==
            rocksdb_original_extend(start, bytes.data() + from, size));
  }
  if (__builtin_cpu_supports("sse4.2")) CHECK(overseer::persistence::crc32c_implementation() == "sse4.2");
  else CHECK(overseer::persistence::crc32c_implementation() == "rocksdb");
}
#endif
