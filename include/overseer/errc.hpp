// Error codes of the Overseer public API.
//
// Expected failures (bad input, unknown ids, state conflicts, timeouts, a
// failed store) are values of `errc` carried by a result<T> (result.hpp) or
// a *_result struct, never exceptions inside the engine. The HTTP front maps
// each to one status code (invalid_spec -> 400, not_found -> 404, conflict ->
// 409, not_running and store_failure -> 503, ...).
//
//   auto r = engine.cancel(id);
//   if (r.code == overseer::errc::conflict) { /* already terminal */ }
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace overseer {

enum class errc : std::uint8_t {
  ok = 0,
  invalid_spec = 1,   ///< a field of the request is wrong (see field_error)
  unknown_tool,       ///< no tool of that name is registered
  not_found,          ///< no job with that id
  conflict,           ///< the job's status does not allow the operation
  not_running,        ///< the engine was not started or has stopped
  store_failure,      ///< the store could not make the change durable
  timeout,            ///< no answer in time
};

[[nodiscard]] std::string_view to_string(errc e) noexcept;

/// A validation message naming the field it is about ("priority",
/// "params.seconds", "retry.max_attempts").
struct field_error {
  std::string field{};
  std::string message{};
};

/// Thrown by engine::submit (the one throwing shorthand), by start() and the
/// engine's constructor, by result<T>::value() on a failed result, and by the
/// readers without a failure of their own when the engine is not started or
/// the store cannot be read (see engine.hpp).
class error : public std::runtime_error {
public:
  error(errc code, std::string message, std::vector<field_error> fields = {})
    : std::runtime_error(std::move(message)), code_(code), fields_(std::move(fields)) {}
  [[nodiscard]] errc code() const noexcept { return code_; }
  [[nodiscard]] const std::vector<field_error>& fields() const noexcept { return fields_; }

private:
  errc code_;
  std::vector<field_error> fields_;
};

}  // namespace overseer
