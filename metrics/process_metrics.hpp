// The process's own figures for GET /metrics, read from /proc/self at scrape
// time (Linux; elsewhere the families are left out), and the build's version.
#pragma once

#include <filesystem>
#include <string_view>

#include "metrics/exposition.hpp"

namespace overseer::metrics {

/// The version overseerd and the library were built as ("0.1.0").
[[nodiscard]] std::string_view version() noexcept;

/// The allocator malloc resolves to in this process: "jemalloc 5.3.0" when
/// jemalloc is linked (overseerd is, where it was found at build time), else
/// "libc". Asked once, through jemalloc's mallctl if the process has it.
[[nodiscard]] std::string_view allocator() noexcept;

/// overseer_build_info, process RSS, CPU seconds, open fds, start time and
/// the bytes of the data directory's RocksDB files.
void collect_process(exposition& out, const std::filesystem::path& data_dir);

}  // namespace overseer::metrics
