// docs/examples/tools.json as `./build.sh run` installs it: its example
// paths (/opt/overseer/examples, /srv/genomes) pointed at this source tree
// and at a folder of the test's.
#pragma once

#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

namespace overseer::test {

/// Writes the example tools file to `dir`/tools.json with the scripts in
/// `source_dir`/docs/examples and the genomes in `genomes`; returns its path.
inline std::filesystem::path example_tools_file(const std::filesystem::path& source_dir,
                                                const std::filesystem::path& dir,
                                                const std::filesystem::path& genomes) {
  std::ifstream in{source_dir / "docs/examples/tools.json"};
  std::string text{std::istreambuf_iterator<char>{in}, {}};
  if (text.empty()) throw std::runtime_error("cannot read docs/examples/tools.json under " + source_dir.string());
  auto replace_all = [&](const std::string& from, const std::string& to) {
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
      text.replace(at, from.size(), to);
  };
  replace_all("/opt/overseer/examples", (source_dir / "docs/examples").string());
  replace_all("/srv/genomes", genomes.string());
  const auto file = dir / "tools.json";
  std::ofstream{file} << text;
  return file;
}

}  // namespace overseer::test
