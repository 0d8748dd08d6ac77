// Supervision as data: how the scheduler treats a tool whose attempts keep
// breaking (OTP's restart intensity and period). An engine-wide default
// lives in engine_config; a tool may bring its own (tool_definition::
// supervision, a tools file's "supervision" object).
#pragma once

#include <chrono>
#include <optional>

namespace overseer {

/// Which attempt endings count toward a tool's restart intensity. By default
/// a tool that breaks (a crash: an exception, a signal) or hangs (a
/// timeout); not a failure the tool returned (bad params, a non-zero exit),
/// which says something about the job, not the tool, and would let one
/// client pause a tool for everyone by submitting bad jobs.
struct intensity_counts {
  bool crashes = true;
  bool timeouts = true;
  bool failures = false;

  friend bool operator==(const intensity_counts&, const intensity_counts&) = default;
};

/// More than `max_failures` counted attempt endings within `window`
/// escalate: the tool is paused (its queued jobs wait, running ones go on)
/// until engine::resume_tool. Retries of each job follow its own retry
/// policy either way.
struct supervision_strategy {
  int max_failures = 20;
  std::chrono::milliseconds window{10000};
  intensity_counts counts{};

  friend bool operator==(const supervision_strategy&, const supervision_strategy&) = default;
};

}  // namespace overseer
