// Job ids: "job_" + a 26-character ULID (48-bit millisecond time, 80 random
// bits, Crockford base32). Time-ordered and URL-safe; ids made in the same
// millisecond by one process still sort in creation order (monotonic ULID).
#pragma once

#include <string>

#include "overseer/job.hpp"

namespace overseer::actors {

/// Thread-safe.
[[nodiscard]] std::string new_job_id(time_point now = clock::now());
/// The least job id of millisecond `ms` since the epoch (0 below it): every
/// id new_job_id makes at that millisecond or later sorts at or after it.
[[nodiscard]] std::string first_job_id_at(std::int64_t ms);
/// Whether `id` has the form of a job id (it may still not exist).
[[nodiscard]] bool looks_like_job_id(std::string_view id) noexcept;

}  // namespace overseer::actors
