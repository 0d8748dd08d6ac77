#include "http/json_mapping.hpp"

#include "tools/did_you_mean.hpp"
#include "tools/json_number.hpp"
#include "tools/retry_json.hpp"
#include "tools/spec_limits.hpp"
#include "tools/time_text.hpp"
#include "tools/trace_context.hpp"
#include "tools/utf8.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <unordered_set>
#include <utility>

#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>

namespace overseer::http {
namespace {

namespace json = boost::json;
using namespace std::chrono;

// Far beyond any real job, yet small enough that now + timeout still fits a
// nanosecond time_point (about 292 years from 1970).
constexpr double max_timeout_s = 1e9;

constexpr std::array<std::string_view, 16> spec_keys = {
  "tool",      "params",    "name",       "priority",        "labels", "timeout_s", "retry",
  "ttl_hours", "use_cache", "depends_on", "idempotency_key", "run_at", "delay_s",   "trace_id",
  "notify",    "node_selector"};
constexpr std::array<std::string_view, 2> notify_keys = {"url", "events"};
constexpr std::array<std::string_view, 4> batch_keys = {"name", "jobs", "parallel_limit", "fail_fast"};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

void write(std::string& out, const json::value& v) {
  if (v.is_double()) {
    out += tools::format_number(v.get_double());  // null for inf and nan, which JSON has not
  } else if (v.is_object()) {
    out += '{';
    bool first = true;
    for (const auto& [key, x] : v.get_object()) {
      if (!std::exchange(first, false)) out += ',';
      out += json::serialize(key);
      out += ':';
      write(out, x);
    }
    out += '}';
  } else if (v.is_array()) {
    out += '[';
    bool first = true;
    for (const auto& x : v.get_array()) {
      if (!std::exchange(first, false)) out += ',';
      write(out, x);
    }
    out += ']';
  } else {
    out += json::serialize(v);  // null, bool, integers, strings (escaped by Boost)
  }
}

std::string_view type_name(const json::value& v) {
  if (v.is_string()) return "string";
  if (v.is_int64() || v.is_uint64()) return "integer";
  if (v.is_double()) return "number";
  if (v.is_bool()) return "boolean";
  if (v.is_object()) return "object";
  if (v.is_array()) return "array";
  return "null";
}

template <std::size_t N>
std::string unknown_field(std::string_view name, const std::array<std::string_view, N>& known) {
  return unknown_field_text(name, tools::nearest_name(name, known));
}

// Collects every problem of one body; each reader returns nullopt/nullptr
// after recording why.
class spec_reader {
public:
  std::vector<field_error> errors;

  void fail(std::string field, std::string message) {
    errors.push_back({std::move(field), std::move(message)});
  }

  bool expect(const std::string& field, const json::value& v, bool ok, std::string_view expected) {
    if (!ok) fail(field, "expected " + std::string(expected) + ", found " + std::string(type_name(v)));
    return ok;
  }

  std::optional<std::int64_t> integer(const std::string& field, const json::value& v,
                                      std::int64_t lo, std::int64_t hi) {
    if (!expect(field, v, tools::is_integral(v), "integer")) return std::nullopt;
    const auto n = tools::integral_value(v);
    if (n && *n >= lo && *n <= hi) return n;
    fail(field, to_json_text(v) + " is outside " + std::to_string(lo) + "-" + std::to_string(hi));
    return std::nullopt;
  }

  std::optional<double> number(const std::string& field, const json::value& v) {
    if (!expect(field, v, v.is_number(), "number")) return std::nullopt;
    // Boost.JSON reads 1e400 as infinity, which no field can use.
    if (v.is_double() && !std::isfinite(v.get_double())) {
      fail(field, "is too large");
      return std::nullopt;
    }
    return v.to_number<double>();
  }

  const json::string* string(const std::string& field, const json::value& v, std::size_t min_len,
                             std::size_t max_len) {
    if (!expect(field, v, v.is_string(), "string")) return nullptr;
    if (auto problem = tools::text_problem(v.get_string(), min_len, max_len)) {
      fail(field, std::move(*problem));
      return nullptr;
    }
    return &v.get_string();
  }

  std::optional<bool> boolean(const std::string& field, const json::value& v) {
    if (!expect(field, v, v.is_bool(), "boolean")) return std::nullopt;
    return v.get_bool();
  }

  // A retry object overrides only what it names; the rest keep retry_policy's
  // defaults. Read as the tools file reads a tool's (tools/retry_json.hpp).
  std::optional<retry_policy> retry(const json::value& v) {
    if (!expect("retry", v, v.is_object(), "object")) return std::nullopt;
    static const tools::json_wording wording{
      [](const json::value& x, std::string_view expected) {
        return "expected " + std::string(expected) + ", found " + std::string(type_name(x));
      },
      [](std::string_view key, std::string_view nearest) { return unknown_field_text(key, nearest); }};
    return tools::read_retry_policy(v.get_object(), wording, errors);
  }

  /// An object of strings with the limits of labels (check_labels), into
  /// `out` only if every entry is right.
  void label_map(const std::string& f, const json::value& v, std::map<std::string, std::string>& out) {
    if (!expect(f, v, v.is_object(), "object")) return;
    std::map<std::string, std::string> m;
    for (const auto& [name, value] : v.get_object())
      if (expect(f + "." + std::string(name), value, value.is_string(), "string"))
        m[std::string(name)] = value.get_string();
    // Their limits are the engine's (check_labels); a label that breaks one is not read.
    const auto before = errors.size();
    tools::check_labels(m, errors, f);
    if (errors.size() == before) out = std::move(m);
  }

  void field(std::string_view key, const json::value& v, job_spec& s) {
    const std::string f{key};
    if (key == "tool") {
      if (!expect(f, v, v.is_string(), "string")) return;
      if (v.get_string().empty()) return fail(f, "expected a tool name, found an empty string");
      s.tool = v.get_string();
    } else if (key == "params") {
      if (expect(f, v, v.is_object(), "object")) s.params = v.get_object();
    } else if (key == "name") {
      if (auto* n = string(f, v, 0, tools::max_name_chars)) s.name = *n;
    } else if (key == "priority") {
      if (auto n = integer(f, v, tools::min_priority, tools::max_priority)) s.priority = static_cast<int>(*n);
    } else if (key == "labels") {
      label_map(f, v, s.labels);
    } else if (key == "node_selector") {
      label_map(f, v, s.node_selector);  // node labels: the shape and limits of a job's labels
    } else if (key == "timeout_s") {
      auto d = number(f, v);
      if (d && (*d <= 0 || *d > max_timeout_s)) {
        fail(f, "expected a positive number up to 1000000000, found " + to_json_text(v));
      } else if (d) {
        s.timeout = seconds{static_cast<std::int64_t>(std::ceil(*d))};  // 0.5 s runs for 1 s, not 0
      }
    } else if (key == "retry") {
      s.retry = retry(v);
    } else if (key == "ttl_hours") {
      if (auto n = integer(f, v, tools::min_ttl_hours, tools::max_ttl_hours)) s.ttl_hours = static_cast<int>(*n);
    } else if (key == "use_cache") {
      if (auto b = boolean(f, v)) s.use_cache = *b;
    } else if (key == "depends_on") {
      if (!expect(f, v, v.is_array(), "array")) return;
      const auto& ids = v.get_array();
      for (std::size_t i = 0; i < ids.size(); ++i) {
        if (expect(f + "[" + std::to_string(i) + "]", ids[i], ids[i].is_string(), "string")) {
          s.depends_on.emplace_back(ids[i].get_string());
        }
      }
    } else if (key == "idempotency_key") {
      if (auto* k = string(f, v, 1, tools::max_idempotency_key_chars)) s.idempotency_key = *k;
    } else if (key == "run_at") {
      if (!expect(f, v, v.is_string(), "string")) return;
      if (auto t = parse_time(v.get_string())) s.run_at = *t;
      else fail(f, "expected an RFC 3339 timestamp, found " + to_json_text(v));
    } else if (key == "delay_s") {
      auto d = number(f, v);
      if (d && (*d < 0 || *d > max_timeout_s)) fail(f, "expected a number from 0 to 1000000000, found " + to_json_text(v));
      else if (d) s.delay = milliseconds{static_cast<std::int64_t>(std::llround(*d * 1000))};
    } else if (key == "trace_id") {
      if (!expect(f, v, v.is_string(), "string")) return;
      if (tools::valid_trace_id(v.get_string())) s.trace_id = v.get_string();
      else fail(f, "expected 32 lowercase hex digits, not all zero (a W3C trace id), found " + to_json_text(v));
    } else if (key == "notify") {
      notify(v, s);
    } else {
      fail(f, unknown_field(key, spec_keys));
    }
  }

  // {"url": "http://...", "events": ["transition", "progress", "log"]};
  // events defaults to ["transition"]. The URL's allow-list is the engine's.
  void notify(const json::value& v, job_spec& s) {
    if (!expect("notify", v, v.is_object(), "object")) return;
    notify_spec n;
    bool ok = true;
    for (const auto& [key, x] : v.get_object()) {
      const std::string f = "notify." + std::string(key);
      if (key == "url") {
        if (auto* u = string(f, x, 1, 2048)) n.url = *u;
        else ok = false;
      } else if (key == "events") {
        if (!expect(f, x, x.is_array(), "array")) {
          ok = false;
          continue;
        }
        n.events = {false, false, false};
        const auto& a = x.get_array();
        if (a.empty()) {
          fail(f, "must name at least one of transition, progress, log");
          ok = false;
        }
        for (std::size_t i = 0; i < a.size(); ++i) {
          const std::string fi = f + "[" + std::to_string(i) + "]";
          if (!expect(fi, a[i], a[i].is_string(), "string")) {
            ok = false;
            continue;
          }
          const auto kind = parse_event_kind(a[i].get_string());
          if (!kind) {
            fail(fi, to_json_text(a[i]) + " is not an event type (transition, progress, log)");
            ok = false;
          } else if (*kind == event_kind::transition) n.events.transition = true;
          else if (*kind == event_kind::progress) n.events.progress = true;
          else n.events.log = true;
        }
        // Every entry named wrong: each has its error. The engine, which still
        // checks the URL, must not also find the list empty.
        if (!ok && !n.events.transition && !n.events.progress && !n.events.log) n.events.transition = true;
      } else {
        fail(f, unknown_field(key, notify_keys));
        ok = false;
      }
    }
    if (!v.get_object().contains("url")) {
      fail("notify.url", "is required");
      ok = false;
    }
    // A readable URL is checked by the engine (its allow-list) even when
    // another notify field is wrong: one answer names every problem.
    if (ok || !n.url.empty()) s.notify = std::move(n);
  }
};

json::object render_retry(const retry_policy& r) {
  return {{"max_attempts", r.max_attempts},
          {"initial_backoff_ms", r.initial_backoff.count()},
          {"max_backoff_ms", r.max_backoff.count()},
          {"multiplier", r.multiplier},
          {"retry_on_timeout", r.retry_on_timeout}};
}

json::value render_status(std::optional<job_status> s) {
  return s ? json::value(to_string(*s)) : json::value(nullptr);
}

}  // namespace

std::string unknown_field_text(std::string_view name, std::string_view nearest) {
  return "unknown field " + quote(name) + (nearest.empty() ? "" : "; did you mean " + quote(nearest) + "?");
}

std::string format_time(time_point t) { return tools::format_rfc3339(t); }

std::optional<time_point> parse_time(std::string_view s) {
  std::size_t i = 0;
  auto digits = [&](int n, int& out) {
    out = 0;
    for (int k = 0; k < n; ++k, ++i) {
      if (i >= s.size() || !is_digit(s[i])) return false;
      out = out * 10 + (s[i] - '0');
    }
    return true;
  };
  auto literal = [&](auto... options) {
    if (i >= s.size() || ((s[i] != options) && ...)) return false;
    ++i;
    return true;
  };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  // RFC 3339 section 5.6 lets T and Z be lower case and T be a space.
  if (!(digits(4, y) && literal('-') && digits(2, mo) && literal('-') && digits(2, d) &&
        literal('T', 't', ' ') && digits(2, h) && literal(':') && digits(2, mi) && literal(':') &&
        digits(2, sec))) {
    return std::nullopt;
  }
  int ms = 0;
  if (literal('.')) {
    const std::size_t start = i;
    for (; i < s.size() && is_digit(s[i]); ++i) {
      if (i - start < 3) ms = ms * 10 + (s[i] - '0');  // finer digits are truncated
    }
    if (i == start) return std::nullopt;
    for (std::size_t n = i - start; n < 3; ++n) ms *= 10;
  }
  minutes offset{0};
  if (!literal('Z', 'z')) {
    const bool negative = i < s.size() && s[i] == '-';
    int oh = 0, om = 0;
    if (!(literal('+', '-') && digits(2, oh) && literal(':') && digits(2, om)) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset = (negative ? -1 : 1) * (hours{oh} + minutes{om});
  }
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  // Leap second 60 is refused: system_clock cannot represent it.
  if (i != s.size() || !ymd.ok() || h > 23 || mi > 59 || sec > 59) return std::nullopt;
  const auto t = sys_days{ymd} + hours{h} + minutes{mi} + seconds{sec} + milliseconds{ms} - offset;
  // time_point counts nanoseconds: only about 1678-2262 fits.
  if (t < ceil<milliseconds>(time_point::min()) || t > floor<milliseconds>(time_point::max())) {
    return std::nullopt;
  }
  return time_point{t};
}

std::string to_json_text(const json::value& v) {
  std::string out;
  write(out, v);
  // Boost.JSON escapes control characters but copies other bytes as they
  // are; ill-formed ones can only sit inside strings, so replacing them
  // keeps the document valid JSON.
  tools::sanitize_utf8_in_place(out);
  return out;
}

std::vector<field_error> parse_batch_spec(const json::value& body, batch_spec& out) {
  if (!body.is_object()) return {{"body", "must be a JSON object"}};
  spec_reader reader;
  batch_spec batch;
  for (const auto& [key, v] : body.get_object()) {
    const std::string f{key};
    if (key == "name") {
      if (auto* n = reader.string(f, v, 0, tools::max_name_chars)) batch.name = *n;
    } else if (key == "parallel_limit") {
      if (auto n = reader.integer(f, v, 0, 100000)) batch.parallel_limit = static_cast<int>(*n);
    } else if (key == "fail_fast") {
      if (auto b = reader.boolean(f, v)) batch.fail_fast = *b;
    } else if (key == "jobs") {
      if (!reader.expect(f, v, v.is_array(), "array")) continue;
      const auto& jobs = v.get_array();
      for (std::size_t i = 0; i < jobs.size(); ++i) {
        job_spec spec;
        for (auto& e : parse_job_spec(jobs[i], spec))
          reader.fail("jobs[" + std::to_string(i) + "]" + (e.field == "body" ? "" : "." + e.field), e.message);
        batch.jobs.push_back(std::move(spec));
      }
    } else {
      reader.fail(f, unknown_field(key, batch_keys));
    }
  }
  if (!body.get_object().contains("jobs")) reader.fail("jobs", "is required");
  out = std::move(batch);  // what could be read, so the engine can check it too
  return std::move(reader.errors);
}

void add_unreported(std::vector<field_error>& errors, const std::vector<field_error>& more) {
  // A field is named when it, or a field holding it ("jobs[3]" holds
  // "jobs[3].priority", "params" holds "params.x"), is. Looked up by its
  // prefixes, not by a scan of `errors`: a body with 20,000 bad fields
  // took seconds of an I/O thread that way (n x m comparisons).
  std::unordered_set<std::string> named;
  named.reserve(errors.size() + more.size());
  for (const auto& x : errors) named.insert(x.field);
  const auto is_named = [&](const std::string& f) {
    if (named.contains(f)) return true;
    for (std::size_t i = 1; i < f.size(); ++i)
      if ((f[i] == '.' || f[i] == '[') && named.contains(f.substr(0, i))) return true;
    return false;
  };
  for (const auto& e : more) {
    if (is_named(e.field)) continue;
    named.insert(e.field);
    errors.push_back(e);
  }
}

std::vector<field_error> parse_job_spec(const json::value& body, job_spec& out) {
  if (!body.is_object()) return {{"body", "must be a JSON object"}};
  spec_reader reader;
  job_spec spec;
  for (const auto& [key, v] : body.get_object()) reader.field(key, v, spec);
  if (!body.get_object().contains("tool")) reader.fail("tool", "is required");
  out = std::move(spec);  // what could be read, so the engine can check it too
  return std::move(reader.errors);
}

json::object render_progress(const overseer::progress& p) {
  json::object o{{"percent", p.percent},
                 {"current_step", p.current_step},
                 {"total_steps", p.total_steps},
                 {"step_name", p.step_name}};
  if (p.estimated_completion) o["estimated_completion"] = format_time(*p.estimated_completion);
  return o;
}

json::object render_view(const job_view& v) {
  json::object labels;
  for (const auto& [k, x] : v.labels) labels[k] = x;
  json::object o{{"job_id", v.id},
                 {"tool", v.tool},
                 {"name", v.name},
                 {"status", to_string(v.status)},
                 {"attempt", v.attempt},
                 {"attempts_counted", v.attempts_counted},
                 {"priority", v.priority},
                 {"labels", std::move(labels)},
                 {"params", v.params},
                 {"progress", render_progress(v.progress)}};
  if (v.status == job_status::completed && v.result) o["result"] = *v.result;
  if (!v.error.empty()) o["error"] = v.error;
  o["created_at"] = format_time(v.created_at);
  if (v.started_at) o["started_at"] = format_time(*v.started_at);
  if (v.completed_at) o["completed_at"] = format_time(*v.completed_at);
  if (v.next_attempt_at) o["next_attempt_at"] = format_time(*v.next_attempt_at);
  if (v.started_at) {
    const auto end = v.completed_at.value_or(clock::now());
    o["duration_ms"] = std::max<std::int64_t>(0, duration_cast<milliseconds>(end - *v.started_at).count());
  }
  if (v.timeout) o["timeout_s"] = v.timeout->count();
  o["retry"] = render_retry(v.retry);
  o["ttl_hours"] = v.ttl_hours;
  if (is_terminal(v.status) && v.completed_at) {
    o["expires_at"] = format_time(*v.completed_at + hours{v.ttl_hours});
  }
  if (!v.idempotency_key.empty()) o["idempotency_key"] = v.idempotency_key;
  if (!v.batch_id.empty()) o["batch_id"] = v.batch_id;
  if (!v.owner.empty()) o["owner"] = v.owner;
  if (!v.trace_id.empty()) o["trace_id"] = v.trace_id;
  if (!v.node.empty()) o["node"] = v.node;
  if (!v.node_selector.empty()) {
    json::object sel;
    for (const auto& [k, x] : v.node_selector) sel[k] = x;
    o["node_selector"] = std::move(sel);
  }
  if (v.estimated_duration_s) o["estimated_duration_s"] = std::round(*v.estimated_duration_s * 1000) / 1000;
  if (v.estimated_run_s) o["estimated_run_s"] = std::round(*v.estimated_run_s * 1000) / 1000;
  if (v.completion_estimated) o["progress"].as_object()["estimated_completion_source"] = "rate";
  if (!v.depends_on.empty() || !v.waiting_on.empty()) {
    json::array deps, waiting;
    for (const auto& d : v.depends_on) deps.emplace_back(d);
    for (const auto& d : v.waiting_on) waiting.emplace_back(d);
    if (!v.depends_on.empty()) o["depends_on"] = std::move(deps);
    o["waiting_on"] = std::move(waiting);
  }
  if (v.run_at) o["run_at"] = format_time(*v.run_at);
  o["use_cache"] = v.use_cache;
  if (v.cache_info)
    o["cache_info"] = json::object{{"cached_at", format_time(v.cache_info->cached_at)},
                                   {"source_job_id", v.cache_info->source_job_id}};
  const std::string self = "/v1/jobs/" + v.id;
  o["links"] = json::object{{"self", self},
                            {"result", self + "/result"},
                            {"logs", self + "/logs"},
                            {"history", self + "/history"}};
  return o;
}

json::object render_transition(const transition& t) {
  json::object o{{"from", render_status(t.from)},
                 {"to", to_string(t.to)},
                 {"at", format_time(t.at)},
                 {"attempt", t.attempt},
                 {"reason", t.reason}};
  if (!t.node.empty()) o["node"] = t.node;  // in a cluster: where the attempt ran
  return o;
}

json::object render_log(const log_line& l) {
  return {{"at", format_time(l.at)},
          {"level", to_string(l.level)},
          {"message", l.message},
          {"component", l.component}};
}

json::object render_event(const event& e) {
  json::object o{{"type", to_string(e.kind)}, {"seq", e.seq}, {"job_id", e.job_id}};
  if (!e.batch_id.empty()) o["batch_id"] = e.batch_id;
  if (!e.trace_id.empty()) o["trace_id"] = e.trace_id;
  switch (e.kind) {
    case event_kind::transition:
      o["from"] = render_status(e.from);
      o["to"] = to_string(e.to);
      o["attempt"] = e.attempt;
      o["at"] = format_time(e.at);
      o["reason"] = e.reason;
      break;
    case event_kind::progress:
      o["progress"] = render_progress(e.progress);
      o["at"] = format_time(e.at);
      break;
    case event_kind::log:
      o["level"] = to_string(e.level);
      o["message"] = e.message;
      o["component"] = e.component.empty() ? "tool" : e.component;
      o["at"] = format_time(e.at);
      break;
  }
  return o;
}

json::object render_tool(const tool_definition& d) {
  json::object o{{"name", d.name},
                 {"version", d.version},
                 {"description", d.description},
                 {"params", d.params},
                 {"timeout_s", d.timeout ? json::value(d.timeout->count()) : json::value(nullptr)},
                 {"max_concurrent", d.max_concurrent},
                 {"mode", to_string(d.mode)},
                 {"retry", render_retry(d.retry)}};
  // Only a tool that declares output files (docs/tools.md) has the member.
  if (!d.outputs.empty()) o["outputs"] = json::value_from(d.outputs);
  return o;
}

}  // namespace overseer::http
