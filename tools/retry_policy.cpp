// The one check of a retry policy (include/overseer/retry_policy.hpp), used
// by the job-spec reader, the engine, the tool registry and exec tools.
#include "overseer/retry_policy.hpp"

#include <string>

#include "tools/json_number.hpp"

namespace overseer {

std::vector<field_error> check_retry_policy(const retry_policy& p) {
  std::vector<field_error> errors;
  const std::string week = std::to_string(max_retry_backoff_ms) + " (7 days)";
  if (p.max_attempts < 1 || p.max_attempts > max_retry_attempts)
    errors.push_back({"retry.max_attempts",
                      std::to_string(p.max_attempts) + " is outside 1-" + std::to_string(max_retry_attempts)});
  const auto initial = p.initial_backoff.count();
  if (initial < 0 || initial > max_retry_backoff_ms)
    errors.push_back({"retry.initial_backoff_ms", std::to_string(initial) + " is outside 0-" + week});
  if (p.max_backoff.count() > max_retry_backoff_ms)
    errors.push_back({"retry.max_backoff_ms", std::to_string(p.max_backoff.count()) + " is above " + week});
  else if (p.max_backoff < p.initial_backoff)
    errors.push_back({"retry.max_backoff_ms", std::to_string(p.max_backoff.count()) +
                                                " is below initial_backoff_ms " + std::to_string(initial)});
  if (!(p.multiplier >= 1 && p.multiplier <= max_retry_multiplier))  // also refuses NaN
    errors.push_back({"retry.multiplier", tools::format_number(p.multiplier) + " is outside 1-" +
                                            tools::format_number(max_retry_multiplier)});
  return errors;
}

}  // namespace overseer
