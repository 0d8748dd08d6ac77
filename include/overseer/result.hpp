// result<T>: the one way the engine's calls report an outcome.
//
// A result is either ok and holds a value, or holds the errc that says why
// not, a message for a person and, for a refused request, every bad field.
// It reads like an optional, so the common case stays short:
//
//   if (auto v = engine.get(id)) show(v->status);             // ok: the view
//   else if (v.code() == overseer::errc::not_found) ...        // no such job
//   else log(v.message());                                     // store_failure, not_running
//
//   auto view = engine.wait(id, std::chrono::seconds(30)).value();  // throws overseer::error if not ok
//
// result<void> says only whether the call did what it was asked.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "overseer/errc.hpp"

namespace overseer {

/// A failed outcome of no particular type: converts to any result<T>, so a
/// function can `return failure_info{errc::not_found, "no job " + id};`.
struct failure_info {
  errc code = errc::not_found;
  std::string message{};
  std::vector<field_error> errors{};
};

namespace detail {
/// The message with every field error appended, as overseer::error carries it.
inline std::string with_fields(const std::string& message, const std::vector<field_error>& errors) {
  std::string out = message;
  for (const auto& e : errors) out += "; " + e.field + ": " + e.message;
  return out;
}
}  // namespace detail

/// The code, message and field errors every result carries.
class result_base {
public:
  /// errc::ok when the call did what it was asked.
  [[nodiscard]] errc code() const noexcept { return code_; }
  [[nodiscard]] bool ok() const noexcept { return code_ == errc::ok; }
  /// Empty when ok.
  [[nodiscard]] const std::string& message() const noexcept { return message_; }
  /// The bad fields of a refused request ("priority", "jobs[3].tool").
  [[nodiscard]] const std::vector<field_error>& errors() const noexcept { return errors_; }
  /// The failure as an exception (what value() throws when not ok).
  [[nodiscard]] error to_error() const { return error{code_, detail::with_fields(message_, errors_), errors_}; }
  /// The failure, to hand on as a result of another type:
  /// `if (!v) return v.as_failure();`.
  [[nodiscard]] failure_info as_failure() const { return {code_, message_, errors_}; }

protected:
  result_base() = default;
  explicit result_base(failure_info f)
    : code_(f.code), message_(std::move(f.message)), errors_(std::move(f.errors)) {
    // A failure must say why: one built with errc::ok (a caller's mistake)
    // would read as ok without a value, so it becomes invalid_spec.
    if (code_ == errc::ok) code_ = errc::invalid_spec;
  }
  void throw_if_failed() const {
    if (code_ != errc::ok) throw to_error();
  }

private:
  errc code_ = errc::ok;
  std::string message_{};
  std::vector<field_error> errors_{};
};

/// The outcome of a call that answers a T: the value when ok(), else the
/// errc and message (and field errors) saying why there is none.
template <class T>
class result : public result_base {
public:
  using value_type = T;

  /// ok, holding `value`.
  result(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor): `return view;`
  /// Not ok: `f.code` must not be errc::ok.
  result(failure_info f) : result_base(std::move(f)) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] static result failure(errc code, std::string message, std::vector<field_error> errors = {}) {
    return result{failure_info{code, std::move(message), std::move(errors)}};
  }

  [[nodiscard]] bool has_value() const noexcept { return value_.has_value(); }
  explicit operator bool() const noexcept { return value_.has_value(); }

  /// The value; throws overseer::error with the code and message when not ok.
  [[nodiscard]] T& value() & { throw_if_failed(); return *value_; }
  [[nodiscard]] const T& value() const& { throw_if_failed(); return *value_; }
  [[nodiscard]] T&& value() && { throw_if_failed(); return std::move(*value_); }
  /// The value if ok, else `fallback`.
  [[nodiscard]] T value_or(T fallback) const& { return value_ ? *value_ : std::move(fallback); }
  [[nodiscard]] T value_or(T fallback) && { return value_ ? std::move(*value_) : std::move(fallback); }

  /// Unchecked access, like std::optional's: only when ok. value() checks.
  [[nodiscard]] T* operator->() noexcept { assert(value_); return &*value_; }
  [[nodiscard]] const T* operator->() const noexcept { assert(value_); return &*value_; }
  [[nodiscard]] T& operator*() & noexcept { assert(value_); return *value_; }
  [[nodiscard]] const T& operator*() const& noexcept { assert(value_); return *value_; }
  [[nodiscard]] T&& operator*() && noexcept { assert(value_); return std::move(*value_); }

  /// The value as an optional (nullopt whatever the failure was).
  [[nodiscard]] std::optional<T> as_optional() const& { return value_; }
  [[nodiscard]] std::optional<T> as_optional() && { return std::move(value_); }

private:
  std::optional<T> value_{};
};

/// The outcome of a call that answers nothing but whether it worked.
template <>
class result<void> : public result_base {
public:
  using value_type = void;

  /// ok.
  result() = default;
  /// Not ok: `f.code` must not be errc::ok.
  result(failure_info f) : result_base(std::move(f)) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] static result failure(errc code, std::string message, std::vector<field_error> errors = {}) {
    return result{failure_info{code, std::move(message), std::move(errors)}};
  }

  [[nodiscard]] bool has_value() const noexcept { return ok(); }
  explicit operator bool() const noexcept { return ok(); }
  /// Throws overseer::error with the code and message when not ok.
  void value() const { throw_if_failed(); }
};

}  // namespace overseer
