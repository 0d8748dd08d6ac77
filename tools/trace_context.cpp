#include "tools/trace_context.hpp"

#include <cstdint>

namespace overseer::tools {

namespace {

bool lower_hex(std::string_view s) noexcept {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool all_zero(std::string_view s) noexcept { return s.find_first_not_of('0') == std::string_view::npos; }

}  // namespace

bool valid_trace_id(std::string_view id) noexcept { return id.size() == 32 && lower_hex(id) && !all_zero(id); }

traceparent_reading parse_traceparent(std::string_view h) {
  // Optional whitespace around a header value is not part of it.
  while (!h.empty() && (h.front() == ' ' || h.front() == '\t')) h.remove_prefix(1);
  while (!h.empty() && (h.back() == ' ' || h.back() == '\t')) h.remove_suffix(1);
  const auto bad = [](std::string why) { return traceparent_reading{std::nullopt, std::move(why)}; };
  constexpr std::string_view shape = "expected 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>";
  if (h.size() < 55 || h[2] != '-' || h[35] != '-' || h[52] != '-') return bad(std::string{shape});
  const auto version = h.substr(0, 2), trace = h.substr(3, 32), parent = h.substr(36, 16), flags = h.substr(53, 2);
  if (!lower_hex(version) || version == "ff") return bad("version " + std::string{version} + " is not valid");
  if (version == "00" && h.size() != 55) return bad("version 00 has exactly 55 characters");
  if (version != "00" && h.size() > 55 && h[55] != '-') return bad(std::string{shape});
  if (!lower_hex(trace) || all_zero(trace)) return bad("the trace id must be 32 lowercase hex digits, not all zero");
  if (!lower_hex(parent) || all_zero(parent))
    return bad("the parent id must be 16 lowercase hex digits, not all zero");
  if (!lower_hex(flags)) return bad("the flags must be 2 lowercase hex digits");
  return {std::string{trace}, {}};
}

std::string traceparent_for(std::string_view trace_id, std::string_view job_id, int attempt) {
  // FNV-1a 64 of "JOB_ID/ATTEMPT": a span id per attempt, the same on every read.
  std::uint64_t h = 14695981039346656037ull;
  auto mix = [&](unsigned char c) {
    h ^= c;
    h *= 1099511628211ull;
  };
  for (char c : job_id) mix(static_cast<unsigned char>(c));
  mix('/');
  for (char c : std::to_string(attempt)) mix(static_cast<unsigned char>(c));
  if (h == 0) h = 1;
  static constexpr char digits[] = "0123456789abcdef";
  std::string span(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) span[static_cast<std::size_t>(i)] = digits[h & 0xf];
  return "00-" + std::string{trace_id} + "-" + span + "-01";
}

}  // namespace overseer::tools
