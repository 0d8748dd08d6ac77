#include "persistence/record_view.hpp"

#include <algorithm>

#include <boost/json/parse.hpp>

namespace overseer::persistence {

job_view to_view(const job_record& r, const std::optional<std::string>& result_json) {
  job_view v;
  v.id = r.id;
  v.tool = r.tool;
  v.name = r.name;
  v.status = r.status;
  v.attempt = r.attempt;
  v.attempts_counted = std::max(0, r.attempt - r.retry_base);
  v.priority = r.priority;
  v.labels = r.labels;
  boost::system::error_code ec;
  if (auto params = boost::json::parse(r.params_json, ec); !ec && params.is_object())
    v.params = std::move(params.as_object());
  v.progress = r.progress;
  if (result_json) {
    auto result = boost::json::parse(*result_json, ec);
    if (!ec) v.result = std::move(result);
  }
  v.error = r.error;
  v.created_at = r.created_at;
  v.started_at = r.started_at;
  v.completed_at = r.completed_at;
  v.next_attempt_at = r.next_attempt_at;
  if (r.timeout_ms > 0)
    v.timeout = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::milliseconds{r.timeout_ms});
  v.retry = r.retry;
  v.ttl_hours = r.ttl_hours;
  v.idempotency_key = r.idempotency_key;
  v.batch_id = r.batch_id;
  v.owner = r.owner;
  v.trace_id = r.trace_id;
  v.node = r.node;
  v.node_selector = r.node_selector;
  v.depends_on = r.depends_on;
  v.run_at = r.run_at;
  v.use_cache = r.use_cache;
  if (r.cached_at) v.cache_info = cache_info{*r.cached_at, r.cache_source};
  return v;
}

}  // namespace overseer::persistence
