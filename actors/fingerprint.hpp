// Fingerprints of what a job asks for: the result cache's key and the
// idempotency check's spec hash. Both hash canonical JSON, so that key order
// and number spelling ({"a":1.0,"b":2} and {"b":2,"a":1}) do not matter.
// Both are stored (cache keys, job records): their bytes never change.
#pragma once

#include <cstdint>
#include <string>

#include <boost/json/value.hpp>

#include "overseer/job.hpp"

namespace overseer::actors {

/// JSON with object keys sorted at every level and numbers in one spelling
/// (integral values as integers, others in shortest round-trip form).
[[nodiscard]] std::string canonical_json(const boost::json::value& v);

/// The cache key of a tool run: 32 hex digits over tool, tool version and
/// canonical params.
[[nodiscard]] std::string cache_key(std::string_view tool, std::string_view version,
                                    const boost::json::object& params);

/// A 64-bit fingerprint of everything a spec asks for, to tell an
/// idempotent repeat from a different request under the same key.
[[nodiscard]] std::uint64_t spec_fingerprint(const job_spec& spec);

}  // namespace overseer::actors
