// Requests an I/O thread has handed on (to the engine, to the blocking
// pool) and whose answers have not come back to it yet: one counter per
// io_context, kept as an Asio service of that context. Its I/O thread
// polls on for an answer past server_config::idle_spin only while one is
// owed on it and the engine has one due (engine::answers_due): the other
// I/O thread sleeps (http/server.cpp, run_io).
#pragma once

#include <atomic>
#include <memory>

#include <boost/asio/execution_context.hpp>

namespace overseer::http {

class owed_answers final : public boost::asio::execution_context::service {
public:
  using key_type = owed_answers;
  static inline boost::asio::execution_context::id id;

  explicit owed_answers(boost::asio::execution_context& ctx) : service(ctx) {}

  /// Shared: an answer may come back from an engine thread after the
  /// server and its contexts are gone.
  std::shared_ptr<std::atomic<int>> count = std::make_shared<std::atomic<int>>(0);

private:
  void shutdown() override {}
};

}  // namespace overseer::http
