// The messages that cross machines (docs/cluster.md): between the scheduler
// node's cluster actor and attempt proxies (actors/cluster.cpp) and a worker
// node (actors/worker_node.cpp), over CAF's middleman (BASP on TCP, TLS with
// caf_openssl).
//
//   worker ──node_hello──► cluster actor           (answer: a session number)
//   worker ──node_heartbeat──► cluster actor       (answer: still a member?)
//   attempt proxy ──run_remote, stop_remote──► worker
//   worker's attempt ──remote_progress, remote_log, remote_log_barrier,
//                      remote_checkpoint, remote_process,
//                      remote_finished──► attempt proxy
//
// Unlike actors/messages.hpp these are plain data with an inspect(): no
// shared records, no callbacks. A remote_checkpoint or remote_process is a
// request: the proxy answers true once it is durable on the scheduler node;
// a remote_log_barrier too, once the log lines sent before it are.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "actors/messages.hpp"

namespace overseer::actors {

/// A worker joins: who it is and what it offers. `tools` are "name@version",
/// `labels` "key=value". `worker` is the actor attempts are handed to.
struct node_hello {
  std::string name;
  std::string host;  ///< the worker's host name, for GET /v1/nodes
  std::int32_t capacity = 0;
  std::vector<std::string> labels;
  std::vector<std::string> tools;
  caf::actor worker;
  std::uint32_t protocol = 0;  ///< cluster_protocol of the worker's build
};

/// The wire protocol's version: a worker of another version is refused.
constexpr std::uint32_t cluster_protocol = 1;

struct node_heartbeat {
  std::string name;
  std::uint64_t session = 0;
};

/// Run attempt `attempt` of `job_id`; report to `reply_to` (the proxy).
struct run_remote {
  std::string job_id;
  std::int32_t attempt = 0;
  std::string tool;
  std::string tool_version;
  std::string params_json;
  bool has_checkpoint = false;
  std::string checkpoint;
  std::string trace_id;
  std::int64_t progress_interval_ms = 200;
  caf::actor reply_to;
};

struct stop_remote {
  std::string job_id;
  std::int32_t attempt = 0;
};

struct remote_progress {
  std::int32_t attempt = 0;
  double percent = 0;
  std::int32_t current_step = 0;
  std::int32_t total_steps = 0;
  std::string step_name;
  std::int64_t eta_ms = -1;  ///< estimated completion, ms since the epoch; -1: none
};

struct remote_log {
  std::int32_t attempt = 0;
  std::int32_t level = 0;  ///< overseer::log_level
  std::string message;
};

struct remote_checkpoint {
  std::int32_t attempt = 0;
  std::string bytes;
};

/// Every attempt_control::max_unwritten_lines log lines: the proxy answers
/// once the lines sent before it are written on the scheduler node.
struct remote_log_barrier {
  std::int32_t attempt = 0;
};

struct remote_process {
  std::int32_t attempt = 0;
  std::int32_t process_group = 0;
  std::uint64_t start_time = 0;
};

/// tool_result on the wire: kind is tool_result::kind, `payload` the value
/// as JSON text or the message.
struct remote_finished {
  std::int32_t attempt = 0;
  std::int32_t kind = 0;
  std::string payload;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_hello& x) {
  return f(caf::meta::type_name("overseer.node_hello"), x.name, x.host, x.capacity, x.labels, x.tools, x.worker,
           x.protocol);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_heartbeat& x) {
  return f(caf::meta::type_name("overseer.node_heartbeat"), x.name, x.session);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, run_remote& x) {
  return f(caf::meta::type_name("overseer.run_remote"), x.job_id, x.attempt, x.tool, x.tool_version, x.params_json,
           x.has_checkpoint, x.checkpoint, x.trace_id, x.progress_interval_ms, x.reply_to);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stop_remote& x) {
  return f(caf::meta::type_name("overseer.stop_remote"), x.job_id, x.attempt);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, remote_progress& x) {
  return f(caf::meta::type_name("overseer.remote_progress"), x.attempt, x.percent, x.current_step, x.total_steps,
           x.step_name, x.eta_ms);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, remote_log& x) {
  return f(caf::meta::type_name("overseer.remote_log"), x.attempt, x.level, x.message);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, remote_log_barrier& x) {
  return f(caf::meta::type_name("overseer.remote_log_barrier"), x.attempt);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, remote_checkpoint& x) {
  return f(caf::meta::type_name("overseer.remote_checkpoint"), x.attempt, x.bytes);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, remote_process& x) {
  return f(caf::meta::type_name("overseer.remote_process"), x.attempt, x.process_group, x.start_time);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, remote_finished& x) {
  return f(caf::meta::type_name("overseer.remote_finished"), x.attempt, x.kind, x.payload);
}

}  // namespace overseer::actors

CAF_BEGIN_TYPE_ID_BLOCK(overseer_cluster, caf::id_block::overseer::end)
  CAF_ADD_TYPE_ID(overseer_cluster, (overseer::actors::node_hello))
  CAF_ADD_TYPE_ID(overseer_cluster, (overseer::actors::node_heartbeat))
  CAF_ADD_TYPE_ID(overseer_cluster, (overseer::actors::run_remote))
  CAF_ADD_TYPE_ID(overseer_cluster, (overseer::actors::stop_remote))
  CAF_ADD_TYPE_ID(overseer_cluster, (overseer::actors::remote_progress))
  CAF_ADD_TYPE_ID(overseer_cluster, (overseer::actors::remote_log))
  CAF_ADD_TYPE_ID(overseer_cluster, (overseer::actors::remote_checkpoint))
  CAF_ADD_TYPE_ID(overseer_cluster, (overseer::actors::remote_process))
  CAF_ADD_TYPE_ID(overseer_cluster, (overseer::actors::remote_finished))
  CAF_ADD_TYPE_ID(overseer_cluster, (overseer::actors::remote_log_barrier))
CAF_END_TYPE_ID_BLOCK(overseer_cluster)
