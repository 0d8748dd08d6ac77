// Times as people and clients read them: RFC 3339 in UTC with milliseconds.
#pragma once

#include <string>

#include "overseer/job.hpp"

namespace overseer::tools {

/// "2026-12-01T09:30:00.250Z".
[[nodiscard]] std::string format_rfc3339(time_point t);

}  // namespace overseer::tools
