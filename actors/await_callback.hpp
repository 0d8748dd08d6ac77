// Blocking on an asynchronous call's callback, for threads that may block
// (the engine's synchronous API, the janitor, a tool body): never a CAF
// worker.
#pragma once

#include <future>
#include <memory>
#include <utility>

namespace overseer::actors {

/// Runs `call(callback)` and waits until the callback is called with the
/// answer. If the callback is destroyed uncalled (the message carrying it
/// was dropped: its actor is gone or stopping), returns `fallback`. The
/// callback is the promise's only owner, which is what makes a drop break
/// the promise; a second reference here would make get() wait forever.
template <class T, class Call>
T await_callback(Call&& call, T fallback) {
  auto p = std::make_shared<std::promise<T>>();
  auto f = p->get_future();
  std::forward<Call>(call)([p = std::move(p)](T value) { p->set_value(std::move(value)); });
  try {
    return f.get();
  } catch (const std::future_error&) {
    return fallback;
  }
}

}  // namespace overseer::actors
