// Exec tools' output patterns (tools/output_files.hpp): what a pattern may
// be, how it matches, and that matching never leaves the directory.
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"
#include "tools/output_files.hpp"

using namespace overseer::tools;
namespace fs = std::filesystem;

TEST_CASE("output patterns: relative names and globs only, never leaving the workdir", "[tools][files]") {
  CHECK_FALSE(check_output_pattern("result.csv"));
  CHECK_FALSE(check_output_pattern("*.csv"));
  CHECK_FALSE(check_output_pattern("out/part-??.bin"));
  CHECK(check_output_pattern(""));
  CHECK(check_output_pattern("/etc/passwd"));
  CHECK(check_output_pattern(".."));
  CHECK(check_output_pattern("../x"));
  CHECK(check_output_pattern("out/../../x"));
  CHECK(check_output_pattern("./x"));
  CHECK(check_output_pattern("out//x"));
  CHECK(check_output_pattern("out/"));
  CHECK(check_output_pattern("a\\b"));
  CHECK(check_output_pattern(std::string{"a\0b", 3}));
  CHECK(*check_output_pattern("../x") == "leaves the working directory (..)");
}

TEST_CASE("output patterns: '*' and '?' match within one path segment", "[tools][files]") {
  CHECK(output_matches("*.csv", "a.csv"));
  CHECK(output_matches("*.csv", ".csv"));
  CHECK_FALSE(output_matches("*.csv", "a.csv.gz"));
  CHECK_FALSE(output_matches("*.csv", "out/a.csv"));  // '*' does not cross '/'
  CHECK(output_matches("out/*.csv", "out/a.csv"));
  CHECK(output_matches("*/*", "out/a.csv"));
  CHECK(output_matches("part-??", "part-01"));
  CHECK_FALSE(output_matches("part-??", "part-1"));
  CHECK(output_matches("a*b*c", "aXXbYYc"));
  CHECK_FALSE(output_matches("a*b*c", "aXXbYY"));
  CHECK(output_matches("*", "anything"));
  CHECK(output_matches("exact.txt", "exact.txt"));
  CHECK_FALSE(output_matches("exact.txt", "exact.txtx"));
}

TEST_CASE("output files: regular files only, symbolic links never followed", "[tools][files]") {
  overseer::test::temp_dir dir;
  const auto work = dir.path() / "work";
  fs::create_directories(work / "out" / "deep");
  std::ofstream{work / "a.csv"} << "a";
  std::ofstream{work / "b.txt"} << "b";
  std::ofstream{work / "out" / "c.csv"} << "c";
  std::ofstream{work / "out" / "deep" / "d.csv"} << "d";
  const auto outside = dir.path() / "secret";
  fs::create_directories(outside);
  std::ofstream{outside / "s.csv"} << "s";
  fs::create_symlink(outside / "s.csv", work / "link.csv");  // a link to a file outside
  fs::create_symlink(outside, work / "linked");               // a link to a directory outside
  fs::create_directories(work / "dir.csv");                   // a directory that matches

  CHECK(find_outputs(work, {"*.csv"}) == std::vector<std::string>{"a.csv"});
  CHECK(find_outputs(work, {"*.csv", "out/*.csv"}) == std::vector<std::string>{"a.csv", "out/c.csv"});
  CHECK(find_outputs(work, {"*/*.csv"}) == std::vector<std::string>{"out/c.csv"});  // not linked/s.csv
  CHECK(find_outputs(work, {"*/*/*.csv"}) == std::vector<std::string>{"out/deep/d.csv"});
  CHECK(find_outputs(work, {"*.csv", "a.csv"}) == std::vector<std::string>{"a.csv"});  // once
  CHECK(find_outputs(work, {"nothing.*"}).empty());
  CHECK(find_outputs(dir.path() / "missing", {"*"}).empty());
}
