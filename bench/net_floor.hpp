// The network's floor: the least a server on this machine can do for the
// HTTP poll and the WebSocket fan-out, so that the benchmark can say how
// much of a miss is the daemon's and how much is the machine's.
//
// Each is a separate process (overseer_bench started again with
// --serve-floor=...), on loopback, loaded by the same client code the
// daemon's figures come from, in the same repetition:
// - http: Beast's HTTP/1.1 with the daemon's threading (two I/O threads,
//   an io_context each), answering every request with one fixed body (a
//   real poll answer of the daemon, handed over by the bench): parse,
//   serialize, send; no routing, no look-up, no rendering.
// - submit: the same server, but every request first submits a no-op job
//   to the design's floor (bench/floor.hpp: the engine's rows through the
//   real group-commit writer, WAL synced, an actor per job) and is
//   answered once the job is durable, from the connection's strand, as the
//   daemon answers a POST /v1/jobs; no routing, no JSON, no validation.
// - ws: Beast's WebSocket handshake, then for each job its three
//   transition frames, of the daemon's shape, written to every subscriber
//   in one blocking send() each, from two threads (half of the subscribers
//   each, as the daemon's two I/O threads); no bus, no hub, no strand, no
//   queue, no filter. The daemon learns of a job's transitions one commit
//   at a time, so it cannot always send them together: this is the least
//   any server could do, not what the daemon's design could reach.
#pragma once

#include <string>

namespace overseer::bench {

/// Runs a floor server until the process is killed: prints
/// "floor listening on http://127.0.0.1:PORT" on stdout once it accepts.
/// `kind` is "http" (every answer is `body`), "submit" (every answer is a
/// 202 with `body` once a floor job is durable in a store made in `dir`)
/// or "ws" (a `POST /emit?jobs=J&rate=R` starts J jobs' worth of three
/// transition frames each, J/R seconds long; its 202 comes at once).
/// Returns 2 on a bad kind.
int serve_floor(const std::string& kind, const std::string& body, const std::string& dir = "");

}  // namespace overseer::bench
