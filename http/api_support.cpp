#include "http/api.hpp"

#include <charconv>

#include "http/json_mapping.hpp"
#include "http/problem.hpp"

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
  return res;
}

namespace {

std::size_t distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

}  // namespace

std::vector<field_error> check_query_keys(const query_map& q,
                                          std::initializer_list<std::string_view> allowed) {
  std::vector<field_error> errors;
  for (const auto& [key, value] : q) {
    bool ok = false;
    std::string_view nearest;
    std::size_t best = 4;
    for (auto a : allowed) {
      if (a.ends_with('.') ? (key.starts_with(a) && key.size() > a.size()) : key == a) ok = true;
      if (auto d = distance(key, a); d < best) best = d, nearest = a;
    }
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
