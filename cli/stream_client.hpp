// The WebSocket side of the server, /v1/stream: send subscribe messages,
// read events one at a time with a bound on the wait, so the caller can
// redraw between events. One connection; a dropped connection shows up as
// `closed` and the caller reconnects with a new stream_client.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <boost/json/value.hpp>

#include "cli/api_client.hpp"

namespace overseer::cli {

class stream_client {
public:
  /// The longest wait to connect or upgrade, when the request timeout is
  /// longer: a watcher reconnecting to a restarting server tries again soon.
  static constexpr std::chrono::milliseconds longest_wait{10'000};
  /// The wait for a client whose requests wait `request_deadline`.
  [[nodiscard]] static std::chrono::milliseconds wait_for(std::chrono::milliseconds request_deadline) {
    return request_deadline < longest_wait ? request_deadline : longest_wait;
  }

  /// Connects and upgrades `/v1/stream`, sending the token as a bearer
  /// header. Throws `unreachable` when the server cannot be reached (no
  /// connection, or no answer to the upgrade, within `deadline` each), and
  /// `refused` when it answers the upgrade with an error.
  stream_client(const endpoint& where, const std::string& token, std::chrono::milliseconds deadline);
  ~stream_client();
  stream_client(const stream_client&) = delete;
  stream_client& operator=(const stream_client&) = delete;

  struct refused : std::runtime_error {
    refused(unsigned status, std::string body)
      : std::runtime_error("upgrade refused"), status(status), body(std::move(body)) {}
    unsigned status;
    std::string body;
  };

  /// Returns false when the connection is gone.
  bool send(const boost::json::value& message);

  struct received {
    enum kind_t { message, idle, closed } kind = idle;
    boost::json::value doc;  ///< for `message`; null when the text was not JSON
    std::string reason;      ///< for `closed`: the close reason or the error
  };
  /// The next message, `idle` when none came within `wait`, or `closed`.
  received next(std::chrono::milliseconds wait);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace overseer::cli
