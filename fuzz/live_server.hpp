// The server the HTTP and stream targets talk to: a real engine on a temp
// data directory (built-in tools plus one exec tool with a full param
// schema) behind a real overseer::http::server on 127.0.0.1, started on
// first use and stopped at exit. It requires the bearer token "fuzz-token".
//
// Inputs name things that exist through markers, replaced before
// sending: $JOB (a job submitted at start), $BATCH (a batch submitted at
// start), $TOKEN. State carries over from one input to the next (jobs
// submitted, cancelled, cached), as it does for a real daemon.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "overseer/engine.hpp"
#include "overseer/http/server.hpp"

namespace overseer::fuzz {

class live_server {
public:
  static live_server& instance();
  live_server(const live_server&) = delete;
  live_server& operator=(const live_server&) = delete;

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  [[nodiscard]] static constexpr std::string_view token() noexcept { return "fuzz-token"; }
  /// `input` with $JOB, $BATCH and $TOKEN replaced.
  [[nodiscard]] std::string substitute(std::string_view input) const;

private:
  live_server();
  void shut_down();

  std::filesystem::path dir_;
  std::unique_ptr<engine> engine_;
  std::unique_ptr<http::server> server_;
  std::uint16_t port_ = 0;
  std::string job_id_;
  std::string batch_id_;
};

/// Replaces every `from` in `s` with `to`.
void replace_all(std::string& s, std::string_view from, std::string_view to);

}  // namespace overseer::fuzz
