// A worker node (`overseerd --worker`, docs/cluster.md): no store, no HTTP
// front. It joins the scheduler node's cluster actor, announces its name,
// capacity, labels and tools, and runs the attempts it is handed on its own
// attempt pool, relaying progress, log lines, checkpoints, process records
// and results back (actors/cluster_messages.hpp). A checkpoint or process
// record returns to the tool only once the scheduler node has made it
// durable.
//
// Membership: a heartbeat every second, answered by the scheduler node. When
// the connection drops, a heartbeat goes unanswered for heartbeat_timeout,
// or the scheduler node no longer knows this membership, the node stops
// every attempt it runs (the scheduler node has given them up, or will, and
// runs them again elsewhere), waits until their bodies have returned, and
// only then joins again, with backoff and jitter. So an attempt never runs
// here while the scheduler node believes it is not running here.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <string>

#include "overseer/log_sink.hpp"
#include "overseer/tool.hpp"

namespace overseer::actors {

struct worker_node_config {
  std::string join;  ///< the scheduler node's cluster port, "HOST:PORT"
  int capacity = 1;
  std::string name;  ///< empty: the host name
  std::map<std::string, std::string> labels;
  /// Mutual TLS: this node's certificate chain, key, and the CA the
  /// scheduler node's certificate must chain to. All three or none.
  std::string cert_file, key_file, ca_file;
  std::chrono::milliseconds heartbeat_interval{1000};
  std::chrono::milliseconds heartbeat_timeout{5000};
  /// Where attempts get their working directories (removed when they end).
  std::filesystem::path work_dir;
  log_sink log;
  /// Called after each successful join, with the session.
  std::function<void(std::uint64_t session)> on_joined;
};

/// Runs the node until `stop` is set: joins, runs attempts, rejoins. Throws
/// overseer::error (invalid_spec) for a config it cannot start with.
void run_worker_node(const worker_node_config& config, tool_registry& tools, const std::atomic<bool>& stop);

}  // namespace overseer::actors
