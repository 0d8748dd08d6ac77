// Opening a data directory that is not a healthy store of this build: it is
// refused, with the reason, and left as it was.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <rocksdb/db.h>

#include "overseer/errc.hpp"
#include "persistence/codec.hpp"
#include "persistence/key_layout.hpp"
#include "persistence/store.hpp"
#include "support/temp_dir.hpp"

using namespace overseer;
using namespace overseer::persistence;
namespace fs = std::filesystem;

namespace {

const std::string id = "job_01M8STOREOPENTEST000000001";

void write_one_job(const fs::path& dir) {
  store db{{dir}};
  job_record r;
  r.id = id;
  r.tool = "noop";
  r.params_json = "{}";
  rocksdb::WriteOptions w;
  w.sync = true;
  REQUIRE(db.db().Put(w, db.handle(family::jobs), id, encode(r)).ok());
}

std::set<std::string> names(const fs::path& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator{dir}) out.insert(e.path().filename().string());
  return out;
}

std::string refusal(const fs::path& dir) {
  try {
    store db{{dir}};
  } catch (const overseer::error& e) {
    CHECK(e.code() == errc::store_failure);
    return e.what();
  }
  FAIL("the store opened");
  return {};
}

}  // namespace

TEST_CASE("a store that lost its CURRENT file is refused every time, never created anew over its files",
          "[persistence][store][open]") {
  test::temp_dir dir;
  write_one_job(dir.path());
  fs::rename(dir.path() / "CURRENT", dir.path() / "CURRENT.saved");
  // RocksDB would have written a new CURRENT and manifest over the old
  // files, and the next open would have deleted them.
  for (int i = 0; i < 2; ++i) {
    CHECK_THAT(refusal(dir.path()), Catch::Contains("no CURRENT file"));
    CHECK_FALSE(fs::exists(dir.path() / "CURRENT"));
  }
  fs::rename(dir.path() / "CURRENT.saved", dir.path() / "CURRENT");
  store db{{dir.path()}};
  CHECK(db.get_job(id));
}

TEST_CASE("a store of a newer schema is refused before anything is written to it", "[persistence][store][open]") {
  test::temp_dir dir;
  write_one_job(dir.path());
  {
    // What a newer build leaves: a higher version, and a family dropped.
    rocksdb::Options o;
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    std::vector<std::string> families;
    REQUIRE(rocksdb::DB::ListColumnFamilies(o, dir.path().string(), &families).ok());
    for (const auto& f : families) descriptors.emplace_back(f, rocksdb::ColumnFamilyOptions{});
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    REQUIRE(rocksdb::DB::Open(o, dir.path().string(), descriptors, &handles, &raw).ok());
    rocksdb::ColumnFamilyHandle* meta = nullptr;
    rocksdb::ColumnFamilyHandle* history = nullptr;
    for (auto* h : handles) {
      if (h->GetName() == "meta") meta = h;
      if (h->GetName() == "history") history = h;
    }
    REQUIRE(meta);
    REQUIRE(history);
    rocksdb::WriteOptions w;
    w.sync = true;
    REQUIRE(raw->Put(w, meta, keys::schema_version_key, std::to_string(keys::schema_version + 1)).ok());
    REQUIRE(raw->DropColumnFamily(history).ok());
    for (auto* h : handles) REQUIRE(raw->DestroyColumnFamilyHandle(h).ok());
    REQUIRE(raw->Close().ok());
    delete raw;
  }
  const auto before = names(dir.path());
  // Twice: the refusal leaves the store as it found it (no new manifest,
  // options or WAL, the dropped family not brought back), and the process
  // lives to say why (it used to abort in RocksDB on the way out).
  for (int i = 0; i < 2; ++i) {
    const auto why = refusal(dir.path());
    CHECK_THAT(why, Catch::Contains("has schema version " + std::to_string(keys::schema_version + 1)));
    CHECK(names(dir.path()) == before);
  }
  std::vector<std::string> families;
  REQUIRE(rocksdb::DB::ListColumnFamilies({}, dir.path().string(), &families).ok());
  CHECK(std::find(families.begin(), families.end(), "history") == families.end());
}

TEST_CASE("an empty directory, or one with other files, opens as a new store", "[persistence][store][open]") {
  test::temp_dir dir;
  fs::create_directories(dir.path() / "work");
  { std::ofstream{dir.path() / "notes.txt"} << "not RocksDB's"; }
  {
    store db{{dir.path()}};
    CHECK_FALSE(db.get_job(id));
  }
  store again{{dir.path()}};  // and opens again as the store it now is
  CHECK_FALSE(again.get_job(id));
}

namespace {

std::string wal_job_id(int i) {
  auto n = std::to_string(i);
  return "job_01M8WALDAMAGETEST" + std::string(8 - n.size(), '0') + n;
}

// Writes `n` jobs, each in its own synced write, in a child process that
// then ends without closing the store: the write-ahead log holds them all,
// as after a kill -9.
void write_and_die(const fs::path& dir, int n) {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    try {
      auto* db = new store{{dir}};  // never closed, never flushed
      rocksdb::WriteOptions w;
      w.sync = true;
      for (int i = 0; i < n; ++i) {
        job_record r;
        r.id = wal_job_id(i);
        r.tool = "noop";
        r.params_json = "{}";
        if (!db->db().Put(w, db->handle(family::jobs), r.id, encode(r)).ok()) ::_exit(1);
      }
    } catch (...) {
      ::_exit(1);
    }
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
}

fs::path newest_wal(const fs::path& dir) {
  fs::path newest;
  for (const auto& e : fs::directory_iterator{dir})
    if (e.path().extension() == ".log" && (newest.empty() || e.path().filename() > newest.filename())) newest = e.path();
  REQUIRE_FALSE(newest.empty());
  return newest;
}

int jobs_found(const fs::path& dir, int n, bool salvage = false) {
  store::options o{dir};
  o.salvage_wal = salvage;
  store db{o};
  int found = 0;
  for (int i = 0; i < n; ++i) found += db.get_job(wal_job_id(i)) ? 1 : 0;
  return found;
}

}  // namespace

TEST_CASE("a write-ahead log torn at its end by a crash opens, without the torn record", "[persistence][store][open]") {
  test::temp_dir dir;
  constexpr int n = 200;
  write_and_die(dir.path(), n);
  const auto wal = newest_wal(dir.path());
  // The last write cut short: nobody was told of it.
  fs::resize_file(wal, fs::file_size(wal) - 10);
  CHECK(jobs_found(dir.path(), n) == n - 1);
}

TEST_CASE("a write-ahead log damaged in its middle is refused, unless the operator salvages it",
          "[persistence][store][open]") {
  test::temp_dir dir;
  constexpr int n = 200;
  write_and_die(dir.path(), n);
  const auto wal = newest_wal(dir.path());
  {
    // A bad sector in the middle: every record after it was acknowledged.
    std::fstream f{wal, std::ios::in | std::ios::out | std::ios::binary};
    const auto at = static_cast<std::streamoff>(fs::file_size(wal) / 2);
    f.seekg(at);
    char c = 0;
    f.get(c);
    f.seekp(at);
    f.put(static_cast<char>(c ^ 0x5A));
  }
  const auto before = names(dir.path());
  // RocksDB's default would open it with half the jobs gone, silently.
  for (int i = 0; i < 2; ++i) {
    const auto why = refusal(dir.path());
    CHECK_THAT(why, Catch::Contains("Corruption"));
    CHECK_THAT(why, Catch::Contains("--salvage-store"));
    CHECK(names(dir.path()) == before);
    CHECK(fs::file_size(wal) > 0);
  }
  // The operator's choice: what precedes the damage, and nothing after it.
  const int kept = jobs_found(dir.path(), n, true);
  CHECK(kept > 0);
  CHECK(kept < n);
  // Salvaged once, the store opens as usual from then on, with the same jobs.
  CHECK(jobs_found(dir.path(), n) == kept);
}
