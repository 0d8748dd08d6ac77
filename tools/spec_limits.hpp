// The limits of what a client gives a job or a batch (a priority, a ttl, a
// name, labels, an idempotency key), and their one check. Text lengths are
// characters as a person counts them (UTF-8 code points, utf8_length), never
// bytes. The job spec's JSON reader, the engine (for specs built in C++) and
// the engine_config check (its defaults) all take them from here.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "overseer/errc.hpp"

namespace overseer::tools {

inline constexpr int min_priority = 0;
inline constexpr int max_priority = 10;  ///< higher runs first
inline constexpr int min_ttl_hours = 1;
inline constexpr int max_ttl_hours = 168;  ///< a week
inline constexpr std::size_t max_name_chars = 256;             ///< a job's or a batch's name
inline constexpr std::size_t max_labels = 64;                  ///< labels of one job
inline constexpr std::size_t max_label_name_chars = 64;        ///< 1 at the least
inline constexpr std::size_t max_label_value_chars = 256;
inline constexpr std::size_t max_idempotency_key_chars = 256;  ///< 1 at the least, when given
/// The longest timeout_s and delay_s (about 31 years): no deadline built
/// from one overflows a clock.
inline constexpr std::chrono::seconds max_duration{1'000'000'000};

/// "12 is outside 0-10" when `v` is outside [lo, hi], else nothing.
[[nodiscard]] std::optional<std::string> range_problem(std::int64_t v, std::int64_t lo, std::int64_t hi);

/// What is wrong with a text field, or nothing: "is not valid UTF-8",
/// "expected at most 256 characters, found 257", "expected 1-64 characters,
/// found 0".
[[nodiscard]] std::optional<std::string> text_problem(std::string_view s, std::size_t min_chars,
                                                      std::size_t max_chars);

/// Appends {field, problem} when `s` has one (text_problem).
void check_text(const std::string& field, std::string_view s, std::size_t min_chars, std::size_t max_chars,
                std::vector<field_error>& errors);

/// The labels of a job: at most max_labels; each name 1-64 characters
/// (field "labels", the message naming the label), each value at most 256
/// (field "labels.NAME").
void check_labels(const std::map<std::string, std::string>& labels, std::vector<field_error>& errors,
                  const std::string& field = "labels");

}  // namespace overseer::tools
