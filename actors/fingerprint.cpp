#include "actors/fingerprint.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <vector>

#include <boost/json/serialize.hpp>

#include "tools/json_number.hpp"

namespace overseer::actors {

namespace {

void append_canonical(std::string& out, const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::object: {
      const auto& o = v.as_object();
      std::vector<std::pair<std::string_view, const boost::json::value*>> items;
      for (const auto& [k, x] : o) items.emplace_back(k, &x);
      std::sort(items.begin(), items.end(), [](auto& a, auto& b) { return a.first < b.first; });
      out += '{';
      for (std::size_t i = 0; i < items.size(); ++i) {
        if (i) out += ',';
        out += boost::json::serialize(boost::json::value(items[i].first));
        out += ':';
        append_canonical(out, *items[i].second);
      }
      out += '}';
      return;
    }
    case boost::json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& x : v.as_array()) {
        if (!first) out += ',';
        first = false;
        append_canonical(out, x);
      }
      out += ']';
      return;
    }
    case boost::json::kind::double_: out += tools::format_number(v.as_double(), tools::number_form::canonical); return;
    case boost::json::kind::int64: out += std::to_string(v.as_int64()); return;
    case boost::json::kind::uint64: out += std::to_string(v.as_uint64()); return;
    case boost::json::kind::string:
    case boost::json::kind::bool_:
    case boost::json::kind::null: out += boost::json::serialize(v); return;
  }
}

std::uint64_t fnv1a(std::string_view s, std::uint64_t h = 14695981039346656037ull) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string hex(std::uint64_t v) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) s[static_cast<std::size_t>(i)] = digits[v & 15];
  return s;
}

}  // namespace

std::string canonical_json(const boost::json::value& v) {
  std::string out;
  append_canonical(out, v);
  return out;
}

std::string cache_key(std::string_view tool, std::string_view version, const boost::json::object& params) {
  std::string text{tool};
  text += '\0';
  text += version;
  text += '\0';
  text += canonical_json(params);
  // Two independent 64-bit hashes: a collision would hand one job another
  // job's result, so make it astronomically unlikely.
  return hex(fnv1a(text)) + hex(fnv1a(text, 0x84222325cbf29ce4ull ^ 0x9e3779b97f4a7c15ull));
}

std::uint64_t spec_fingerprint(const job_spec& spec) {
  boost::json::object o;
  o["tool"] = spec.tool;
  o["params"] = spec.params;
  o["name"] = spec.name;
  if (spec.priority) o["priority"] = *spec.priority;
  boost::json::object labels;
  for (const auto& [k, v] : spec.labels) labels[k] = v;
  o["labels"] = std::move(labels);
  if (spec.timeout) o["timeout_s"] = spec.timeout->count();
  if (spec.retry) {
    o["retry"] = boost::json::object{{"max_attempts", spec.retry->max_attempts},
                                     {"initial_backoff_ms", spec.retry->initial_backoff.count()},
                                     {"max_backoff_ms", spec.retry->max_backoff.count()},
                                     {"multiplier", spec.retry->multiplier},
                                     {"retry_on_timeout", spec.retry->retry_on_timeout}};
  }
  if (spec.ttl_hours) o["ttl_hours"] = *spec.ttl_hours;
  o["use_cache"] = spec.use_cache;
  boost::json::array deps;
  for (const auto& d : spec.depends_on) deps.emplace_back(d);
  o["depends_on"] = std::move(deps);
  if (spec.delay) o["delay_ms"] = spec.delay->count();
  if (spec.run_at) o["run_at_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(spec.run_at->time_since_epoch()).count();
  // Only when set: the fingerprints of specs without one stay what they were.
  if (spec.notify)
    o["notify"] = boost::json::object{{"url", spec.notify->url},
                                      {"events", boost::json::array{spec.notify->events.transition,
                                                                    spec.notify->events.progress,
                                                                    spec.notify->events.log}}};
  if (!spec.node_selector.empty()) {
    boost::json::object sel;
    for (const auto& [k, v] : spec.node_selector) sel[k] = v;
    o["node_selector"] = std::move(sel);
  }
  return fnv1a(canonical_json(o));
}

}  // namespace overseer::actors
