#include "cli/problem.hpp"

#include <boost/json/parse.hpp>

#include "cli/json_read.hpp"
#include "cli/text.hpp"

namespace overseer::cli {

std::string problem_line(unsigned http_status, std::string_view body) {
  boost::system::error_code ec;
  const auto doc = boost::json::parse(body, ec);
  const std::string code = std::to_string(http_status);
  if (ec || !doc.is_object() || (!member(doc, "detail") && !member(doc, "title"))) {
    std::string quoted = terminal_safe(body);
    if (width(quoted) > 200) quoted = cut_to_width(quoted, 200) + "…";
    return "the server answered " + code + (quoted.empty() ? std::string{} : ": " + quoted);
  }
  std::string detail = text_of(doc, "detail");
  if (detail.empty()) detail = text_of(doc, "title");
  std::string line = terminal_safe(detail) + " (" + code + ")";
  const auto& errors = array_of(doc, "errors");
  std::string sep = ": ";
  for (const auto& e : errors) {
    const std::string field = text_of(e, "field");
    const std::string message = text_of(e, "message");
    line += sep + (field.empty() ? std::string{} : terminal_safe(field) + ": ") + terminal_safe(message);
    sep = "; ";
  }
  if (const auto job_status = text_of(doc, "job_status"); !job_status.empty() && errors.empty())
    line += " [job_status " + terminal_safe(job_status) + "]";
  // A quota or a busy daemon says when to come back.
  if (const auto after = integer_of(doc, "retry_after_s", -1); after >= 0)
    line += "; try again in " + std::to_string(after) + " s";
  return line;
}

exit_status exit_status_for_http(unsigned http_status) noexcept {
  switch (http_status) {
    case 400:
    case 413: return exit_status::usage;
    case 401:
    case 403: return exit_status::unauthorized;  // no valid token, or its principal may not do this
    case 404: return exit_status::not_found;
    case 409: return exit_status::conflict;
    default: return exit_status::server_error;
  }
}

}  // namespace overseer::cli
