// One job as one line of `overseer watch`: a bar while it runs, a summary
// once it is terminal.
#pragma once

#include <string>

#include "cli/text.hpp"
#include "cli/watch_state.hpp"

namespace overseer::cli {

/// "job_01KB…  sleep  [########............]  40%  step 2/5  1.9s elapsed  eta 2.9s  running",
/// or for a terminal job "job_01KB…  sleep  completed  100%  step 5/5  in 5.0s".
/// Cut to `columns` (0: no limit) so that it never wraps, which would
/// break redrawing in place. ETA: the tool's estimated_completion if it
/// gave one, else extrapolated from the rate of this attempt up to its
/// latest report (a report comes at a step's end, so measuring up to now
/// would count the unreported part of the next step as no progress).
[[nodiscard]] std::string progress_line(const watched_job& job, wall_clock::time_point now, std::size_t columns,
                                        const palette& colours);

}  // namespace overseer::cli
