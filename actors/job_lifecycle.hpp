// The job state machine: the one table of legal status changes.
//
// Every status change in the engine asks can_transition() first; the
// scheduler refuses (and drops) anything else, so history only ever holds
// legal transitions. `from` is empty for a job's creation.
#pragma once

#include <optional>

#include "overseer/job.hpp"

namespace overseer::actors {

[[nodiscard]] bool can_transition(std::optional<job_status> from, job_status to) noexcept;

}  // namespace overseer::actors
