#include "metrics/process_metrics.hpp"

#include "persistence/crc32c.hpp"

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>

#include <dlfcn.h>
#include <unistd.h>

#ifndef OVERSEER_VERSION
#define OVERSEER_VERSION "unknown"
#endif

namespace overseer::metrics {

namespace fs = std::filesystem;

std::string_view version() noexcept { return OVERSEER_VERSION; }

std::string_view allocator() noexcept {
  static const std::string name = [] {
    // jemalloc's own entry point; the C library has no such symbol.
    using mallctl_fn = int (*)(const char*, void*, std::size_t*, void*, std::size_t);
    auto* mallctl = reinterpret_cast<mallctl_fn>(::dlsym(RTLD_DEFAULT, "mallctl"));
    if (mallctl == nullptr) return std::string{"libc"};
    const char* v = nullptr;
    std::size_t len = sizeof v;
    if (mallctl("version", static_cast<void*>(&v), &len, nullptr, 0) != 0 || v == nullptr)
      return std::string{"jemalloc"};
    const std::string_view full{v};  // "5.3.0-0-g54eaed1d8b56b1aa528be3bdd1877e59c56fa90c"
    return "jemalloc " + std::string{full.substr(0, full.find('-'))};
  }();
  return name;
}

namespace {

/// Fields 14 (utime), 15 (stime) and 22 (starttime) of /proc/self/stat, in
/// clock ticks. The second field (comm) may hold spaces: parse after its ')'.
bool read_stat(double& cpu_seconds, double& start_seconds) {
  std::ifstream in{"/proc/self/stat"};
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream rest{text.substr(close + 2)};
  std::string field;
  unsigned long long utime = 0, stime = 0, start = 0;
  // After comm: field 3 is state; utime is field 14, stime 15, starttime 22.
  for (int i = 3; i <= 22 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    else if (i == 15) stime = std::stoull(field);
    else if (i == 22) start = std::stoull(field);
  }
  const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  if (tick <= 0) return false;
  cpu_seconds = static_cast<double>(utime + stime) / tick;
  // starttime counts from boot; boot time is btime in /proc/stat.
  std::ifstream st{"/proc/stat"};
  for (std::string line; std::getline(st, line);)
    if (line.starts_with("btime ")) {
      start_seconds = std::stod(line.substr(6)) + static_cast<double>(start) / tick;
      return true;
    }
  start_seconds = 0;
  return true;
}

}  // namespace

void collect_process(exposition& out, const fs::path& data_dir) {
  out.family("overseer_build_info", "Always 1; the labels name the build.", "gauge");
  out.sample("overseer_build_info",
             {{"version", version()}, {"allocator", allocator()}, {"crc32c", persistence::crc32c_implementation()}},
             std::uint64_t{1});

  std::ifstream statm{"/proc/self/statm"};
  unsigned long long pages = 0, resident = 0;
  if (statm >> pages >> resident) {
    out.family("overseer_process_resident_memory_bytes", "Resident set size of the process.", "gauge");
    out.sample("overseer_process_resident_memory_bytes", {},
               static_cast<std::uint64_t>(resident) * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)));
  }
  try {
    double cpu = 0, start = 0;
    if (read_stat(cpu, start)) {
      out.family("overseer_process_cpu_seconds_total", "User and system CPU time of the process.", "counter");
      out.sample("overseer_process_cpu_seconds_total", {}, cpu);
      if (start > 0) {
        out.family("overseer_process_start_time_seconds", "When the process started, in Unix seconds.", "gauge");
        out.sample("overseer_process_start_time_seconds", {}, start);
      }
    }
  } catch (const std::exception&) {
    // An unexpected /proc format: the CPU figures are left out.
  }
  std::error_code ec;
  std::uint64_t fds = 0;
  for (fs::directory_iterator it{"/proc/self/fd", ec}, end; !ec && it != end; it.increment(ec)) ++fds;
  if (!ec) {
    out.family("overseer_process_open_fds", "Open file descriptors of the process.", "gauge");
    out.sample("overseer_process_open_fds", {}, fds);
  }
  // The RocksDB files (tables, WALs, manifests) at the top of the data
  // directory; work/ is the tools', not the store's.
  std::uint64_t bytes = 0;
  ec.clear();
  for (fs::directory_iterator it{data_dir, ec}, end; !ec && it != end; it.increment(ec)) {
    std::error_code size_ec;
    if (it->is_regular_file(size_ec)) {
      const auto n = it->file_size(size_ec);
      if (!size_ec) bytes += n;
    }
  }
  if (!ec) {
    out.family("overseer_store_disk_bytes", "Bytes of the store's files in the data directory (work/ excluded).",
               "gauge");
    out.sample("overseer_store_disk_bytes", {}, bytes);
  }
}

}  // namespace overseer::metrics
