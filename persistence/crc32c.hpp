// RocksDB's CRC-32C, with the CPU's crc32 instruction.
//
// RocksDB checksums every write-ahead-log record it writes or replays (and
// every block of its table files) with rocksdb::crc32c::Extend. Debian's
// librocksdb is built for baseline x86-64, without SSE4.2, so Extend always
// runs its table-driven fallback, even on CPUs that have the crc32
// instruction: perf put 3.9 % of the daemon's CPU there under a stream of
// no-op jobs (docs/performance.md). RocksDB chooses its implementation
// once, in a file-static pointer, and offers no way to choose another.
//
// So where the build links RocksDB statically and its Extend exists with
// the expected signature, the link redirects RocksDB's own calls to Extend
// here (`-Wl,--wrap`, set by CMakeLists.txt after a configure-time check):
// crc32c.cpp computes the same CRC-32C (Castagnoli) with `crc32q` when the
// CPU has SSE4.2, and calls RocksDB's original otherwise. The values are the
// same bit for bit, so write-ahead logs and table files written either way
// read either way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace overseer::persistence {

/// Which CRC-32C RocksDB's checksums use in this process: "sse4.2" (this
/// file's, with the crc32 instruction) or "rocksdb" (RocksDB's own: the
/// build did not redirect it, or the CPU has no SSE4.2). Named by
/// overseer_build_info and overseerd's "listening" log line.
[[nodiscard]] std::string_view crc32c_implementation() noexcept;

/// Whether this CPU has the crc32 instruction (SSE4.2).
[[nodiscard]] bool crc32c_in_hardware() noexcept;

/// The CRC-32C of `size` bytes at `data`, continuing `crc` (the CRC-32C of
/// what came before; 0 for none): rocksdb::crc32c::Extend's contract.
/// Uses the crc32 instruction when the CPU has it, whatever the build.
[[nodiscard]] std::uint32_t crc32c_extend(std::uint32_t crc, const char* data, std::size_t size) noexcept;

}  // namespace overseer::persistence
