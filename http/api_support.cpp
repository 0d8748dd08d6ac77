#include "http/api.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include <boost/beast/core/string.hpp>

#include "http/json_mapping.hpp"
#include "http/problem.hpp"
#include "http/strict_json.hpp"
#include "tools/did_you_mean.hpp"
#include "tools/trace_context.hpp"
#include "tools/utf8.hpp"

namespace overseer::http {

namespace {

/// The body is rendered by to_json_text, so it is valid UTF-8 even when a
/// string in it echoes client bytes that are not.
response json_response(unsigned status, std::string text, unsigned version, bool keep_alive) {
  response res{static_cast<bhttp::status>(status), version};
  res.set(bhttp::field::content_type, "application/json");
  res.keep_alive(keep_alive);
  res.body() = std::move(text);
  res.prepare_payload();
  return res;
}

response json_response(unsigned status, const boost::json::value& body, unsigned version, bool keep_alive) {
  return json_response(status, to_json_text(body), version, keep_alive);
}

}  // namespace

response problem_response(unsigned status, std::string detail, unsigned version, bool keep_alive,
                          const std::vector<field_error>& errors, const boost::json::object& extra) {
  auto doc = make_problem(status, std::move(detail), errors);
  for (const auto& [key, value] : extra) doc[key] = value;
  auto res = json_response(status, doc, version, keep_alive);
  res.set(bhttp::field::content_type, "application/problem+json");
  // 503 is the engine stopping or its store failed (fail-stop): a supervisor
  // restarts the daemon within seconds.
  if (status == 503) res.set(bhttp::field::retry_after, "5");
  return res;
}

void replier::json(unsigned status, const boost::json::value& body) const {
  send(json_response(status, body, version_, keep_alive_));
}

void replier::json_text(unsigned status, std::string body) const {
  send(json_response(status, std::move(body), version_, keep_alive_));
}

void replier::problem(unsigned status, std::string detail, const std::vector<field_error>& errors,
                      const boost::json::object& extra) const {
  send(problem_response(status, std::move(detail), version_, keep_alive_, errors, extra));
}

void replier::refused(errc code, std::string message, const std::vector<field_error>& errors) const {
  problem(status_of(code), std::move(message), errors);
}

std::optional<identity> identify(const api_context& ctx, const request& req) {
  if (!ctx.tenancy) return identity{};
  if (!ctx.tenancy->locked()) return ctx.tenancy->authenticate({});
  const auto field = req[bhttp::field::authorization];
  const std::string_view auth{field.data(), field.size()};
  // The scheme is case-insensitive (RFC 9110 11.1): "bearer" is "Bearer".
  if (auth.size() <= 7 || !boost::beast::iequals(auth.substr(0, 7), "Bearer ")) return std::nullopt;
  return ctx.tenancy->authenticate(auth.substr(7));
}

bool admit_submits(api_context& ctx, const call& c, const replier& r, std::size_t jobs) {
  if (!ctx.tenancy) return true;
  auto refused = ctx.tenancy->admit(c.who, jobs);
  if (!refused) return true;
  auto res = problem_response(429, refused->detail, r.version(), r.keep_alive(),
                              {{refused->field, "quota reached"}},
                              boost::json::object{{"retry_after_s", refused->retry_after_s}});
  res.set(bhttp::field::retry_after, std::to_string(refused->retry_after_s));
  r.send(std::move(res));
  return false;
}

std::optional<job_view> visible_job(api_context& ctx, const call& c, const replier& r, const std::string& id) {
  auto v = ctx.eng.get(id);
  if (!v) {
    r.refused(v.code(), v.message());  // 404, or 503 when the store cannot be read
    return std::nullopt;
  }
  if (!c.who.sees(v->owner)) {
    r.refused(errc::not_found, "no job " + id);
    return std::nullopt;
  }
  return std::move(*v);
}

bool is_json(const request& req) {
  auto type = req[bhttp::field::content_type];
  auto semi = type.find(';');
  auto mime = type.substr(0, semi == boost::beast::string_view::npos ? type.size() : semi);
  while (!mime.empty() && mime.back() == ' ') mime.remove_suffix(1);
  return boost::beast::iequals(mime, "application/json");
}

std::optional<boost::json::value> read_json_body(const call& c, const replier& r,
                                                 const std::vector<field_error>& also) {
  auto errors = also;  // found before the body (the query's ?wait=, say): named in the same answer
  if (!is_json(c.req)) {
    r.problem(415, "the body must be application/json, not \"" + std::string{c.req[bhttp::field::content_type]} + "\"",
              errors);
    return std::nullopt;
  }
  auto body = parse_strict_json(c.req.body());
  if (!body.syntax_error.empty()) {
    errors.push_back({"body", body.syntax_error});
    r.problem(400, "the body is not valid JSON: " + body.syntax_error, errors);
    return std::nullopt;
  }
  if (!body.duplicates.empty()) {
    errors.insert(errors.end(), body.duplicates.begin(), body.duplicates.end());
    r.problem(400, "the body repeats a key", errors);
    return std::nullopt;
  }
  return std::move(body.value);
}

bool has_line_break_or_control(std::string_view utf8) {
  for (std::size_t i = 0; i < utf8.size(); ++i) {
    const auto b = static_cast<unsigned char>(utf8[i]);
    if (b < 0x20 || b == 0x7f) return true;  // C0 controls, DEL
    const auto next = i + 1 < utf8.size() ? static_cast<unsigned char>(utf8[i + 1]) : 0;
    if (b == 0xc2 && next >= 0x80 && next <= 0x9f) return true;  // C1 controls, NEL (U+0085) among them
    // U+2028 LINE SEPARATOR and U+2029 PARAGRAPH SEPARATOR, which some
    // viewers break lines at.
    if (b == 0xe2 && next == 0x80 && i + 2 < utf8.size() &&
        (static_cast<unsigned char>(utf8[i + 2]) == 0xa8 || static_cast<unsigned char>(utf8[i + 2]) == 0xa9))
      return true;
  }
  return false;
}

bool check_reason(std::string_view text, std::vector<field_error>& errors) {
  if (text.empty()) errors.push_back({"reason", "must not be empty (leave it out to give none)"});
  else if (text.size() > max_reason_bytes)
    errors.push_back({"reason", "at most " + std::to_string(max_reason_bytes) + " bytes, found " +
                                  std::to_string(text.size())});
  else if (!tools::valid_utf8(text))  // a query's reason, percent-decoded, may be any bytes
    errors.push_back({"reason", "must be UTF-8 text"});
  else if (has_line_break_or_control(text))
    errors.push_back({"reason", "must be one line of text, without control characters"});
  else return true;
  return false;
}

std::optional<std::string> read_reason(const call& c, const replier& r, std::string_view change) {
  // The query's keys (these routes take none, query_rule::named_with_body)
  // are named in the same answer as the body's.
  std::vector<field_error> errors = c.query_errors;
  if (c.req.body().empty()) {
    if (errors.empty()) return std::string{};
    r.problem(400, "this endpoint takes no query parameters", errors);
    return std::nullopt;
  }
  auto body = read_json_body(c, r, errors);
  if (!body) return std::nullopt;
  if (!body->is_object()) {
    errors.push_back({"body", "must be an object"});
    r.problem(400, "the body must be a JSON object such as {\"reason\": \"...\"}", errors);
    return std::nullopt;
  }
  std::string reason;
  for (const auto& [key, v] : body->get_object()) {
    if (key != "reason") {
      const std::array<std::string_view, 1> known{"reason"};
      errors.push_back({std::string{key}, unknown_field_text(key, tools::nearest_name(key, known))});
      continue;
    }
    if (!v.is_string()) {
      errors.push_back({"reason", "expected a string"});
      continue;
    }
    if (check_reason(v.get_string(), errors)) reason = v.get_string();
  }
  if (!errors.empty()) {
    r.problem(400, "the " + std::string{change} + " is invalid", errors);
    return std::nullopt;
  }
  return reason;
}

std::string by_with_reason(const call& c, std::string_view reason) {
  return reason.empty() ? c.by() : c.by() + ": " + std::string{reason};
}

namespace {

/// A user's dependencies on jobs it may not see: "no job X", as for an id
/// that does not exist (a dependency would tell another's job's fate).
void hidden_dependencies(api_context& ctx, const call& c, const job_spec& spec, const std::string& prefix,
                         std::vector<field_error>& errors) {
  if (!c.who.scope()) return;
  hidden_files(ctx, c, spec, prefix, errors);  // another user's files are not found either
  for (std::size_t i = 0; i < spec.depends_on.size(); ++i) {
    const auto& dep = spec.depends_on[i];
    auto v = ctx.eng.get(dep);
    if (v && !c.who.sees(v->owner))
      errors.push_back({prefix + "depends_on[" + std::to_string(i) + "]", "no job " + dep});
  }
}

void hidden_dependencies(api_context& ctx, const call& c, const batch_spec& spec, std::vector<field_error>& errors) {
  for (std::size_t j = 0; j < spec.jobs.size(); ++j)
    hidden_dependencies(ctx, c, spec.jobs[j], "jobs[" + std::to_string(j) + "].", errors);
}

void hidden_dependencies(api_context& ctx, const call& c, const job_spec& spec, std::vector<field_error>& errors) {
  hidden_dependencies(ctx, c, spec, "", errors);
}

/// The trace id of the request's `traceparent` header goes to every job
/// whose spec names none; a header that is not W3C's is a bad field.
void apply_traceparent(job_spec& spec, const std::string& trace) {
  if (spec.trace_id.empty()) spec.trace_id = trace;
}

void apply_traceparent(batch_spec& spec, const std::string& trace) {
  for (auto& job : spec.jobs) apply_traceparent(job, trace);
}

template <class Spec>
void read_traceparent(const call& c, Spec& spec, std::vector<field_error>& errors) {
  const auto header = c.req.find("traceparent");
  if (header == c.req.end()) return;
  auto reading = tools::parse_traceparent(header->value());
  if (reading.trace_id) apply_traceparent(spec, *reading.trace_id);
  else errors.push_back({"traceparent", reading.error});
}

template <class Spec>
std::optional<Spec> read_spec(api_context& ctx, const call& c, const replier& r,
                              std::vector<field_error> (*parse)(const boost::json::value&, Spec&),
                              const char* invalid, std::vector<field_error> errors = {}) {
  auto body = read_json_body(c, r, errors);
  if (!body) return std::nullopt;
  Spec spec;
  add_unreported(errors, parse(*body, spec));
  read_traceparent(c, spec, errors);
  hidden_dependencies(ctx, c, spec, errors);
  if (!errors.empty()) {
    add_unreported(errors, ctx.eng.check(spec));  // e.g. params errors too: every problem in one answer
    r.problem(400, invalid, errors);
    return std::nullopt;
  }
  return spec;
}

}  // namespace

std::optional<job_spec> read_job_spec(api_context& ctx, const call& c, const replier& r,
                                      std::vector<field_error> errors) {
  return read_spec<job_spec>(ctx, c, r, parse_job_spec, "the job spec is invalid", std::move(errors));
}

std::optional<batch_spec> read_batch_spec(api_context& ctx, const call& c, const replier& r) {
  return read_spec<batch_spec>(ctx, c, r, parse_batch_spec, "the batch is invalid", c.query_errors);
}

std::map<std::string, std::string> label_filter(const query_map& q) {
  std::map<std::string, std::string> labels;
  for (const auto& [key, value] : q)
    if (key.starts_with("label.")) labels[key.substr(6)] = value;
  return labels;
}

std::vector<field_error> read_query(const boost::urls::url_view& target, query_map& out) {
  std::vector<field_error> errors;
  for (auto p : target.params()) {
    const auto inserted = out.emplace(p.key, p.has_value ? p.value : std::string{});
    const std::string& key = inserted.first->first;
    const bool reported = std::any_of(errors.begin(), errors.end(), [&](const field_error& e) { return e.field == key; });
    if (!inserted.second && !reported)
      errors.push_back({key, "the query parameter \"" + key + "\" is given more than once; give it once"});
  }
  return errors;
}

std::vector<field_error> check_query_keys(const query_map& q,
                                          std::initializer_list<std::string_view> allowed) {
  return check_query_keys(q, std::span<const std::string_view>{allowed.begin(), allowed.size()});
}

std::vector<field_error> check_query_keys(const query_map& q, std::span<const std::string_view> allowed) {
  std::vector<field_error> errors;
  for (const auto& [key, value] : q) {
    bool ok = false;
    for (auto a : allowed)
      if (a.ends_with('.') ? (key.starts_with(a) && key.size() > a.size()) : key == a) ok = true;
    const auto nearest = tools::nearest_name(key, allowed);
    if (!ok)
      errors.push_back({key, "unknown query parameter \"" + key + "\"" +
                               (nearest.empty() ? "" : "; did you mean \"" + std::string{nearest} + "\"?")});
  }
  return errors;
}

void refuse_listing(const replier& r, int waiting) {
  r.problem(503,
            "the server is busy with " + std::to_string(waiting) +
              " listings waiting (GET /v1/jobs, GET /v1/batches), each of which reads every matching record; try "
              "again after Retry-After, or narrow the listing (tool, status, batch_id, created_after)",
            {}, boost::json::object{{"listings_waiting", waiting}});
}

void merge_field_errors(std::vector<field_error>& into, std::vector<field_error> more) {
  for (auto& e : more) {
    const auto same = std::find_if(into.begin(), into.end(), [&](const field_error& x) { return x.field == e.field; });
    if (same == into.end()) into.push_back(std::move(e));
    else same->message += "; " + e.message;
  }
}

std::vector<field_error> check_query_keys(const call& c, std::initializer_list<std::string_view> allowed) {
  auto errors = c.query_errors;
  merge_field_errors(errors, check_query_keys(c.query, allowed));
  return errors;
}

std::int64_t query_int(const query_map& q, std::string_view key, std::int64_t fallback,
                       std::int64_t min, std::int64_t max, std::vector<field_error>& errors) {
  auto it = q.find(key);
  if (it == q.end()) return fallback;
  std::int64_t v = 0;
  const auto& s = it->second;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) {
    errors.push_back({std::string{key}, "expected an integer, found \"" + s + "\""});
    return fallback;
  }
  if (v < min || v > max) {
    errors.push_back({std::string{key}, std::to_string(v) + " is outside " + std::to_string(min) + "-" +
                                          std::to_string(max)});
    return fallback;
  }
  return v;
}

}  // namespace overseer::http
