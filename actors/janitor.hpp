// The janitor: retention on a thread of its own, so it never stalls the
// scheduler.
//
// Every interval it deletes terminal jobs whose completed_at + ttl_hours has
// passed, each with every row it owns (record, result, history, logs, index
// entries, and the cache entry it is the source of) in one atomic write; it
// trims the events family to the newest `event_retention` events; and it
// removes the working directories (data_dir/work/JOB_ID) of jobs no longer
// stored. The
// deletions go through the scheduler, which drops any job that an explicit
// retry has revived meanwhile.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include <caf/actor.hpp>

#include "actors/messages.hpp"

#include "overseer/engine.hpp"
#include "persistence/group_commit.hpp"
#include "persistence/store.hpp"

namespace overseer::actors {

class janitor {
public:
  janitor(persistence::store& db, persistence::group_commit& writer, scheduler_actor scheduler,
          const engine_config& cfg, std::function<void()> after_pass = {});
  ~janitor();  ///< stops the thread
  janitor(const janitor&) = delete;
  janitor& operator=(const janitor&) = delete;

  /// One pass now, on the caller's thread; returns the jobs deleted.
  std::size_t run_once();
  /// Deletes these terminal jobs now (engine::purge), the way a pass deletes
  /// expired ones: through the scheduler, which keeps any job revived
  /// meanwhile, and one at a time with the passes. Blocks until durable;
  /// returns the jobs deleted.
  std::size_t expire(const std::vector<persistence::job_record>& records);
  void stop();

private:
  void loop();
  persistence::store& db_;
  persistence::group_commit& writer_;
  scheduler_actor scheduler_;
  engine_config cfg_;
  std::mutex mutex_;  // guards stopping_
  std::mutex pass_;   // one pass at a time (the timer's or run_retention's)
  std::condition_variable cv_;
  bool stopping_ = false;
  std::function<void()> after_pass_;  ///< at the end of every pass, on its thread
  std::thread thread_;
};

}  // namespace overseer::actors
