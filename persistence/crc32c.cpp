#include "persistence/crc32c.hpp"

#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

// Defined only in programs linked with persistence/link/rocksdb_crc32c.cpp.
extern "C" bool overseer_crc32c_wraps_rocksdb() noexcept __attribute__((weak));

namespace overseer::persistence {

namespace {

/// The reflected Castagnoli polynomial, bit by bit: for CPUs without SSE4.2.
std::uint32_t extend_bitwise(std::uint32_t crc, const char* data, std::size_t size) noexcept {
  std::uint32_t c = ~crc;
  for (std::size_t i = 0; i < size; ++i) {
    c ^= static_cast<unsigned char>(data[i]);
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
  }
  return ~c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) std::uint32_t extend_sse42(std::uint32_t crc, const char* data,
                                                             std::size_t size) noexcept {
  std::uint64_t c = ~crc;
  // Bytes up to an 8-byte boundary, then 8 at a time, then the tail.
  while (size > 0 && (reinterpret_cast<std::uintptr_t>(data) & 7u) != 0) {
    c = _mm_crc32_u8(static_cast<std::uint32_t>(c), static_cast<unsigned char>(*data++));
    --size;
  }
  for (; size >= 8; data += 8, size -= 8) {
    std::uint64_t word;
    std::memcpy(&word, data, sizeof word);
    c = _mm_crc32_u64(c, word);
  }
  for (; size > 0; --size) c = _mm_crc32_u8(static_cast<std::uint32_t>(c), static_cast<unsigned char>(*data++));
  return ~static_cast<std::uint32_t>(c);
}

#endif

}  // namespace

bool crc32c_in_hardware() noexcept {
#if defined(__x86_64__)
  // On first use, not in a static initializer: RocksDB may checksum before
  // this file's initializers have run, and libgcc's own may not have run.
  static const bool sse42 = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2") != 0;
  }();
  return sse42;
#else
  return false;
#endif
}

std::uint32_t crc32c_extend(std::uint32_t crc, const char* data, std::size_t size) noexcept {
#if defined(__x86_64__)
  if (crc32c_in_hardware()) return extend_sse42(crc, data, size);
#endif
  return extend_bitwise(crc, data, size);
}

std::string_view crc32c_implementation() noexcept {
  const bool wrapped = overseer_crc32c_wraps_rocksdb != nullptr && overseer_crc32c_wraps_rocksdb();
  return wrapped && crc32c_in_hardware() ? "sse4.2" : "rocksdb";
}

}  // namespace overseer::persistence
