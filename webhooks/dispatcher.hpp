// The webhook delivery thread: reads the outbox (webhooks/outbox.hpp) in
// pages and POSTs each job's oldest pending delivery, over its own
// io_context on its own thread, never on CAF's or the HTTP front's threads.
//
// At most `concurrency` deliveries are in flight, one per job, so a job's
// events arrive in seq order; a delivery's outcome (delivered, given up, or
// its next attempt) is written through the group-commit writer before the
// job's next delivery starts. The engine writes the outbox and never waits.
//
// The slots are shared between destinations (a URL's host and port): one
// has at most concurrency - 1 of them (1 when concurrency is 1), so a
// receiver that never answers leaves a slot to the others; a free slot
// goes to the destination with the fewest in flight, then to the one that
// started a delivery longest ago, and within it to the delivery due
// longest (docs/operations.md, "Sharing the delivery slots").
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "overseer/log_sink.hpp"
#include "overseer/webhooks.hpp"

namespace overseer::persistence {
class store;
class group_commit;
}  // namespace overseer::persistence

namespace overseer::webhooks {

/// Figures for GET /metrics (process-wide, like the commit statistics).
struct delivery_statistics {
  std::atomic<std::uint64_t> delivered{0};  ///< since start
  std::atomic<std::uint64_t> failed{0};     ///< given up since start
  std::atomic<std::int64_t> pending{0};     ///< rows in the outbox
  std::atomic<std::uint64_t> attempts{0};   ///< POSTs made since start
};
[[nodiscard]] delivery_statistics& statistics();

class dispatcher {
public:
  /// Starts the thread; it scans the outbox at once (what a crash left).
  dispatcher(persistence::store& db, persistence::group_commit& writer, webhook_config cfg, log_sink log);
  ~dispatcher();  ///< stop()
  dispatcher(const dispatcher&) = delete;
  dispatcher& operator=(const dispatcher&) = delete;

  /// New rows are in the outbox (`rows` of them); any thread, never blocks.
  void wake(std::size_t rows);
  /// Abandons attempts in flight (they stay in the outbox) and joins.
  void stop();

private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

/// A job's deliveries, finished and pending, in seq order.
[[nodiscard]] std::vector<delivery_view> read_deliveries(persistence::store& db, std::string_view job_id);

}  // namespace overseer::webhooks
