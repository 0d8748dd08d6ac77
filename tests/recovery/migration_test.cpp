// A data directory written by storage schema 1 (tests/data/store-v1.tar.gz,
// made by tests/data/make_store_v1.sh with the daemon of commit e76d539)
// opens in this build: it is migrated at start (histories into the job
// records, status entries to the layout of schema 2), and every API answer
// recorded by the old daemon (tests/data/store-v1-answers.json) is the same.
// The janitor's first pass comes 60 s after a start, so jobs past their ttl
// are still there while this runs.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <rocksdb/db.h>

#include "persistence/key_layout.hpp"
#include "support/daemon.hpp"
#include "support/http_helpers.hpp"
#include "support/temp_dir.hpp"

using namespace overseer::test;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

std::string read_text(const fs::path& p) {
  std::ifstream in{p, std::ios::binary};
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// The answer without estimates (they come from the rollups of the last
/// hour or day, so they depend on when the test runs) and without the
/// fields views gained after the fixture's answers were recorded. Of those,
/// attempts_counted must equal attempt: a schema 1 record never had an
/// attempt that did not count.
json::value without_estimates(json::value v) {
  if (auto* o = v.if_object()) {
    if (const auto* counted = o->if_contains("attempts_counted")) CHECK(*counted == o->at("attempt"));
    for (auto it = o->begin(); it != o->end();) {
      if (it->key().starts_with("estimated") || it->key() == "attempts_counted") {
        it = o->erase(it);
      } else {
        it->value() = without_estimates(it->value());
        ++it;
      }
    }
  } else if (auto* a = v.if_array()) {
    for (auto& x : *a) x = without_estimates(x);
  }
  return v;
}

/// The schema 1 fixture unpacked into `dir` (as `dir`/data), and the
/// answers the old daemon gave over it.
json::object unpack_store_v1(const fs::path& dir) {
  const fs::path data_dir = fs::path{OVERSEER_SOURCE_DIR} / "tests" / "data";
  const std::string untar =
    "tar -xzf '" + (data_dir / "store-v1.tar.gz").string() + "' -C '" + dir.string() + "'";
  REQUIRE(std::system(untar.c_str()) == 0);
  return json::parse(read_text(data_dir / "store-v1-answers.json")).as_object();
}

/// Every recorded GET answered now as it was then (estimates aside).
void check_every_answer(http_client& c, const json::object& answers) {
  for (const auto& [path, expected] : answers) {
    const auto r = c.get("/v1" + std::string{path});
    INFO(std::string{path} << "\nnow:    " << r.body << "\nbefore: " << json::serialize(expected));
    REQUIRE(r.status == 200);
    CHECK(without_estimates(r.json()) == without_estimates(expected));
  }
}

/// What a migration that stopped partway (a crash, kill -9, power) left: an
/// unfinished job's record moved to open_jobs and its status entry gone,
/// in one batch, as the migration's second step does, with the schema
/// still 1. Written with RocksDB directly, over every family the store has.
void move_to_open_jobs_as_a_crashed_migration_did(const fs::path& dir, const std::string& id) {
  rocksdb::Options options;
  options.create_if_missing = false;
  options.create_missing_column_families = true;
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const char* name : {"default", "jobs", "history", "logs", "results", "index", "events", "meta", "cache",
                           "batches", "webhooks", "open_jobs"})
    families.emplace_back(name, rocksdb::ColumnFamilyOptions{});
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  const auto opened = rocksdb::DB::Open(options, dir.string(), families, &handles, &raw);
  INFO(opened.ToString());
  REQUIRE(opened.ok());
  std::unique_ptr<rocksdb::DB> db{raw};
  auto* jobs = handles[1];
  auto* index = handles[5];
  auto* meta = handles[7];
  auto* open_jobs = handles[11];
  std::string version, record;
  REQUIRE(db->Get({}, meta, overseer::persistence::keys::schema_version_key, &version).ok());
  REQUIRE(version == "1");
  REQUIRE(db->Get({}, jobs, id, &record).ok());
  std::string entry;
  const auto prefix = overseer::persistence::keys::status_prefix(overseer::job_status::pending);
  {
    std::unique_ptr<rocksdb::Iterator> it{db->NewIterator({}, index)};
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next())
      if (overseer::persistence::keys::index_job_id(it->key().ToStringView()) == id) entry = it->key().ToString();
  }
  REQUIRE_FALSE(entry.empty());
  rocksdb::WriteBatch wb;
  REQUIRE(wb.Put(open_jobs, id, record).ok());
  REQUIRE(wb.Delete(jobs, id).ok());
  REQUIRE(wb.Delete(index, entry).ok());
  rocksdb::WriteOptions sync;
  sync.sync = true;
  REQUIRE(db->Write(sync, &wb).ok());
  for (auto* h : handles) REQUIRE(db->DestroyColumnFamilyHandle(h).ok());
  REQUIRE(db->Close().ok());
}

}  // namespace

TEST_CASE("a schema 1 migration that stopped partway runs again at start and answers exactly as before",
          "[recovery][migration]") {
  temp_dir dir;
  const auto recorded = unpack_store_v1(dir.path());
  const auto& answers = recorded.at("get").as_object();
  // The fixture's one pending job.
  const auto pending = answers.at("/jobs?status=pending&limit=100").at("jobs").as_array();
  REQUIRE(pending.size() == 1);
  const std::string id{pending.at(0).at("job_id").as_string()};
  move_to_open_jobs_as_a_crashed_migration_did(dir.path() / "data", id);

  const auto log = dir.path() / "daemon.log";
  overseerd_process d{dir.path() / "data", {}, log};
  http_client c{d.port()};
  // The job once, in every listing, with its history: as before the crash.
  check_every_answer(c, answers);
  // Said plainly: listed once (it waits for its run_at, in 2030).
  const auto all = c.get("/v1/jobs?limit=100").json();
  std::size_t seen = 0;
  for (const auto& j : all.at("jobs").as_array()) seen += j.at("job_id").as_string() == id ? 1 : 0;
  CHECK(seen == 1);
  CHECK(d.stop() == 0);
  CHECK(read_text(log).find("migrated the store from schema 1 to 2") != std::string::npos);
}

TEST_CASE("a data directory of storage schema 1 is migrated at start and answers exactly as before",
          "[recovery][migration]") {
  temp_dir dir;
  const auto recorded = unpack_store_v1(dir.path());
  const auto& answers = recorded.at("get").as_object();
  REQUIRE(answers.size() > 20);
  const std::string retried{recorded.at("ids").as_array().at(1).as_string()};

  const auto first_log = dir.path() / "first.log";
  {
    overseerd_process d{dir.path() / "data", {}, first_log};
    http_client c{d.port()};
    check_every_answer(c, answers);
    // The migrated store goes on: a new job's history is written the new way
    // and reads the same as ever.
    const auto sub = c.post("/v1/jobs?wait=30s", json::parse(R"({"tool":"noop"})"));
    REQUIRE(sub.status == 200);
    const std::string id{sub.json().at("job_id").as_string()};
    const auto h = c.get("/v1/jobs/" + id + "/history").json().at("transitions").as_array();
    REQUIRE(h.size() == 3);
    CHECK(h[0].at("reason") == "submitted");
    CHECK(h[0].at("from").is_null());
    CHECK(h[1].at("to") == "running");
    CHECK(h[2].at("to") == "completed");
    CHECK(c.get("/v1/jobs/" + id + "/result").json().at("result") == json::parse("{}"));
    CHECK(d.stop() == 0);
  }
  CHECK(read_text(first_log).find("migrated the store from schema 1 to 2") != std::string::npos);

  // Opened again: schema 2 already, nothing to migrate, the same answers.
  const auto second_log = dir.path() / "second.log";
  {
    overseerd_process d{dir.path() / "data", {}, second_log};
    http_client c{d.port()};
    for (const std::string& path : {"/jobs/" + retried + "/history", std::string{"/jobs?status=completed&limit=100"}}) {
      if (path.starts_with("/jobs?")) {
        // One more completed job now, the new one first.
        const auto now = c.get("/v1" + path).json().at("jobs").as_array();
        const auto& before = answers.at(path).at("jobs").as_array();
        REQUIRE(now.size() == before.size() + 1);
        for (std::size_t i = 0; i < before.size(); ++i)
          CHECK(without_estimates(now[i + 1]) == without_estimates(before[i]));
      } else {
        CHECK(c.get("/v1" + path).json() == answers.at(path));
      }
    }
    CHECK(d.stop() == 0);
  }
  CHECK(read_text(second_log).find("migrated the store") == std::string::npos);
}
