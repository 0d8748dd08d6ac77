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

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "overseer/engine.hpp"

namespace overseer::http {

/// What a principal may do (docs/api.md, "Principals and roles").
enum class role : std::uint8_t {
  admin,   ///< everything, on every principal's jobs
  user,    ///< submits, and sees and acts on its own jobs and batches only
  reader,  ///< reads everything, changes nothing
};
[[nodiscard]] std::string_view to_string(role r) noexcept;

/// A principal's optional limits; 0 = none.
struct principal_quotas {
  int max_running = 0;            ///< its jobs running at once
  std::size_t max_queued = 0;     ///< its jobs pending or retrying
  double submits_per_second = 0;  ///< jobs submitted per second (a token bucket)
  friend bool operator==(const principal_quotas&, const principal_quotas&) = default;
};

/// Who may call the API with which token (a tokens file entry).
struct principal {
  std::string name{};  ///< its jobs' owner (job_spec::owner)
  http::role role = role::user;
  std::array<unsigned char, 32> token_sha256{};  ///< the SHA-256 of its token; never the token
  int weight = 1;  ///< its weight in the round-robin between principals (1-1000)
  principal_quotas quotas{};
  friend bool operator==(const principal&, const principal&) = default;
};

/// The SHA-256 of `data` (FIPS 180-4).
[[nodiscard]] std::array<unsigned char, 32> sha256(std::string_view data) noexcept;

/// A tokens file read: the principals, or every bad field (named like
/// "principals[2].token_sha256") with nothing taken.
struct tokens_file {
  std::vector<principal> principals{};
  std::vector<field_error> errors{};
};
/// Reads the text of a tokens file:
///   {"principals": [{"name": "alice", "role": "user", "token_sha256": "<64 hex digits>",
///                    "weight": 1, "quotas": {"max_running": 4, "max_queued": 1000,
///                    "submits_per_second": 50}}]}
/// weight and quotas (and each quota) optional. A name is 1-64 letters,
/// digits, '.', '_' or '-', once; a hash once.
[[nodiscard]] tokens_file parse_tokens_file(std::string_view text);

struct server_config {
  /// HOST:PORT; port 0 picks a free port (see port()). Default 127.0.0.1:8080.
  std::string listen = "127.0.0.1:8080";
  /// Bearer tokens; when not empty, every request but GET /v1/health must
  /// carry "Authorization: Bearer <one of them>". An empty token, or one with
  /// whitespace or control characters, is refused at construction.
  std::vector<std::string> tokens{};
  /// Principals with roles, owners and quotas (a tokens file); together with
  /// `tokens` (admins). Replaced at run time by server::set_principals.
  std::vector<principal> principals{};
  /// Listening on a non-loopback address without tokens is refused unless
  /// this is set. Default false.
  bool allow_insecure = false;
  /// The longest `?wait=` a submit or a job read may ask for (a longer one
  /// waits this long). Default 300 s.
  std::chrono::milliseconds max_wait = std::chrono::seconds(300);
  /// How long a submit of an immediate tool (tool_mode::immediate) waits
  /// for the job's end when it gives no `?wait=`. Default 30 s.
  std::chrono::milliseconds immediate_wait = std::chrono::seconds(30);
  /// Largest request body accepted (413 beyond). Default 1 MiB.
  std::size_t body_limit = 1024 * 1024;
  /// Largest file POST /v1/files accepts (413 beyond); body_limit does not
  /// apply to it. Default 10 GiB.
  std::uint64_t max_file_size = 10ull << 30;
  /// I/O threads, each with connections of its own. Default 2.
  int threads = 2;
  /// How long an I/O thread that ran out of work keeps polling for more
  /// (yielding the CPU between polls) before it sleeps, like
  /// engine_config::idle_spin and only while that engine's idle polling is
  /// on (engine::idle_polling_allowed). A client's next request then finds
  /// the thread awake instead of waking it. 0 turns it off. Default 50 us.
  std::chrono::microseconds idle_spin{50};
  /// Messages a WebSocket client may have waiting before it counts as too
  /// far behind and is closed with the seq to resume from. Default 10000.
  std::size_t stream_queue_limit = 10000;
  /// How long a WebSocket session holds a live event before it writes it,
  /// so that the events committed meanwhile leave in the same socket write
  /// (Centrifugo's client.write_delay, Kafka's linger.ms): fewer system
  /// calls per delivered event, on the daemon and on its clients, for up
  /// to this much more latency. Acks, errors and replays are not held, and
  /// a session holding many events writes them early (stream_session).
  /// 0 writes at once; at most 1 s. Default 0.
  std::chrono::milliseconds stream_write_delay{0};
  /// Largest message a WebSocket client may send; a larger one closes the
  /// connection with 1009 (message too big). Default 64 KiB.
  std::size_t stream_message_limit = 64 * 1024;
  /// Finished jobs' answers to GET /v1/jobs/{id} kept rendered, until the
  /// job changes (retry, delete, purge); 0 renders every answer from the
  /// store. Default 32 MiB (some 30,000 jobs of a kilobyte).
  std::size_t finished_cache_bytes = 32u << 20;
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
  /// Log lines lost so far because the log's reader did not keep up
  /// (overseerd's line_logger::dropped); /metrics shows it as
  /// overseer_log_lines_dropped_total. Default none: not shown.
  std::function<std::uint64_t()> log_lines_dropped{};
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
  /// Replaces the principals (a tokens file reloaded on SIGHUP): requests
  /// read from now on are checked against these; open connections stay.
  /// Their weights and max_running go to the engine's principal_shares (when
  /// its engine_config has one). Thread-safe.
  void set_principals(std::vector<principal> principals);
  /// http://HOST:PORT
  [[nodiscard]] std::string url() const;
  /// Begins a graceful stop: stops accepting connections, answers new
  /// submits, batches, retries and WebSocket upgrades with 503 and
  /// Retry-After, and closes every WebSocket with 1001 and the seq to resume
  /// from. Requests already read are still answered; call stop() after.
  void drain();
  /// For a host that fail-stops after engine_config::on_store_failure:
  /// closes every WebSocket with 1011 ("the store failed") and the seq to
  /// resume from, while requests go on being answered (503) until stop().
  void close_streams_store_failed();
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
