// Opening a data directory that is not a healthy store of this build: it is
// refused, with the reason, and left as it was.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

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
