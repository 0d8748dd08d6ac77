// Stored files: inputs uploaded for jobs and the output files of exec tools
// (docs/api.md, "Files"; docs/tools.md, "File params and outputs").
//
// A file's bytes live in DATA_DIR/files/<id>, read-only (0444), written
// once; its metadata is a row of the store (docs/architecture.md, "Storage
// layout"). A file is acknowledged only once its bytes are fsynced, renamed
// into place and its row is durable. A file that a pending, running or
// retrying job uses (a param of type "file") is never deleted.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "overseer/job.hpp"

namespace overseer {

struct file_info {
  std::string id{};      ///< "file_" + a 26-character ULID
  std::string name{};    ///< any UTF-8 the uploader gave; not a path
  std::uint64_t size = 0;
  std::string sha256{};  ///< 64 lowercase hex digits
  time_point created_at{};
  std::string owner{};   ///< the principal it belongs to; empty: none
  std::string job_id{};  ///< the job whose output it is; empty for an upload
};

struct file_list_query {
  /// Only files of this principal; none: every owner.
  std::optional<std::string> owner{};
  /// Files older than this id (the previous page's next_cursor); empty: from the newest.
  std::string cursor{};
  std::size_t limit = 100;
};

struct file_list_result {
  std::vector<file_info> files{};  ///< newest first
  std::string next_cursor{};       ///< empty on the last page
};

/// An upload written to a temporary file under DATA_DIR/files/tmp, complete
/// but not yet synced (engine::commit_upload_async takes it from there).
struct file_upload {
  std::string temp_path{};
  std::string name{};
  std::uint64_t size = 0;
  std::string sha256{};
  std::string owner{};
};

}  // namespace overseer
