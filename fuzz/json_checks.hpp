// Checks on JSON the engine produces, shared by the fuzz targets.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "overseer/errc.hpp"

namespace overseer::fuzz {

/// `text` parsed as JSON (Boost.JSON, which refuses invalid UTF-8), or a
/// finding naming `what`.
[[nodiscard]] boost::json::value parse_or_fail(std::string_view text, const std::string& what);

/// Whether `b` is `a` as http::to_json_text writes it: numbers compare by
/// value (2.0 is written 2) within the rounding of Boost.JSON's reader, a
/// non-finite double became null.
[[nodiscard]] bool same_json(const boost::json::value& a, const boost::json::value& b);

/// Every field error names a field and says something, in valid UTF-8.
void check_field_errors(const std::vector<field_error>& errors, const std::string& what);

/// `s` is valid UTF-8, or a finding naming `what`.
void check_utf8(std::string_view s, const std::string& what);

}  // namespace overseer::fuzz
