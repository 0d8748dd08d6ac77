#include "persistence/store.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/listener.h>
#include <rocksdb/metadata.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/table_properties.h>
#include <rocksdb/utilities/table_properties_collectors.h>
#include <rocksdb/write_batch.h>

#include "actors/job_id.hpp"
#include "overseer/errc.hpp"
#include "persistence/bounded_iterator.hpp"
#include "persistence/key_layout.hpp"

namespace overseer::persistence {

namespace {

constexpr const char* family_names[family_count] = {
  "jobs", "history", "logs", "results", "index", "events", "meta", "cache", "batches",
  "webhooks", "open_jobs"};

/// The entries of the window in which half deleted marks a table for
/// compaction (see the column family options in the constructor).
constexpr std::size_t deletion_window = 1024;

/// How far before created_after a walk of the job families reads ids an
/// older build made: their created_at was read a few microseconds after
/// their id's millisecond.
constexpr std::int64_t id_time_margin_ms = 1000;

[[noreturn]] void fail(const std::string& what) { throw error{errc::store_failure, what}; }

/// A store of a schema this build does not read.
[[noreturn]] void refuse_version(const std::filesystem::path& dir, const std::string& version) {
  fail("the store at " + dir.string() + " has schema version " + version + ", this build reads version " +
       std::to_string(keys::schema_version) + "; refusing to start rather than misread it");
}

/// Whether `dir` holds files of a RocksDB store (its manifest, tables, WAL
/// or options), with or without the CURRENT file that names the manifest.
bool holds_store_files(const std::filesystem::path& dir) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator{dir, ec}) {
    const auto name = entry.path().filename().string();
    if (name == "CURRENT" || name.starts_with("MANIFEST-") || name.starts_with("OPTIONS-") || name.ends_with(".sst") ||
        name.ends_with(".log"))
      return true;
  }
  return false;
}

/// Refuses a store RocksDB cannot open. Damage found while the WAL is read
/// strictly (not salvaging) says what the operator can do about it.
[[noreturn]] void fail_open(const std::string& dir, const rocksdb::Status& s, const rocksdb::Options& db_opts) {
  if (s.IsCorruption() && db_opts.wal_recovery_mode != rocksdb::WALRecoveryMode::kPointInTimeRecovery)
    fail("cannot open store at " + dir + ": " + s.ToString() +
         ". The store's files are damaged; writes acknowledged after the damage would be lost, so the store is "
         "not opened. Restore the data directory from a backup; or, if the damage is in the write-ahead log "
         "(*.log), start once with --salvage-store to keep what precedes the damage and drop the rest");
  fail("cannot open store at " + dir + ": " + s.ToString());
}

/// The schema version an existing store records, read without writing to
/// it (read-only, the meta family alone): nullopt when it records none.
std::optional<std::string> recorded_schema_version(const rocksdb::Options& db_opts, const std::string& dir) {
  std::vector<std::string> names;
  auto s = rocksdb::DB::ListColumnFamilies(db_opts, dir, &names);
  if (!s.ok()) fail("cannot open store at " + dir + ": " + s.ToString());
  if (std::find(names.begin(), names.end(), "meta") == names.end()) return std::nullopt;
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors{
    {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions{}}, {"meta", rocksdb::ColumnFamilyOptions{}}};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  s = rocksdb::DB::OpenForReadOnly(db_opts, dir, descriptors, &handles, &raw);
  if (!s.ok()) fail_open(dir, s, db_opts);
  std::string version;
  s = raw->Get({}, handles[1], keys::schema_version_key, &version);
  for (auto* h : handles) raw->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  raw->Close().PermitUncheckedError();
  delete raw;
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) fail("cannot read schema version: " + s.ToString());
  return version;
}

/// Reads under one RocksDB snapshot, released however the reads end.
class snapshot_read {
public:
  explicit snapshot_read(rocksdb::DB& db) : db_(db), snap_(db.GetSnapshot()) { options.snapshot = snap_; }
  ~snapshot_read() { db_.ReleaseSnapshot(snap_); }
  snapshot_read(const snapshot_read&) = delete;
  snapshot_read& operator=(const snapshot_read&) = delete;
  rocksdb::ReadOptions options;

private:
  rocksdb::DB& db_;
  const rocksdb::Snapshot* snap_;
};


/// RocksDB's diagnostics, warnings and worse, to the engine's log sink. Its
/// default logger writes a LOG file in the data directory, and Debian's
/// RocksDB asserts when that file is written again after a failed write: on
/// a full disk the next log line, from any RocksDB thread, aborted the
/// process.
class sink_logger final : public rocksdb::Logger {
public:
  explicit sink_logger(log_sink sink) : Logger(rocksdb::InfoLogLevel::WARN_LEVEL), sink_(std::move(sink)) {}
  using Logger::Logv;
  void Logv(const char* format, va_list ap) override { Logv(rocksdb::InfoLogLevel::WARN_LEVEL, format, ap); }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (!sink_ || level < GetInfoLogLevel()) return;
    char line[1024];  // longer lines are cut: a diagnostic, not data
    if (std::vsnprintf(line, sizeof line, format, ap) < 0) return;
    report(sink_, level >= rocksdb::InfoLogLevel::ERROR_LEVEL ? log_level::error : log_level::warning, "rocksdb",
           line);
  }

private:
  log_sink sink_;
};

const char* reason_name(rocksdb::BackgroundErrorReason r) {
  using R = rocksdb::BackgroundErrorReason;
  switch (r) {
    case R::kFlush: return "flush";
    case R::kCompaction: return "compaction";
    case R::kWriteCallback: return "write";
    case R::kMemTable: return "memtable";
    case R::kManifestWrite: return "manifest write";
    case R::kFlushNoWAL: return "flush";
    case R::kManifestWriteNoWAL: return "manifest write";
  }
  return "background job";
}

}  // namespace

std::string format_bytes(std::uint64_t n) {
  const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
  auto v = static_cast<double>(n);
  std::size_t u = 0;
  while (v >= 1024 && u + 1 < std::size(units)) {
    v /= 1024;
    ++u;
  }
  char out[32];
  std::snprintf(out, sizeof out, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return out;
}

struct store::failure_state {
  std::mutex mutex;
  std::optional<std::string> first;
  error_fn fn;

  /// Keeps the first failure and tells the listener (the writer latches).
  void report(const std::string& why) {
    std::lock_guard lock{mutex};
    if (!first) first = why;
    if (fn) fn(why);
  }
};

/// Turns RocksDB's background errors into the store's, and keeps RocksDB
/// from resuming by itself: the engine fail-stops instead, and recovery
/// after the restart starts from the synced WAL.
struct store::listener final : rocksdb::EventListener {
  explicit listener(std::shared_ptr<failure_state> s) : state(std::move(s)) {}
  void OnBackgroundError(rocksdb::BackgroundErrorReason reason, rocksdb::Status* bg_error) override {
    state->report(std::string{"RocksDB "} + reason_name(reason) + " failed: " + bg_error->ToString());
  }
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason, rocksdb::Status, bool* auto_recovery) override {
    *auto_recovery = false;
  }
  std::shared_ptr<failure_state> state;
};

store::store(const options& opts)
  : failures_(std::make_shared<failure_state>()),
    dir_(opts.dir),
    sync_(opts.sync),
    min_free_bytes_(opts.min_free_bytes),
    log_(opts.log) {
  std::error_code ec;
  std::filesystem::create_directories(opts.dir, ec);
  if (ec) fail("cannot create data directory " + opts.dir.string() + ": " + ec.message());
  // Opening replays the WAL into SST files: on a full disk RocksDB would fail
  // halfway, so refuse before it touches anything.
  if (auto why = space_error_at_open()) fail(*why);

  rocksdb::Options db_opts;
  if (opts.env) db_opts.env = opts.env;
  db_opts.info_log = std::make_shared<sink_logger>(opts.log);
  db_opts.listeners.push_back(std::make_shared<listener>(failures_));
  // Retryable I/O errors too end in a fail-stop, not in RocksDB's resume loop.
  db_opts.max_bgerror_resume_count = 0;
  // A new store only in a directory without one: a store that lost its
  // CURRENT file would otherwise be "created" anew over its own files, and
  // the next start would delete them.
  const bool existing = std::filesystem::exists(opts.dir / "CURRENT");
  if (!existing && holds_store_files(opts.dir))
    fail("the store at " + opts.dir.string() +
         " has RocksDB files but no CURRENT file; refusing to create a new store over them (restore CURRENT, "
         "or move the files away to start empty)");
  db_opts.create_if_missing = !existing;
  db_opts.create_missing_column_families = true;
  db_opts.IncreaseParallelism(2);
  // Many small synced batches: let concurrent writers share one WAL sync.
  db_opts.enable_pipelined_write = true;
  // All memtables together, across the column families: without a cap
  // each may hold 2 x 64 MiB before it flushes, which at a million queued
  // jobs was a third of the engine's resident memory.
  db_opts.db_write_buffer_size = memtable_cap_bytes;
  // RocksDB's default (point-in-time) replays the WAL up to the first bad
  // record and silently drops every record after it, acknowledged ones
  // included. Only a torn tail, which a crash leaves and nobody was told
  // of, may be skipped; damage in the middle fails the open (fail-stop)
  // unless the operator salvages. WAL recycling would be taken for damage:
  // it stays off (RocksDB refuses the pair).
  db_opts.wal_recovery_mode = opts.salvage_wal ? rocksdb::WALRecoveryMode::kPointInTimeRecovery
                                               : rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  db_opts.recycle_log_file_num = 0;

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  const std::shared_ptr<rocksdb::TablePropertiesCollectorFactory> deletion_collector =
    rocksdb::NewCompactOnDeletionCollectorFactory(deletion_window, deletion_window / 2, 0.5);
  for (const char* name : family_names) {
    rocksdb::ColumnFamilyOptions cf;
    const std::string_view n{name};
    if (n == "results") cf.compression = rocksdb::kLZ4Compression;
    // A deleted key stays, and every walk over its range steps over it, until
    // a compaction carries the deletion to the family's bottom level, which
    // RocksDB does only when a level outgrows its target. Retention and purge
    // delete runs of old jobs' rows, a delivered webhook deletes its outbox
    // row: a table holding such a run is marked for compaction when it is
    // written (at least half of some 1,024 consecutive entries deleted, or
    // half of all), and RocksDB's background threads compact it soon after.
    // open_jobs is compacted by count instead (compactor.hpp): each
    // of its tables is mostly deletions, and marking each one would compact
    // it at every flush.
    if (n != "open_jobs") cf.table_properties_collector_factories.push_back(deletion_collector);
    descriptors.emplace_back(name, cf);
  }
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions{});

  // A store written by a newer build is refused before this one writes to
  // it: opening it for writing would replay its WAL, rewrite its manifest
  // and bring back any column family the newer layout dropped.
  const auto supported = [](const std::string& v) { return v == "1" || v == std::to_string(keys::schema_version); };
  if (existing)
    if (auto v = recorded_schema_version(db_opts, opts.dir.string()); v && !supported(*v)) refuse_version(opts.dir, *v);

  rocksdb::DB* raw = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  auto s = rocksdb::DB::Open(db_opts, opts.dir.string(), descriptors, &handles, &raw);
  if (!s.ok()) fail_open(opts.dir.string(), s, db_opts);
  if (opts.salvage_wal)
    report(opts.log, log_level::warning, "store",
           "opened to salvage: a write-ahead log damaged in its middle was replayed up to the damage, and "
           "what followed the damage was dropped (nothing, if the log was whole); start without it from now on",
           {{"data_dir", opts.dir.string()}});
  db_.reset(raw);
  handles_.assign(handles.begin(), handles.end());
  // From here a throw leaves no object to destroy: close what is open, or
  // RocksDB aborts on a database deleted with its handles still open.
  try {
    check_schema(opts);
  } catch (...) {
    close();
    throw;
  }
}

void store::check_schema(const options& opts) {
  std::string version;
  auto s = db_->Get({}, handle(family::meta), keys::schema_version_key, &version);
  const bool new_store = s.IsNotFound();
  if (new_store) {
    rocksdb::WriteOptions w;
    w.sync = true;
    s = db_->Put(w, handle(family::meta), keys::schema_version_key,
                 std::to_string(keys::schema_version));
    if (!s.ok()) fail("cannot write schema version: " + s.ToString());
  } else if (!s.ok()) {
    fail("cannot read schema version: " + s.ToString());
  } else if (version == "1") {
    migrate_from_schema_1();
  } else if (version != std::to_string(keys::schema_version)) {
    refuse_version(opts.dir, version);
  }
  load_exact_ids_from(new_store);
}

void store::load_exact_ids_from(bool new_store) {
  std::string from;
  if (found(db_->Get({}, handle(family::meta), keys::exact_ids_from_key, &from), "the exact ids' start")) {
    exact_ids_from_ = std::move(from);
    return;
  }
  // Ids an older build made are followed by their created_at, which may fall
  // a few microseconds later: exact from past both the present millisecond
  // and the greatest id here (ids the clock made before the present one, or
  // after a step back, read a little further, which only costs reads).
  if (!new_store) {
    from = actors::first_job_id_at(
      std::chrono::duration_cast<std::chrono::milliseconds>(clock::now().time_since_epoch()).count() + 1);
    for (auto f : {family::jobs, family::open_jobs}) {
      std::unique_ptr<rocksdb::Iterator> it{db_->NewIterator({}, handle(f))};
      it->SeekToLast();
      check_scan(*it, "the newest job id");
      if (it->Valid() && it->key().ToStringView() >= from) from = it->key().ToString() + '\0';
    }
  }
  rocksdb::WriteOptions w;
  w.sync = true;
  if (auto put = db_->Put(w, handle(family::meta), keys::exact_ids_from_key, from); !put.ok())
    fail("cannot write the exact ids' start: " + put.ToString());
  exact_ids_from_ = std::move(from);
}

void store::migrate_from_schema_1() {
  const auto started = std::chrono::steady_clock::now();
  rocksdb::WriteOptions sync;
  sync.sync = true;
  rocksdb::WriteBatch wb;
  auto flush = [&] {
    if (wb.Count() == 0) return;
    if (auto s = db_->Write(sync, &wb); !s.ok()) fail("migrating the store to schema 2 failed: " + s.ToString());
    wb.Clear();
  };
  // 1. Each job's history rows (keys: id + be64 seq) into its record. The
  //    rows stay until step 3, so a second run rewrites the same records,
  //    each in the family it is in: after a stop in step 2, an unfinished
  //    job's record may be in open_jobs already, and a copy written back
  //    to jobs would list it twice.
  std::size_t jobs = 0;
  {
    std::unique_ptr<rocksdb::Iterator> it{db_->NewIterator({}, handle(family::history))};
    it->SeekToFirst();
    while (it->Valid()) {
      const auto first = it->key().ToStringView();
      if (first.size() <= 8) {
        it->Next();
        continue;
      }
      const std::string id{first.substr(0, first.size() - 8)};
      std::vector<transition> history;
      for (; it->Valid() && it->key().size() == id.size() + 8 && it->key().starts_with(id); it->Next()) {
        auto d = decode_transition(it->value().ToStringView());
        if (d) history.push_back(std::move(*d.value));
        else report_corrupt("history", id, d.error);
      }
      std::string bytes;
      family where = family::open_jobs;
      if (!found(db_->Get({}, handle(family::open_jobs), id, &bytes), "a job being migrated")) {
        where = family::jobs;
        if (!found(db_->Get({}, handle(family::jobs), id, &bytes), "a job being migrated"))
          continue;  // rows of a job that is gone
      }
      auto rec = decode_job(bytes);
      if (!rec) {
        report_corrupt("job", id, rec.error);
        continue;
      }
      rec.value->history = std::move(history);
      wb.Put(handle(where), id, encode(*rec.value)).PermitUncheckedError();
      ++jobs;
      if (wb.Count() >= 1000) flush();
    }
    check_scan(*it, "the history being migrated");
  }
  flush();
  // 2. Unfinished jobs' records move to open_jobs (with the delete of their
  //    status entry, in one batch); completed jobs' status entries go (a
  //    listing of completed jobs walks the jobs family).
  std::size_t entries = 0;
  for (auto s : {job_status::pending, job_status::running, job_status::retrying, job_status::completed}) {
    const auto prefix = keys::status_prefix(s);
    std::unique_ptr<rocksdb::Iterator> it{db_->NewIterator({}, handle(family::index))};
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      const auto key = it->key().ToStringView();
      if (!is_terminal(s)) {
        const auto id = keys::index_job_id(key);
        std::string bytes;
        if (found(db_->Get({}, handle(family::jobs), id, &bytes), "a job being migrated") &&
            [&] { auto d = decode_job(bytes); return d && !is_terminal(d.value->status); }()) {
          wb.Put(handle(family::open_jobs), id, bytes).PermitUncheckedError();
          wb.Delete(handle(family::jobs), id).PermitUncheckedError();
        }
      }
      wb.Delete(handle(family::index), key).PermitUncheckedError();
      ++entries;
      if (wb.Count() >= 1000) flush();
    }
    check_scan(*it, "the status index being migrated");
  }
  flush();
  // 3. The history family emptied, and the new version, together.
  wb.DeleteRange(handle(family::history), std::string{}, std::string(1, '\xff')).PermitUncheckedError();
  wb.Put(handle(family::meta), keys::schema_version_key, std::to_string(keys::schema_version)).PermitUncheckedError();
  flush();
  db_->CompactRange({}, handle(family::history), nullptr, nullptr).PermitUncheckedError();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  report(log_, log_level::info, "store", "migrated the store from schema 1 to 2",
         {{"jobs", std::to_string(jobs)}, {"index_entries", std::to_string(entries)},
          {"took_ms", std::to_string(ms.count())}});
}

store::~store() {
  on_background_error(nullptr);
  close();
}

void store::close() noexcept {
  for (auto* h : handles_) {
    // Closing at shutdown: nothing useful to do with a failure here.
    db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  }
  handles_.clear();
  if (db_) db_->Close().PermitUncheckedError();
  db_.reset();
}

namespace {

/// `have` and `need` as sizes an operator reads, in bytes if they round alike.
std::pair<std::string, std::string> two_sizes(std::uint64_t have, std::uint64_t need) {
  auto a = format_bytes(have), b = format_bytes(need);
  if (a == b) return {std::to_string(have) + " bytes", std::to_string(need) + " bytes"};
  return {a, b};
}

}  // namespace

std::optional<std::uint64_t> free_bytes(int fd, const std::filesystem::path& path) {
  struct statvfs fs {};
  if ((fd >= 0 ? ::fstatvfs(fd, &fs) : ::statvfs(path.c_str(), &fs)) != 0) return std::nullopt;
  // f_bavail, not f_bfree: what an unprivileged writer can still use.
  return static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
}

std::optional<std::string> store::space_error() const {
  if (min_free_bytes_ == 0) return std::nullopt;
  const auto read = free_bytes(-1, dir_);
  if (!read) return "cannot read the free space of " + dir_.string() + ": " + std::strerror(errno);
  const std::uint64_t free = *read;
  if (free >= min_free_bytes_) return std::nullopt;
  const auto [have, need] = two_sizes(free, min_free_bytes_);
  return "free space on the file system of " + dir_.string() + " is " + have + ", below the reserve of " + need +
         " (min_free_bytes, --min-free-space)";
}

std::optional<std::string> store::space_error_at_open() const {
  if (auto why = space_error()) return why;
  if (min_free_bytes_ == 0) return std::nullopt;
  struct statfs fs {};
  if (::statfs(dir_.c_str(), &fs) != 0) return std::nullopt;  // space_error() just read it
  // As statvfs counts it (space_error): f_frsize, else f_bsize.
  const auto unit = static_cast<std::uint64_t>(fs.f_frsize != 0 ? fs.f_frsize : fs.f_bsize);
  const std::uint64_t free = static_cast<std::uint64_t>(fs.f_bavail) * unit;
  // The last run's logs are replayed into table files (about as large as
  // what they hold) and deleted before the new log is first written: only
  // the preallocated space they did not fill comes back.
  std::uint64_t unused = 0;
  std::error_code ec;
  for (std::filesystem::directory_iterator it{dir_, ec}, end; !ec && it != end; it.increment(ec)) {
    const auto name = it->path().filename().string();
    if (name.size() <= 4 || !name.ends_with(".log") ||
        !std::all_of(name.begin(), name.end() - 4, [](char c) { return c >= '0' && c <= '9'; }))
      continue;
    struct stat st {};
    if (::stat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    const auto allocated = static_cast<std::uint64_t>(st.st_blocks) * 512;
    const auto used = static_cast<std::uint64_t>(st.st_size);
    if (allocated > used) unused += allocated - used;
  }
  const std::uint64_t room = free + unused;
  // Short of the whole preallocation, tmpfs gives back what the failed
  // fallocate took (RocksDB goes on without it), while ext4 and XFS keep
  // it: the new log then takes all there is.
  constexpr decltype(fs.f_type) tmpfs_magic = 0x01021994;
  const bool whole = room >= wal_preallocation_bytes;
  const std::uint64_t left = whole ? room - wal_preallocation_bytes : fs.f_type == tmpfs_magic ? room : 0;
  if (left >= min_free_bytes_) return std::nullopt;
  const auto [after, need] = two_sizes(left, min_free_bytes_);
  return "free space on the file system of " + dir_.string() + " is " + format_bytes(free) +
         (unused > 0 ? " (" + format_bytes(room) + " once the last run's write-ahead logs are deleted)" : "") +
         (whole ? "; opening takes " + format_bytes(wal_preallocation_bytes) +
                    " of it at once for a new write-ahead log, which would leave " + after
                : "; opening preallocates " + format_bytes(wal_preallocation_bytes) +
                    " for a new write-ahead log, and this file system keeps what it can of that: it would leave " +
                    after) +
         ", below the reserve of " + need + " (min_free_bytes, --min-free-space)";
}

std::optional<std::string> store::background_error() const {
  std::lock_guard lock{failures_->mutex};
  return failures_->first;
}

void store::on_background_error(error_fn fn) {
  std::lock_guard lock{failures_->mutex};
  failures_->fn = std::move(fn);
}

void store::report_corrupt(std::string_view where, std::string_view key,
                           const std::string& why) const {
  ++corrupt_;
  report(log_, log_level::error, "store", "skipping an unreadable record",
         {{"kind", std::string{where}}, {"key", std::string{key}}, {"error", why}});
}

void store::read_failed(std::string_view what, const rocksdb::Status& s) const {
  const std::string why = "reading " + std::string{what} + " from the store failed: " + s.ToString();
  failures_->report(why);
  throw overseer::error{errc::store_failure, why};
}

bool store::found(const rocksdb::Status& s, std::string_view what) const {
  if (s.ok()) return true;
  if (!s.IsNotFound()) read_failed(what, s);
  return false;
}

void store::check_scan(const rocksdb::Iterator& it, std::string_view what) const {
  if (!it.status().ok()) read_failed(what, it.status());
}

bool store::get_record(const rocksdb::ReadOptions& ro, std::string_view id, std::string& bytes) const {
  // Unfinished first: the smaller family, and the one a poll of a job in
  // flight finds it in.
  return found(db_->Get(ro, handle(family::open_jobs), id, &bytes), "a job") ||
         found(db_->Get(ro, handle(family::jobs), id, &bytes), "a job");
}

std::optional<job_record> store::get_job(std::string_view id, std::string* error) const {
  std::string bytes;
  if (!get_record({}, id, bytes)) {
    // A retry may have moved the record from jobs to open_jobs between the
    // two reads: look again, both under one snapshot.
    snapshot_read snap{*db_};
    if (!get_record(snap.options, id, bytes)) return std::nullopt;
  }
  auto d = decode_job(bytes);
  if (!d) {
    report_corrupt("job", id, d.error);
    if (error) *error = "record of " + std::string{id} + " is unreadable: " + d.error;
    return std::nullopt;
  }
  return std::move(d.value);
}

std::optional<job_record> store::get_job_at(std::string_view id, std::uint64_t& seq) const {
  snapshot_read snap{*db_};
  std::string bytes, next;
  // next_seq is written in every commit's batch, so under one snapshot it
  // matches the record exactly.
  seq = db_->Get(snap.options, handle(family::meta), keys::next_seq_key, &next).ok() && next.size() == 8
          ? keys::read_be64(next) - 1
          : 0;
  if (!get_record(snap.options, id, bytes)) return std::nullopt;
  auto d = decode_job(bytes);
  if (!d) {
    report_corrupt("job", id, d.error);
    return std::nullopt;
  }
  return std::move(d.value);
}

std::optional<std::string> store::get_result(std::string_view id) const {
  auto rec = get_job(id);
  return rec ? result_of(*rec) : std::nullopt;
}

std::optional<std::string> store::result_of(const job_record& rec) const {
  if (rec.result) return rec.result;
  std::string bytes;
  if (!found(db_->Get({}, handle(family::results), rec.id, &bytes), "a result")) return std::nullopt;
  return bytes;
}

std::vector<transition> store::history(std::string_view id) const {
  auto rec = get_job(id);
  return rec ? full_history(*rec) : std::vector<transition>{};
}

std::vector<log_line> store::logs(std::string_view id, log_level min_level, std::size_t limit,
                                  std::size_t offset, std::size_t* total) const {
  std::vector<log_line> out;
  std::size_t matched = 0;
  bounded_iterator it{*db_, handle(family::logs), std::string{id}, keys::job_range_end(id)};
  // A key is the id and an 8-byte sequence: a shorter `id` that is only a
  // prefix of job ids ("", "job_") matches no key, not other jobs' lines.
  for (it->Seek(id); it->Valid() && it->key().starts_with(id); it->Next()) {
    if (it->key().size() != id.size() + 8) continue;
    auto d = decode_log(it->value().ToStringView());
    if (!d) {
      report_corrupt("log", id, d.error);
      continue;
    }
    if (d.value->level < min_level) continue;
    if (matched >= offset && out.size() < limit) out.push_back(std::move(*d.value));
    ++matched;
  }
  check_scan(*it, "a job's logs");
  if (total) *total = matched;
  return out;
}

void store::for_each_with_status(job_status s,
                                 const std::function<void(job_record&&)>& fn) const {
  if (!is_terminal(s)) {
    for_each_unfinished([&](job_record&& r) {
      if (r.status == s) fn(std::move(r));
    });
    return;
  }
  const auto prefix = keys::status_entry_prefix(s);
  if (!prefix) {  // completed jobs have no entries: the jobs family, filtered
    std::unique_ptr<rocksdb::Iterator> it{db_->NewIterator({}, handle(family::jobs))};
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      auto d = decode_job(it->value().ToStringView());
      if (!d) report_corrupt("job", it->key().ToStringView(), d.error);
      else if (d.value->status == s) fn(std::move(*d.value));
    }
    check_scan(*it, "the jobs");
    return;
  }
  auto it = bounded_iterator::over_prefix(*db_, handle(family::index), *prefix);
  for (it->Seek(*prefix); it->Valid() && it->key().starts_with(*prefix); it->Next()) {
    auto id = keys::index_job_id(it->key().ToStringView());
    if (auto rec = get_job(id); rec && rec->status == s) fn(std::move(*rec));
  }
  check_scan(*it, "the status index");
}

void store::for_each_unfinished(const std::function<void(job_record&&)>& fn) const {
  std::unique_ptr<rocksdb::Iterator> it{db_->NewIterator({}, handle(family::open_jobs))};
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto d = decode_job(it->value().ToStringView());
    if (!d) report_corrupt("job", it->key().ToStringView(), d.error);
    else fn(std::move(*d.value));
  }
  check_scan(*it, "the unfinished jobs");
}

std::size_t store::count_unfinished_before(std::string_view id, std::size_t cap) const {
  std::size_t n = 0;
  bounded_iterator it{*db_, handle(family::open_jobs), {}, std::string{id}};
  for (it->SeekToFirst(); n < cap && it->Valid() && it->key().compare(id) < 0; it->Next()) ++n;
  check_scan(*it, "the unfinished jobs");
  return n;
}

std::size_t store::count_keys(family f, std::string lower, std::string upper, const rocksdb::Snapshot* snapshot,
                              const char* what) const {
  bounded_iterator it{*db_, handle(f), std::move(lower), std::move(upper), snapshot};
  std::size_t n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
  check_scan(*it, what);
  return n;
}

std::size_t store::count_ids(std::string_view prefix) const {
  if (prefix.empty()) {
    snapshot_read snap{*db_};
    return count_keys(family::open_jobs, {}, {}, snap.options.snapshot, "the unfinished jobs") +
           count_keys(family::jobs, {}, {}, snap.options.snapshot, "the jobs");
  }
  if (prefix == keys::open_jobs_scan) return count_keys(family::open_jobs, {}, {}, nullptr, "the unfinished jobs");
  return count_keys(family::index, std::string{prefix}, keys::prefix_end(prefix), nullptr, "the job list");
}

std::size_t store::count_completed() const {
  snapshot_read snap{*db_};
  auto n = count_keys(family::jobs, {}, {}, snap.options.snapshot, "the jobs");
  for (const auto s : {job_status::failed, job_status::cancelled, job_status::timed_out}) {
    const auto prefix = *keys::status_entry_prefix(s);
    n -= std::min(n, count_keys(family::index, prefix, keys::prefix_end(prefix), snap.options.snapshot,
                                "the status index"));
  }
  return n;
}

void store::scan_ids_newest_first(std::string_view prefix, const std::function<bool(std::string_view)>& fn,
                                  std::optional<time_point> created_after,
                                  std::optional<time_point> created_before) const {
  walk_newest_first(
    prefix, [&](std::string_view id, const std::string_view*) { return fn(id); }, created_after, created_before);
}

void store::scan_jobs_newest_first(std::string_view prefix, const std::function<bool(job_record&&)>& fn,
                                   std::optional<time_point> created_after,
                                   std::optional<time_point> created_before) const {
  // A walk of an index names ids: their records are read a batch at a time
  // (one MultiGet per family under one snapshot), which costs a third of a
  // Get per id. Batches grow 1, 2, 4 ... record_batch, so a page met at
  // once (limit=1) reads one record, and a long walk reads at most one
  // batch past where `fn` stops.
  std::vector<std::string> ids;
  std::size_t batch = 1;
  bool stopped = false;
  const auto flush = [&] {
    if (!ids.empty() && !stopped) stopped = !read_batch(ids, fn);
    ids.clear();
    batch = std::min(batch * 2, record_batch);
    return !stopped;
  };
  walk_newest_first(
    prefix,
    [&](std::string_view id, const std::string_view* record) {
      if (!record) {
        ids.emplace_back(id);
        return ids.size() < batch || flush();
      }
      auto d = decode_job(*record);
      if (!d) {
        report_corrupt("job", id, d.error);
        return true;
      }
      return fn(std::move(*d.value));
    },
    created_after, created_before);
  flush();
}

bool store::read_batch(const std::vector<std::string>& ids, const std::function<bool(job_record&&)>& fn) const {
  // Under one snapshot a job is in exactly one family (or in none, once
  // purged): finished first, the family most listed ids are in.
  snapshot_read snap{*db_};
  const std::size_t n = ids.size();
  std::vector<rocksdb::Slice> keys(ids.begin(), ids.end());
  std::vector<rocksdb::PinnableSlice> values(n);
  std::vector<rocksdb::Status> statuses(n);
  db_->MultiGet(snap.options, handle(family::jobs), n, keys.data(), values.data(), statuses.data());
  std::vector<rocksdb::Slice> open_keys;
  std::vector<std::size_t> open_at;
  for (std::size_t i = 0; i < n; ++i)
    if (!found(statuses[i], "a job")) {
      open_keys.push_back(keys[i]);
      open_at.push_back(i);
    }
  if (!open_keys.empty()) {
    std::vector<rocksdb::PinnableSlice> open_values(open_keys.size());
    std::vector<rocksdb::Status> open_statuses(open_keys.size());
    db_->MultiGet(snap.options, handle(family::open_jobs), open_keys.size(), open_keys.data(), open_values.data(),
                  open_statuses.data());
    for (std::size_t j = 0; j < open_keys.size(); ++j) {
      statuses[open_at[j]] = open_statuses[j];
      values[open_at[j]] = std::move(open_values[j]);
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (!found(statuses[i], "a job")) continue;  // purged since the index named it
    auto d = decode_job(values[i].ToStringView());
    if (!d) {
      report_corrupt("job", ids[i], d.error);
      continue;
    }
    if (!fn(std::move(*d.value))) return false;
  }
  return true;
}

void store::walk_newest_first(std::string_view prefix,
                              const std::function<bool(std::string_view, const std::string_view*)>& fn,
                              std::optional<time_point> created_after,
                              std::optional<time_point> created_before) const {
  const auto ms = [](time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  };
  if (prefix.empty() || prefix == keys::open_jobs_scan) {
    // The job families are keyed by id. An id's millisecond is never before
    // its job's created_at (one clock read makes both), so ids below the
    // first of created_after's millisecond cannot match. Ids an older build
    // made (below exact_ids_from_) can: the walk reads a margin further
    // while any of them could still lie within it.
    // The iterators end at the floor: a family where most keys are deleted
    // (open_jobs, once its jobs finish) costs only the deletions above it.
    std::string floor;
    if (created_after) {
      floor = actors::first_job_id_at(ms(*created_after) - id_time_margin_ms);
      if (exact_ids_from_ <= floor) floor = actors::first_job_id_at(ms(*created_after));
    }
    if (prefix.empty())
      return scan_all_ids_newest_first([&](std::string_view id, std::string_view record) { return fn(id, &record); },
                                       floor);
    const rocksdb::Slice lower{floor};
    rocksdb::ReadOptions ro;
    if (!floor.empty()) ro.iterate_lower_bound = &lower;
    std::unique_ptr<rocksdb::Iterator> it{db_->NewIterator(ro, handle(family::open_jobs))};
    for (it->SeekToLast(); it->Valid(); it->Prev()) {
      const auto record = it->value().ToStringView();
      if (!fn(it->key().ToStringView(), &record)) return;
    }
    check_scan(*it, "the unfinished jobs");
    return;
  }
  // An entry is prefix + created_at in big-endian milliseconds + id.
  std::string end;
  if (created_before) {
    if (*created_before <= time_point{}) return;  // nothing is created before the epoch
    // Before prefix + the first millisecond that cannot hold a match (the
    // one of created_before, rounded up): no entry equals it, each is longer.
    const auto up = std::chrono::ceil<std::chrono::milliseconds>(created_before->time_since_epoch()).count();
    end = prefix;
    keys::append_be64(end, static_cast<std::uint64_t>(up));
  } else {
    end = keys::prefix_end(prefix);  // past every entry of the prefix
  }
  std::string stop;  // entries below it were created before created_after
  if (created_after && ms(*created_after) > 0) {
    stop = std::string{prefix};
    keys::append_be64(stop, static_cast<std::uint64_t>(ms(*created_after)));
  }
  // The bounds end the walk at the range's edges, not at the first live key
  // past them (persistence/bounded_iterator.hpp).
  bounded_iterator it{*db_, handle(family::index), stop.empty() ? std::string{prefix} : stop, end};
  for (it->SeekToLast(); it->Valid(); it->Prev())
    if (!fn(keys::index_job_id(it->key().ToStringView()), nullptr)) return;
  check_scan(*it, "the job list");
}

void store::scan_all_ids_newest_first(const std::function<bool(std::string_view, std::string_view)>& fn,
                                      std::string_view floor) const {
  // Both job families, merged by id (creation order), under one snapshot so
  // that a job moving between them is seen once.
  snapshot_read snap{*db_};
  const rocksdb::Slice lower{floor.data(), floor.size()};
  if (!floor.empty()) snap.options.iterate_lower_bound = &lower;
  std::unique_ptr<rocksdb::Iterator> open{db_->NewIterator(snap.options, handle(family::open_jobs))};
  std::unique_ptr<rocksdb::Iterator> done{db_->NewIterator(snap.options, handle(family::jobs))};
  open->SeekToLast();
  done->SeekToLast();
  while (open->Valid() || done->Valid()) {
    auto& next = !done->Valid() || (open->Valid() && open->key().compare(done->key()) > 0) ? open : done;
    if (!fn(next->key().ToStringView(), next->value().ToStringView())) return;
    next->Prev();
  }
  check_scan(*open, "the unfinished jobs");
  check_scan(*done, "the job list");
}

std::optional<batch_record> store::get_batch(std::string_view id) const {
  std::string bytes;
  if (!found(db_->Get({}, handle(family::batches), id, &bytes), "a batch")) return std::nullopt;
  auto d = decode_batch(bytes);
  if (!d) {
    report_corrupt("batch", id, d.error);
    return std::nullopt;
  }
  return std::move(d.value);
}

std::optional<cache_entry> store::get_cache(std::string_view key) const {
  std::string bytes;
  if (!found(db_->Get({}, handle(family::cache), key, &bytes), "a cache entry")) return std::nullopt;
  auto d = decode_cache_entry(bytes);
  if (!d) {
    report_corrupt("cache", key, d.error);
    return std::nullopt;
  }
  return std::move(d.value);
}

void store::for_each_cache(const std::function<void(std::string_view, const cache_entry&)>& fn) const {
  std::unique_ptr<rocksdb::Iterator> it{db_->NewIterator({}, handle(family::cache))};
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto d = decode_cache_entry(it->value().ToStringView());
    if (d) fn(it->key().ToStringView(), *d.value);
    else report_corrupt("cache", it->key().ToStringView(), d.error);
  }
  check_scan(*it, "the cache");
}

void store::for_each_index(std::string_view prefix,
                           const std::function<void(std::string_view, std::string_view)>& fn) const {
  auto it = bounded_iterator::over_prefix(*db_, handle(family::index), prefix);
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next())
    fn(it->key().ToStringView(), it->value().ToStringView());
  check_scan(*it, "an index");
}

std::optional<std::string> store::index_value(std::string_view key) const {
  std::string v;
  if (!found(db_->Get({}, handle(family::index), key, &v), "an index entry")) return std::nullopt;
  return v;
}

std::vector<event> store::events_after(std::uint64_t after, std::size_t max) const {
  std::vector<event> out;
  std::unique_ptr<rocksdb::Iterator> it{db_->NewIterator({}, handle(family::events))};
  // Each value is a block of events keyed by its last seq (a single event,
  // keyed by its own, from an older build): the first block whose last seq
  // is past `after` holds the next event.
  for (it->Seek(keys::event(after + 1)); it->Valid() && out.size() < max; it->Next()) {
    auto d = decode_events(it->value().ToStringView());
    if (!d) {
      report_corrupt("event", std::to_string(keys::read_be64(it->key().ToStringView())), d.error);
      continue;
    }
    for (auto& e : *d.value)
      if (e.seq > after && out.size() < max) out.push_back(std::move(e));
  }
  check_scan(*it, "the events");
  return out;
}

std::uint64_t store::next_seq() const {
  std::string v;
  std::uint64_t from_meta = 1;
  if (db_->Get({}, handle(family::meta), keys::next_seq_key, &v).ok() && v.size() == 8)
    from_meta = keys::read_be64(v);
  std::unique_ptr<rocksdb::Iterator> it{db_->NewIterator({}, handle(family::events))};
  it->SeekToLast();
  // The newest key is the newest seq (blocks are keyed by their last).
  const std::uint64_t from_events = it->Valid() ? keys::read_be64(it->key().ToStringView()) + 1 : 1;
  return std::max(from_meta, from_events);
}

std::uint64_t store::live_data_bytes() const {
  std::uint64_t total = 0;
  for (auto* h : handles_) {
    std::uint64_t n = 0;
    if (db_->GetIntProperty(h, rocksdb::DB::Properties::kEstimateLiveDataSize, &n)) total += n;
  }
  return total;
}

namespace {

/// The entries and the deletions in a family's files (their table properties).
std::pair<std::uint64_t, std::uint64_t> file_entries(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* h) {
  std::uint64_t entries = 0, deletions = 0;
  rocksdb::TablePropertiesCollection files;
  if (db.GetPropertiesOfAllTables(h, &files).ok())
    for (const auto& [name, props] : files) {
      entries += props->num_entries;
      deletions += props->num_deletions;
    }
  return {entries, deletions};
}

}  // namespace

std::uint64_t store::deleted_unfinished() const {
  auto* h = handle(family::open_jobs);
  std::uint64_t active = 0, immutable = 0;
  (void)db_->GetIntProperty(h, rocksdb::DB::Properties::kNumDeletesActiveMemTable, &active);
  (void)db_->GetIntProperty(h, rocksdb::DB::Properties::kNumDeletesImmMemTables, &immutable);
  return active + immutable + file_entries(*db_, h).second;
}

std::uint64_t store::unfinished_keys_in_files() const {
  // Not rocksdb.estimate-num-keys: a memtable holds every version of a key,
  // and a finished job's two puts and one deletion count as one key there.
  const auto [entries, deletions] = file_entries(*db_, handle(family::open_jobs));
  return entries > 2 * deletions ? entries - 2 * deletions : 0;
}

std::optional<std::string> store::compact_unfinished(std::atomic<bool>* canceled) {
  rocksdb::CompactRangeOptions o;
  o.exclusive_manual_compaction = false;  // the other families' compactions go on
  // A flushed file that overlaps nothing is moved down whole, deletions
  // included: the bottom level must be rewritten too (but not what this
  // compaction has just written).
  o.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForceOptimized;
  o.canceled = canceled;
  const auto s = db_->CompactRange(o, handle(family::open_jobs), nullptr, nullptr);
  // Incomplete: canceled (the writer is stopping).
  if (s.ok() || s.IsIncomplete() || s.IsShutdownInProgress()) return std::nullopt;
  return "cannot compact the unfinished jobs: " + s.ToString();
}

std::optional<std::string> store::compact_deleted_ranges(std::atomic<bool>* canceled,
                                                         std::uint64_t rewrite_floor) {
  const std::vector<rocksdb::ColumnFamilyHandle*> families{handle(family::jobs), handle(family::index),
                                                           handle(family::results), handle(family::webhooks),
                                                           handle(family::cache)};
  rocksdb::FlushOptions flush;
  flush.allow_write_stall = true;  // now: false would first wait until the flush could not stall a write
  if (auto s = db_->Flush(flush, families); s.IsShutdownInProgress()) return std::nullopt;
  else if (!s.ok()) return "cannot write the deleted jobs' rows to tables: " + s.ToString();
  rocksdb::CompactRangeOptions o;
  o.exclusive_manual_compaction = false;  // RocksDB's own compactions go on
  // A table of deletions alone overlaps nothing below it and would only be
  // moved down: the bottom level is rewritten too.
  o.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForceOptimized;
  o.canceled = canceled;
  // A table of the family: its key range (both ends inclusive), and its
  // size and counts.
  struct table {
    std::string first, last;
    std::uint64_t bytes{}, entries{}, deletions{};
  };
  for (auto* h : families) {
    // The counts come from the tables' properties (the metadata's are read
    // lazily), the ranges and sizes from the metadata; both name the file.
    // The two are read one after the other, and a compaction of RocksDB's
    // own (the deletions mark the tables for one) can end in between: then
    // a table of the metadata has no properties yet, and is read again,
    // rather than left out (its deletions would stay until some later
    // compaction happened to take them).
    std::vector<table> tables;
    for (int tries = 1;; ++tries) {
      rocksdb::TablePropertiesCollection props;
      if (auto s = db_->GetPropertiesOfAllTables(h, &props); !s.ok())
        return "cannot read the tables' properties: " + s.ToString();
      std::map<std::string, std::shared_ptr<const rocksdb::TableProperties>, std::less<>> by_file;
      for (auto& [path, p] : props) by_file.emplace(std::filesystem::path{path}.filename().string(), p);
      rocksdb::ColumnFamilyMetaData meta;
      db_->GetColumnFamilyMetaData(h, &meta);
      tables.clear();
      bool all_read = true;
      for (const auto& level : meta.levels)
        for (const auto& f : level.files)
          if (auto p = by_file.find(std::filesystem::path{f.name}.filename().string()); p != by_file.end())
            tables.push_back({f.smallestkey, f.largestkey, f.size, p->second->num_entries, p->second->num_deletions});
          else
            all_read = false;
      if (all_read || tries == 20) break;
      if (canceled && canceled->load()) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the compactor's own thread, never CAF's
    }
    // The key ranges of the tables that are mostly deletions, merged where
    // they overlap.
    std::vector<std::pair<std::string, std::string>> ranges;
    for (const auto& t : tables)
      if (t.deletions > 0 && 2 * t.deletions >= t.entries) ranges.emplace_back(t.first, t.last);
    std::sort(ranges.begin(), ranges.end());
    std::vector<std::pair<std::string, std::string>> merged;
    for (auto& r : ranges)
      if (!merged.empty() && r.first <= merged.back().second) merged.back().second = std::max(merged.back().second, r.second);
      else merged.push_back(std::move(r));
    for (const auto& [first, last] : merged) {
      if (canceled && canceled->load()) return std::nullopt;
      // A compaction of the range reads every table it overlaps, at every
      // level, and writes what is left: about the bytes of its entries that
      // are neither deleted nor deleting (each deletion hides one entry).
      // In a large store the deletions of recent jobs can span most of a
      // family (the index's prefixes, ids old and new): such a range is
      // left to RocksDB's own compactions, which the tables' marks call for,
      // rather than rewriting the family after each purge.
      std::uint64_t bytes = 0, entries = 0, deletions = 0;
      for (const auto& t : tables)
        if (!(t.last < first || last < t.first)) {
          bytes += t.bytes;
          entries += t.entries;
          deletions += t.deletions;
        }
      if (entries == 0) continue;
      const double per_entry = static_cast<double>(bytes) / static_cast<double>(entries);
      const double kept = per_entry * static_cast<double>(entries > 2 * deletions ? entries - 2 * deletions : 0);
      const double deleted = per_entry * static_cast<double>(deletions);
      if (kept > std::max(static_cast<double>(rewrite_floor), static_cast<double>(deleted_rewrite_factor) * deleted))
        continue;
      const rocksdb::Slice begin{first}, end{last};
      const auto s = db_->CompactRange(o, h, &begin, &end);
      if (s.IsIncomplete() || s.IsShutdownInProgress()) return std::nullopt;  // canceled: the writer is stopping
      if (!s.ok()) return "cannot compact the deleted jobs' rows: " + s.ToString();
    }
  }
  return std::nullopt;
}

}  // namespace overseer::persistence
