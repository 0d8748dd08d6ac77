// The one way a JSON number becomes text in this project (answers, stream
// messages, error messages, cache keys, a tool's command line and the
// command-line client), in the three forms those need; and the one answer
// to "is this JSON value an integer". Header-only, so the command-line
// client shares it without linking the engine.
//
//   format_number(0.25)                          // "0.25" (Boost.JSON would write 2.5E-1)
//   format_number(4.0, number_form::plain)       // "4"
//   format_number(1e-7, number_form::plain)      // "0.0000001"
#pragma once

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>

#include <boost/json/value.hpp>

namespace overseer::tools {

enum class number_form {
  /// JSON text: the shortest spelling that reads back as the same double
  /// (2, 0.25, 1e+300); a value JSON cannot hold (inf, NaN) is null.
  json,
  /// The one spelling a hash sees: an integral value below 9e15 as an
  /// integer (1000000000000000, not 1e+15), any other as in `json` but
  /// inf/NaN as "inf"/"nan". Cache keys and spec fingerprints are stored:
  /// this form never changes.
  canonical,
  /// A program argument: an integral value below 1e15 as an integer, any
  /// other in fixed notation, never with an exponent.
  plain,
};

[[nodiscard]] inline std::string format_number(double d, number_form form = number_form::json) {
  const bool finite = std::isfinite(d);
  if (form == number_form::json && !finite) return "null";
  const double integral_below = form == number_form::canonical ? 9.0e15 : form == number_form::plain ? 1e15 : 0;
  if (finite && d == std::trunc(d) && std::fabs(d) < integral_below)
    return std::to_string(static_cast<std::int64_t>(d));
  std::array<char, 400> buf{};  // the fixed form of 1e308 needs 309 digits
  const auto [end, ec] = form == number_form::plain
                           ? std::to_chars(buf.data(), buf.data() + buf.size(), d, std::chars_format::fixed)
                           : std::to_chars(buf.data(), buf.data() + buf.size(), d);
  return ec == std::errc{} ? std::string(buf.data(), end) : std::string{"null"};
}

/// Whether a JSON value is an integer to a person: 3 and 3.0 alike
/// (Boost.JSON stores 3.0 as a double); inf and NaN are not.
[[nodiscard]] inline bool is_integral(const boost::json::value& v) noexcept {
  return v.is_int64() || v.is_uint64() ||
         (v.is_double() && std::isfinite(v.get_double()) && v.get_double() == std::trunc(v.get_double()));
}

/// The value of an integral JSON value that fits in 64 signed bits.
[[nodiscard]] inline std::optional<std::int64_t> integral_value(const boost::json::value& v) noexcept {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
    return static_cast<std::int64_t>(v.get_uint64());
  if (is_integral(v) && v.is_double() && std::abs(v.get_double()) < 0x1p63)
    return static_cast<std::int64_t>(v.get_double());
  return std::nullopt;
}

}  // namespace overseer::tools
