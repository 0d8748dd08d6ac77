// docs/examples/annotate.sh, the pattern users copy for resumable exec tools,
// run by the real overseerd: killed with SIGKILL after a checkpoint and
// restarted, the job must complete with the output of every chunk, those of
// the first attempt included, each exactly once.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include "support/daemon.hpp"
#include "support/eventually.hpp"
#include "support/example_tools.hpp"
#include "support/http_helpers.hpp"
#include "support/temp_dir.hpp"

using namespace std::chrono_literals;
using namespace overseer::test;
namespace json = boost::json;

TEST_CASE("the annotate example keeps every chunk when it resumes after kill -9", "[recovery][exec]") {
  temp_dir dir;
  const auto genomes = dir.path() / "genomes";
  std::filesystem::create_directories(genomes);
  std::ofstream{genomes / "genome.fa"} << ">chr1\nACGT\n>chr2\nGGCC\n";
  const auto tools_file = example_tools_file(OVERSEER_SOURCE_DIR, dir.path(), genomes);
  const auto data = dir.path() / "data";
  const std::vector<std::string> args{"--tools", tools_file.string()};
  constexpr int chunks = 8;

  std::string id;
  {
    overseerd_process d{data, args};
    http_client c{d.port()};
    id = submit(c, json::parse(R"({"tool": "annotate",
        "params": {"fasta": "genome.fa", "chunks": 8, "seconds_per_chunk": 0.3}})"));
    // The script prints a chunk's progress before its checkpoint, and the
    // engine handles its lines in order, a checkpoint line only once it is
    // durable: progress at step 3 means the checkpoint after chunk 2 is.
    REQUIRE(eventually(
        [&] {
          auto v = c.get("/v1/jobs/" + id).json().as_object();
          const auto* p = v.if_contains("progress");
          return p && p->as_object().if_contains("current_step") &&
                 p->at("current_step").to_number<int>() >= 3;
        },
        30s));
    d.kill9();
  }

  overseerd_process d{data, args};
  http_client c{d.port()};
  auto view = await_status(c, id, {}, 60s);
  REQUIRE(str(view, "status") == "completed");
  CHECK(view.at("attempt").to_number<int>() >= 2);
  const auto& result = view.at("result").as_object();
  INFO(json::serialize(result));
  CHECK(result.at("chunks").to_number<int>() == chunks);
  CHECK(result.at("resumed_after").to_number<int>() >= 2);
  CHECK(result.at("genes").to_number<int>() == 3 * chunks * (chunks + 1) / 2);

  std::ifstream annotations{std::string(result.at("annotations").as_string())};
  std::stringstream expected;
  for (int i = 1; i <= chunks; ++i) expected << "chunk " << i << '\t' << 3 * i << " genes\n";
  CHECK(std::string{std::istreambuf_iterator<char>{annotations}, {}} == expected.str());
}
