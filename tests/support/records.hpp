// A job record with every field set, for tests of what keeps or carries
// records (the codec, the scheduler's packed records).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "persistence/codec.hpp"

namespace overseer::test {

// Whole milliseconds: the codec keeps no finer precision.
inline time_point at_ms(std::int64_t ms) { return time_point(std::chrono::milliseconds(ms)); }

inline persistence::job_record full_job() {
  persistence::job_record r;
  r.id = "01J9Z8Q4K5M6N7P8Q9R0S1T2V3";
  r.tool = "render";
  r.tool_version = "2.1.0";
  r.name = "nightly render";
  r.params_json = R"({"frames":240,"quality":"high"})";
  r.priority = 9;
  r.labels = {{"team", "graphics"}, {"env", "prod"}, {"", "empty key"}};
  r.timeout_ms = 90'000;
  r.retry = {.max_attempts = 4, .initial_backoff = std::chrono::milliseconds{250}, .max_backoff = std::chrono::seconds{30},
             .multiplier = 1.5, .retry_on_timeout = true};
  r.ttl_hours = 168;
  r.idempotency_key = "req-42";
  r.status = job_status::retrying;
  r.attempt = 2;
  r.retry_base = 1;
  r.batch_id = "batch_01M880PHE1F1GN54T6TES72772";
  r.depends_on = {"job_01M880PHE1F1GN54T6TES72770", "job_01M880PHE1F1GN54T6TES72771"};
  r.use_cache = true;
  r.cache_key = "c0ffee";
  r.cache_source = "job_01M880PHE1F1GN54T6TES72700";
  r.spec_hash = 0x0123456789abcdefULL;
  r.progress = {.percent = 37.5, .current_step = 3, .total_steps = 8,
                .step_name = "encode", .estimated_completion = at_ms(1'700'000'900'123)};
  r.error = "exit code 3";
  r.created_at = at_ms(1'700'000'000'001);
  r.started_at = at_ms(1'700'000'100'002);
  r.completed_at = at_ms(1'700'000'200'003);
  r.next_attempt_at = at_ms(1'700'000'300'004);
  r.checkpoint = std::string("\0\x01\xff\x7f" "frame=120\0end", 17);
  r.run_at = at_ms(1'700'000'400'005);
  r.cached_at = at_ms(1'700'000'500'006);
  return r;
}

}  // namespace overseer::test
