// The HTTP and WebSocket front of an engine (docs/api.md).
//
// Runs on I/O threads of its own. Handlers never block an I/O thread on the
// engine's actors: submits, cancels and retries complete asynchronously and
// the response is written when the engine answers; reads go straight to the
// store. Every error is an RFC 9457 problem document. Every request read is
// answered, in request order, whatever the client does next; what a client
// can hold (connections, streams, time, bytes) is bounded by the limits of
// server_config. The server listens from construction until stop() or
// destruction.
//
//   overseer::http::server http{engine, {.listen = "127.0.0.1:0"}};
//   std::printf("listening on %s\n", http.url().c_str());
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "overseer/engine.hpp"

namespace overseer::http {

struct server_config {
  /// HOST:PORT; port 0 picks a free port (see port()). Default 127.0.0.1:8080.
  std::string listen = "127.0.0.1:8080";
  /// Bearer tokens; when not empty, every request but GET /v1/health must
  /// carry "Authorization: Bearer <one of them>". An empty token, or one with
  /// whitespace or control characters, is refused at construction.
  std::vector<std::string> tokens{};
  /// Listening on a non-loopback address without tokens is refused unless
  /// this is set. Default false.
  bool allow_insecure = false;
  /// Largest request body accepted (413 beyond). Default 1 MiB.
  std::size_t body_limit = 1024 * 1024;
  /// I/O threads. Default 2.
  int threads = 2;
  /// Messages a WebSocket client may have waiting before it counts as too
  /// far behind and is closed with the seq to resume from. Default 10000.
  std::size_t stream_queue_limit = 10000;
  /// Largest message a WebSocket client may send; a larger one closes the
  /// connection with 1009 (message too big). Default 64 KiB.
  std::size_t stream_message_limit = 64 * 1024;
  /// From the first byte of a request to the end of its headers; past it the
  /// client gets a 408 and the connection is closed. Default 30 s.
  std::chrono::milliseconds header_timeout = std::chrono::seconds(30);
  /// From the end of a request's headers (or the 100 Continue) to the end of
  /// its body; past it, 408 and close. Default 60 s.
  std::chrono::milliseconds body_timeout = std::chrono::seconds(60);
  /// How long a connection may wait for the first byte of its next request
  /// while it is owed no answer, and how long the client may take to accept
  /// a response; past it the connection is closed. Default 60 s.
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(60);
  /// Open connections, HTTP and WebSocket together; one more gets a 503 and
  /// is closed. Default 1024.
  std::size_t max_connections = 1024;
  /// Open WebSocket sessions; one more upgrade gets a 503. Default 1024.
  std::size_t max_streams = 1024;
  /// Count jobs, requests and sessions for GET /metrics (docs/operations.md).
  /// Off: /metrics still answers, without the job and engine families.
  /// Default true.
  bool metrics = true;
  /// The access log: one record per answered request and per ended
  /// WebSocket session (component "http"). Default none.
  log_sink log{};
};

class server {
public:
  /// Binds and starts serving. Throws overseer::error (invalid_spec) for a
  /// bad or refused listen address, an unusable token or limit, or when the
  /// port cannot be bound.
  server(engine& e, server_config cfg);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  [[nodiscard]] std::uint16_t port() const noexcept;
  /// http://HOST:PORT
  [[nodiscard]] std::string url() const;
  /// Begins a graceful stop: stops accepting connections, answers new
  /// submits, batches, retries and WebSocket upgrades with 503 and
  /// Retry-After, and closes every WebSocket with 1001 and the seq to resume
  /// from. Requests already read are still answered; call stop() after.
  void drain();
  /// Requests read and not answered yet, and WebSocket sessions still open.
  [[nodiscard]] std::size_t unanswered() const;
  [[nodiscard]] std::size_t open_streams() const;
  /// Stops accepting, closes connections, joins the I/O threads.
  void stop();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace overseer::http
