// Small helpers for integration tests: polling the real daemon with a
// deadline, never a fixed sleep.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include <boost/json.hpp>

#include "support/daemon.hpp"

namespace overseer::test {

/// GETs the job until `status` (or any terminal status when empty) or the
/// deadline; returns the last view. Waiting for the end is a long poll
/// (GET ?wait=): the daemon answers when the job ends, no polling.
inline boost::json::object await_status(http_client& c, const std::string& id, const std::string& status = {},
                                        std::chrono::seconds limit = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  auto is_terminal = [](const std::string& s) {
    return s == "completed" || s == "failed" || s == "cancelled" || s == "timed_out";
  };
  boost::json::object view;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    // A terminal status is waited for by the daemon; another is polled.
    const bool long_poll = (status.empty() || is_terminal(status)) && left.count() > 0;
    view = c.get("/v1/jobs/" + id + (long_poll ? "?wait=" + std::to_string(left.count()) + "ms" : "")).json().as_object();
    const std::string now{view.at("status").as_string()};
    if ((status.empty() && is_terminal(now)) || now == status || std::chrono::steady_clock::now() > deadline) return view;
    // A terminal status other than the one asked for will not change by itself.
    if (long_poll && is_terminal(now) && !status.empty()) return view;
    if (!long_poll) std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling interval, bounded by the deadline
  }
}

/// A check that the job's status is `status`, for `eventually` on a thread
/// other than the test's: each call asks on a connection of its own.
inline std::function<bool()> status_is(unsigned short port, std::string id, std::string status) {
  return [port, id = std::move(id), status = std::move(status)] {
    http_client own{port};
    return own.get("/v1/jobs/" + id).json().at("status").as_string() == status;
  };
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
