// The HTTP and WebSocket front of an engine (DESIGN.md "HTTP API",
// "WebSocket stream").
//
// Runs on I/O threads of its own. Handlers never block an I/O thread on the
// engine's actors: submits, cancels and retries complete asynchronously and
// the response is written when the engine answers; reads go straight to the
// store. Every error is an RFC 9457 problem document. The server listens
// from construction until stop() or destruction.
//
//   overseer::http::server http{engine, {.listen = "127.0.0.1:0"}};
//   std::printf("listening on %s\n", http.url().c_str());
#pragma once

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
  /// carry "Authorization: Bearer <one of them>".
  std::vector<std::string> tokens;
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
};

class server {
public:
  /// Binds and starts serving. Throws overseer::error (invalid_spec) for a
  /// bad or refused listen address, or when the port cannot be bound.
  server(engine& e, server_config cfg);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  [[nodiscard]] std::uint16_t port() const noexcept;
  /// http://HOST:PORT
  [[nodiscard]] std::string url() const;
  /// Stops accepting, closes connections, joins the I/O threads.
  void stop();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace overseer::http
