// The engine's CAF coordinator (actors/coordinator.hpp): its clock skips
// cancelling the timeouts of actors that never set one, so everything a
// timeout does must still work exactly as on CAF's own clock. (Every actor
// here takes an argument: CAF 0.17 dereferences a null pointer to an empty
// argument tuple when a function actor takes none, which UBSan reports.)
#include "actors/coordinator.hpp"

#include "overseer/engine.hpp"
#include "persistence/commit_stats.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <thread>

#include <catch2/catch.hpp>

#include <caf/all.hpp>

using namespace std::chrono_literals;

namespace {

caf::actor_system_config& engine_like_config() {
  static caf::actor_system_config* cfg = [] {
    auto* c = new caf::actor_system_config;
    overseer::actors::use_engine_coordinator(*c);
    return c;
  }();
  return *cfg;
}

/// The next string `self` receives, or "nothing" after 30 s.
std::string next_text(caf::scoped_actor& self) {
  std::string got = "nothing";
  self->receive([&](const std::string& s) { got = s; }, caf::after(30s) >> [] {});
  return got;
}

}  // namespace

TEST_CASE("receive timeouts, request timeouts and delayed messages work on the engine's coordinator",
          "[coordinator]") {
  caf::actor_system sys{engine_like_config()};
  caf::scoped_actor self{sys};
  const caf::actor me = self;

  SECTION("a receive timeout fires") {
    sys.spawn(
      [](caf::event_based_actor* a, caf::actor me) -> caf::behavior {
        return {[](int) {}, caf::after(10ms) >> [a, me] {
                  a->send(me, std::string{"receive timeout"});
                  a->quit();
                }};
      },
      me);
    CHECK(next_text(self) == "receive timeout");
  }

  SECTION("a request without an answer times out") {
    auto silent = sys.spawn(
      [](caf::event_based_actor*, caf::actor) -> caf::behavior {
        return {[](int) -> caf::delegated<int> { return {}; }};
      },
      me);
    sys.spawn(
      [silent](caf::event_based_actor* a, caf::actor me) {
        a->request(silent, 10ms, 1)
          .then([a, me](int) { a->send(me, std::string{"answered"}); },
                [a, me](caf::error& e) {
                  a->send(me, std::string{e == caf::sec::request_timeout ? "request timeout" : "another error"});
                });
      },
      me);
    CHECK(next_text(self) == "request timeout");
    caf::anon_send_exit(silent, caf::exit_reason::user_shutdown);
  }

  SECTION("a delayed message arrives, also to an actor that set no timeout") {
    auto echo = sys.spawn(
      [](caf::event_based_actor*, caf::actor) -> caf::behavior { return {[](const std::string& s) { return s; }}; },
      me);
    self->delayed_send(echo, 10ms, std::string{"delayed"});
    self->receive([](const std::string& s) { CHECK(s == "delayed"); }, caf::after(30s) >> [] { FAIL("no delayed message"); });
    caf::anon_send_exit(echo, caf::exit_reason::user_shutdown);
  }

  SECTION("many actors come and go, with and without timeouts") {
    constexpr int n = 2000;
    for (int i = 0; i < n; ++i) {
      if (i % 2 == 0) {
        sys.spawn(
          [](caf::event_based_actor* a, caf::actor me) -> caf::behavior {
            a->send(me, std::string{"bye"});
            a->quit();
            return {[](int) {}};
          },
          me);
      } else {
        // Sets a receive timeout, then quits before it fires: CAF's
        // cancellation runs for this one.
        sys.spawn(
          [](caf::event_based_actor* a, caf::actor me) -> caf::behavior {
            a->send(a, 1);
            return {[a, me](int) {
                      a->send(me, std::string{"bye"});
                      a->quit();
                    },
                    caf::after(std::chrono::seconds{3600}) >> [] {}};
          },
          me);
      }
    }
    int byes = 0;
    for (int i = 0; i < n; ++i)
      if (next_text(self) == "bye") ++byes;
    CHECK(byes == n);
  }
  // Leaving the scope stops the system, which waits for every actor.
}

namespace {

/// An actor system on the engine's coordinator with `idle_spin`.
struct spinning_system {
  caf::actor_system_config cfg;
  std::optional<caf::actor_system> sys;
  explicit spinning_system(std::chrono::nanoseconds idle_spin, overseer::actors::spin_gate gate = {}) {
    overseer::actors::use_engine_coordinator(cfg, idle_spin, std::move(gate));
    sys.emplace(cfg);
  }
};

/// Sends `n` strings through an echo actor, one at a time, each 20 ms
/// after the last answer and from CAF's clock thread, outside the workers
/// (as a caller's submit or the writer's notice comes in): by then the
/// worker that ran the echo is out of work. Returns the polls that caught
/// work meanwhile. A worker that the kernel kept off its core for longer
/// than the delay (a loaded CI machine) finds the ping at its first look,
/// before it polls: that one is not a catch.
/// With `counter` and `delay`: the polls that counter counts, each ping
/// sent `delay` after the last answer.
std::uint64_t ping_pong(caf::actor_system& sys, int n, const overseer::metrics::counter& counter,
                        std::chrono::milliseconds delay = 20ms) {
  caf::scoped_actor self{sys};
  auto echo = sys.spawn(
    [](caf::event_based_actor*, int) -> caf::behavior { return {[](const std::string& s) { return s; }}; }, 0);
  // Counted from after the echo's first run: its spawn, which a polling
  // worker may catch too, is not a ping.
  self->send(echo, std::string{"warm"});
  CHECK(next_text(self) == "warm");
  const auto before = counter.value();
  for (int i = 0; i < n; ++i) {
    self->delayed_send(echo, delay, std::string{"ping"});
    CHECK(next_text(self) == "ping");
  }
  // Before the exit message, which a polling worker may catch too.
  const auto counted = counter.value() - before;
  caf::anon_send_exit(echo, caf::exit_reason::user_shutdown);
  return counted;
}

std::uint64_t ping_pong(caf::actor_system& sys, int n) {
  return ping_pong(sys, n, overseer::actors::worker_statistics().caught);
}

/// Pretends `n` writes somebody waits for are being committed, while it lives.
struct answers_pretended_due {
  std::int64_t n;
  explicit answers_pretended_due(std::int64_t count) : n(count) { overseer::persistence::answers_due() += n; }
  ~answers_pretended_due() { overseer::persistence::answers_due() -= n; }
};

}  // namespace

TEST_CASE("an idle worker polls for idle_spin before it sleeps, and only then", "[coordinator][spin]") {
  const auto& missed = overseer::actors::worker_statistics().missed;
  SECTION("idle_spin 0: never polls") {
    spinning_system s{0ms};
    const auto missed_before = missed.value();
    CHECK(ping_pong(*s.sys, 20) == 0);
    CHECK(missed.value() == missed_before);
  }
  SECTION("idle_spin 2 s: messages from outside find a worker still polling, and an idle one gives up") {
    spinning_system s{2s};
    const auto missed_before = missed.value();
    CHECK(ping_pong(*s.sys, 40) >= 20);  // most pings found one; never one with idle_spin 0
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (missed.value() == missed_before && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    CHECK(missed.value() > missed_before);
  }
}

TEST_CASE("idle workers poll only while their gate is open", "[coordinator][spin]") {
  const auto& missed = overseer::actors::worker_statistics().missed;
  auto gate = std::make_shared<std::atomic<bool>>(false);
  spinning_system s{2s, gate};
  const auto missed_before = missed.value();
  CHECK(ping_pong(*s.sys, 20) == 0);  // closed: straight to CAF's own polling and sleep
  CHECK(missed.value() == missed_before);
  gate->store(true);
  // The workers asleep when it opened are woken by the first pings; from
  // then on the pings find one polling, unless the machine kept it off its
  // core (a loaded CI): most, not all.
  CHECK(ping_pong(*s.sys, 40) >= 20);
}

TEST_CASE("while an answer is due, one idle worker polls on past idle_spin for it, up to expecting_cap",
          "[coordinator][spin]") {
  using overseer::engine;
  const auto& expected = overseer::actors::worker_statistics().expected;
  spinning_system s{1us};  // alone, far too short to catch a ping 1 ms later
  static_assert(engine::expecting_cap > 1ms);
  SECTION("nothing due: the ping 1 ms later finds every worker asleep") {
    CHECK(ping_pong(*s.sys, 20, expected, 1ms) == 0);
  }
  SECTION("one due: a worker is still polling when the ping comes 1 ms later") {
    answers_pretended_due due{1};
    // Not all: the ping may land in the queue of the worker that sleeps,
    // which CAF wakes and which may take it before the polling one steals
    // it (16 to 38 of 40 on an idle machine), and a loaded one keeps the
    // polling worker off its core (2 of 40 with two busy loops on the two
    // cores): up to ten rounds of 40 (more only cost time on a machine that
    // needs them), added up. Without the polling on: none, in any round.
    std::uint64_t caught = 0;
    for (int round = 0; round < 10 && caught < 4; ++round) caught += ping_pong(*s.sys, 40, expected, 1ms);
    CHECK(caught >= 4);
  }
  SECTION("one due, the ping later than the cap: the worker gave up") {
    answers_pretended_due due{1};
    CHECK(ping_pong(*s.sys, 10, expected, 20ms) == 0);
  }
  SECTION("more due than expecting_max_due: that is load, and nobody polls on") {
    answers_pretended_due due{engine::expecting_max_due + 1};
    CHECK(ping_pong(*s.sys, 20, expected, 1ms) == 0);
  }
}
