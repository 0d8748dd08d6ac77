// The RocksDB store: column families, schema check, and the read side.
//
// Reads go straight to RocksDB (thread-safe), so status polling never queues
// behind writes. All writes go through group_commit, the one writer. Opening
// checks the schema version: a newer one refuses to start with a message
// rather than misreading data. A corrupt record is reported (counted and
// reported once through the log sink) and skipped by scans, never a crash.
//
// Fail-stop support: the store refuses to open when its file system has less
// free space than the reserve, reports the space left against that reserve
// (space_error, for the writer to check before each commit), and reports the
// errors RocksDB's background jobs (flush, compaction) hit. RocksDB's own
// diagnostics go to the log sink, never to a file in the data directory: Debian's
// build asserts when its file logger writes again after a failed write, so a
// full disk would abort the process on the next log line.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "overseer/event.hpp"
#include "overseer/log_sink.hpp"
#include "overseer/job.hpp"
#include "persistence/codec.hpp"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class Env;
class Iterator;
class Snapshot;
class Status;
struct ReadOptions;
}  // namespace rocksdb

namespace overseer::persistence {

/// "12.5 MiB": sizes in messages an operator reads.
[[nodiscard]] std::string format_bytes(std::uint64_t n);
/// Free bytes for an unprivileged writer (f_bavail) on the file system of
/// `fd` or, when fd < 0, of `path`; nullopt with errno set when unreadable.
[[nodiscard]] std::optional<std::uint64_t> free_bytes(int fd, const std::filesystem::path& path);

/// RocksDB's memtables, all column families together, flush at this size.
/// A flush writes about as much again, so a free-space reserve below it
/// lets RocksDB itself run the disk full.
inline constexpr std::uint64_t memtable_cap_bytes = 64 << 20;
/// store::compact_deleted_ranges writes up to this much for a range of
/// deleted rows, or up to this factor times their deletions' share of it.
inline constexpr std::uint64_t deleted_rewrite_floor = 64 << 20;
inline constexpr std::uint64_t deleted_rewrite_factor = 8;
/// What RocksDB allocates at once (fallocate) for a new write-ahead log,
/// at open and at each memtable switch: 1.1 x write_buffer_size (64 MiB by
/// default), capped at the memtables' total. On a file system without that
/// much free space, tmpfs allocates none of it, and ext4 and XFS as much as
/// they can (RocksDB goes on either way).
inline constexpr std::uint64_t wal_preallocation_bytes = memtable_cap_bytes;

/// `jobs` holds finished jobs' records, `open_jobs` unfinished ones' (a record
/// moves when its job finishes, or is retried).
enum class family : std::uint8_t {
  jobs, history, logs, results, index, events, meta, cache, batches, webhooks, open_jobs
};
inline constexpr std::size_t family_count = 11;

class store {
public:
  struct options {
    std::filesystem::path dir;
    bool sync = true;
    /// Free bytes the data directory's file system must keep: below it the
    /// store does not open and space_error() reports. 0 turns the check off.
    std::uint64_t min_free_bytes = 0;
    /// The environment RocksDB runs on; nullptr is RocksDB's default. Tests
    /// inject I/O faults through it.
    rocksdb::Env* env = nullptr;
    /// Where unreadable records and RocksDB's warnings are reported.
    log_sink log{};
    /// How a damaged write-ahead log is replayed. false: only a torn last
    /// record (a write cut short by a crash, never acknowledged) is
    /// skipped; damage before it refuses the open, since what follows it was
    /// acknowledged. true (an operator's one-off salvage): replay up to the
    /// damage and drop the rest.
    bool salvage_wal = false;
  };
  using error_fn = std::function<void(const std::string& error)>;

  /// Opens (creating if missing). Throws overseer::error(store_failure) with
  /// RocksDB's message, the free-space refusal, or the schema-version
  /// refusal.
  explicit store(const options& opts);
  ~store();
  store(const store&) = delete;
  store& operator=(const store&) = delete;

  /// Reads never turn an I/O error into "not found": every read below
  /// throws overseer::error(errc::store_failure) when RocksDB cannot read
  /// (EIO, a lost file), after reporting it like a failed write, so the
  /// engine fail-stops (503, exit 3, recovery on restart). A record that
  /// reads but does not decode is skipped and counted (corrupt_records()).
  ///
  /// The record, nullopt if there is none; a corrupt record is reported via
  /// `error` (when given) and also returns nullopt.
  [[nodiscard]] std::optional<job_record> get_job(std::string_view id,
                                                  std::string* error = nullptr) const;
  /// The record and the newest event seq, read from one snapshot.
  [[nodiscard]] std::optional<job_record> get_job_at(std::string_view id, std::uint64_t& seq) const;
  /// A completed job's result: in its record when small, else its own row.
  [[nodiscard]] std::optional<std::string> get_result(std::string_view id) const;
  [[nodiscard]] std::optional<std::string> result_of(const job_record& rec) const;
  /// Its transitions, creation first (full_history of its record); empty for
  /// no job.
  [[nodiscard]] std::vector<transition> history(std::string_view id) const;
  [[nodiscard]] std::vector<log_line> logs(std::string_view id, log_level min_level,
                                           std::size_t limit, std::size_t offset,
                                           std::size_t* total) const;
  /// Calls `fn` for each readable record with status `s`, oldest first.
  void for_each_with_status(job_status s, const std::function<void(job_record&&)>& fn) const;
  /// Calls `fn` for each readable unfinished job (the open_jobs family),
  /// oldest first.
  void for_each_unfinished(const std::function<void(job_record&&)>& fn) const;
  /// Unfinished jobs whose id sorts before `id` (created before it), up to `cap`.
  [[nodiscard]] std::size_t count_unfinished_before(std::string_view id, std::size_t cap) const;
  /// Ids from an index prefix (keys::status_prefix / tool_prefix), newest
  /// first; from the open_jobs family for keys::open_jobs_scan; from both
  /// job families, merged under one snapshot, when `prefix` is empty. `fn` returns false
  /// to stop. An index prefix's entries are ordered by creation time, so
  /// there the walk skips entries created at or after `created_before` and
  /// stops at those created before `created_after`, to the millisecond (the
  /// caller still checks the exact bounds on the record). The job families
  /// stop at ids below `created_after`'s millisecond (an id's millisecond is
  /// never before its created_at; a second below it for ids an older build
  /// made, see keys::exact_ids_from_key) and ignore `created_before` (after
  /// a clock step back, ids made later can hold earlier times).
  void scan_ids_newest_first(std::string_view prefix, const std::function<bool(std::string_view id)>& fn,
                             std::optional<time_point> created_after = {},
                             std::optional<time_point> created_before = {}) const;
  /// The same walk, with each job's record: over the job families it is the
  /// value the walk itself read (no second read: a listing of a million jobs
  /// makes no million Gets), over an index get_job's. A record that cannot
  /// be read (gone since the index walk read its entry, or unreadable, which
  /// is reported) is skipped.
  void scan_jobs_newest_first(std::string_view prefix, const std::function<bool(job_record&&)>& fn,
                              std::optional<time_point> created_after = {},
                              std::optional<time_point> created_before = {}) const;
  /// How many ids scan_ids_newest_first(prefix) would pass without date
  /// bounds, counted from the keys alone: no record is read or decoded. The
  /// empty prefix counts both job families under one snapshot.
  [[nodiscard]] std::size_t count_ids(std::string_view prefix) const;
  /// How many finished jobs are completed: the jobs family's keys less the
  /// failed, cancelled and timed_out status entries (a completed job has
  /// none; every other finished one has one), under one snapshot.
  [[nodiscard]] std::size_t count_completed() const;
  [[nodiscard]] std::optional<batch_record> get_batch(std::string_view id) const;
  [[nodiscard]] std::optional<cache_entry> get_cache(std::string_view key) const;
  /// Calls `fn(key, entry)` for every readable cache entry.
  void for_each_cache(const std::function<void(std::string_view, const cache_entry&)>& fn) const;
  /// Calls `fn(key, value)` for every index entry under `prefix`.
  void for_each_index(std::string_view prefix,
                      const std::function<void(std::string_view, std::string_view)>& fn) const;
  /// The value of an index entry (e.g. keys::idempotency), if present.
  [[nodiscard]] std::optional<std::string> index_value(std::string_view key) const;
  /// Events with seq > `after`, oldest first, at most `max`.
  [[nodiscard]] std::vector<event> events_after(std::uint64_t after, std::size_t max) const;
  /// The next event sequence number (1 + the newest stored).
  [[nodiscard]] std::uint64_t next_seq() const;
  /// Records found unreadable since open.
  [[nodiscard]] std::uint64_t corrupt_records() const noexcept { return corrupt_.load(); }
  /// RocksDB's estimate of the live data in every column family, in bytes
  /// (rocksdb.estimate-live-data-size); 0 if it cannot tell.
  [[nodiscard]] std::uint64_t live_data_bytes() const;
  /// Deleted keys of the open_jobs family that a walk of it still steps
  /// over: in its memtables and its files (RocksDB's properties). Every job
  /// that finishes leaves one, until a compaction reaches the bottom level.
  [[nodiscard]] std::uint64_t deleted_unfinished() const;
  /// Keys in open_jobs' files less their deletions: right after
  /// compact_unfinished, the unfinished jobs when it began.
  [[nodiscard]] std::uint64_t unfinished_keys_in_files() const;
  /// Flushes open_jobs' memtable and compacts the family to its bottom
  /// level, which drops its deleted keys; blocks until done, or until
  /// `*canceled` is set from another thread (not an error). The error, when
  /// RocksDB fails it.
  [[nodiscard]] std::optional<std::string> compact_unfinished(std::atomic<bool>* canceled);

  /// After many jobs were deleted at once (a retention pass, a purge):
  /// writes the memtables of the families their rows were in (jobs, index,
  /// results, webhooks, cache) to tables, then compacts, down to each
  /// family's bottom level, the key range of every table of theirs whose
  /// entries are at least half deletions. That drops the deletions and the
  /// keys they delete. A range whose compaction would write more (its
  /// entries that are neither deleted nor deletions, estimated from the
  /// tables' counts) than the larger of `rewrite_floor` and
  /// deleted_rewrite_factor times its deletions' share of the bytes is left
  /// to RocksDB's own compactions. Blocks until done,
  /// or until `*canceled` is set from another thread (not an error). The
  /// error, when RocksDB fails it.
  [[nodiscard]] std::optional<std::string> compact_deleted_ranges(std::atomic<bool>* canceled,
                                                                  std::uint64_t rewrite_floor = deleted_rewrite_floor);

  [[nodiscard]] rocksdb::DB& db() noexcept { return *db_; }
  /// The data directory it was opened on.
  [[nodiscard]] const std::filesystem::path& dir() const noexcept { return dir_; }
  [[nodiscard]] rocksdb::ColumnFamilyHandle* handle(family f) const noexcept {
    return handles_[static_cast<std::size_t>(f)];
  }
  [[nodiscard]] bool sync() const noexcept { return sync_; }

  /// Why writing now would risk a full disk: the free space is below
  /// min_free_bytes (or cannot be read). nullopt when there is room. One
  /// statvfs, about a microsecond.
  [[nodiscard]] std::optional<std::string> space_error() const;
  /// space_error before the store opens, counting what opening takes: the
  /// new write-ahead log's preallocation, less the logs that recovery
  /// deletes. A store that would open below the reserve would fail-stop at
  /// its first write.
  [[nodiscard]] std::optional<std::string> space_error_at_open() const;
  /// The first error a RocksDB background job (flush, compaction, WAL)
  /// reported since open, if any.
  [[nodiscard]] std::optional<std::string> background_error() const;
  /// `fn` runs, on the RocksDB thread that hit it, for each background error
  /// from now on; an empty `fn` unregisters (and waits for a call under way).
  void on_background_error(error_fn fn);

private:
  /// The stored record of `id`, from open_jobs or jobs.
  bool get_record(const rocksdb::ReadOptions& ro, std::string_view id, std::string& bytes) const;
  /// The keys of `f` in [lower, upper) as of `snapshot` (null: now).
  std::size_t count_keys(family f, std::string lower, std::string upper, const rocksdb::Snapshot* snapshot,
                         const char* what) const;
  /// Both job families merged by id, newest first, down to `floor` (the
  /// iterators stop there, so they skip no deleted keys below it).
  void scan_all_ids_newest_first(const std::function<bool(std::string_view, std::string_view)>& fn,
                                 std::string_view floor) const;
  /// Ids an index walk gathers before their records are read together.
  static constexpr std::size_t record_batch = 64;
  /// `fn` on the records of `ids` (under one snapshot, in their order, the
  /// purged and unreadable skipped); false once `fn` has said stop.
  bool read_batch(const std::vector<std::string>& ids, const std::function<bool(job_record&&)>& fn) const;
  /// scan_ids_newest_first's walk: `fn(id, value)`, the value a record over
  /// the job families and null over an index.
  void walk_newest_first(std::string_view prefix,
                         const std::function<bool(std::string_view id, const std::string_view* record)>& fn,
                         std::optional<time_point> created_after, std::optional<time_point> created_before) const;
  /// Schema 1 to 2, at open: histories into records, unfinished jobs'
  /// records into open_jobs, status entries only for failed, cancelled and
  /// timed_out. Idempotent, so a crash half-way through
  /// is resumed at the next open; the version moves last.
  void migrate_from_schema_1();
  /// After the open: records the version in a new store, migrates an old one.
  void check_schema(const options& opts);
  /// Reads keys::exact_ids_from_key into exact_ids_from_, first recording it
  /// in a store that lacks it.
  void load_exact_ids_from(bool new_store);
  /// Closes the handles and the database (the destructor, and a failed open).
  void close() noexcept;
  void report_corrupt(std::string_view where, std::string_view key, const std::string& why) const;
  /// A read that failed with an I/O error: reported as the store's failure
  /// (the writer latches it and the engine fail-stops), then thrown.
  [[noreturn]] void read_failed(std::string_view what, const rocksdb::Status& s) const;
  /// Whether a point read found its key: false for NotFound, read_failed
  /// for any other error.
  bool found(const rocksdb::Status& s, std::string_view what) const;
  /// read_failed if a scan stopped on an error rather than at its end.
  void check_scan(const rocksdb::Iterator& it, std::string_view what) const;

  struct failure_state;
  struct listener;

  std::shared_ptr<failure_state> failures_;  ///< shared with RocksDB's listener
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::filesystem::path dir_;
  bool sync_;
  std::uint64_t min_free_bytes_;
  log_sink log_;
  std::string exact_ids_from_;  ///< keys::exact_ids_from_key
  mutable std::atomic<std::uint64_t> corrupt_{0};
};

}  // namespace overseer::persistence
