// Reading the server's JSON without trusting its shape: every reader gives
// a neutral value for a missing key or a value of another type, so odd
// server output makes a blank cell, never a crash.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace overseer::cli {

/// The member `key` of `v` if `v` is an object that has it, else nullptr.
[[nodiscard]] const boost::json::value* member(const boost::json::value& v, std::string_view key) noexcept;
/// The string at `key`, or "" (for a number: its JSON spelling).
[[nodiscard]] std::string text_of(const boost::json::value& v, std::string_view key);
/// text_of, made safe to print on a terminal (terminal_safe).
[[nodiscard]] std::string safe(const boost::json::value& v, std::string_view key);
/// The number at `key`, or `fallback` (integers and doubles alike).
[[nodiscard]] double number_of(const boost::json::value& v, std::string_view key, double fallback = 0) noexcept;
[[nodiscard]] std::int64_t integer_of(const boost::json::value& v, std::string_view key,
                                      std::int64_t fallback = 0) noexcept;
/// The object at `key`, or an empty one.
[[nodiscard]] const boost::json::object& object_of(const boost::json::value& v, std::string_view key) noexcept;
/// The array at `key`, or an empty one.
[[nodiscard]] const boost::json::array& array_of(const boost::json::value& v, std::string_view key) noexcept;
/// The same readers on an object, without copying it into a value.
[[nodiscard]] const boost::json::value* member(const boost::json::object& o, std::string_view key) noexcept;
[[nodiscard]] std::string text_of(const boost::json::object& o, std::string_view key);
[[nodiscard]] double number_of(const boost::json::object& o, std::string_view key, double fallback = 0) noexcept;
[[nodiscard]] std::int64_t integer_of(const boost::json::object& o, std::string_view key,
                                      std::int64_t fallback = 0) noexcept;
[[nodiscard]] const boost::json::object& object_of(const boost::json::object& o, std::string_view key) noexcept;
[[nodiscard]] const boost::json::array& array_of(const boost::json::object& o, std::string_view key) noexcept;
// A reference into a temporary would dangle.
const boost::json::value* member(boost::json::value&&, std::string_view) = delete;
const boost::json::object& object_of(boost::json::value&&, std::string_view) = delete;
const boost::json::array& array_of(boost::json::value&&, std::string_view) = delete;

/// A number as a JSON value, or `fallback` when it is not one.
[[nodiscard]] double as_number(const boost::json::value& v, double fallback = 0) noexcept;

}  // namespace overseer::cli
