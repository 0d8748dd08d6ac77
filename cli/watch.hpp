// The live loop of `overseer watch` (and of submit --watch/--wait): reads
// /v1/stream into a watch_state, reconnects with `since` when the
// connection drops, and shows the jobs.
#pragma once

#include <chrono>
#include <cstdio>

#include "cli/api_client.hpp"
#include "cli/exit_status.hpp"
#include "cli/text.hpp"
#include "cli/watch_state.hpp"

namespace overseer::cli {

struct watch_options {
  enum class display {
    live,   ///< a terminal: bars redrawn in place, transitions scrolled above them
    lines,  ///< not a terminal: one plain line per transition and per progress change
    json,   ///< every stream message as received, one per line
    quiet,  ///< nothing until the end (--wait)
  };
  display mode = display::lines;
  bool logs = false;  ///< also show the jobs' log lines
  palette colours;
  /// How long to keep trying to reconnect after the connection drops.
  std::chrono::milliseconds reconnect_for = std::chrono::seconds(60);
};

/// Runs until every job of `state` is terminal (for `all`: until Ctrl-C),
/// writing to `out`; notices and errors go to stderr. Returns the outcome
/// of the jobs, `unreachable` if the server stayed away longer than
/// `reconnect_for`, or `interrupted`.
exit_status run_watch(const api_client& api, watch_state& state, const watch_options& options, std::FILE* out);

/// Makes Ctrl-C end run_watch cleanly (cursor shown, exit 130) instead of
/// killing the process mid-redraw. Call once, before run_watch.
void catch_interrupts();
/// Whether Ctrl-C or SIGTERM came since catch_interrupts().
[[nodiscard]] bool interrupt_requested() noexcept;

}  // namespace overseer::cli
