// Replays the committed fuzz inputs through the same entry functions the
// fuzzers call (fuzz/fuzz.hpp): every seed of fuzz/corpus/<target>/ and
// every input of fuzz/regressions/<target>/ that once broke something.
// Inputs whose fix has not landed wait in fuzz/regressions/<target>/open/,
// which is not replayed (docs/fuzzing.md).
#include "fuzz/fuzz.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> files;
  if (!fs::is_directory(dir)) return files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::string read(const fs::path& file) {
  std::ifstream in{file, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, {}};
}

}  // namespace

TEST_CASE("every committed fuzz input passes its target's checks", "[fuzz]") {
  const auto& target = GENERATE(from_range(overseer::fuzz::targets));
  const fs::path root = fs::path(OVERSEER_SOURCE_DIR) / "fuzz";
  const auto seeds = files_in(root / "corpus" / target.name);
  const auto regressions = files_in(root / "regressions" / target.name);
  INFO("target " << target.name);
  // A target without seeds would pass here and fuzz from nothing.
  CHECK(seeds.size() >= 3);
  overseer::fuzz::throw_on_findings(true);
  for (const auto& file : seeds) {
    INFO(file.string());
    const auto bytes = read(file);
    CHECK_NOTHROW(target.run(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
  }
  for (const auto& file : regressions) {
    INFO(file.string());
    const auto bytes = read(file);
    CHECK_NOTHROW(target.run(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
  }
  overseer::fuzz::throw_on_findings(false);
}

TEST_CASE("a finding in a test throws with its message instead of aborting", "[fuzz]") {
  overseer::fuzz::throw_on_findings(true);
  CHECK_THROWS_WITH(overseer::fuzz::fail("lost answer: 1 owed, 0 received"), "lost answer: 1 owed, 0 received");
  overseer::fuzz::throw_on_findings(false);
}

TEST_CASE("a finding quotes the input with unprintable bytes escaped", "[fuzz]") {
  CHECK(overseer::fuzz::excerpt(std::string("GET /\xff\r\n", 8)) == "GET /\\xFF\\x0D\\x0A");
  CHECK(overseer::fuzz::excerpt(std::string(10, 'a'), 4) == "aaaa... (10 bytes)");
}
