// The engine's stored files (include/overseer/files.hpp): uploads made
// durable, lookups, listing, deletion with the in-use rule, and the sweep of
// job outputs whose job retention has deleted.
//
// Threads. commit_upload_async and remove_async return at once: the fsync,
// the rename and the unlink run on the service's own worker thread, the row
// through the group-commit writer, and `done` runs on the writer thread (or
// the worker's, for a failure found there). add() and sweep() block; get()
// and list() read the store on the caller's thread.
//
// In use. A file is in use while a job that is pending, running or
// retrying names it in its params, and from a submit's check until the
// submit is answered (a pin): remove_async refuses it (conflict) and the
// sweep keeps it. Files being removed are refused to submits.
#pragma once

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "overseer/files.hpp"
#include "overseer/result.hpp"
#include "overseer/tool.hpp"
#include "persistence/group_commit.hpp"
#include "persistence/store.hpp"

namespace overseer::actors {

class file_service {
public:
  /// Prepares DATA_DIR/files (removing partial uploads) and starts the worker.
  /// A file added from a path must leave `keep_free` bytes free
  /// (persistence::files::keep_free; 0: no check).
  file_service(persistence::store& db, persistence::group_commit& writer, std::filesystem::path data_dir,
               std::uint64_t keep_free = 0);
  ~file_service();  ///< runs what is queued, then stops the worker
  file_service(const file_service&) = delete;
  file_service& operator=(const file_service&) = delete;

  void commit_upload_async(file_upload up, std::function<void(result<file_info>)> done);
  /// Copies `source` in and stores it. Blocks.
  result<file_info> add(const std::filesystem::path& source, std::string name, std::string owner,
                        std::string job_id = {});
  [[nodiscard]] result<file_info> get(std::string_view id) const;
  [[nodiscard]] file_list_result list(const file_list_query& q) const;
  void remove_async(std::string id, std::function<void(result<void>)> done);

  /// Pins the files `ids` (each must exist and not be being removed) until
  /// unpin; false with the first missing id in `missing`.
  bool pin(const std::vector<std::string>& ids, std::string& missing);
  void unpin(const std::vector<std::string>& ids);
  /// Deletes output files whose job no longer exists and that nothing uses.
  /// Blocks; returns how many.
  std::size_t sweep();

  [[nodiscard]] const std::filesystem::path& data_dir() const noexcept { return data_dir_; }

private:
  void post(std::function<void()> task);
  void run();
  /// Why `id` may not be removed now, if it may not. Under mutex_.
  [[nodiscard]] std::optional<std::string> in_use(const std::string& id) const;
  bool commit(persistence::job_write w);

  persistence::store& db_;
  persistence::group_commit& writer_;
  std::filesystem::path data_dir_;
  std::uint64_t keep_free_ = 0;
  mutable std::mutex mutex_;
  std::map<std::string, int> pins_;
  std::set<std::string> removing_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::thread worker_;
};

/// The ids of the params of type "file" in `params` (validated params of a
/// tool with `schema`).
[[nodiscard]] std::vector<std::string> file_params(const boost::json::object& schema,
                                                   const boost::json::object& params);

/// A completed attempt's `result` with the tool's output files (the regular
/// files under `workdir` matching `patterns`) stored as files of `job_id`
/// owned by `owner` and listed in it as "files" (a result that is not an
/// object is wrapped: {"value": result, "files": [...]}). Blocks until the
/// files' rows are durable; throws std::runtime_error if one cannot be
/// stored (those stored before it stay, owned by the job), or one would
/// leave less than `keep_free` bytes free (persistence::files::keep_free).
[[nodiscard]] tool_result with_output_files(persistence::store& db, persistence::group_commit& writer,
                                            const std::filesystem::path& data_dir,
                                            const std::filesystem::path& workdir,
                                            const std::vector<std::string>& patterns, const std::string& job_id,
                                            const std::string& owner, tool_result result,
                                            std::uint64_t keep_free = 0);

}  // namespace overseer::actors
