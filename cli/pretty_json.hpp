// JSON indented for people (Boost.JSON 1.81 serializes compactly only).
#pragma once

#include <string>

#include <boost/json/value.hpp>

namespace overseer::cli {

/// Two-space indentation, one member or element per line, keys in the
/// document's order; strings escaped as by boost::json::serialize.
[[nodiscard]] std::string pretty_json(const boost::json::value& v);

}  // namespace overseer::cli
