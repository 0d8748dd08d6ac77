// Linked only into the programs this project ships, measures and tests
// (overseerd, overseer_demo, overseer_bench, the unit and recovery tests),
// together with `-Wl,--wrap=_ZN7rocksdb6crc32c6ExtendEjPKcm`: see
// persistence/crc32c.hpp. The link then sends RocksDB's calls to
// rocksdb::crc32c::Extend(uint32_t, const char*, size_t) to the first
// function below; the second name is RocksDB's own Extend. Kept out of
// overseer::engine, so a program that links the engine without the wrap
// never meets these names.
#include "persistence/crc32c.hpp"

extern "C" std::uint32_t overseer_rocksdb_crc32c_real(std::uint32_t, const char*, std::size_t) noexcept
    __asm__("__real__ZN7rocksdb6crc32c6ExtendEjPKcm");
extern "C" std::uint32_t overseer_rocksdb_crc32c_wrap(std::uint32_t crc, const char* data,
                                                      std::size_t size) noexcept
    __asm__("__wrap__ZN7rocksdb6crc32c6ExtendEjPKcm");
extern "C" bool overseer_crc32c_wraps_rocksdb() noexcept;

extern "C" std::uint32_t overseer_rocksdb_crc32c_wrap(std::uint32_t crc, const char* data,
                                                      std::size_t size) noexcept {
  // Without SSE4.2, RocksDB's table-driven version beats the bitwise one.
  if (overseer::persistence::crc32c_in_hardware()) return overseer::persistence::crc32c_extend(crc, data, size);
  return overseer_rocksdb_crc32c_real(crc, data, size);
}

extern "C" bool overseer_crc32c_wraps_rocksdb() noexcept { return true; }
