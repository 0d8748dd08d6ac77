// The Prometheus text exposition format, version 0.0.4: what GET /metrics
// answers. A small writer of our own (see docs/dependencies.md): each
// family gets its # HELP and # TYPE lines once, label values are escaped
// (backslash, double quote, line feed) and made valid UTF-8, histograms get
// cumulative _bucket lines ending in le="+Inf", then _sum and _count.
//
//   exposition out;
//   out.family("overseer_jobs_submitted_total", "Jobs accepted.", "counter");
//   out.sample("overseer_jobs_submitted_total", {{"tool", "sleep"}}, 3);
//   std::string body = out.text();
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "metrics/instruments.hpp"

namespace overseer::metrics {

using labels = std::vector<std::pair<std::string_view, std::string_view>>;

/// The Content-Type of the format.
inline constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";

class exposition {
public:
  /// Starts a family: "# HELP name help" and "# TYPE name type" (counter,
  /// gauge, histogram, untyped). A family started twice is written once.
  void family(std::string_view name, std::string_view help, std::string_view type);
  void sample(std::string_view name, const labels& l, double value);
  void sample(std::string_view name, const labels& l, std::uint64_t value);
  /// name_bucket{...,le="B"} cumulative, le="+Inf", name_sum, name_count.
  void histogram(std::string_view name, const labels& l, const histogram::snapshot& h);

  [[nodiscard]] const std::string& text() const noexcept { return out_; }

  /// A label value as it appears between the quotes.
  [[nodiscard]] static std::string escape_label(std::string_view v);
  /// A number as the format writes it (+Inf, -Inf, NaN, shortest round trip).
  [[nodiscard]] static std::string number(double v);

private:
  void labels_text(const labels& l, std::string_view extra_key = {}, std::string_view extra_value = {});
  std::string out_;
  std::vector<std::string> families_;
};

}  // namespace overseer::metrics
