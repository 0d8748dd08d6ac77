// What an actor has decided but not yet made durable: the writes collected
// while it handles one message, and what to do once they are durable.
//
// Both the scheduler and every job actor follow one rule: change state in
// memory, queue the write, and act on the change (reply, publish, tell
// another actor) only in a continuation that runs once the group-commit
// writer reports the write durable. flush() at the end of every handler
// hands the writes to the writer; the writer's notice comes back to the
// actor as writes_committed and runs the continuations on the actor's own
// thread. Not thread-safe: its actor owns it.
#pragma once

#include <cstdint>
#include <functional>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/send.hpp>

#include "actors/messages.hpp"
#include "persistence/group_commit.hpp"

namespace overseer::actors {

class pending_writes {
public:
  using continuation = std::function<void(bool durable)>;

  void add(persistence::job_write w) { outbox_.push_back(std::move(w)); }
  /// Runs `fn` once everything added so far is durable (false: it failed).
  void after(continuation fn) { after_.push_back(std::move(fn)); }
  /// Runs `fn` on the writer's thread once what was added so far is
  /// written or has failed, without a message to the actor: for quick,
  /// thread-safe work only (a tool's log credit).
  void on_written(std::function<void()> fn) { written_.push_back(std::move(fn)); }

  /// Hands the collected writes to `writer`; `me` gets writes_committed once
  /// they are durable, if a continuation waits for them. With nothing to
  /// write, the continuations run now.
  template <class Handle>
  void flush(persistence::group_commit& writer, const Handle& me) {
    auto written = std::exchange(written_, {});
    if (outbox_.empty()) {
      for (auto& w : written) w();
      auto conts = std::exchange(after_, {});
      for (auto& c : conts) c(true);
      return;
    }
    if (after_.empty()) {
      // Nothing waits for these writes: no notice, no message.
      if (written.empty()) writer.write(std::exchange(outbox_, {}), nullptr);
      else
        writer.write(
          std::exchange(outbox_, {}),
          [written = std::move(written)](bool) {
            for (auto& w : written) w();
          },
          false);
      return;
    }
    const auto token = next_token_++;
    waiting_.emplace(token, std::exchange(after_, {}));
    writer.write(std::exchange(outbox_, {}), [me, token, written = std::move(written)](bool ok) {
      for (auto& w : written) w();
      caf::anon_send(me, writes_committed{token, ok});
    });
  }

  /// The writer's notice: runs the continuations of that flush.
  void committed(const writes_committed& c) {
    auto it = waiting_.find(c.token);
    if (it == waiting_.end()) return;
    auto conts = std::move(it->second);
    waiting_.erase(it);
    for (auto& f : conts) f(c.ok);
  }

  /// Nothing collected and nothing waiting for the writer.
  [[nodiscard]] bool idle() const noexcept { return outbox_.empty() && after_.empty() && waiting_.empty(); }

private:
  std::vector<persistence::job_write> outbox_;
  std::vector<continuation> after_;
  std::vector<std::function<void()>> written_;
  std::uint64_t next_token_ = 1;
  std::unordered_map<std::uint64_t, std::vector<continuation>> waiting_;
};

}  // namespace overseer::actors
