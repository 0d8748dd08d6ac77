#include "persistence/key_layout.hpp"

#include <chrono>

namespace overseer::persistence::keys {

void append_be64(std::string& out, std::uint64_t v) {
  // Assembled first and appended once: one capacity check, not eight.
  char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((v >> (56 - 8 * i)) & 0xff);
  out.append(bytes, sizeof bytes);
}

std::uint64_t read_be64(std::string_view bytes) noexcept {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8 && i < bytes.size(); ++i)
    v = (v << 8) | static_cast<unsigned char>(bytes[i]);
  return v;
}

std::string job_seq(std::string_view job_id, std::uint64_t seq) {
  std::string k{job_id};
  append_be64(k, seq);
  return k;
}

std::string event(std::uint64_t seq) {
  std::string k;
  append_be64(k, seq);
  return k;
}

std::string status_prefix(job_status s) {
  std::string k{"status:"};
  k += to_string(s);
  k += ':';
  return k;
}

std::optional<std::string> status_entry_prefix(job_status s) {
  switch (s) {
    case job_status::failed:
    case job_status::cancelled:
    case job_status::timed_out: return status_prefix(s);
    default: return std::nullopt;
  }
}

std::optional<std::string> listing_prefix(job_status s) {
  if (!is_terminal(s)) return std::string{open_jobs_scan};
  return status_entry_prefix(s);
}

std::string tool_prefix(std::string_view tool) {
  std::string k{"tool:"};
  k += tool;
  k += ':';
  return k;
}

std::string trace_prefix(std::string_view trace_id) {
  std::string k{"trace:"};
  k += trace_id;
  k += ':';
  return k;
}

std::string batch_prefix(std::string_view batch_id) {
  std::string k{"batch:"};
  k += batch_id;
  k += ':';
  return k;
}

std::string idempotency_scope(std::string_view owner, std::string_view key) {
  if (owner.empty()) return std::string{key};
  std::string k{owner};
  k += '\n';
  k += key;
  return k;
}

std::string tool_pause(std::string_view tool) {
  std::string k{pause_prefix};
  k += tool;
  return k;
}

std::string tool_pause_value(time_point since, std::string_view reason) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(since.time_since_epoch()).count();
  std::string v = std::to_string(ms);
  v += '\n';
  v += reason;
  return v;
}

std::optional<std::pair<time_point, std::string>> read_tool_pause(std::string_view value) {
  const auto nl = value.find('\n');
  if (nl == std::string_view::npos || nl == 0 || nl > 18) return std::nullopt;
  long long ms = 0;
  for (char c : value.substr(0, nl)) {
    if (c < '0' || c > '9') return std::nullopt;
    ms = ms * 10 + (c - '0');
  }
  return std::pair{time_point{std::chrono::duration_cast<time_point::duration>(std::chrono::milliseconds{ms})},
                   std::string{value.substr(nl + 1)}};
}

std::string idempotency(std::string_view key) {
  std::string k{"idem:"};
  k += key;
  return k;
}

std::string prefix_end(std::string_view prefix) {
  std::string k{prefix};
  while (!k.empty() && static_cast<unsigned char>(k.back()) == 0xff) k.pop_back();
  if (!k.empty()) k.back() = static_cast<char>(static_cast<unsigned char>(k.back()) + 1);
  return k;
}

std::string job_range_end(std::string_view job_id) {
  std::string k{job_id};
  k.append(9, '\xff');  // past every be64 seq
  return k;
}

std::string index_entry(std::string_view prefix, time_point created, std::string_view job_id) {
  std::string k{prefix};
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(created.time_since_epoch());
  append_be64(k, static_cast<std::uint64_t>(ms.count()));
  k += job_id;
  return k;
}

std::string_view index_job_id(std::string_view entry) noexcept {
  // Ids are "job_" + 26 characters; the entry ends with one.
  constexpr std::size_t id_size = 30;
  return entry.size() >= id_size ? entry.substr(entry.size() - id_size) : std::string_view{};
}

}  // namespace overseer::persistence::keys
