#include "cli/params.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <variant>

#include <boost/json/parse.hpp>

#include "cli/json_read.hpp"
#include "cli/text.hpp"
#include "tools/did_you_mean.hpp"

namespace overseer::cli {

namespace {

std::string quoted(std::string_view s) {
  std::string q{"\""};
  q += terminal_safe(s);
  q += '"';
  return q;
}

std::optional<std::int64_t> parse_integer(std::string_view s) {
  std::int64_t v = 0;
  const char* first = s.data();
  if (!s.empty() && s[0] == '+') ++first;
  const auto [end, ec] = std::from_chars(first, s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || first == end) return std::nullopt;
  return v;
}

std::optional<double> parse_number(std::string_view s) {
  if (s.empty() || std::isspace(static_cast<unsigned char>(s[0]))) return std::nullopt;
  const std::string copy{s};
  char* end = nullptr;
  const double v = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || !std::isfinite(v)) return std::nullopt;
  // strtod takes "0x1p3" and "inf"-like spellings; JSON has neither.
  if (copy.find_first_of("xXnN") != std::string::npos) return std::nullopt;
  return v;
}

std::optional<bool> parse_boolean(std::string_view s) {
  std::string lower{s};
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (lower == "true" || lower == "yes" || lower == "on" || lower == "1") return true;
  if (lower == "false" || lower == "no" || lower == "off" || lower == "0") return false;
  return std::nullopt;
}

/// The value of `raw` as `type` says, or an error message.
std::variant<boost::json::value, std::string> typed(std::string_view type, std::string_view raw) {
  if (type == "string" || type == "file") return boost::json::value(boost::json::string(raw));  // file: a file id
  if (type == "integer") {
    if (auto v = parse_integer(raw)) return boost::json::value(*v);
    return "expected an integer, found " + quoted(raw);
  }
  if (type == "number") {
    if (auto v = parse_integer(raw)) return boost::json::value(*v);
    if (auto v = parse_number(raw)) return boost::json::value(*v);
    return "expected a number, found " + quoted(raw);
  }
  if (type == "boolean") {
    if (auto v = parse_boolean(raw)) return boost::json::value(*v);
    return "expected true or false, found " + quoted(raw);
  }
  if (type == "object" || type == "array") {
    boost::system::error_code ec;
    auto v = boost::json::parse(raw, ec);
    if (!ec && ((type == "object" && v.is_object()) || (type == "array" && v.is_array()))) return v;
    return "expected a JSON " + std::string{type} + ", found " + quoted(raw);
  }
  // No schema, or a type this client does not know: JSON if it is JSON.
  boost::system::error_code ec;
  auto v = boost::json::parse(raw, ec);
  if (!ec) return v;
  return boost::json::value(boost::json::string(raw));
}

}  // namespace

typed_params type_params(const boost::json::value& tool, const std::vector<std::string>& words,
                         boost::json::object base) {
  typed_params out{.params = std::move(base)};
  const bool has_schema = tool.is_object();
  const auto& schema = object_of(tool, "params");
  std::vector<std::string> names;
  for (const auto& kv : schema) names.emplace_back(kv.key());
  const std::string tool_name = terminal_safe(text_of(tool, "name"));
  for (const auto& word : words) {
    const auto eq = word.find('=');
    if (eq == std::string::npos || eq == 0) {
      out.errors.push_back(quoted(word) + " is not a param: write NAME=VALUE" +
                           (names.empty() ? std::string{} : " (" + tool_name + " takes " + [&] {
                             std::string list;
                             for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
                             return list;
                           }() + ")"));
      continue;
    }
    const std::string key = word.substr(0, eq);
    const std::string_view raw = std::string_view{word}.substr(eq + 1);
    std::string type;
    if (has_schema) {
      const auto* spec = schema.if_contains(key);
      if (!spec) {
        std::string message = "param " + quoted(key) + ": unknown for tool " + tool_name;
        if (const auto near = tools::nearest_name(key, names); !near.empty())
          message += "; did you mean " + quoted(near) + "?";
        if (names.empty()) {
          message += " (it takes no params)";
        } else {
          std::string list;
          for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
          message += " (it takes " + list + ")";
        }
        out.errors.push_back(std::move(message));
        continue;
      }
      type = text_of(*spec, "type");
    }
    auto v = typed(type, raw);
    if (auto* error = std::get_if<std::string>(&v)) {
      out.errors.push_back("param " + quoted(key) + ": " + *error);
      continue;
    }
    out.params[key] = std::move(std::get<boost::json::value>(v));
  }
  return out;
}

typed_params string_pairs(const std::vector<std::string>& words, const std::string& what) {
  typed_params out;
  for (const auto& word : words) {
    const auto eq = word.find('=');
    if (eq == std::string::npos || eq == 0) {
      out.errors.push_back(what + " " + quoted(word) + ": write KEY=VALUE");
      continue;
    }
    out.params[word.substr(0, eq)] = word.substr(eq + 1);
  }
  return out;
}

}  // namespace overseer::cli
