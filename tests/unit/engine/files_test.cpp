// Stored files through the embedded API (overseer/files.hpp): add_file, a
// param of type "file" seen by the body as a read-only path, declared
// outputs in the result, the in-use rule and the sweep after retention
// (with the job's working directories).
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>

#include "support/engine_fixture.hpp"

using namespace std::chrono_literals;
using namespace overseer;
using overseer::test::engine_fixture;
namespace fs = std::filesystem;

namespace {

std::string read_all(const fs::path& p) {
  std::ifstream in{p, std::ios::binary};
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("engine files: a file param reaches the body as the stored file's path, outputs join the result",
          "[engine][files]") {
  engine_fixture f;
  std::atomic<bool> hold{false};
  f.eng->tools().add(
    {.name = "copy",
     .params = boost::json::parse(R"({"input": {"type": "file", "required": true}})").as_object(),
     .outputs = {"*.out"}},
    [&](job_context& ctx) -> tool_result {
      const std::string path{ctx.params().at("input").as_string()};
      while (hold && !ctx.stop_requested()) ctx.sleep_for(10ms);
      std::ofstream{ctx.workdir() / "copy.out"} << read_all(path) << "!";
      return boost::json::value(42);  // not an object: wrapped
    });
  f.start();
  const auto src = f.dir.path() / "in.txt";
  std::ofstream{src} << "payload";
  auto added = f.eng->add_file(src, "in.txt");
  REQUIRE(added);
  CHECK(added->size == 7);
  CHECK(added->sha256 == "239f59ed55e737c77147cf55ad0c1b030b6d7ee748a7426952f9b852d5a935e5");
  const auto stored = f.eng->file_path(added->id);
  CHECK(read_all(stored) == "payload");
  struct stat st {};
  REQUIRE(::stat(stored.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0444);

  auto bad = f.eng->try_submit({.tool = "copy", .params = {{"input", "file_01ARZ3NDEKTSV4RRFFQ69G5FAV"}}});
  REQUIRE(bad.code == errc::invalid_spec);
  REQUIRE(bad.errors.size() == 1);
  CHECK(bad.errors[0].field == "params.input");

  hold = true;
  const auto id = f.eng->submit({.tool = "copy", .params = {{"input", added->id}}});
  REQUIRE(f.events.wait_for(test::reached(id, job_status::running)));
  auto in_use = f.eng->delete_file(added->id);
  CHECK(in_use.code() == errc::conflict);
  hold = false;
  auto done = f.eng->wait(id, 20s);
  REQUIRE(done);
  REQUIRE(done->status == job_status::completed);
  const auto& result = done->result->as_object();
  CHECK(result.at("value").as_int64() == 42);
  const auto& files = result.at("files").as_array();
  REQUIRE(files.size() == 1);
  const std::string out_id{files[0].at("file_id").as_string()};
  CHECK(files[0].at("name").as_string() == "copy.out");
  CHECK(read_all(f.eng->file_path(out_id)) == "payload!");
  auto out = f.eng->get_file(out_id);
  REQUIRE(out);
  CHECK(out->job_id == id);

  auto listed = f.eng->list_files({.limit = 1});
  REQUIRE(listed.files.size() == 1);
  CHECK(listed.files[0].id == out_id);  // newest first
  CHECK(f.eng->list_files({.cursor = listed.next_cursor}).files.at(0).id == added->id);

  // The job is finished: its input can go; its outputs go with the job.
  CHECK(f.eng->delete_file(added->id).ok());
  CHECK(f.eng->get_file(added->id).code() == errc::not_found);
  CHECK_FALSE(fs::exists(stored));
  // Its scratch stays while the job is stored, and goes with it; what is
  // not a job's is left alone.
  const auto work = f.dir.path() / "data" / "work";
  CHECK(fs::exists(work / id / "1" / "copy.out"));
  fs::create_directories(work / "notes");
  f.eng->run_retention();
  CHECK(fs::exists(work / id / "1" / "copy.out"));
  CHECK(f.eng->purge({}).deleted == 1);
  f.eng->run_retention();
  CHECK(f.eng->get_file(out_id).code() == errc::not_found);
  CHECK_FALSE(fs::exists(f.eng->file_path(out_id)));
  CHECK_FALSE(fs::exists(work / id));
  CHECK(fs::is_directory(work / "notes"));
}

TEST_CASE("engine files: stored bytes without a record are removed at the next start", "[engine][files]") {
  engine_fixture f;
  f.start();
  const auto src = f.dir.path() / "in.txt";
  std::ofstream{src} << "x";
  auto kept = f.eng->add_file(src, "kept");
  REQUIRE(kept);
  const auto kept_path = f.eng->file_path(kept->id);
  f.close();
  const auto data = f.dir.path() / "data";
  std::ofstream{data / "files" / "file_01ARZ3NDEKTSV4RRFFQ69G5FAV"} << "orphan";  // a crash before its row
  std::ofstream{data / "files" / "tmp" / "upload-1"} << "partial";
  f.open({});
  f.start();
  CHECK_FALSE(fs::exists(data / "files" / "file_01ARZ3NDEKTSV4RRFFQ69G5FAV"));
  CHECK(fs::is_empty(data / "files" / "tmp"));
  CHECK(read_all(kept_path) == "x");
  CHECK(f.eng->get_file(kept->id));
}
