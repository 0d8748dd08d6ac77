// Writes the seed corpus of fuzz_codec: records of every kind, encoded by
// the real encoder, with optional fields both set and unset.
//
//   build/fuzz/overseer_fuzz_codec_corpus fuzz/corpus/codec
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "persistence/codec.hpp"

namespace {

namespace p = overseer::persistence;
using namespace std::chrono;

void write(const std::filesystem::path& dir, const std::string& name, const std::string& bytes) {
  std::ofstream{dir / name, std::ios::binary} << bytes;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);
  const overseer::time_point t{milliseconds(1'790'000'000'123)};

  p::job_record full;
  full.id = "01JD5QZ7X8M4N2B6C9D0E1F2G3";
  full.tool = "sleep";
  full.tool_version = "1";
  full.name = "nightly";
  full.params_json = R"({"seconds":2,"steps":4})";
  full.priority = 7;
  full.labels = {{"env", "prod"}, {"team", "genomics"}};
  full.timeout_ms = 60'000;
  full.retry = {.max_attempts = 3, .initial_backoff = milliseconds(500), .max_backoff = milliseconds(8000),
                .multiplier = 2.5, .retry_on_timeout = true};
  full.ttl_hours = 48;
  full.idempotency_key = "nightly-2026-11-24";
  full.status = overseer::job_status::running;
  full.attempt = 2;
  full.retry_base = 1;
  full.progress = {.percent = 37.5, .current_step = 3, .total_steps = 8, .step_name = "align",
                   .estimated_completion = t + minutes(5)};
  full.error = "attempt 1: exit code 3";
  full.created_at = t;
  full.started_at = t + seconds(1);
  full.next_attempt_at = t + seconds(30);
  full.checkpoint = std::string("chunk=3\0raw", 11);
  full.process_group = 4242;
  full.process_start = 987654321;
  full.batch_id = "01JD5QZ7X8M4N2B6C9D0E1F2B0";
  full.depends_on = {"01JD5QZ7X8M4N2B6C9D0E1F2A1", "01JD5QZ7X8M4N2B6C9D0E1F2A2"};
  full.run_at = t - hours(1);
  full.use_cache = true;
  full.cache_key = "c0ffee";
  full.cached_at = t + seconds(2);
  full.cache_source = "01JD5QZ7X8M4N2B6C9D0E1F2S0";
  full.spec_hash = 0xDEADBEEFCAFEF00DULL;
  write(dir, "job_full.bin", p::encode(full));

  p::job_record minimal;
  minimal.id = "01JD5QZ7X8M4N2B6C9D0E1F2G4";
  minimal.tool = "noop";
  minimal.created_at = t;
  write(dir, "job_minimal.bin", p::encode(minimal));

  p::job_record done = minimal;
  done.status = overseer::job_status::timed_out;
  done.completed_at = t + hours(2);
  done.labels = {{"ü", "ß"}};
  write(dir, "job_terminal.bin", p::encode(done));

  write(dir, "transition_created.bin",
        p::encode(overseer::transition{.to = overseer::job_status::pending, .at = t, .reason = "submitted"}));
  write(dir, "transition_failed.bin",
        p::encode(overseer::transition{.from = overseer::job_status::running, .to = overseer::job_status::failed,
                                       .at = t + seconds(9), .attempt = 3, .reason = "exit code 1"}));
  write(dir, "log.bin",
        p::encode(overseer::log_line{.at = t, .level = overseer::log_level::warning,
                                     .message = "disk almost full", .component = "tool"}));

  overseer::event e;
  e.seq = 77;
  e.job_id = full.id;
  e.at = t;
  e.from = overseer::job_status::pending;
  e.to = overseer::job_status::running;
  e.attempt = 1;
  e.reason = "started";
  e.tool = "sleep";
  e.batch_id = full.batch_id;
  write(dir, "event_transition.bin", p::encode(e));
  e.kind = overseer::event_kind::progress;
  e.from.reset();
  e.seq = 78;
  e.progress = full.progress;
  write(dir, "event_progress.bin", p::encode(e));
  e.kind = overseer::event_kind::log;
  e.seq = 79;
  e.level = overseer::log_level::critical;
  e.message = "out of memory";
  write(dir, "event_log.bin", p::encode(e));
  {
    // Format 5: a job with its history and inline result; an event block.
    p::job_record hist = full;
    hist.status = overseer::job_status::completed;
    hist.history = {{overseer::job_status::pending, overseer::job_status::running, t + seconds(1), 1, "started"},
                    {overseer::job_status::running, overseer::job_status::completed, t + seconds(3), 1, "completed"}};
    hist.result = R"({"lines":3})";
    write(dir, "job_history.bin", p::encode(hist));
    std::vector<overseer::event> block;
    for (std::uint64_t s = 80; s < 83; ++s) {
      block.push_back(e);
      block.back().seq = s;
    }
    write(dir, "event_block.bin", p::encode_event_block(block, 0, block.size()));
  }

  write(dir, "batch.bin",
        p::encode(p::batch_record{.id = full.batch_id, .name = "nightly", .job_ids = {full.id, minimal.id},
                                  .parallel_limit = 2, .fail_fast = true, .created_at = t, .cancelled = true}));
  write(dir, "cache_entry.bin",
        p::encode(p::cache_entry{.source_job_id = full.id, .tool = "sleep", .stored_at = t,
                                 .expires_at = t + hours(24), .result_bytes = 1234}));
  return 0;
}
