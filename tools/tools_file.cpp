#include "tools/tools_file.hpp"

#include "tools/did_you_mean.hpp"
#include "tools/json_number.hpp"
#include "tools/retry_json.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <fstream>
#include <set>
#include <iterator>
#include <limits>

#include <boost/json/stream_parser.hpp>
#include <boost/json/serialize.hpp>

namespace overseer::tools {
namespace {

using boost::json::object;
using boost::json::value;

constexpr std::array<std::string_view, 16> tool_keys = {
    "name",           "version", "description",    "command", "params",       "env",           "timeout_s",
    "max_concurrent", "retry",   "progress_regex", "limits",  "kill_grace_s", "allowed_paths", "supervision",
    "mode", "outputs"};
constexpr std::array<std::string_view, 3> supervision_keys = {"max_failures", "window_s", "count"};
constexpr std::array<std::string_view, 4> limit_keys = {"cpu_s", "memory_mb", "open_files", "output_mb"};
constexpr std::array<std::string_view, 2> file_keys = {"tools", "builtins"};
constexpr std::array<std::string_view, 1> builtin_keys = {"fasta_stats"};
constexpr std::array<std::string_view, 1> fasta_stats_keys = {"allowed_paths"};

// boost::json prints doubles as "1.5E0"; messages read better as "1.5".
std::string render(const value& v) {
  return v.is_double() ? format_number(v.get_double()) : boost::json::serialize(v);
}

// How this file words a key it does not know.
std::string unknown_text(std::string_view nearest) {
  if (nearest.empty()) return "unknown field";
  return "unknown field; did you mean \"" + std::string(nearest) + "\"?";
}

// How this file words a value of the wrong type: "must be an integer, found \"1h\"".
std::string must_be(std::string_view kind, const value& v) {
  return "must be " + std::string(kind) + ", found " + render(v);
}

// Reads one JSON object's fields, recording what is wrong with each.
struct reader {
  std::vector<field_error>& errors;

  // Returns nullopt so that a reader can `return fail(...)`.
  std::nullopt_t fail(std::string field, std::string message) {
    errors.push_back({std::move(field), std::move(message)});
    return std::nullopt;
  }

  // Unknown keys are refused, with the nearest known one as a suggestion.
  template <std::size_t N>
  void only(const object& o, const std::array<std::string_view, N>& known, const std::string& prefix) {
    for (const auto& kv : o) {
      if (std::find(known.begin(), known.end(), kv.key()) != known.end()) continue;
      const auto best = nearest_name(kv.key(), known);
      fail(prefix + std::string(kv.key()), unknown_text(best));
    }
  }

  const value* field(const object& o, std::string_view key) { return o.if_contains(key); }

  std::optional<std::string> string(const object& o, std::string_view key, const std::string& f) {
    const auto* v = field(o, key);
    if (!v) return std::nullopt;
    if (!v->is_string()) return fail(f, must_be("a string", *v));
    return std::string(v->get_string());
  }

  std::optional<double> number(const object& o, std::string_view key, const std::string& f, double min,
                               bool min_exclusive = false) {
    const auto* v = field(o, key);
    if (!v) return std::nullopt;
    if (!v->is_number()) return fail(f, must_be("a number", *v));
    const double d = v->to_number<double>();
    if (!std::isfinite(d) || d < min || (min_exclusive && d == min))
      return fail(f, render(*v) + " must be " + (min_exclusive ? "above " : "at least ") + render(min));
    return d;
  }

  std::optional<long long> integer(const object& o, std::string_view key, const std::string& f,
                                   long long min) {
    const auto* v = field(o, key);
    if (!v) return std::nullopt;
    if (!is_integral(*v) || std::abs(v->to_number<double>()) > 1e15)
      return fail(f, must_be("an integer", *v));
    const auto n = static_cast<long long>(v->to_number<double>());
    if (n < min) return fail(f, render(*v) + " must be at least " + std::to_string(min));
    return n;
  }

  std::optional<bool> boolean(const object& o, std::string_view key, const std::string& f) {
    const auto* v = field(o, key);
    if (!v) return std::nullopt;
    if (!v->is_bool()) return fail(f, must_be("true or false", *v));
    return v->get_bool();
  }

  const object* sub_object(const object& o, std::string_view key, const std::string& f) {
    const auto* v = field(o, key);
    if (v && !v->is_object()) fail(f, must_be("an object", *v));
    return v ? v->if_object() : nullptr;
  }

  std::optional<std::vector<std::string>> strings(const object& o, std::string_view key, const std::string& f,
                                                  bool non_empty) {
    const auto* v = field(o, key);
    if (!v) return std::nullopt;
    const auto* arr = v->if_array();
    const bool ok = arr && !(non_empty && arr->empty()) &&
                    std::all_of(arr->begin(), arr->end(), [](const value& e) { return e.is_string(); });
    if (!ok)
      return fail(f, non_empty ? "must be a non-empty array of strings" : "must be an array of strings");
    std::vector<std::string> out;
    for (const auto& e : *arr) out.emplace_back(e.get_string());
    return out;
  }
};

exec_tool_config read_tool(const object& t, reader& r) {
  exec_tool_config c;
  auto& d = c.definition;
  r.only(t, tool_keys, "");
  if (auto s = r.string(t, "name", "name")) d.name = *s;
  else if (!t.contains("name")) r.fail("name", "is required");
  if (auto s = r.string(t, "version", "version")) d.version = *s;
  if (auto s = r.string(t, "description", "description")) d.description = *s;
  if (auto cmd = r.strings(t, "command", "command", true)) c.command = *cmd;
  else if (!t.contains("command")) r.fail("command", "is required: a non-empty array of strings");

  if (const auto* params = r.sub_object(t, "params", "params")) {
    d.params = *params;
    // "path" is ours, not the schema's: take it out before the schema check.
    for (auto& kv : d.params) {
      auto* entry = kv.value().if_object();
      const auto* path = entry ? entry->if_contains("path") : nullptr;
      if (!path) continue;
      const std::string f = "params." + std::string(kv.key()) + ".path";
      if (!path->is_bool()) r.fail(f, must_be("true or false", *path));
      else if (path->get_bool()) c.path_params.emplace_back(kv.key());
      entry->erase("path");
    }
  }
  if (const auto* env = r.sub_object(t, "env", "env")) {
    for (const auto& kv : *env) {
      if (kv.value().is_string()) c.env[std::string(kv.key())] = kv.value().get_string();
      else r.fail("env." + std::string(kv.key()), must_be("a string", kv.value()));
    }
  }
  if (auto n = r.integer(t, "timeout_s", "timeout_s", 1)) d.timeout = std::chrono::seconds(*n);
  if (auto n = r.integer(t, "max_concurrent", "max_concurrent", 0))
    d.max_concurrent = static_cast<int>(std::min(*n, 1LL << 30));
  if (const auto* mode = t.if_contains("mode")) {
    if (mode->is_string() && mode->get_string() == "immediate") d.mode = tool_mode::immediate;
    else if (!(mode->is_string() && mode->get_string() == "queued"))
      r.fail("mode", must_be("\"queued\" or \"immediate\"", *mode));
  }
  if (const auto* retry = r.sub_object(t, "retry", "retry")) {
    // The job spec's reader too: the same fields, read alike, bounded by check_retry_policy.
    static const json_wording wording{
      [](const value& v, std::string_view expected) {
        return must_be(expected == "integer" ? "an integer" : expected == "number" ? "a number" : "true or false", v);
      },
      [](std::string_view, std::string_view nearest) { return unknown_text(nearest); }};
    d.retry = read_retry_policy(*retry, wording, r.errors);
  }
  if (const auto* sup = r.sub_object(t, "supervision", "supervision")) {
    // Unset fields keep the engine-wide defaults' values.
    r.only(*sup, supervision_keys, "supervision.");
    supervision_strategy s;
    if (auto n = r.integer(*sup, "max_failures", "supervision.max_failures", 0))
      s.max_failures = static_cast<int>(std::min(*n, 1LL << 30));
    if (auto x = r.number(*sup, "window_s", "supervision.window_s", 0, true))
      s.window = std::chrono::milliseconds(std::llround(std::min(*x, 30.0 * 86400) * 1000));
    if (auto kinds = r.strings(*sup, "count", "supervision.count", true)) {
      s.counts = {false, false, false};
      for (const auto& k : *kinds) {
        if (k == "crashes") s.counts.crashes = true;
        else if (k == "timeouts") s.counts.timeouts = true;
        else if (k == "failures") s.counts.failures = true;
        else r.fail("supervision.count", "\"" + k + "\" is not one of crashes, timeouts, failures");
      }
    }
    d.supervision = s;
  }
  if (auto s = r.string(t, "progress_regex", "progress_regex")) c.progress_regex = *s;
  if (const auto* limits = r.sub_object(t, "limits", "limits")) {
    r.only(*limits, limit_keys, "limits.");
    c.limits.cpu_s = r.integer(*limits, "cpu_s", "limits.cpu_s", 1);
    c.limits.memory_mb = r.integer(*limits, "memory_mb", "limits.memory_mb", 1);
    c.limits.open_files = r.integer(*limits, "open_files", "limits.open_files", 3);
    if (auto x = r.number(*limits, "output_mb", "limits.output_mb", 0, true)) c.limits.output_mb = *x;
  }
  if (auto x = r.number(t, "kill_grace_s", "kill_grace_s", 0)) {
    c.kill_grace = std::chrono::milliseconds(std::llround(std::min(*x, 86400.0) * 1000));
  }
  if (auto dirs = r.strings(t, "allowed_paths", "allowed_paths", false))
    c.allowed_paths.assign(dirs->begin(), dirs->end());
  if (auto outs = r.strings(t, "outputs", "outputs", false)) c.definition.outputs.assign(outs->begin(), outs->end());
  return c;
}

builtin_config read_builtins(const object& b, reader& r) {
  builtin_config c;
  r.only(b, builtin_keys, "builtins.");
  if (const auto* fasta = r.sub_object(b, "fasta_stats", "builtins.fasta_stats")) {
    r.only(*fasta, fasta_stats_keys, "builtins.fasta_stats.");
    if (auto dirs = r.strings(*fasta, "allowed_paths", "builtins.fasta_stats.allowed_paths", false))
      c.fasta_stats_allowed_paths.assign(dirs->begin(), dirs->end());
  }
  return c;
}

// Whether two fields name the same place or one lies within the other
// ("" is the whole tool).
bool overlaps(std::string_view a, std::string_view b) {
  auto within = [](std::string_view inner, std::string_view outer) {
    return outer.empty() || inner == outer || (inner.starts_with(outer) && inner[outer.size()] == '.');
  };
  return within(a, b) || within(b, a);
}

// "line 3, column 7" of the byte at `offset`.
std::string position(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  const auto before = text.substr(0, offset);
  const auto line = std::count(before.begin(), before.end(), '\n') + 1;
  const auto nl = before.rfind('\n');
  const auto column = offset - (nl == std::string_view::npos ? 0 : nl + 1) + 1;
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

}  // namespace

tools_file_contents parse_tools_file(std::string_view json, std::vector<tools_file_problem>& problems) {
  boost::json::stream_parser parser;
  boost::system::error_code ec;
  const auto used = parser.write_some(json.data(), json.size(), ec);
  if (!ec) parser.finish(ec);
  if (ec) {
    problems.push_back({"", {"", "is not valid JSON (" + position(json, used) + "): " + ec.message()}});
    return {};
  }
  const value root = parser.release();
  std::vector<field_error> file_errors;
  reader top{file_errors};
  const auto* obj = root.if_object();
  const auto* tools = obj ? obj->if_contains("tools") : nullptr;
  if (obj) top.only(*obj, file_keys, "");
  if (!tools || !tools->is_array())
    top.fail("tools", "is required: an array of tool objects, as in {\"tools\": [...]}");
  tools_file_contents contents;
  if (const auto* builtins = obj ? top.sub_object(*obj, "builtins", "builtins") : nullptr)
    contents.builtins = read_builtins(*builtins, top);
  for (auto& e : file_errors) problems.push_back({"", std::move(e)});
  if (!tools || !tools->is_array()) return contents;

  auto& configs = contents.tools;
  std::set<std::string> names;
  int index = 0;
  for (const auto& t : tools->get_array()) {
    ++index;
    std::vector<field_error> errors;
    reader r{errors};
    exec_tool_config c;
    if (!t.is_object()) r.fail("", must_be("an object", t));
    else c = read_tool(t.get_object(), r);
    const std::string who = c.definition.name.empty() ? "#" + std::to_string(index) : c.definition.name;
    if (!c.definition.name.empty() && !names.insert(c.definition.name).second)
      r.fail("name", "\"" + c.definition.name + "\" is declared twice");
    for (auto& e : errors) problems.push_back({who, std::move(e)});
    configs.push_back(std::move(c));
  }
  return contents;
}

std::string describe(const std::string& file, const std::vector<tools_file_problem>& problems) {
  std::string out;
  for (const auto& p : problems) {
    if (!out.empty()) out += '\n';
    out += "tools file " + file + ": ";
    if (!p.tool.empty()) out += "tool " + (p.tool.starts_with('#') ? p.tool : "\"" + p.tool + "\"") + ": ";
    if (!p.error.field.empty()) out += "field \"" + p.error.field + "\": ";
    out += p.error.message;
  }
  return out;
}

void register_tools_file(tool_registry& registry, const std::filesystem::path& file) {
  std::ifstream in{file, std::ios::binary};
  std::string text{std::istreambuf_iterator<char>{in}, {}};
  if (!in || in.bad() || std::filesystem::is_directory(file)) {
    throw error(errc::invalid_spec,
                "tools file " + file.string() + ": cannot be read: " +
                    (std::filesystem::exists(file) ? "permission denied or not a file" : "no such file"));
  }
  std::vector<tools_file_problem> problems;
  auto contents = parse_tools_file(text, problems);
  // Meaning is checked on every tool, all before any is added, so that one
  // pass reports every problem of the file. A check of a field whose shape
  // was already refused would only repeat that, and is left out.
  const auto shape_problems = problems;
  int index = 0;
  for (auto& c : contents.tools) {
    ++index;
    const std::string who = c.definition.name.empty() ? "#" + std::to_string(index) : c.definition.name;
    auto refused = [&](const std::string& field) {
      return std::any_of(shape_problems.begin(), shape_problems.end(), [&](const tools_file_problem& p) {
        return p.tool == who && overlaps(p.error.field, field);
      });
    };
    for (auto& e : check_exec_tool(c))
      if (!refused(e.field)) problems.push_back({who, std::move(e)});
    if (!c.definition.name.empty() && registry.find(c.definition.name) && !refused("name"))
      problems.push_back({who, {"name", "\"" + c.definition.name + "\" is already registered"}});
  }
  if (contents.builtins) {
    for (auto& e : check_builtin_config(registry, *contents.builtins))
      if (std::none_of(shape_problems.begin(), shape_problems.end(), [&](const tools_file_problem& p) {
            return p.tool.empty() && overlaps(p.error.field, e.field);
          }))
        problems.push_back({"", std::move(e)});
  }
  if (!problems.empty()) {
    std::vector<field_error> fields;
    for (const auto& p : problems)
      fields.push_back({p.tool.empty() ? p.error.field : p.tool + "." + p.error.field, p.error.message});
    throw error(errc::invalid_spec, describe(file.string(), problems), std::move(fields));
  }
  for (auto& c : contents.tools) register_exec_tool(registry, std::move(c));
  if (contents.builtins) configure_builtin_tools(registry, *contents.builtins);
}

}  // namespace overseer::tools
