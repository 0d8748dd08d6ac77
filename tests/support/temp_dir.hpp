// A fresh directory under the system temp dir (or under `base`), removed
// with its contents.
#pragma once

#include <filesystem>

namespace overseer::test {

class temp_dir {
public:
  temp_dir();
  explicit temp_dir(const std::filesystem::path& base);
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

private:
  std::filesystem::path path_;
};

/// A directory on tmpfs, whose fsync returns at once, with room for a
/// daemon's store (/dev/shm on Linux); empty when there is none. For tests
/// of what the threads do while a write syncs, not of the disk.
[[nodiscard]] std::filesystem::path fast_sync_base();

}  // namespace overseer::test
