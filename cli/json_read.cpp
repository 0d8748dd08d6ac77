#include "cli/json_read.hpp"

#include "cli/json_text.hpp"
#include "cli/text.hpp"

namespace overseer::cli {

namespace {

std::string text_at(const boost::json::value* m) {
  if (!m || m->is_null()) return {};
  if (m->is_string()) return std::string{m->get_string()};
  return compact_json(*m);
}

std::int64_t integer_at(const boost::json::value* m, std::int64_t fallback) noexcept {
  if (!m) return fallback;
  if (m->is_int64()) return m->get_int64();
  if (m->is_uint64()) return static_cast<std::int64_t>(m->get_uint64());
  if (m->is_double()) {
    const double d = m->get_double();
    if (d > -9.0e18 && d < 9.0e18) return static_cast<std::int64_t>(d);
  }
  return fallback;
}

const boost::json::object& object_at(const boost::json::value* m) noexcept {
  static const boost::json::object empty;
  return m && m->is_object() ? m->get_object() : empty;
}

const boost::json::array& array_at(const boost::json::value* m) noexcept {
  static const boost::json::array empty;
  return m && m->is_array() ? m->get_array() : empty;
}

}  // namespace

const boost::json::value* member(const boost::json::object& o, std::string_view key) noexcept {
  return o.if_contains(key);
}

const boost::json::value* member(const boost::json::value& v, std::string_view key) noexcept {
  return v.is_object() ? member(v.get_object(), key) : nullptr;
}

double as_number(const boost::json::value& v, double fallback) noexcept {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  if (v.is_double()) return v.get_double();
  return fallback;
}

std::string text_of(const boost::json::value& v, std::string_view key) { return text_at(member(v, key)); }
std::string text_of(const boost::json::object& o, std::string_view key) { return text_at(member(o, key)); }

double number_of(const boost::json::value& v, std::string_view key, double fallback) noexcept {
  const auto* m = member(v, key);
  return m ? as_number(*m, fallback) : fallback;
}

std::string safe(const boost::json::value& v, std::string_view key) { return terminal_safe(text_of(v, key)); }
double number_of(const boost::json::object& o, std::string_view key, double fallback) noexcept {
  const auto* m = member(o, key);
  return m ? as_number(*m, fallback) : fallback;
}

std::int64_t integer_of(const boost::json::value& v, std::string_view key, std::int64_t fallback) noexcept {
  return integer_at(member(v, key), fallback);
}
std::int64_t integer_of(const boost::json::object& o, std::string_view key, std::int64_t fallback) noexcept {
  return integer_at(member(o, key), fallback);
}

const boost::json::object& object_of(const boost::json::value& v, std::string_view key) noexcept {
  return object_at(member(v, key));
}
const boost::json::object& object_of(const boost::json::object& o, std::string_view key) noexcept {
  return object_at(member(o, key));
}

const boost::json::array& array_of(const boost::json::value& v, std::string_view key) noexcept {
  return array_at(member(v, key));
}
const boost::json::array& array_of(const boost::json::object& o, std::string_view key) noexcept {
  return array_at(member(o, key));
}

}  // namespace overseer::cli
