// `key=value` words typed by a tool's parameter schema (as GET /v1/tools
// describes it), so `seconds=20` sends the number 20 and `verbose=true` a
// boolean. Pure: no I/O, testable on its own.
#pragma once

#include <string>
#include <vector>

#include <boost/json/object.hpp>

namespace overseer::cli {

struct typed_params {
  boost::json::object params;
  /// One message per bad word, naming the param: `param "secs": unknown for
  /// tool sleep; did you mean "seconds"? (it takes seconds, steps)`.
  std::vector<std::string> errors;
};

/// Types each `key=value` of `words` by `tool`'s schema (a tool document of
/// GET /v1/tools) and sets it on `base` (the --params-file object), the
/// later word winning. integer and number must parse whole; boolean takes
/// true/false, yes/no, on/off, 1/0; object and array take JSON; string is
/// taken as written. A param the schema does not name is an error with a
/// did-you-mean. Without a schema (`tool` not an object) a value is JSON
/// when it parses as JSON, else a string.
[[nodiscard]] typed_params type_params(const boost::json::value& tool, const std::vector<std::string>& words,
                                       boost::json::object base = {});

/// Splits "k=v" words (labels) into an object of strings; a word without
/// "=" or with an empty key is an error naming `what` ("--label").
[[nodiscard]] typed_params string_pairs(const std::vector<std::string>& words, const std::string& what);

}  // namespace overseer::cli
