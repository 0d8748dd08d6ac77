// One engine subscription for every WebSocket client: each committed event
// is rendered to JSON once and handed to every open stream session, instead
// of each session subscribing, copying and rendering it on its own.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "http/tenants.hpp"
#include "overseer/engine.hpp"

namespace overseer::http {

class stream_session;

class stream_hub {
public:
  /// `observer` (may be empty) sees every event first, on the engine's
  /// dispatch thread: the quota counts (tenants::observe).
  explicit stream_hub(engine& e, std::function<void(const event&)> observer = {});
  ~stream_hub();
  stream_hub(const stream_hub&) = delete;
  stream_hub& operator=(const stream_hub&) = delete;

  /// From now on the session receives every event (it filters itself).
  void add(const std::shared_ptr<stream_session>& session);
  /// No more events: called before the I/O threads stop.
  void stop();
  /// Closes every session with 1001 and its resume seq (a drain).
  void close_all();
  /// Closes every session with 1011 and its resume seq (a fail-stop).
  void fail_all();
  /// Closes, with 1008, every session whose principal `valid` no longer
  /// accepts (a token revoked or given another role by a reload).
  void revoke(const std::function<bool(const identity&)>& valid);

  /// Bytes of frames every session has queued, together (each session adds
  /// and takes back its own): past stream_session::max_total_queued_bytes, a
  /// session holding more than its floor is closed as too far behind.
  std::atomic<std::size_t> queued_bytes{0};

private:
  void publish(const event& e);
  void publish_node(const node_change& c);

  std::mutex mutex_;
  std::vector<std::weak_ptr<stream_session>> sessions_;
  std::function<void(const event&)> observer_;
  subscription nodes_sub_;  ///< the cluster's nodes (engine::watch_nodes)
  subscription sub_;  // last: unsubscribed first on destruction
};

}  // namespace overseer::http
