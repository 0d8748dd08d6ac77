// fuzz_job_spec: the JSON readers of POST /v1/jobs and POST /v1/batches
// (http/json_mapping.hpp), on any JSON text.
//
// Promises checked: every error names a field in valid UTF-8; the spec read
// holds only values in the documented ranges, also when the body is refused
// (the reader fills in what reads well, for the engine's checks); the problem document of the errors serializes to
// JSON that reads back the same; a time parse_time accepts is formatted and
// read back to the same instant; to_json_text writes JSON that reads back
// to the value it was given.
#include "fuzz/fuzz.hpp"

#include <cmath>
#include <string>

#include <boost/json/parse.hpp>

#include "fuzz/json_checks.hpp"
#include "http/json_mapping.hpp"
#include "http/problem.hpp"

namespace overseer::fuzz {
namespace {

namespace json = boost::json;

// `refused`: the body was refused, so required fields may be missing.
void check_ranges(const job_spec& s, const std::string& where, bool refused = false) {
  auto bad = [&](const std::string& what) { fail(where + ": the spec read has " + what); };
  if (s.tool.empty() && !refused) bad("an empty tool");
  if (s.priority && (*s.priority < 0 || *s.priority > 10)) bad("priority " + std::to_string(*s.priority));
  if (s.ttl_hours && (*s.ttl_hours < 1 || *s.ttl_hours > 168)) bad("ttl_hours " + std::to_string(*s.ttl_hours));
  if (s.timeout && s.timeout->count() <= 0) bad("timeout " + std::to_string(s.timeout->count()) + " s");
  if (s.delay && s.delay->count() < 0) bad("delay " + std::to_string(s.delay->count()) + " ms");
  if (s.retry) {
    const auto& r = *s.retry;
    if (r.max_attempts < 1 || r.max_attempts > 100) bad("retry.max_attempts " + std::to_string(r.max_attempts));
    if (r.initial_backoff.count() < 0 || r.max_backoff.count() < 0) bad("a negative backoff");
    if (!std::isfinite(r.multiplier) || r.multiplier < 1) bad("retry.multiplier " + std::to_string(r.multiplier));
  }
  if (s.notify && (s.notify->url.empty() || s.notify->url.size() > 4 * 2048))
    bad("a notify.url of " + std::to_string(s.notify->url.size()) + " bytes");
  if (s.idempotency_key.size() > 4 * 256) bad("an idempotency_key of " + std::to_string(s.idempotency_key.size()) + " bytes");
  if (s.name.size() > 4 * 256) bad("a name of " + std::to_string(s.name.size()) + " bytes");
}

// The problem document the server would answer with, as it goes on the wire.
void check_problem(const std::vector<field_error>& errors, const std::string& what) {
  check_field_errors(errors, what);
  const json::value problem = http::make_problem(400, "the spec is invalid", errors);
  const auto text = http::to_json_text(problem);
  if (!same_json(problem, parse_or_fail(text, what + ": the problem document")))
    fail(what + ": the problem document reads back differently: " + excerpt(text));
}

void check_job(const json::value& body) {
  job_spec spec;
  auto errors = http::parse_job_spec(body, spec);
  // A refused body still fills in the fields that read well (the server
  // hands them to the engine's checks so one answer names every bad field):
  // those must be within range too.
  check_ranges(spec, "parse_job_spec", !errors.empty());
  if (!errors.empty()) check_problem(errors, "parse_job_spec");
}

void check_batch(const json::value& body) {
  batch_spec batch;
  auto errors = http::parse_batch_spec(body, batch);
  if (!errors.empty()) check_problem(errors, "parse_batch_spec");
  if (batch.parallel_limit < 0 || batch.parallel_limit > 100000)
    fail("parse_batch_spec: read parallel_limit " + std::to_string(batch.parallel_limit));
  for (std::size_t i = 0; i < batch.jobs.size(); ++i)
    check_ranges(batch.jobs[i], "parse_batch_spec: jobs[" + std::to_string(i) + "]", !errors.empty());
}

void check_time(std::string_view text) {
  const auto t = http::parse_time(text);
  if (!t) return;
  const auto formatted = http::format_time(*t);
  const auto again = http::parse_time(formatted);
  if (!again || *again != *t)
    fail("parse_time: " + excerpt(text) + " formats as " + formatted + ", which reads back differently");
}

}  // namespace

int fuzz_job_spec(const std::uint8_t* data, std::size_t size) {
  const auto text = as_text(data, size);
  check_time(text);
  boost::system::error_code ec;
  const auto body = json::parse(text, ec);
  if (ec) return 0;
  if (body.is_string()) check_time(body.get_string());
  const auto written = http::to_json_text(body);
  if (!same_json(body, parse_or_fail(written, "to_json_text's output")))
    fail("to_json_text: " + excerpt(text) + " is written as " + excerpt(written) + ", which reads back differently");
  check_job(body);
  check_batch(body);
  return 0;
}

}  // namespace overseer::fuzz
