#include "tools/regex.hpp"

#include <map>
#include <mutex>
#include <shared_mutex>

namespace overseer::tools {
namespace {

// Patterns come from tool definitions, never from clients, so the cache
// holds one entry per distinct pattern of the registered tools.
struct regex_cache {
  std::shared_mutex mutex;
  std::map<std::string, std::shared_ptr<const re2::RE2>, std::less<>> compiled;
};

regex_cache& cache() {
  static regex_cache c;
  return c;
}

}  // namespace

std::shared_ptr<const re2::RE2> compile_regex(std::string_view pattern, std::string& error) {
  auto& c = cache();
  {
    std::shared_lock lock{c.mutex};
    if (auto it = c.compiled.find(pattern); it != c.compiled.end()) return it->second;
  }
  re2::RE2::Options options;
  options.set_log_errors(false);  // the caller reports the error, naming the tool
  auto re = std::make_shared<const re2::RE2>(re2::StringPiece(pattern.data(), pattern.size()), options);
  if (!re->ok()) {
    error = re->error();
    return nullptr;
  }
  std::unique_lock lock{c.mutex};
  return c.compiled.emplace(std::string(pattern), std::move(re)).first->second;
}

bool full_match(const re2::RE2& re, std::string_view value) {
  return re2::RE2::FullMatch(re2::StringPiece(value.data(), value.size()), re);
}

std::optional<std::string_view> search_group1(const re2::RE2& re, std::string_view text) {
  if (re.NumberOfCapturingGroups() < 1) return std::nullopt;
  re2::StringPiece group;
  if (!re2::RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), re, &group) || group.data() == nullptr)
    return std::nullopt;
  return std::string_view(group.data(), group.size());
}

}  // namespace overseer::tools
