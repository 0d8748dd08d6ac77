// Runs the real overseerd on 127.0.0.1 with a free port and a data dir of
// the test's, and talks HTTP and WebSocket to it with Beast clients.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

namespace overseer::test {

/// The overseerd process. Stopped (SIGTERM, then SIGKILL after a deadline)
/// by its PID when destroyed.
class overseerd_process {
public:
  /// Starts overseerd with `--data-dir dir --listen 127.0.0.1:0` plus
  /// `extra` arguments, and waits for its "listening" line.
  /// `stderr_file`, when given, receives its stderr (the log) instead of
  /// the test's.
  explicit overseerd_process(const std::filesystem::path& data_dir, std::vector<std::string> extra = {},
                             const std::filesystem::path& stderr_file = {});
  ~overseerd_process();
  overseerd_process(const overseerd_process&) = delete;
  overseerd_process& operator=(const overseerd_process&) = delete;

  [[nodiscard]] unsigned short port() const noexcept { return port_; }
  /// The port worker nodes join on, when started with --cluster-listen.
  [[nodiscard]] unsigned short cluster_port() const noexcept { return cluster_port_; }
  [[nodiscard]] int pid() const noexcept { return pid_; }
  /// SIGTERM and wait (a second SIGTERM after 2 s ends a drain that waits
  /// for running jobs); returns the exit status (or -signal).
  int stop(std::chrono::seconds grace = std::chrono::seconds(30));
  /// SIGKILL and reap.
  void kill9();
  /// Waits for an exit the test caused (a signal it sent); SIGKILL after
  /// `limit`. Returns the exit status (or -signal).
  int wait(std::chrono::seconds limit);

private:
  int pid_ = -1;
  unsigned short port_ = 0;
  unsigned short cluster_port_ = 0;
};

struct http_reply {
  unsigned status = 0;
  std::string content_type;
  std::string body;
  std::map<std::string, std::string> headers;
  [[nodiscard]] boost::json::value json() const;
};

/// One keep-alive HTTP/1.1 connection.
class http_client {
public:
  explicit http_client(unsigned short port);
  ~http_client();
  http_reply request(const std::string& method, const std::string& target, const std::string& body = {},
                     const std::string& content_type = "application/json",
                     const std::map<std::string, std::string>& headers = {});
  http_reply get(const std::string& target) { return request("GET", target); }
  http_reply post(const std::string& target, const boost::json::value& body);
  http_reply del(const std::string& target) { return request("DELETE", target); }
  /// Sends raw bytes and reads one response (for malformed requests).
  http_reply raw(const std::string& bytes);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// A WebSocket client of /v1/stream.
class ws_client {
public:
  /// `receive_buffer` > 0 shrinks the socket's receive buffer, so a client
  /// that does not read is felt by the server quickly.
  ws_client(unsigned short port, const std::string& target = "/v1/stream", int receive_buffer = 0);
  ~ws_client();
  void send(const boost::json::value& msg);
  /// The next message, or nullopt after `limit` (or when closed).
  std::optional<boost::json::value> next(std::chrono::milliseconds limit = std::chrono::seconds(20));
  /// Reads until `pred` holds for a message (returned) or the deadline.
  std::optional<boost::json::value> until(const std::function<bool(const boost::json::object&)>& pred,
                                          std::chrono::milliseconds limit = std::chrono::seconds(20));
  /// The close reason, once the server closed the connection.
  [[nodiscard]] std::string close_reason() const;
  /// The close code the server sent (1001 going away, 1013 try again later).
  [[nodiscard]] int close_code() const;
  [[nodiscard]] bool closed() const noexcept;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace overseer::test
