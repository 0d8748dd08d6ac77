// The check of an engine_config (include/overseer/engine.hpp), made once,
// when the engine is constructed.
#include <string>

#include "overseer/engine.hpp"
#include "tools/spec_limits.hpp"

namespace overseer {

namespace {

/// Positive, and at most ten years: the engine adds these to clocks, where
/// a longer one (milliseconds::max()) would overflow.
template <class Rep, class Period>
void positive(std::vector<field_error>& errors, const char* field, std::chrono::duration<Rep, Period> d) {
  constexpr std::chrono::hours ten_years{24 * 3653};
  if (d.count() > 0 && d <= ten_years) return;
  if (d.count() > 0) return errors.push_back({field, "is longer than ten years"});
  if (d < -ten_years) return errors.push_back({field, "is not positive"});  // milliseconds might overflow
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  errors.push_back({field, std::to_string(ms) + " ms is not positive"});
}

}  // namespace

namespace {

void check_webhooks(const webhook_config& w, std::vector<field_error>& errors) {
  using namespace std::chrono_literals;
  if (!w.url.empty())
    if (auto bad = check_webhook_url(w.url)) errors.push_back({"webhooks.url", "\"" + w.url + "\" " + *bad});
  if (!w.events.transition && !w.events.progress && !w.events.log)
    errors.push_back({"webhooks.events", "names no kind of event"});
  if (w.max_attempts < 1 || w.max_attempts > 1000)
    errors.push_back({"webhooks.max_attempts", std::to_string(w.max_attempts) + " is outside 1-1000"});
  if (w.timeout < 100ms || w.timeout > 10min)
    errors.push_back({"webhooks.timeout", std::to_string(w.timeout.count()) + " ms is outside 100 ms - 10 min"});
  if (w.initial_backoff < 1ms || w.initial_backoff > 24h)
    errors.push_back({"webhooks.initial_backoff", std::to_string(w.initial_backoff.count()) + " ms is outside 1 ms - 24 h"});
  if (w.max_backoff < w.initial_backoff || w.max_backoff > 24h)
    errors.push_back({"webhooks.max_backoff", std::to_string(w.max_backoff.count()) +
                                                " ms is below initial_backoff or above 24 h"});
  if (w.concurrency < 1 || w.concurrency > 256)
    errors.push_back({"webhooks.concurrency", std::to_string(w.concurrency) + " is outside 1-256"});
}

}  // namespace

std::vector<field_error> check_engine_config(const engine_config& c) {
  std::vector<field_error> errors;
  if (c.data_dir.empty()) errors.push_back({"data_dir", "is empty"});
  if (c.immediate_concurrent < 0)
    errors.push_back({"immediate_concurrent",
                      std::to_string(c.immediate_concurrent) + " is negative (0 means one a core)"});
  if (c.max_concurrent < 0)
    errors.push_back({"max_concurrent", std::to_string(c.max_concurrent) + " is negative (0 means one a core)"});
  if (auto bad = tools::range_problem(c.default_priority, tools::min_priority, tools::max_priority))
    errors.push_back({"default_priority", std::move(*bad)});
  if (auto bad = tools::range_problem(c.default_ttl_hours, tools::min_ttl_hours, tools::max_ttl_hours))
    errors.push_back({"default_ttl_hours", std::move(*bad)});
  if (c.max_failures < 0) errors.push_back({"max_failures", std::to_string(c.max_failures) + " is negative"});
  positive(errors, "failure_window", c.failure_window);
  positive(errors, "progress_interval", c.progress_interval);
  positive(errors, "cache_ttl", c.cache_ttl);
  positive(errors, "retention_interval", c.retention_interval);
  if (c.event_retention < 1) errors.push_back({"event_retention", "is 0; at least 1 event must be kept"});
  check_webhooks(c.webhooks, errors);
  return errors;
}

void validate_engine_config(const engine_config& config) {
  auto errors = check_engine_config(config);
  if (errors.empty()) return;
  std::string message = "invalid engine_config: ";
  for (std::size_t i = 0; i < errors.size(); ++i)
    message += (i ? "; " : "") + errors[i].field + " " + errors[i].message;
  throw error(errc::invalid_spec, std::move(message), std::move(errors));
}

void principal_shares::set(std::map<std::string, principal_share> shares) {
  std::lock_guard lock{mutex_};
  shares_ = std::move(shares);
  version_.fetch_add(1, std::memory_order_acq_rel);
}

std::map<std::string, principal_share> principal_shares::snapshot() const {
  std::lock_guard lock{mutex_};
  return shares_;
}

}  // namespace overseer
