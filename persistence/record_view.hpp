// The public job_view of a stored record.
#pragma once

#include <optional>
#include <string>

#include "overseer/job.hpp"
#include "persistence/codec.hpp"

namespace overseer::persistence {

/// `result_json` is the results-family value, if any; unparsable JSON leaves
/// the result empty rather than failing the whole view.
[[nodiscard]] job_view to_view(const job_record& r, const std::optional<std::string>& result_json);

}  // namespace overseer::persistence
