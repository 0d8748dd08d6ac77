// JSON from clients (request bodies, stream messages), parsed once and
// refused where boost::json::parse would guess: a key repeated within one
// object (json::parse keeps the last value silently), nesting deeper than
// max_json_depth, ill-formed UTF-8 in a string, anything after the value.
//
//   auto body = parse_strict_json(R"({"tool":"sleep","tool":"noop"})");
//   // body.syntax_error empty, body.duplicates == {{"tool", "..."}}
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "overseer/errc.hpp"

namespace overseer::http {

/// Objects and arrays may nest this deep.
inline constexpr std::size_t max_json_depth = 32;

struct strict_json {
  boost::json::value value;  ///< null unless both lists below are empty
  std::string syntax_error;  ///< why the text is not JSON ("syntax error", "too deep"), else empty
  /// One per repeated key, named by its path the way the field errors name
  /// fields ("priority", "params.seconds", "jobs[2].tool").
  std::vector<field_error> duplicates;
  [[nodiscard]] bool ok() const noexcept { return syntax_error.empty() && duplicates.empty(); }
};

[[nodiscard]] strict_json parse_strict_json(std::string_view text);

}  // namespace overseer::http
