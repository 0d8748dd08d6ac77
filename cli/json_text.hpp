// JSON written for people and scripts: numbers in their shortest form
// (0.2, not Boost.JSON 1.81's 2E-1), optionally indented.
#pragma once

#include <string>

#include <boost/json/value.hpp>

namespace overseer::cli {

/// One line, no spaces: what --output json prints.
[[nodiscard]] std::string compact_json(const boost::json::value& v);
/// Two-space indentation, one member or element per line, keys in the
/// document's order: how `result` shows a result.
[[nodiscard]] std::string pretty_json(const boost::json::value& v);
/// A number as JSON writes it: "42", "0.2", "3.0517578125e-05".
[[nodiscard]] std::string number_text(double d);

}  // namespace overseer::cli
