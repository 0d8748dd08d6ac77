// Store reads on real RocksDB with a file system that fails reads on demand
// (EIO): a read error is the store's failure, never "not found".
#include <atomic>
#include <memory>
#include <string>

#include <catch2/catch.hpp>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include "overseer/errc.hpp"
#include "persistence/codec.hpp"
#include "persistence/store.hpp"
#include "support/temp_dir.hpp"

using namespace overseer;
using namespace overseer::persistence;

namespace {

/// Fails every read of a table file (SST) while `failing` is set.
struct failing_reads_fs final : rocksdb::FileSystemWrapper {
  std::atomic<bool> failing{false};

  struct file final : rocksdb::FSRandomAccessFileOwnerWrapper {
    file(std::unique_ptr<rocksdb::FSRandomAccessFile> f, const failing_reads_fs& fs)
      : FSRandomAccessFileOwnerWrapper(std::move(f)), fs_(fs) {}
    rocksdb::IOStatus Read(std::uint64_t offset, std::size_t n, const rocksdb::IOOptions& o, rocksdb::Slice* result,
                           char* scratch, rocksdb::IODebugContext* dbg) const override {
      if (fs_.failing) return rocksdb::IOStatus::IOError("injected: input/output error");
      return FSRandomAccessFileOwnerWrapper::Read(offset, n, o, result, scratch, dbg);
    }
    rocksdb::IOStatus MultiRead(rocksdb::FSReadRequest* reqs, std::size_t n, const rocksdb::IOOptions& o,
                                rocksdb::IODebugContext* dbg) override {
      if (fs_.failing) return rocksdb::IOStatus::IOError("injected: input/output error");
      return FSRandomAccessFileOwnerWrapper::MultiRead(reqs, n, o, dbg);
    }

  private:
    const failing_reads_fs& fs_;
  };

  failing_reads_fs() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  const char* Name() const override { return "failing_reads_fs"; }
  rocksdb::IOStatus NewRandomAccessFile(const std::string& name, const rocksdb::FileOptions& o,
                                        std::unique_ptr<rocksdb::FSRandomAccessFile>* out,
                                        rocksdb::IODebugContext* dbg) override {
    auto s = target()->NewRandomAccessFile(name, o, out, dbg);
    if (s.ok() && name.ends_with(".sst")) *out = std::make_unique<file>(std::move(*out), *this);
    return s;
  }
};

job_record job(const std::string& id) {
  job_record r;
  r.id = id;
  r.tool = "noop";
  r.params_json = "{}";
  return r;
}

}  // namespace

TEST_CASE("a store read that fails is the store's failure, never not found", "[persistence][store]") {
  test::temp_dir dir;
  auto fs = std::make_shared<failing_reads_fs>();
  auto env = rocksdb::NewCompositeEnv(fs);
  store db{{dir.path(), true, 0, env.get()}};
  std::string reported;
  db.on_background_error([&](const std::string& why) { reported = why; });
  const auto id = std::string{"job_01M8STOREREADTEST0000000001"};
  REQUIRE(db.db().Put({}, db.handle(family::jobs), id, encode(job(id))).ok());
  REQUIRE(db.db().Put({}, db.handle(family::index), "idem:k", id).ok());
  for (auto f : {family::jobs, family::index}) REQUIRE(db.db().Flush({}, db.handle(f)).ok());

  // Nothing read yet, so the block cache holds none of it: every read
  // below goes to the file.
  fs->failing = true;
  try {
    (void)db.get_job(id);
    FAIL("a failed read returned instead of throwing");
  } catch (const overseer::error& e) {
    CHECK(e.code() == errc::store_failure);
    CHECK_THAT(e.what(), Catch::Contains("injected: input/output error") && Catch::Contains("a job"));
  }
  CHECK_THAT(reported, Catch::Contains("injected"));  // told like a failed write: the engine fail-stops
  CHECK(db.background_error().value_or("").find("injected") != std::string::npos);
  CHECK_THROWS_AS(db.index_value("idem:k"), overseer::error);
  bool scanned = false;
  CHECK_THROWS_AS(db.for_each_index("idem:", [&](std::string_view, std::string_view) { scanned = true; }),
                  overseer::error);
  CHECK_FALSE(scanned);

  fs->failing = false;
  CHECK(db.get_job(id));  // the data was never lost, only unreadable for a while
  CHECK_FALSE(db.get_job("job_01M8STOREREADTEST0000000002"));  // and a missing key is simply missing
}
