// Small helpers for integration tests: polling the real daemon with a
// deadline, never a fixed sleep.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include <boost/json.hpp>

#include "support/daemon.hpp"

namespace overseer::test {

/// GETs the job until `status` (or any terminal status when empty) or the
/// deadline; returns the last view.
inline boost::json::object await_status(http_client& c, const std::string& id, const std::string& status = {},
                                        std::chrono::seconds limit = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  boost::json::object view;
  for (;;) {
    view = c.get("/v1/jobs/" + id).json().as_object();
    const std::string now{view.at("status").as_string()};
    const bool terminal = now == "completed" || now == "failed" || now == "cancelled" || now == "timed_out";
    if ((status.empty() && terminal) || now == status || std::chrono::steady_clock::now() > deadline) return view;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling interval, bounded by the deadline
  }
}

inline std::string submit(http_client& c, const boost::json::value& spec) {
  auto r = c.post("/v1/jobs", spec);
  if (r.status != 202) throw std::runtime_error("submit refused: " + std::to_string(r.status) + " " + r.body);
  return std::string{r.json().at("job_id").as_string()};
}

/// How many jobs the daemon holds (the list's total_count).
inline std::int64_t job_count(http_client& c) { return c.get("/v1/jobs").json().at("total_count").as_int64(); }

inline std::string str(const boost::json::value& v, const char* key) {
  return std::string{v.at(key).as_string()};
}

}  // namespace overseer::test
