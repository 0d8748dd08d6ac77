#include "tools/utf8.hpp"

#include <cstdint>

namespace overseer::tools {
namespace {

constexpr std::string_view replacement = "\xEF\xBF\xBD";

/// The length of the well-formed sequence at `i`, or 0 if ill-formed; in
/// that case `bad` is the length of the maximal subpart to replace (>= 1).
std::size_t sequence_at(std::string_view s, std::size_t i, std::size_t& bad) noexcept {
  const auto byte = [&](std::size_t k) { return static_cast<std::uint8_t>(s[k]); };
  const std::uint8_t b0 = byte(i);
  bad = 1;
  if (b0 < 0x80) return 1;
  std::size_t len = 0;
  std::uint8_t lo = 0x80, hi = 0xBF;  // range of the second byte (Unicode Table 3-7)
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return 0;  // 0x80-0xC1, 0xF5-0xFF never start a sequence
  }
  for (std::size_t k = 1; k < len; ++k) {
    if (i + k >= s.size()) return 0;
    const std::uint8_t b = byte(i + k);
    const bool ok = k == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xBF);
    if (!ok) return 0;
    bad = k + 1;  // the subpart so far is a valid prefix
  }
  return len;
}

}  // namespace

std::size_t first_invalid_utf8(std::string_view s) noexcept {
  std::size_t bad = 0;
  for (std::size_t i = 0; i < s.size();) {
    if (static_cast<std::uint8_t>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const auto n = sequence_at(s, i, bad);
    if (n == 0) return i;
    i += n;
  }
  return std::string_view::npos;
}

bool valid_utf8(std::string_view s) noexcept { return first_invalid_utf8(s) == std::string_view::npos; }

std::string sanitize_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t bad = 0;
  for (std::size_t i = 0; i < s.size();) {
    const auto n = sequence_at(s, i, bad);
    if (n == 0) {
      out += replacement;
      i += bad;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::size_t utf8_length(std::string_view s) noexcept {
  std::size_t n = 0;
  for (const char c : s) n += (static_cast<std::uint8_t>(c) & 0xC0) != 0x80;
  return n;
}

bool sanitize_utf8_in_place(std::string& s) {
  if (valid_utf8(s)) return false;
  s = sanitize_utf8(s);
  return true;
}

std::string_view utf8_prefix(std::string_view s, std::size_t max_bytes) noexcept {
  if (s.size() <= max_bytes) return s;
  // Back up over the continuation bytes of the cut sequence: at most three,
  // the longest a sequence has.
  std::size_t end = max_bytes;
  for (int k = 0; k < 3 && end > 0 && (static_cast<std::uint8_t>(s[end]) & 0xC0) == 0x80; ++k) --end;
  return s.substr(0, end);
}

}  // namespace overseer::tools
