#include "tools/retry_json.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>

#include <boost/json/serialize.hpp>

#include "tools/did_you_mean.hpp"
#include "tools/json_number.hpp"

namespace overseer::tools {

namespace {

namespace json = boost::json;

std::string shown(const json::value& v) { return v.is_double() ? format_number(v.get_double()) : json::serialize(v); }

struct retry_reader {
  const json_wording& wording;
  std::vector<field_error>& errors;

  void fail(const std::string& field, std::string message) { errors.push_back({field, std::move(message)}); }

  // 3.0 is an integer to a client even though Boost.JSON stores a double.
  std::optional<std::int64_t> integer(const std::string& field, const json::value& v, std::int64_t lo,
                                      std::int64_t hi) {
    if (!is_integral(v)) {
      fail(field, wording.wrong_type(v, "integer"));
      return std::nullopt;
    }
    const auto n = integral_value(v);
    if (n && *n >= lo && *n <= hi) return n;
    fail(field, shown(v) + (v.to_number<double>() < 0 ? " is too small" : " is too large"));
    return std::nullopt;
  }

  std::optional<double> number(const std::string& field, const json::value& v) {
    if (!v.is_number()) {
      fail(field, wording.wrong_type(v, "number"));
      return std::nullopt;
    }
    // Boost.JSON reads 1e400 as infinity, which no field can use.
    if (v.is_double() && !std::isfinite(v.get_double())) {
      fail(field, "is too large");
      return std::nullopt;
    }
    return v.to_number<double>();
  }
};

}  // namespace

retry_policy read_retry_policy(const json::object& o, const json_wording& wording, std::vector<field_error>& errors) {
  constexpr auto int64_min = std::numeric_limits<std::int64_t>::min();
  constexpr auto int64_max = std::numeric_limits<std::int64_t>::max();
  retry_reader r{wording, errors};
  retry_policy p;
  const auto unread = errors.size();
  for (const auto& [key, x] : o) {
    const std::string f = "retry." + std::string(key);
    if (key == "max_attempts") {
      if (auto n = r.integer(f, x, std::numeric_limits<int>::min(), std::numeric_limits<int>::max()))
        p.max_attempts = static_cast<int>(*n);
    } else if (key == "initial_backoff_ms") {
      if (auto n = r.integer(f, x, int64_min, int64_max)) p.initial_backoff = std::chrono::milliseconds{*n};
    } else if (key == "max_backoff_ms") {
      if (auto n = r.integer(f, x, int64_min, int64_max)) p.max_backoff = std::chrono::milliseconds{*n};
    } else if (key == "multiplier") {
      if (auto d = r.number(f, x)) p.multiplier = *d;
    } else if (key == "retry_on_timeout") {
      if (x.is_bool()) p.retry_on_timeout = x.get_bool();
      else r.fail(f, wording.wrong_type(x, "boolean"));
    } else {
      r.fail(f, wording.unknown(key, nearest_name(key, retry_keys)));
    }
  }
  // A field that could not be read kept its default: its bounds say nothing
  // more. One out of bounds goes back to its default.
  const retry_policy defaults;
  for (auto& e : check_retry_policy(p)) {
    if (e.field == "retry.max_attempts") p.max_attempts = defaults.max_attempts;
    if (e.field == "retry.initial_backoff_ms") p.initial_backoff = defaults.initial_backoff;
    if (e.field == "retry.max_backoff_ms") p.max_backoff = defaults.max_backoff;
    if (e.field == "retry.multiplier") p.multiplier = defaults.multiplier;
    const bool named = std::any_of(errors.begin() + static_cast<std::ptrdiff_t>(unread), errors.end(),
                                   [&](const field_error& x) { return x.field == e.field; });
    if (!named) errors.push_back(std::move(e));
  }
  // A max below the initial: neither is known to be the one meant.
  if (!check_retry_policy(p).empty()) {
    p.initial_backoff = defaults.initial_backoff;
    p.max_backoff = defaults.max_backoff;
  }
  return p;
}

}  // namespace overseer::tools
