#include "metrics/exposition.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "tools/utf8.hpp"

namespace overseer::metrics {

std::string exposition::escape_label(std::string_view v) {
  const std::string valid = tools::sanitize_utf8(v);
  std::string out;
  out.reserve(valid.size());
  for (const char c : valid) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string exposition::number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc{} ? std::string(buf, end) : "NaN";
}

void exposition::family(std::string_view name, std::string_view help, std::string_view type) {
  if (std::find(families_.begin(), families_.end(), name) != families_.end()) return;
  families_.emplace_back(name);
  // HELP text escapes backslash and line feed only.
  std::string h;
  for (const char c : tools::sanitize_utf8(help)) {
    if (c == '\\') h += "\\\\";
    else if (c == '\n') h += "\\n";
    else h += c;
  }
  out_.append("# HELP ").append(name).append(" ").append(h).append("\n");
  out_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void exposition::labels_text(const labels& l, std::string_view extra_key, std::string_view extra_value) {
  if (l.empty() && extra_key.empty()) return;
  out_ += '{';
  bool first = true;
  auto one = [&](std::string_view k, std::string_view v) {
    if (!first) out_ += ',';
    first = false;
    out_.append(k).append("=\"").append(escape_label(v)).append("\"");
  };
  for (const auto& [k, v] : l) one(k, v);
  if (!extra_key.empty()) one(extra_key, extra_value);
  out_ += '}';
}

void exposition::sample(std::string_view name, const labels& l, double value) {
  out_.append(name);
  labels_text(l);
  out_.append(" ").append(number(value)).append("\n");
}

void exposition::sample(std::string_view name, const labels& l, std::uint64_t value) {
  out_.append(name);
  labels_text(l);
  out_.append(" ").append(std::to_string(value)).append("\n");
}

void exposition::histogram(std::string_view name, const labels& l, const histogram::snapshot& h) {
  const std::string bucket = std::string{name} + "_bucket";
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < h.counts.size(); ++i) {
    total += h.counts[i];
    out_.append(bucket);
    labels_text(l, "le", i < h.bounds.size() ? number(h.bounds[i]) : "+Inf");
    out_.append(" ").append(std::to_string(total)).append("\n");
  }
  out_.append(name).append("_sum");
  labels_text(l);
  out_.append(" ").append(number(h.sum)).append("\n");
  out_.append(name).append("_count");
  labels_text(l);
  out_.append(" ").append(std::to_string(total)).append("\n");
}

}  // namespace overseer::metrics
