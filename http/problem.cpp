#include "http/problem.hpp"

#include <string_view>

#include <boost/json/array.hpp>

namespace overseer::http {
namespace {

struct status_text {
  unsigned status;
  std::string_view slug;
  std::string_view title;
};

// Only the statuses the server sends; the slug names the problem type so
// clients can branch on `type` without parsing `title`.
constexpr status_text statuses[] = {
  {400, "bad-request", "Bad Request"},
  {401, "unauthorized", "Unauthorized"},
  {403, "forbidden", "Forbidden"},
  {404, "not-found", "Not Found"},
  {405, "method-not-allowed", "Method Not Allowed"},
  {406, "not-acceptable", "Not Acceptable"},
  {408, "request-timeout", "Request Timeout"},
  {409, "conflict", "Conflict"},
  {411, "length-required", "Length Required"},
  {413, "payload-too-large", "Payload Too Large"},
  {415, "unsupported-media-type", "Unsupported Media Type"},
  {417, "expectation-failed", "Expectation Failed"},
  {426, "upgrade-required", "Upgrade Required"},
  {429, "too-many-requests", "Too Many Requests"},
  {431, "request-header-fields-too-large", "Request Header Fields Too Large"},
  {500, "internal-error", "Internal Server Error"},
  {501, "not-implemented", "Not Implemented"},
  {503, "unavailable", "Service Unavailable"},
  {504, "timeout", "Gateway Timeout"},
};

}  // namespace

unsigned status_of(errc e) noexcept {
  switch (e) {
    case errc::ok: return 200;
    case errc::invalid_spec: return 400;
    case errc::unknown_tool: return 400;
    case errc::not_found: return 404;
    case errc::conflict: return 409;
    case errc::not_running: return 503;
    case errc::store_failure: return 503;
    case errc::timeout: return 504;
  }
  return 500;  // not an errc value
}

boost::json::object make_problem(unsigned status, std::string detail,
                                 const std::vector<field_error>& errors) {
  // RFC 9457 section 4.2: "about:blank" is the type of a plain status.
  std::string type = "about:blank";
  std::string title = "HTTP " + std::to_string(status);
  for (const auto& s : statuses) {
    if (s.status == status) {
      type = "https://overseer.dev/problems/" + std::string(s.slug);
      title = s.title;
    }
  }
  boost::json::object o{{"type", type}, {"title", title}, {"status", status}, {"detail", detail}};
  if (!errors.empty()) {
    boost::json::array list;
    for (const auto& e : errors) list.push_back(boost::json::object{{"field", e.field}, {"message", e.message}});
    o["errors"] = std::move(list);
  }
  return o;
}

}  // namespace overseer::http
