// RFC 9457 problem details: the one way every HTTP error leaves the server.
#pragma once

#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "overseer/errc.hpp"

namespace overseer::http {

/// The one errc -> HTTP status mapping: invalid_spec and unknown_tool 400,
/// not_found 404, conflict 409, not_running and store_failure 503, timeout 504.
[[nodiscard]] unsigned status_of(errc e) noexcept;

/// {type, title, status, detail[, errors:[{field, message}]]}. `type` is
/// "https://overseer.dev/problems/<slug>" with slug derived from the status
/// (bad-request, not-found, method-not-allowed, request-timeout, conflict,
/// payload-too-large, unsupported-media-type, expectation-failed,
/// request-header-fields-too-large, unavailable, ...); title is the status's reason
/// phrase.
[[nodiscard]] boost::json::object make_problem(unsigned status, std::string detail,
                                               const std::vector<field_error>& errors = {});

}  // namespace overseer::http
