#include "fuzz/fuzz.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>

namespace overseer::fuzz {
namespace {
std::atomic<bool> throwing{false};
}

void throw_on_findings(bool enabled) { throwing = enabled; }

void fail(const std::string& what) {
  if (throwing) throw finding{what};
  std::fprintf(stderr, "\n==overseer-fuzz== FINDING: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();  // libFuzzer's deadly-signal handler saves the input
}

std::string excerpt(std::string_view s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < n; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '\\') {
      out += "\\\\";
    } else if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    }
  }
  if (s.size() > n) out += "... (" + std::to_string(s.size()) + " bytes)";
  return out;
}

}  // namespace overseer::fuzz
