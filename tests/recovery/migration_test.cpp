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

/// The answer without estimates: they come from the rollups of the last
/// hour or day, so they depend on when the test runs.
json::value without_estimates(json::value v) {
  if (auto* o = v.if_object()) {
    for (auto it = o->begin(); it != o->end();) {
      if (it->key().starts_with("estimated")) {
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

}  // namespace

TEST_CASE("a data directory of storage schema 1 is migrated at start and answers exactly as before",
          "[recovery][migration]") {
  temp_dir dir;
  const fs::path data_dir = fs::path{OVERSEER_SOURCE_DIR} / "tests" / "data";
  const std::string untar =
    "tar -xzf '" + (data_dir / "store-v1.tar.gz").string() + "' -C '" + dir.path().string() + "'";
  REQUIRE(std::system(untar.c_str()) == 0);
  const auto recorded = json::parse(read_text(data_dir / "store-v1-answers.json")).as_object();
  const auto& answers = recorded.at("get").as_object();
  REQUIRE(answers.size() > 20);
  const std::string retried{recorded.at("ids").as_array().at(1).as_string()};

  const auto first_log = dir.path() / "first.log";
  {
    overseerd_process d{dir.path() / "data", {}, first_log};
    http_client c{d.port()};
    for (const auto& [path, expected] : answers) {
      const auto r = c.get("/v1" + std::string{path});
      INFO(std::string{path} << "\nnow:    " << r.body << "\nbefore: " << json::serialize(expected));
      REQUIRE(r.status == 200);
      CHECK(without_estimates(r.json()) == without_estimates(expected));
    }
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
