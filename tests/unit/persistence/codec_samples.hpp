// One fully populated value of each record type the store keeps, for the
// codec tests: every field set, optional ones present, so a field missed or
// moved in the codec's field lists shows in the stored bytes.
#pragma once

#include <chrono>
#include <string>

#include "persistence/codec.hpp"

namespace overseer::persistence::samples {

// Whole milliseconds: the codec keeps no finer precision.
inline time_point at_ms(std::int64_t ms) { return time_point(std::chrono::milliseconds(ms)); }

inline job_record job() {
  using namespace std::chrono_literals;
  job_record r;
  r.id = "job_01M880PHE1F1GN54T6TES72773";
  r.tool = "render";
  r.tool_version = "2.1.0";
  r.name = "nightly";
  r.params_json = R"({"frames":24})";
  r.priority = 9;
  r.labels = {{"env", "prod"}, {"team", "gfx"}};
  r.timeout_ms = 90'000;
  r.retry = {.max_attempts = 4, .initial_backoff = 250ms, .max_backoff = 30s, .multiplier = 1.5,
             .retry_on_timeout = true};
  r.ttl_hours = 168;
  r.idempotency_key = "req-42";
  r.status = job_status::retrying;
  r.attempt = 2;
  r.retry_base = 1;
  r.progress = {.percent = 37.5, .current_step = 3, .total_steps = 8, .step_name = "encode",
                .estimated_completion = at_ms(1'700'000'900'123)};
  r.error = "exit code 3";
  r.created_at = at_ms(1'700'000'000'001);
  r.started_at = at_ms(1'700'000'100'002);
  r.completed_at = at_ms(1'700'000'200'003);
  r.next_attempt_at = at_ms(1'700'000'300'004);
  r.checkpoint = std::string("ck\0pt", 5);
  r.process_group = 4242;
  r.process_start = 987654321;
  r.batch_id = "batch_01";
  r.depends_on = {"job_a", "job_b"};
  r.run_at = at_ms(1'700'000'400'005);
  r.use_cache = true;
  r.cache_key = "c0ffee";
  r.cached_at = at_ms(1'700'000'500'006);
  r.cache_source = "job_src";
  r.spec_hash = 0x0123456789abcdefULL;
  return r;
}

inline transition transition_entry() {
  return {.from = job_status::running, .to = job_status::timed_out, .at = at_ms(1'700'000'000'999), .attempt = 3,
          .reason = "deadline passed"};
}

inline log_line log() {
  return {.at = at_ms(1'700'000'000'500), .level = log_level::critical, .message = "disk full", .component = "tool"};
}

inline event progress_event() {
  event e;
  e.seq = 0xFFFF'FFFF'0000'0001ull;
  e.job_id = "job_x";
  e.kind = event_kind::progress;
  e.at = at_ms(1'700'000'000'777);
  e.from = job_status::pending;
  e.to = job_status::running;
  e.attempt = 1;
  e.reason = "started";
  e.progress = {.percent = 99.5, .current_step = 9, .total_steps = 10, .step_name = "upload",
                .estimated_completion = at_ms(1'700'000'001'000)};
  e.level = log_level::warning;
  e.message = "slow";
  e.component = "engine";
  e.tool = "render";
  e.batch_id = "batch_01";
  return e;
}

inline batch_record batch() {
  return {"batch_01", "nightly", {"job_a", "job_b"}, 2, true, at_ms(1'700'000'000'123), true};
}

inline cache_entry cache() {
  return {"job_a", "sleep", at_ms(1'700'000'000'123), at_ms(1'700'086'400'123), 1234};
}

}  // namespace overseer::persistence::samples
