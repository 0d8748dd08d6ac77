#include "fuzz/json_checks.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>

#include <boost/json/parse.hpp>

#include "fuzz/fuzz.hpp"
#include "tools/utf8.hpp"

namespace overseer::fuzz {
namespace {

// Boost.JSON 1.81 reads decimal numbers with a fast algorithm that can be
// off by an ulp or two (precise parsing arrived in 1.83), so a number that
// is written exactly may read back a little apart. Within 8 ulps is equal.
bool close_doubles(double a, double b) {
  if (a == b) return true;
  if (!std::isfinite(a) || !std::isfinite(b) || std::signbit(a) != std::signbit(b)) return false;
  std::int64_t x, y;
  std::memcpy(&x, &a, sizeof x);
  std::memcpy(&y, &b, sizeof y);
  return (x > y ? x - y : y - x) <= 8;
}

}  // namespace

boost::json::value parse_or_fail(std::string_view text, const std::string& what) {
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec) fail(what + " is not valid JSON (" + ec.message() + "): " + excerpt(text));
  return v;
}

bool same_json(const boost::json::value& a, const boost::json::value& b) {
  if (a.is_double() && !std::isfinite(a.get_double())) return b.is_null();
  if (a.is_number() || b.is_number()) {
    if (!a.is_number() || !b.is_number()) return false;
    // Integers compare exactly; a double against anything by value.
    if (a.is_int64() && b.is_int64()) return a.get_int64() == b.get_int64();
    if (a.is_uint64() && b.is_uint64()) return a.get_uint64() == b.get_uint64();
    return close_doubles(a.to_number<double>(), b.to_number<double>());
  }
  if (a.kind() != b.kind()) return false;
  if (a.is_array()) {
    const auto &x = a.get_array(), &y = b.get_array();
    if (x.size() != y.size()) return false;
    for (std::size_t i = 0; i < x.size(); ++i)
      if (!same_json(x[i], y[i])) return false;
    return true;
  }
  if (a.is_object()) {
    const auto &x = a.get_object(), &y = b.get_object();
    if (x.size() != y.size()) return false;
    for (const auto& [k, v] : x) {
      const auto* w = y.if_contains(k);
      if (!w || !same_json(v, *w)) return false;
    }
    return true;
  }
  return a == b;
}

void check_utf8(std::string_view s, const std::string& what) {
  if (!tools::valid_utf8(s)) fail(what + " is not valid UTF-8: " + excerpt(s));
}

void check_field_errors(const std::vector<field_error>& errors, const std::string& what) {
  for (const auto& e : errors) {
    if (e.message.empty()) fail(what + ": an error of field \"" + excerpt(e.field) + "\" says nothing");
    check_utf8(e.field, what + ": a field name");
    check_utf8(e.message, what + ": the message of field \"" + excerpt(e.field) + "\"");
  }
}

}  // namespace overseer::fuzz
