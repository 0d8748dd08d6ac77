// JSON written for people and scripts: numbers in their shortest form
// (tools::format_number: 0.2, not Boost.JSON 1.81's 2E-1), optionally indented.
#pragma once

#include <string>

#include <boost/json/value.hpp>

namespace overseer::cli {

/// One line, no spaces: what --output json prints.
[[nodiscard]] std::string compact_json(const boost::json::value& v);
/// Two-space indentation, one member or element per line, keys in the
/// document's order: how `result` shows a result.
[[nodiscard]] std::string pretty_json(const boost::json::value& v);

}  // namespace overseer::cli
