#include "http/api.hpp"

#include <algorithm>
#include <charconv>

#include "http/json_mapping.hpp"
#include "http/problem.hpp"
#include "tools/did_you_mean.hpp"

namespace overseer::http {

response json_response(unsigned status, const boost::json::value& body, unsigned version,
                       bool keep_alive) {
  response res{static_cast<bhttp::status>(status), version};
  res.set(bhttp::field::content_type, "application/json");
  res.keep_alive(keep_alive);
  res.body() = to_json_text(body);
  res.prepare_payload();
  return res;
}

response problem_response(unsigned status, std::string detail, unsigned version, bool keep_alive,
                          const std::vector<field_error>& errors) {
  auto res = json_response(status, make_problem(status, std::move(detail), errors), version, keep_alive);
  res.set(bhttp::field::content_type, "application/problem+json");
  // 503 is the engine stopping or its store failed (fail-stop): a supervisor
  // restarts the daemon within seconds.
  if (status == 503) res.set(bhttp::field::retry_after, "5");
  return res;
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
