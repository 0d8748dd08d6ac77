// group_commit on real RocksDB: its fail-stop latch, with a file system that
// fails writes on demand (ENOSPC) the way a full disk does, and its commit
// delay (a write nobody waits for waiting for one somebody does).
#include <atomic>
#include <functional>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include "overseer/errc.hpp"
#include "persistence/group_commit.hpp"
#include "persistence/key_layout.hpp"
#include "persistence/store.hpp"
#include "support/temp_dir.hpp"

using namespace overseer;
using namespace overseer::persistence;
using namespace std::chrono_literals;

namespace {

/// Fails every append with "no space" while `full` is set, and counts the
/// appends that reach the write-ahead log.
struct full_disk_fs final : rocksdb::FileSystemWrapper {
  std::atomic<bool> full{false};
  std::atomic<int> wal_appends{0};

  struct file final : rocksdb::FSWritableFileOwnerWrapper {
    file(std::unique_ptr<rocksdb::FSWritableFile> f, full_disk_fs& fs, bool wal)
      : FSWritableFileOwnerWrapper(std::move(f)), fs_(fs), wal_(wal) {}
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                             rocksdb::IODebugContext* dbg) override {
      if (auto s = check(); !s.ok()) return s;
      return FSWritableFileOwnerWrapper::Append(data, o, dbg);
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                             const rocksdb::DataVerificationInfo& v, rocksdb::IODebugContext* dbg) override {
      if (auto s = check(); !s.ok()) return s;
      return FSWritableFileOwnerWrapper::Append(data, o, v, dbg);
    }

  private:
    rocksdb::IOStatus check() {
      if (wal_) ++fs_.wal_appends;
      return fs_.full ? rocksdb::IOStatus::NoSpace("injected: the disk is full") : rocksdb::IOStatus::OK();
    }
    full_disk_fs& fs_;
    bool wal_;
  };

  full_disk_fs() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  const char* Name() const override { return "full_disk_fs"; }
  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* out,
                                    rocksdb::IODebugContext* dbg) override {
    auto s = target()->NewWritableFile(name, o, out, dbg);
    if (s.ok()) *out = std::make_unique<file>(std::move(*out), *this, name.ends_with(".log"));
    return s;
  }
  rocksdb::IOStatus ReopenWritableFile(const std::string& name, const rocksdb::FileOptions& o,
                                       std::unique_ptr<rocksdb::FSWritableFile>* out,
                                       rocksdb::IODebugContext* dbg) override {
    auto s = target()->ReopenWritableFile(name, o, out, dbg);
    if (s.ok()) *out = std::make_unique<file>(std::move(*out), *this, name.ends_with(".log"));
    return s;
  }
};

job_write put(const std::string& key) {
  job_write w;
  w.ops.push_back({kv_op::kind::put, family::index, key, "v"});
  return w;
}

/// Queues `w` and waits for its done() (false also when it never comes).
bool write_and_wait(group_commit& gc, job_write w) {
  auto p = std::make_shared<std::promise<bool>>();
  auto f = p->get_future();
  gc.write({std::move(w)}, [p](bool ok) { p->set_value(ok); });
  return f.wait_for(20s) == std::future_status::ready && f.get();
}

/// Queues `writes` in one commit and waits for its done().
bool write_and_wait_all(group_commit& gc, std::vector<job_write> writes) {
  auto p = std::make_shared<std::promise<bool>>();
  auto f = p->get_future();
  gc.write(std::move(writes), [p](bool ok) { p->set_value(ok); });
  return f.wait_for(20s) == std::future_status::ready && f.get();
}

/// What the writer reports when it latches, once.
struct failure_probe {
  std::atomic<int> calls{0};
  std::promise<std::string> first;
  std::future<std::string> reported = first.get_future();
  group_commit::failed_fn fn() {
    return [this](const std::string& why) {
      if (calls++ == 0) first.set_value(why);
    };
  }
};

}  // namespace

TEST_CASE("a failed write latches group commit: RocksDB is not written again and every write reports failure",
          "[persistence][group_commit]") {
  test::temp_dir dir;
  auto fs = std::make_shared<full_disk_fs>();
  auto env = rocksdb::NewCompositeEnv(fs);
  std::atomic<int> published{0};
  failure_probe probe;
  {
    store db{{dir.path(), true, 0, env.get()}};
    group_commit gc{db, [&](std::vector<event>&& e) { published += static_cast<int>(e.size()); }, probe.fn()};
    REQUIRE(write_and_wait(gc, put("before")));
    REQUIRE(gc.healthy());

    fs->full = true;
    CHECK_FALSE(write_and_wait(gc, put("during")));
    REQUIRE(probe.reported.wait_for(20s) == std::future_status::ready);
    const auto why = probe.reported.get();
    CHECK_THAT(why, Catch::Contains("No space") && Catch::Contains("injected"));
    CHECK_FALSE(gc.healthy());
    CHECK(gc.error() == why);

    // The disk has room again and RocksDB would take writes again (Resume
    // is what its automatic recovery does), but the latch holds: nothing
    // more reaches the WAL, whoever writes, and nothing is published.
    fs->full = false;
    REQUIRE(db.db().Resume().ok());
    const int appends = fs->wal_appends;
    std::atomic<int> succeeded{0}, answered{0};
    std::vector<std::thread> writers;
    for (int t = 0; t < 4; ++t)
      writers.emplace_back([&, t] {
        for (int i = 0; i < 25; ++i) {
          job_write w = put("after-" + std::to_string(t) + "-" + std::to_string(i));
          w.events.push_back(event{});
          if (write_and_wait(gc, std::move(w))) ++succeeded;
          ++answered;
        }
      });
    for (auto& w : writers) w.join();
    CHECK(answered == 100);
    CHECK(succeeded == 0);
    CHECK(fs->wal_appends == appends);
    CHECK(published == 0);
    CHECK(probe.calls == 1);
    CHECK(db.index_value("before"));  // reads still work
    gc.stop();
  }  // closing a store whose WAL failed must not abort
  store again{{dir.path(), true, 0, nullptr}};
  CHECK(again.index_value("before") == std::optional<std::string>{"v"});
  CHECK_FALSE(again.index_value("during"));
  CHECK_FALSE(again.index_value("after-0-0"));
}

TEST_CASE("a failed RocksDB background job latches group commit before any write fails",
          "[persistence][group_commit]") {
  test::temp_dir dir;
  auto fs = std::make_shared<full_disk_fs>();
  auto env = rocksdb::NewCompositeEnv(fs);
  failure_probe probe;
  store db{{dir.path(), true, 0, env.get()}};
  group_commit gc{db, [](std::vector<event>&&) {}, probe.fn()};
  REQUIRE(write_and_wait(gc, put("before")));

  // A flush writes an SST file; the disk is full for it.
  fs->full = true;
  CHECK_FALSE(db.db().Flush({}, db.handle(family::index)).ok());
  REQUIRE(probe.reported.wait_for(20s) == std::future_status::ready);
  CHECK_THAT(probe.reported.get(), Catch::Contains("RocksDB flush failed") && Catch::Contains("No space"));
  CHECK(db.background_error());
  CHECK_FALSE(gc.healthy());

  fs->full = false;
  REQUIRE(db.db().Resume().ok());
  const int appends = fs->wal_appends;
  CHECK_FALSE(write_and_wait(gc, put("after")));
  CHECK(fs->wal_appends == appends);
  CHECK_FALSE(db.index_value("after"));
}

TEST_CASE("the store refuses to open below its free-space reserve and names both figures",
          "[persistence][group_commit]") {
  test::temp_dir dir;
  try {
    store db{{dir.path() / "data", true, std::uint64_t{1} << 62, nullptr}};
    FAIL("the store opened with less free space than its reserve");
  } catch (const error& e) {
    CHECK(e.code() == errc::store_failure);
    CHECK_THAT(std::string{e.what()}, Catch::Contains("free space on the file system of") &&
                                          Catch::Contains("below the reserve of 4194304.0 TiB"));
  }
  CHECK_FALSE(std::filesystem::exists(dir.path() / "data" / "CURRENT"));  // RocksDB never ran
}

namespace {

/// Events published, and the commits they came in.
struct publish_probe {
  std::atomic<int> events{0};
  std::atomic<int> batches{0};
  group_commit::publish_fn fn() {
    return [this](std::vector<event>&& e) {
      events += static_cast<int>(e.size());
      ++batches;
    };
  }
};

/// Waits up to 20 s for `ok()` to hold (false: it never did).
bool eventually(const std::function<bool()>& ok) {
  for (int i = 0; i < 2000; ++i) {
    if (ok()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

/// Waits until the writer waits for company (false: it never did).
bool until_waiting(const group_commit& gc) {
  return eventually([&] { return gc.waiting_for_company(); });
}

job_write put_with_event(const std::string& key) {
  auto w = put(key);
  w.events.push_back(event{});
  return w;
}

}  // namespace

TEST_CASE("a commit nobody waits for waits for one somebody waits for, and both share one sync",
          "[persistence][group_commit][commit_delay]") {
  test::temp_dir dir;
  store db{{dir.path(), true, 0, nullptr}};
  publish_probe published;
  group_commit gc{db, published.fn()};
  gc.delay_commits_for(1h);  // only company can end the wait

  gc.write({put_with_event("started")}, nullptr);  // an attempt's start: nobody waits
  REQUIRE(until_waiting(gc));
  CHECK(gc.commits() == 0);  // still waiting: neither written nor published
  CHECK(published.events == 0);
  CHECK_FALSE(db.index_value("started"));

  REQUIRE(write_and_wait(gc, put_with_event("submitted")));  // a submit: its client waits
  CHECK(gc.commits() == 1);
  CHECK(published.batches == 1);
  CHECK(published.events == 2);
  CHECK(db.index_value("started") == std::optional<std::string>{"v"});
  CHECK(db.index_value("submitted") == std::optional<std::string>{"v"});
  CHECK(gc.delayed_commits() == 1);
  CHECK(gc.joined_commits() == 1);
}

TEST_CASE("a write made only if its job is kept is dropped once the job is deleted, also earlier in the same commit",
          "[persistence][group_commit][webhooks]") {
  test::temp_dir dir;
  store db{{dir.path(), true, 0, nullptr}};
  group_commit gc{db, [](std::vector<event>&&) {}};
  auto guarded = [](const std::string& key) {
    auto w = put(key);
    w.only_if_job_kept = "job_1";
    return w;
  };
  auto job_row = [](kv_op::kind what) {
    job_write w;
    w.ops.push_back({what, family::jobs, "job_1", what == kv_op::kind::put ? "record" : ""});
    return w;
  };
  REQUIRE(write_and_wait(gc, guarded("before the job")));
  CHECK_FALSE(db.index_value("before the job"));
  REQUIRE(write_and_wait(gc, job_row(kv_op::kind::put)));
  REQUIRE(write_and_wait(gc, guarded("while kept")));
  CHECK(db.index_value("while kept") == std::optional<std::string>{"v"});
  // The deletion and the guarded write in one commit: the deletion first.
  gc.delay_commits_for(1h);
  gc.write({job_row(kv_op::kind::erase)}, nullptr);
  REQUIRE(until_waiting(gc));
  REQUIRE(write_and_wait(gc, guarded("same commit")));
  CHECK_FALSE(db.index_value("same commit"));
  REQUIRE(write_and_wait(gc, guarded("after")));
  CHECK_FALSE(db.index_value("after"));
}

TEST_CASE("a read ends a commit's wait for company, and sees the write", "[persistence][group_commit][commit_delay]") {
  test::temp_dir dir;
  store db{{dir.path(), true, 0, nullptr}};
  group_commit gc{db, [](std::vector<event>&&) {}};
  gc.delay_commits_for(1h);
  gc.write({put("lazy")}, nullptr);
  REQUIRE(until_waiting(gc));
  std::promise<std::optional<std::string>> seen;
  gc.read([&] { seen.set_value(db.index_value("lazy")); });
  auto f = seen.get_future();
  REQUIRE(f.wait_for(20s) == std::future_status::ready);
  CHECK(f.get() == std::optional<std::string>{"v"});
  CHECK(gc.joined_commits() == 1);
}

TEST_CASE("stopping the writer commits a commit that waits for company at once",
          "[persistence][group_commit][commit_delay]") {
  test::temp_dir dir;
  publish_probe published;
  {
    store db{{dir.path(), true, 0, nullptr}};
    group_commit gc{db, published.fn()};
    gc.delay_commits_for(1h);
    gc.write({put_with_event("ended")}, nullptr);
    REQUIRE(until_waiting(gc));
    gc.stop();  // would take an hour if the wait ignored it
    CHECK(published.events == 1);
    CHECK(db.index_value("ended") == std::optional<std::string>{"v"});
  }
  store again{{dir.path(), true, 0, nullptr}};
  CHECK(again.index_value("ended") == std::optional<std::string>{"v"});
}

TEST_CASE("without sync nothing waits for company", "[persistence][group_commit][commit_delay]") {
  test::temp_dir dir;
  store db{{dir.path(), false, 0, nullptr}};
  std::promise<std::size_t> published;
  group_commit gc{db, [&](std::vector<event>&& e) { published.set_value(e.size()); }};
  gc.delay_commits_for(1h);
  gc.write({put_with_event("lazy")}, nullptr);
  auto f = published.get_future();
  REQUIRE(f.wait_for(20s) == std::future_status::ready);  // not an hour
  CHECK(f.get() == 1);
  CHECK_FALSE(gc.waiting_for_company());
  CHECK(gc.delayed_commits() == 0);
}

TEST_CASE("the commit delay follows the disk, is capped, and backs off when nobody comes",
          "[persistence][commit_delay]") {
  commit_delay d;
  CHECK(d.next() == 0ns);  // no sync measured yet: no wait
  for (int i = 0; i < 200; ++i) d.observe_sync(200us);
  CHECK(d.next() > 190us);
  CHECK(d.next() <= 200us);
  for (int i = 0; i < 200; ++i) d.observe_sync(20ms);  // a slow disk
  CHECK(d.next() == commit_delay::max_wait);

  // Lonely waits: the next wait comes after 1, 3, 7, ... then 63 commits at once.
  auto commits_until_next_wait = [&] {
    int at_once = 0;
    while (d.next() == 0ns) ++at_once;
    return at_once;
  };
  d.waited(false);
  CHECK(commits_until_next_wait() == 1);
  d.waited(false);
  CHECK(commits_until_next_wait() == 3);
  d.waited(false);
  CHECK(commits_until_next_wait() == 7);
  for (int i = 0; i < 10; ++i) {
    d.waited(false);
    (void)commits_until_next_wait();
  }
  d.waited(false);
  CHECK(commits_until_next_wait() == 63);
  // Company: the next commit waits again, and so does the one after.
  d.waited(true);
  CHECK(d.next() == commit_delay::max_wait);
  d.waited(true);
  CHECK(d.next() == commit_delay::max_wait);
  d.waited(false);
  CHECK(commits_until_next_wait() == 1);
}

namespace {

/// A job's record written as the engine writes it: created pending (into
/// open_jobs), or moved from `from` to `to` (completed: into jobs, its key
/// in open_jobs deleted).
job_write job_at(const std::string& id, job_status to, std::optional<job_status> from) {
  job_record r;
  r.id = id;
  r.tool = "noop";
  r.status = to;
  r.created_at = clock::now();
  job_write w;
  w.record.emplace(r);
  w.previous_status = from;
  w.created = !from;
  return w;
}

/// Waits until the writer has finished `n` compactions of open_jobs.
bool until_compacted(const group_commit& gc, std::uint64_t n) {
  return eventually([&] { return gc.open_jobs_compactions() >= n; });
}

/// The unfinished jobs' ids, as a listing of pending jobs walks them.
std::vector<std::string> open_ids(const store& db) {
  std::vector<std::string> ids;
  db.scan_ids_newest_first(keys::open_jobs_scan, [&](std::string_view id) {
    ids.emplace_back(id);
    return true;
  });
  return ids;
}

}  // namespace

TEST_CASE("once enough jobs have finished, the writer compacts open_jobs and a walk steps over no deleted key",
          "[persistence][group_commit][compaction]") {
  test::temp_dir dir;
  store db{{dir.path(), false, 0, nullptr}};
  group_commit gc{db, [](std::vector<event>&&) {}};
  gc.compact_open_jobs_after(300);
  const auto id = [](int i) { return "job_" + std::string(i < 10 ? "00" : i < 100 ? "0" : "") + std::to_string(i); };
  std::vector<job_write> created, finished;
  for (int i = 0; i < 320; ++i) created.push_back(job_at(id(i), job_status::pending, std::nullopt));
  // All but the five last finish: 299 deletions, one short of a compaction.
  for (int i = 0; i < 299; ++i) finished.push_back(job_at(id(i), job_status::completed, job_status::pending));
  REQUIRE(write_and_wait_all(gc, std::move(created)));
  REQUIRE(write_and_wait_all(gc, std::move(finished)));
  CHECK(db.deleted_unfinished() == 299);
  CHECK(gc.open_jobs_compactions() == 0);

  std::vector<job_write> more;
  for (int i = 299; i < 315; ++i) more.push_back(job_at(id(i), job_status::completed, job_status::pending));
  REQUIRE(write_and_wait_all(gc, std::move(more)));
  REQUIRE(until_compacted(gc, 1));
  CHECK(db.deleted_unfinished() == 0);
  CHECK(db.unfinished_keys_in_files() == 5);
  CHECK(open_ids(db) == std::vector<std::string>{id(319), id(318), id(317), id(316), id(315)});
  CHECK(db.get_job(id(0))->status == job_status::completed);
  CHECK(db.get_job(id(319))->status == job_status::pending);
}

TEST_CASE("deleted keys of open_jobs left by an earlier run count toward the first compaction",
          "[persistence][group_commit][compaction]") {
  test::temp_dir dir;
  {
    store db{{dir.path(), false, 0, nullptr}};
    group_commit gc{db, [](std::vector<event>&&) {}};
    std::vector<job_write> created, finished;
    for (int i = 0; i < 200; ++i) {
      created.push_back(job_at("job_" + std::to_string(1000 + i), job_status::pending, std::nullopt));
      finished.push_back(job_at("job_" + std::to_string(1000 + i), job_status::completed, job_status::pending));
    }
    REQUIRE(write_and_wait_all(gc, std::move(created)));
    REQUIRE(write_and_wait_all(gc, std::move(finished)));
    CHECK(gc.open_jobs_compactions() == 0);  // 200 is below the default's 10,000
  }
  store db{{dir.path(), false, 0, nullptr}};
  CHECK(db.deleted_unfinished() == 200);  // the replayed log's deletions, now in a file
  group_commit gc{db, [](std::vector<event>&&) {}};
  gc.compact_open_jobs_after(150);
  REQUIRE(until_compacted(gc, 1));
  CHECK(db.deleted_unfinished() == 0);
  CHECK(open_ids(db).empty());
  CHECK(db.get_job("job_1199")->status == job_status::completed);
}
