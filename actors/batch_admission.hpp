// Batches with unfinished jobs, without actors: which job of a batch may
// take a place in the queue now (its parallel limit), in list order, and
// what a job's end means for the rest (fail-fast).
//
// A job is "admitted" from the moment it may be queued until it is
// terminal: queued, running and retrying jobs each hold one of the batch's
// places. Not thread-safe: the scheduler owns it.
#pragma once

#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "persistence/codec.hpp"

namespace overseer::actors {

class batch_admission {
public:
  /// Tracks `batch` with `unfinished` jobs not yet terminal (replaces it).
  void add(persistence::batch_record batch, std::size_t unfinished);
  /// A job of `batch_id` is unfinished again (an explicit retry); `record`
  /// is the batch as stored, used if the batch had finished.
  void reopen(const std::string& batch_id, std::optional<persistence::batch_record> record);
  /// A recovered job already held a place before the restart.
  void readmit(const std::string& batch_id);

  [[nodiscard]] const persistence::batch_record* find(const std::string& batch_id) const;

  /// Whether `job_id` may be queued now. True (and counted) if its batch has
  /// room or is not tracked; false if held back, to be released in list
  /// order by next_admissible.
  bool admit(const std::string& batch_id, const std::string& job_id);

  /// What follows a job of the batch becoming terminal.
  struct ending {
    /// Fail-fast: every job of the batch, to cancel (the caller skips the
    /// finished ones). Nothing held back is released any more.
    std::vector<std::string> cancel;
  };
  /// Job `job_id` of `batch_id` ended with `status`; `admitted`: it held a place.
  ending finished(const std::string& batch_id, job_status status, bool admitted);
  /// The next held-back job that may be queued now, if any (taken out of
  /// the waiting list; the caller admits it). Forgets the batch once it has
  /// no unfinished job.
  std::optional<std::string> next_admissible(const std::string& batch_id);

  /// Cancelled as a whole: marks it and drops what was held back.
  void cancel(const std::string& batch_id);

  [[nodiscard]] std::size_t size() const noexcept { return batches_.size(); }

private:
  struct state {
    persistence::batch_record record;
    int admitted = 0;
    std::set<std::pair<std::size_t, std::string>> waiting;  ///< (list index, id)
    std::size_t unfinished = 0;
  };
  [[nodiscard]] bool has_room(const state& b) const noexcept;
  std::unordered_map<std::string, state> batches_;
};

}  // namespace overseer::actors
