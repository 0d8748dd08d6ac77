// Stored files on disk and their metadata rows (include/overseer/files.hpp).
//
// Bytes: DATA_DIR/files/<file id>, mode 0444, written once under
// DATA_DIR/files/tmp and renamed into place after an fsync. Metadata: the
// `index` family, key "file:<file id>", value a JSON object (not the job
// codec: a file is not a job). Uploads in progress live in files/tmp only;
// whatever is found there at start is a partial upload and is removed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "overseer/files.hpp"
#include "persistence/group_commit.hpp"
#include "persistence/store.hpp"

namespace overseer::persistence::files {

inline constexpr std::string_view key_prefix = "file:";

/// Incremental SHA-256 (OpenSSL's libcrypto).
class sha256 {
public:
  sha256();
  ~sha256();
  sha256(const sha256&) = delete;
  sha256& operator=(const sha256&) = delete;
  sha256(sha256&&) noexcept;
  sha256& operator=(sha256&&) noexcept;
  void update(const void* data, std::size_t size);
  /// 64 lowercase hex digits; the object is spent afterwards.
  [[nodiscard]] std::string hex();

private:
  struct ctx;
  std::unique_ptr<ctx> ctx_;
};

[[nodiscard]] std::string new_file_id();
[[nodiscard]] bool looks_like_file_id(std::string_view id) noexcept;

[[nodiscard]] std::filesystem::path files_dir(const std::filesystem::path& data_dir);
[[nodiscard]] std::filesystem::path temp_dir(const std::filesystem::path& data_dir);
/// Where a stored file's bytes are; valid only for looks_like_file_id ids.
[[nodiscard]] std::filesystem::path stored_path(const std::filesystem::path& data_dir, std::string_view id);

/// Creates files/ and files/tmp, and removes everything in files/tmp (partial
/// uploads of an earlier run). Throws std::filesystem::filesystem_error.
void prepare_dirs(const std::filesystem::path& data_dir);

/// A new temporary file in files/tmp, opened for writing (O_EXCL, 0600).
/// Returns its descriptor and path; throws std::system_error.
[[nodiscard]] int open_temp(const std::filesystem::path& data_dir, std::filesystem::path& path);

/// The free space a new stored file (an upload, a tool's output) must leave
/// on the data directory's file system: twice the store's reserve
/// (`min_free_bytes`), so that the store keeps a reserve's worth of room
/// above its own fail-stop point. 0 when the reserve is off.
[[nodiscard]] constexpr std::uint64_t keep_free(std::uint64_t min_free_bytes) noexcept {
  return min_free_bytes > UINT64_MAX / 2 ? UINT64_MAX : 2 * min_free_bytes;
}
/// Why `length` more bytes in `data_dir` would leave less than `keep_free`
/// free (nullopt when they fit, or when keep_free is 0).
[[nodiscard]] std::optional<std::string> space_error(const std::filesystem::path& data_dir, std::uint64_t length,
                                                     std::uint64_t keep_free);
/// "the data directory's file system has F free, and a file must leave K ...".
[[nodiscard]] std::string space_text(std::uint64_t free, std::uint64_t keep_free);

/// Makes a complete temporary file the stored file `id`: fsync, chmod 0444,
/// rename into files/, fsync of files/. Throws std::system_error; the temp
/// file is removed on failure.
void install(const std::filesystem::path& data_dir, const std::filesystem::path& temp, std::string_view id);

struct copied {
  std::filesystem::path temp;
  std::uint64_t size = 0;
  std::string sha256;
};
/// Copies `source` (a regular file; symlinks followed) into files/tmp,
/// hashing it on the way. Throws std::system_error, and std::runtime_error
/// when the copy would leave less than `keep_free` free.
[[nodiscard]] copied copy_in(const std::filesystem::path& data_dir, const std::filesystem::path& source,
                             std::uint64_t keep_free = 0);

[[nodiscard]] std::string key(std::string_view id);
[[nodiscard]] std::string encode(const file_info& f);
[[nodiscard]] std::optional<file_info> decode(std::string_view value);
/// The put of `f`'s metadata row / the erase of file `id`'s.
[[nodiscard]] job_write put_row(const file_info& f);
[[nodiscard]] job_write erase_row(std::string_view id);

/// The metadata of `id`, if stored (throws like the store's reads).
[[nodiscard]] std::optional<file_info> get(const store& db, std::string_view id);
/// Every stored file, newest first, starting after `cursor` (an id; empty:
/// the newest); `fn` returns false to stop.
void scan_newest_first(const store& db, std::string_view cursor, const std::function<bool(file_info&&)>& fn);

/// Whether the params of a job (their JSON text) name file `id`: a string
/// value anywhere in them equal to the id. Ids are unique random strings, so
/// this needs no tool schema, and it holds for a job whose tool is gone.
[[nodiscard]] bool params_use(std::string_view params_json, std::string_view id);

}  // namespace overseer::persistence::files
