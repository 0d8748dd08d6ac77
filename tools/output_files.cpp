#include "tools/output_files.hpp"

#include <algorithm>
#include <system_error>

namespace overseer::tools {

namespace fs = std::filesystem;

namespace {

std::vector<std::string_view> split(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const auto end = s.find('/', start);
    out.push_back(s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

// '*' and '?' within one segment; iterative, with one backtrack point.
bool segment_matches(std::string_view p, std::string_view s) {
  std::size_t pi = 0, si = 0, star = std::string_view::npos, mark = 0;
  while (si < s.size()) {
    if (pi < p.size() && (p[pi] == '?' || p[pi] == s[si])) {
      ++pi;
      ++si;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = si;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

}  // namespace

std::optional<std::string> check_output_pattern(std::string_view pattern) {
  if (pattern.empty()) return "is empty";
  if (pattern.front() == '/') return "is an absolute path; give one relative to the working directory";
  if (pattern.find('\0') != std::string_view::npos) return "contains a NUL byte";
  if (pattern.find('\\') != std::string_view::npos) return "contains a backslash";
  for (auto seg : split(pattern)) {
    if (seg.empty()) return "has an empty path segment";
    if (seg == "..") return "leaves the working directory (..)";
    if (seg == ".") return "has a \".\" segment";
  }
  return std::nullopt;
}

bool output_matches(std::string_view pattern, std::string_view path) {
  const auto p = split(pattern), s = split(path);
  if (p.size() != s.size()) return false;
  for (std::size_t i = 0; i < p.size(); ++i)
    if (!segment_matches(p[i], s[i])) return false;
  return true;
}

std::vector<std::string> find_outputs(const fs::path& dir, const std::vector<std::string>& patterns) {
  std::vector<std::string> out;
  std::error_code ec;
  // directory_options::none: a symlinked directory is not entered.
  fs::recursive_directory_iterator it{dir, fs::directory_options::none, ec}, end;
  for (; !ec && it != end; it.increment(ec)) {
    const auto st = it->symlink_status(ec);
    if (ec) break;
    if (!fs::is_regular_file(st)) continue;  // links, directories, devices
    const auto rel = it->path().lexically_relative(dir).generic_string();
    if (rel.empty() || rel.starts_with("..")) continue;
    if (std::any_of(patterns.begin(), patterns.end(), [&](const auto& p) { return output_matches(p, rel); }))
      out.push_back(rel);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace overseer::tools
