// The connections of one server: how many are open, how many of them are
// WebSocket sessions, and the HTTP sessions that still owe answers.
//
// A ticket counts one connection (or stream) while it lives; the listener
// and the upgrade refuse past the configured caps. An HTTP session that owes
// answers is held here, so it lives until they are written even when
// nothing else refers to it (reading has stopped: Connection: close, a full
// pipeline, a client that half-closed); stop() releases what is left once
// the I/O threads are joined. Thread-safe.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>

namespace overseer::http {

class http_session;

class connections {
public:
  /// One open connection or stream, counted until destroyed.
  class ticket {
  public:
    ticket(ticket&& other) noexcept : count_(std::exchange(other.count_, nullptr)) {}
    ticket& operator=(ticket&& other) noexcept;
    ticket(const ticket&) = delete;
    ticket& operator=(const ticket&) = delete;
    ~ticket();

  private:
    friend class connections;
    explicit ticket(std::atomic<std::size_t>& count) : count_(&count) {}
    std::atomic<std::size_t>* count_;
  };

  /// A ticket, or nullopt when `max` connections are open already.
  [[nodiscard]] std::optional<ticket> open_connection(std::size_t max) { return take(connections_, max); }
  /// A ticket, or nullopt when `max` streams are open already.
  [[nodiscard]] std::optional<ticket> open_stream(std::size_t max) { return take(streams_, max); }

  [[nodiscard]] std::size_t connection_count() const noexcept { return connections_.load(); }
  [[nodiscard]] std::size_t stream_count() const noexcept { return streams_.load(); }
  /// Sessions that owe a client an answer (held): 0 once every request read has been answered.
  [[nodiscard]] std::size_t owing() {
    std::lock_guard lock{mutex_};
    return held_.size();
  }

  /// Keeps `s` alive until release(s) or release_all().
  void hold(std::shared_ptr<http_session> s);
  void release(const http_session* s);
  /// After the I/O threads are joined: no answer can be written any more.
  void release_all();

private:
  static std::optional<ticket> take(std::atomic<std::size_t>& count, std::size_t max);

  std::atomic<std::size_t> connections_{0};
  std::atomic<std::size_t> streams_{0};
  std::mutex mutex_;
  std::unordered_map<const http_session*, std::shared_ptr<http_session>> held_;
};

}  // namespace overseer::http
