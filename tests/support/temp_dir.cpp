#include "support/temp_dir.hpp"

#include <linux/magic.h>
#include <sys/statfs.h>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <system_error>

namespace overseer::test {

temp_dir::temp_dir() : temp_dir(std::filesystem::temp_directory_path()) {}

temp_dir::temp_dir(const std::filesystem::path& base) {
  std::string pattern = (base / "overseer-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr)
    throw std::runtime_error("mkdtemp failed for " + pattern);
  path_ = pattern;
}

temp_dir::~temp_dir() {
  std::error_code ignored;  // best effort: a leftover temp dir is harmless
  std::filesystem::remove_all(path_, ignored);
}

std::filesystem::path fast_sync_base() {
  const std::filesystem::path shm{"/dev/shm"};
  struct statfs fs {};
  if (::statfs(shm.c_str(), &fs) != 0 || fs.f_type != TMPFS_MAGIC) return {};
  // The daemon's own floor (--min-free-space, 64 MiB) and a margin.
  if (static_cast<unsigned long long>(fs.f_bavail) * static_cast<unsigned long long>(fs.f_bsize) < (256ULL << 20))
    return {};
  return shm;
}

}  // namespace overseer::test
