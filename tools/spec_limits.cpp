#include "tools/spec_limits.hpp"

#include "tools/utf8.hpp"

namespace overseer::tools {

std::optional<std::string> range_problem(std::int64_t v, std::int64_t lo, std::int64_t hi) {
  if (v >= lo && v <= hi) return std::nullopt;
  return std::to_string(v) + " is outside " + std::to_string(lo) + "-" + std::to_string(hi);
}

std::optional<std::string> text_problem(std::string_view s, std::size_t min_chars, std::size_t max_chars) {
  if (!valid_utf8(s)) return "is not valid UTF-8";
  const auto n = utf8_length(s);
  if (n >= min_chars && n <= max_chars) return std::nullopt;
  return "expected " +
         (min_chars == 0 ? "at most " + std::to_string(max_chars)
                         : std::to_string(min_chars) + "-" + std::to_string(max_chars)) +
         " characters, found " + std::to_string(n);
}

void check_text(const std::string& field, std::string_view s, std::size_t min_chars, std::size_t max_chars,
                std::vector<field_error>& errors) {
  if (auto problem = text_problem(s, min_chars, max_chars)) errors.push_back({field, std::move(*problem)});
}

void check_labels(const std::map<std::string, std::string>& labels, std::vector<field_error>& errors,
                  const std::string& field) {
  if (labels.size() > max_labels)
    errors.push_back({field, std::to_string(labels.size()) + " labels; at most " + std::to_string(max_labels) +
                               " are allowed"});
  for (const auto& [name, value] : labels) {
    if (auto problem = text_problem(name, 1, max_label_name_chars))
      errors.push_back({field, "label name \"" + sanitize_utf8(name) + "\": " + *problem});
    else check_text(field + "." + name, value, 0, max_label_value_chars, errors);
  }
}

}  // namespace overseer::tools
