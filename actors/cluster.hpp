// The scheduler node's side of a cluster (docs/cluster.md).
//
// The cluster actor is what workers join: published on
// cluster_config::listen through CAF's middleman (caf_openssl with mutual
// certificate checks when TLS is configured). It gives each membership a
// session number, takes heartbeats, monitors each worker's actor (CAF
// reports a dropped connection as its down message) and loses a node whose
// connection dropped or whose heartbeats stopped. It tells the scheduler
// (node_joined, node_seen, node_lost), which places attempts.
//
// An attempt placed on a worker is relayed by an attempt proxy, a small
// actor on this node that stands where the pool task of a local attempt
// stands: it hands the worker run_remote, turns the worker's reports into
// the job actor's own messages (progress_reported, log_reported,
// save_checkpoint, record_process, attempt_finished; a checkpoint is
// answered only once it is durable here), relays a stop, and sends the
// scheduler attempt_exited when the attempt is over. If the node is lost
// first, it tells the job actor attempt_interrupted instead: the job goes
// back to pending without using up a retry, and runs again elsewhere from
// its last checkpoint. Reports of a proxy that has gone are dropped, and
// the job actor drops those of an attempt that is no longer its current
// one (attempt numbers fence a worker that comes back).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <caf/all.hpp>

#include "actors/attempt_control.hpp"
#include "actors/cluster_messages.hpp"
#include "actors/messages.hpp"
#include "overseer/log_sink.hpp"

namespace overseer::actors {

struct cluster_actor_config {
  std::chrono::milliseconds heartbeat_timeout{5000};
  log_sink log{};
};

/// Spawns the cluster actor; send it cluster_start with the scheduler
/// before publishing it.
[[nodiscard]] caf::actor spawn_cluster_actor(caf::actor_system& system, cluster_actor_config config);

struct cluster_start {
  caf::actor scheduler;
};

struct proxy_args {
  job_actor job;
  scheduler_actor scheduler;
  std::uint64_t runner = 0;
  std::string node;
  std::uint64_t session = 0;
  caf::actor worker;
  caf::actor cluster;
  std::shared_ptr<attempt_control> control;
  run_remote run;
};

/// Starts the attempt `args.run` on `args.worker` through a new proxy.
void spawn_attempt_proxy(caf::actor_system& system, proxy_args args);

/// Publishes `cluster` on "HOST:PORT" (TLS when `tls`); returns the bound
/// port. Throws overseer::error (invalid_spec) when it cannot.
std::uint16_t publish_cluster(const caf::actor& cluster, const std::string& listen, bool tls);

/// Stops accepting workers on `port`.
void unpublish_cluster(const caf::actor& cluster, std::uint16_t port, bool tls);

/// This machine's host name ("localhost" if it has none).
[[nodiscard]] std::string host_name();

/// Whether "HOST" of "HOST:PORT" is a loopback address or "localhost".
[[nodiscard]] bool loopback_host(const std::string& listen);

}  // namespace overseer::actors

CAF_BEGIN_TYPE_ID_BLOCK(overseer_cluster_local, caf::id_block::overseer_cluster::end)
  CAF_ADD_TYPE_ID(overseer_cluster_local, (overseer::actors::cluster_start))
CAF_END_TYPE_ID_BLOCK(overseer_cluster_local)

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(overseer::actors::cluster_start)
