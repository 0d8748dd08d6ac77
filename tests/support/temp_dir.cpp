#include "support/temp_dir.hpp"

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <system_error>

namespace overseer::test {

temp_dir::temp_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "overseer-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr)
    throw std::runtime_error("mkdtemp failed for " + pattern);
  path_ = pattern;
}

temp_dir::~temp_dir() {
  std::error_code ignored;  // best effort: a leftover temp dir is harmless
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace overseer::test
