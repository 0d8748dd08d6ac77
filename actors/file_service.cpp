#include "actors/file_service.hpp"

#include <optional>
#include <string>
#include <system_error>

#include "actors/await_callback.hpp"
#include "overseer/errc.hpp"
#include "persistence/file_store.hpp"
#include "persistence/key_layout.hpp"
#include "tools/output_files.hpp"
#include "tools/thread_name.hpp"
#include "tools/utf8.hpp"

namespace overseer::actors {

namespace fs = std::filesystem;
namespace files = persistence::files;

file_service::file_service(persistence::store& db, persistence::group_commit& writer, fs::path data_dir,
                           std::uint64_t keep_free)
  : db_(db), writer_(writer), data_dir_(std::move(data_dir)), keep_free_(keep_free) {
  try {
    files::prepare_dirs(data_dir_);
    // Bytes whose row was never written (a crash between the rename and the
    // commit) or whose row was erased (a crash before the unlink).
    for (const auto& e : fs::directory_iterator(files::files_dir(data_dir_))) {
      const auto name = e.path().filename().string();
      if (files::looks_like_file_id(name) && !files::get(db_, name)) {
        std::error_code ignored;
        fs::remove(e.path(), ignored);
      }
    }
  } catch (const std::system_error& e) {
    // A full disk or a read-only one: the start fails with the reason, as
    // the store's own open does.
    throw error{errc::store_failure, std::string{"cannot prepare the files directory: "} + e.what()};
  }
  worker_ = std::thread([this] {
    tools::name_this_thread("ovs.files");
    run();
  });
}

file_service::~file_service() {
  {
    std::lock_guard lock{mutex_};
    stopping_ = true;
  }
  cv_.notify_all();
  worker_.join();
}

void file_service::post(std::function<void()> task) {
  {
    std::lock_guard lock{mutex_};
    tasks_.push_back(std::move(task));
  }
  cv_.notify_one();
}

void file_service::run() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock{mutex_};
      cv_.wait(lock, [&] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

bool file_service::commit(persistence::job_write w) {
  return await_callback<bool>([&](auto cb) { writer_.write({std::move(w)}, std::move(cb)); }, false);
}

void file_service::commit_upload_async(file_upload up, std::function<void(result<file_info>)> done) {
  post([this, up = std::move(up), done = std::move(done)]() mutable {
    file_info f;
    f.id = files::new_file_id();
    f.name = std::move(up.name);
    f.size = up.size;
    f.sha256 = std::move(up.sha256);
    f.owner = std::move(up.owner);
    f.created_at = std::chrono::time_point_cast<std::chrono::milliseconds>(clock::now());
    try {
      files::install(data_dir_, up.temp_path, f.id);
    } catch (const std::exception& e) {
      return done(failure_info{errc::store_failure, std::string{"the file could not be stored: "} + e.what()});
    }
    // The row is written last: a crash before it leaves bytes without a row
    // (removed at the next start), never a row without bytes.
    writer_.write({files::put_row(f)}, [this, f, done = std::move(done)](bool ok) mutable {
      if (ok) return done(std::move(f));
      std::error_code ignored;
      fs::remove(files::stored_path(data_dir_, f.id), ignored);
      done(failure_info{errc::store_failure, "the file's record could not be made durable"});
    });
  });
}

result<file_info> file_service::add(const fs::path& source, std::string name, std::string owner, std::string job_id) {
  file_info f;
  try {
    auto c = files::copy_in(data_dir_, source, keep_free_);
    f.id = files::new_file_id();
    f.name = std::move(name);
    f.size = c.size;
    f.sha256 = std::move(c.sha256);
    f.owner = std::move(owner);
    f.job_id = std::move(job_id);
    f.created_at = std::chrono::time_point_cast<std::chrono::milliseconds>(clock::now());
    files::install(data_dir_, c.temp, f.id);
  } catch (const std::exception& e) {
    return failure_info{errc::store_failure, std::string{"the file could not be stored: "} + e.what()};
  }
  if (!commit(files::put_row(f))) {
    std::error_code ignored;
    fs::remove(files::stored_path(data_dir_, f.id), ignored);
    return failure_info{errc::store_failure, "the file's record could not be made durable"};
  }
  return f;
}

result<file_info> file_service::get(std::string_view id) const {
  auto f = files::get(db_, id);
  if (!f) return failure_info{errc::not_found, "no file " + std::string{id}};
  return std::move(*f);
}

file_list_result file_service::list(const file_list_query& q) const {
  file_list_result out;
  files::scan_newest_first(db_, q.cursor, [&](file_info&& f) {
    if (q.owner && f.owner != *q.owner) return true;
    if (out.files.size() == q.limit) {
      out.next_cursor = out.files.back().id;
      return false;
    }
    out.files.push_back(std::move(f));
    return true;
  });
  return out;
}

std::optional<std::string> file_service::in_use(const std::string& id) const {
  if (pins_.count(id)) return "a job being submitted uses it";
  if (removing_.count(id)) return "it is being deleted";
  std::optional<std::string> user;
  db_.for_each_unfinished([&](persistence::job_record&& r) {
    if (!user && files::params_use(r.params_json, id))
      user = "job " + r.id + " (" + std::string{to_string(r.status)} + ") uses it";
  });
  return user;
}

void file_service::remove_async(std::string id, std::function<void(result<void>)> done) {
  // A refusal is answered after the lock is released: the callback may
  // call back into this service (another file's deletion, a listing).
  std::optional<failure_info> refused;
  {
    std::lock_guard lock{mutex_};
    if (!files::get(db_, id)) refused = failure_info{errc::not_found, "no file " + id};
    else if (auto why = in_use(id)) refused = failure_info{errc::conflict, "file " + id + " is in use: " + *why};
    else removing_.insert(id);
  }
  if (refused) return done(std::move(*refused));
  writer_.write({files::erase_row(id)}, [this, id, done = std::move(done)](bool ok) mutable {
    if (!ok) {
      {
        std::lock_guard lock{mutex_};
        removing_.erase(id);
      }
      return done(failure_info{errc::store_failure, "the deletion could not be made durable"});
    }
    // The row is gone (durably): the bytes go on the worker, then the
    // answer. A crash in between leaves bytes without a row, which the
    // next start does not serve.
    post([this, id, done = std::move(done)] {
      std::error_code ignored;
      fs::remove(files::stored_path(data_dir_, id), ignored);
      {
        std::lock_guard lock{mutex_};
        removing_.erase(id);
      }
      done(result<void>{});
    });
  });
}

bool file_service::pin(const std::vector<std::string>& ids, std::string& missing) {
  std::lock_guard lock{mutex_};
  for (const auto& id : ids) {
    if (removing_.count(id) || !files::get(db_, id)) {
      missing = id;
      return false;
    }
  }
  for (const auto& id : ids) ++pins_[id];
  return true;
}

void file_service::unpin(const std::vector<std::string>& ids) {
  std::lock_guard lock{mutex_};
  for (const auto& id : ids)
    if (auto it = pins_.find(id); it != pins_.end() && --it->second <= 0) pins_.erase(it);
}

std::size_t file_service::sweep() {
  std::vector<std::string> orphans;
  files::scan_newest_first(db_, {}, [&](file_info&& f) {
    if (!f.job_id.empty() && !db_.get_job(f.job_id)) orphans.push_back(std::move(f.id));
    return true;
  });
  std::size_t removed = 0;
  for (const auto& id : orphans) {
    {
      std::lock_guard lock{mutex_};
      if (in_use(id)) continue;
      removing_.insert(id);
    }
    const bool ok = commit(files::erase_row(id));
    if (ok) {
      std::error_code ignored;
      fs::remove(files::stored_path(data_dir_, id), ignored);
      ++removed;
    }
    std::lock_guard lock{mutex_};
    removing_.erase(id);
  }
  return removed;
}

std::vector<std::string> file_params(const boost::json::object& schema, const boost::json::object& params) {
  std::vector<std::string> out;
  for (const auto& [name, entry] : schema) {
    if (!entry.is_object()) continue;
    const auto* type = entry.get_object().if_contains("type");
    if (!type || !type->is_string() || type->get_string() != "file") continue;
    const auto* v = params.if_contains(name);
    if (v && v->is_string()) out.emplace_back(v->get_string());
  }
  return out;
}

tool_result with_output_files(persistence::store& db, persistence::group_commit& writer, const fs::path& data_dir,
                              const fs::path& workdir, const std::vector<std::string>& patterns,
                              const std::string& job_id, const std::string& owner, tool_result result,
                              std::uint64_t keep_free) {
  (void)db;
  boost::json::array listed;
  for (const auto& rel : tools::find_outputs(workdir, patterns)) {
    auto c = files::copy_in(data_dir, workdir / rel, keep_free);
    file_info f;
    f.id = files::new_file_id();
    f.name = tools::sanitize_utf8(rel);
    f.size = c.size;
    f.sha256 = c.sha256;
    f.owner = owner;
    f.job_id = job_id;
    f.created_at = std::chrono::time_point_cast<std::chrono::milliseconds>(clock::now());
    files::install(data_dir, c.temp, f.id);
    const bool ok = await_callback<bool>([&](auto cb) { writer.write({files::put_row(f)}, std::move(cb)); }, false);
    if (!ok) {
      std::error_code ignored;
      fs::remove(files::stored_path(data_dir, f.id), ignored);
      throw std::runtime_error("the record of output " + f.name + " could not be made durable");
    }
    listed.push_back(boost::json::object{{"name", f.name}, {"file_id", f.id}, {"size", f.size}, {"sha256", f.sha256}});
  }
  boost::json::value v = result.value();
  if (v.is_object()) {
    v.get_object()["files"] = std::move(listed);
    return tool_result{std::move(v)};
  }
  return tool_result{boost::json::object{{"value", std::move(v)}, {"files", std::move(listed)}}};
}

}  // namespace overseer::actors
