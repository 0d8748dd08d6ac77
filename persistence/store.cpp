#include "persistence/store.hpp"

#include <cstdio>

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>

#include "overseer/errc.hpp"
#include "persistence/key_layout.hpp"

namespace overseer::persistence {

namespace {

constexpr const char* family_names[family_count] = {
  "jobs", "history", "logs", "results", "index", "events", "meta", "cache", "batches"};

[[noreturn]] void fail(const std::string& what) { throw error{errc::store_failure, what}; }

}  // namespace

store::store(const options& opts) : sync_(opts.sync) {
  std::error_code ec;
  std::filesystem::create_directories(opts.dir, ec);
  if (ec) fail("cannot create data directory " + opts.dir.string() + ": " + ec.message());

  rocksdb::Options db_opts;
  db_opts.create_if_missing = true;
  db_opts.create_missing_column_families = true;
  db_opts.IncreaseParallelism(2);
  // Many small synced batches: let concurrent writers share one WAL sync.
  db_opts.enable_pipelined_write = true;
  // All memtables together, across the nine column families: without a cap
  // each may hold 2 x 64 MiB before it flushes, which at a million queued
  // jobs was a third of the engine's resident memory.
  db_opts.db_write_buffer_size = 64 << 20;

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const char* name : family_names) {
    rocksdb::ColumnFamilyOptions cf;
    const std::string_view n{name};
    if (n == "results") cf.compression = rocksdb::kLZ4Compression;
    descriptors.emplace_back(name, cf);
  }
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions{});

  rocksdb::DB* raw = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  auto s = rocksdb::DB::Open(db_opts, opts.dir.string(), descriptors, &handles, &raw);
  if (!s.ok()) fail("cannot open store at " + opts.dir.string() + ": " + s.ToString());
  db_.reset(raw);
  handles_.assign(handles.begin(), handles.end());

  std::string version;
  s = db_->Get({}, handle(family::meta), keys::schema_version_key, &version);
  if (s.IsNotFound()) {
    rocksdb::WriteOptions w;
    w.sync = true;
    s = db_->Put(w, handle(family::meta), keys::schema_version_key,
                 std::to_string(keys::schema_version));
    if (!s.ok()) fail("cannot write schema version: " + s.ToString());
  } else if (!s.ok()) {
    fail("cannot read schema version: " + s.ToString());
  } else if (version != std::to_string(keys::schema_version)) {
    fail("the store at " + opts.dir.string() + " has schema version " + version +
         ", this build reads version " + std::to_string(keys::schema_version) +
         "; refusing to start rather than misread it");
  }
}

store::~store() {
  for (auto* h : handles_) {
    // Closing at shutdown: nothing useful to do with a failure here.
    db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  }
  if (db_) db_->Close().PermitUncheckedError();
}

void store::report_corrupt(std::string_view where, std::string_view key,
                           const std::string& why) const {
  ++corrupt_;
  std::fprintf(stderr, "overseer: skipping unreadable %.*s record %.*s: %s\n",
               static_cast<int>(where.size()), where.data(), static_cast<int>(key.size()),
               key.data(), why.c_str());
}

std::optional<job_record> store::get_job(std::string_view id, std::string* error) const {
  std::string bytes;
  auto s = db_->Get({}, handle(family::jobs), id, &bytes);
  if (!s.ok()) {
    if (!s.IsNotFound() && error) *error = s.ToString();
    return std::nullopt;
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
  const rocksdb::Snapshot* snap = db_->GetSnapshot();
  rocksdb::ReadOptions ro;
  ro.snapshot = snap;
  std::string bytes, next;
  // next_seq is written in every commit's batch, so under one snapshot it
  // matches the record exactly.
  seq = db_->Get(ro, handle(family::meta), keys::next_seq_key, &next).ok() && next.size() == 8
          ? keys::read_be64(next) - 1
          : 0;
  auto s = db_->Get(ro, handle(family::jobs), id, &bytes);
  db_->ReleaseSnapshot(snap);
  if (!s.ok()) return std::nullopt;
  auto d = decode_job(bytes);
  if (!d) {
    report_corrupt("job", id, d.error);
    return std::nullopt;
  }
  return std::move(d.value);
}

std::optional<std::string> store::get_result(std::string_view id) const {
  std::string bytes;
  if (!db_->Get({}, handle(family::results), id, &bytes).ok()) return std::nullopt;
  return bytes;
}

std::vector<transition> store::history(std::string_view id) const {
  std::vector<transition> out;
  std::unique_ptr<rocksdb::Iterator> it{db_->NewIterator({}, handle(family::history))};
  for (it->Seek(id); it->Valid() && it->key().starts_with(id); it->Next()) {
    auto d = decode_transition(it->value().ToStringView());
    if (d) out.push_back(std::move(*d.value));
    else report_corrupt("history", id, d.error);
  }
  return out;
}

std::vector<log_line> store::logs(std::string_view id, log_level min_level, std::size_t limit,
                                  std::size_t offset, std::size_t* total) const {
  std::vector<log_line> out;
  std::size_t matched = 0;
  std::unique_ptr<rocksdb::Iterator> it{db_->NewIterator({}, handle(family::logs))};
  for (it->Seek(id); it->Valid() && it->key().starts_with(id); it->Next()) {
    auto d = decode_log(it->value().ToStringView());
    if (!d) {
      report_corrupt("log", id, d.error);
      continue;
    }
    if (d.value->level < min_level) continue;
    if (matched >= offset && out.size() < limit) out.push_back(std::move(*d.value));
    ++matched;
  }
  if (total) *total = matched;
  return out;
}

void store::for_each_with_status(job_status s,
                                 const std::function<void(job_record&&)>& fn) const {
  const auto prefix = keys::status_prefix(s);
  std::unique_ptr<rocksdb::Iterator> it{db_->NewIterator({}, handle(family::index))};
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    auto id = keys::index_job_id(it->key().ToStringView());
    if (auto rec = get_job(id); rec && rec->status == s) fn(std::move(*rec));
  }
}

void store::scan_ids_newest_first(std::string_view prefix,
                                  const std::function<bool(std::string_view)>& fn) const {
  const bool by_index = !prefix.empty();
  std::unique_ptr<rocksdb::Iterator> it{
    db_->NewIterator({}, handle(by_index ? family::index : family::jobs))};
  if (by_index) {
    // The first key past every entry of the prefix: the prefix with its
    // last byte incremented (prefixes end in ':', never 0xff).
    std::string end{prefix};
    end.back() = static_cast<char>(end.back() + 1);
    it->SeekForPrev(end);
  } else {
    it->SeekToLast();
  }
  for (; it->Valid(); it->Prev()) {
    auto key = it->key().ToStringView();
    if (by_index && !key.starts_with(prefix)) break;
    if (!fn(by_index ? keys::index_job_id(key) : key)) break;
  }
}

std::optional<batch_record> store::get_batch(std::string_view id) const {
  std::string bytes;
  if (!db_->Get({}, handle(family::batches), id, &bytes).ok()) return std::nullopt;
  auto d = decode_batch(bytes);
  if (!d) {
    report_corrupt("batch", id, d.error);
    return std::nullopt;
  }
  return std::move(d.value);
}

std::optional<cache_entry> store::get_cache(std::string_view key) const {
  std::string bytes;
  if (!db_->Get({}, handle(family::cache), key, &bytes).ok()) return std::nullopt;
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
}

void store::for_each_index(std::string_view prefix,
                           const std::function<void(std::string_view, std::string_view)>& fn) const {
  std::unique_ptr<rocksdb::Iterator> it{db_->NewIterator({}, handle(family::index))};
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next())
    fn(it->key().ToStringView(), it->value().ToStringView());
}

std::optional<std::string> store::index_value(std::string_view key) const {
  std::string v;
  if (!db_->Get({}, handle(family::index), key, &v).ok()) return std::nullopt;
  return v;
}

std::vector<event> store::events_after(std::uint64_t after, std::size_t max) const {
  std::vector<event> out;
  std::unique_ptr<rocksdb::Iterator> it{db_->NewIterator({}, handle(family::events))};
  for (it->Seek(keys::event(after + 1)); it->Valid() && out.size() < max; it->Next()) {
    auto d = decode_event(it->value().ToStringView());
    if (d) out.push_back(std::move(*d.value));
    else report_corrupt("event", std::to_string(keys::read_be64(it->key().ToStringView())), d.error);
  }
  return out;
}

std::uint64_t store::next_seq() const {
  std::string v;
  std::uint64_t from_meta = 1;
  if (db_->Get({}, handle(family::meta), keys::next_seq_key, &v).ok() && v.size() == 8)
    from_meta = keys::read_be64(v);
  std::unique_ptr<rocksdb::Iterator> it{db_->NewIterator({}, handle(family::events))};
  it->SeekToLast();
  const std::uint64_t from_events = it->Valid() ? keys::read_be64(it->key().ToStringView()) + 1 : 1;
  return std::max(from_meta, from_events);
}

}  // namespace overseer::persistence
