// A tool that prints faster than the store writes is held back in log():
// at most attempt_control::max_unwritten_lines of its lines wait for the
// writer, so a flood of short lines holds neither the daemon's memory nor
// the job actor's mailbox, where a cancel would queue behind it
// (docs/architecture.md, "A tool's log lines wait for the store").
#include <atomic>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "actors/attempt_control.hpp"
#include "support/engine_fixture.hpp"
#include "support/eventually.hpp"

using namespace std::chrono_literals;
using namespace overseer;
using overseer::test::engine_fixture;
using overseer::test::eventually;

namespace {

constexpr std::size_t bound = actors::attempt_control::max_unwritten_lines;

/// Logs `lines` lines as fast as it can, counting the calls that returned,
/// until done or stopped; keeps its job's id. With `hold`, it first makes
/// a checkpoint (its start is then durable too) and waits for `go`.
struct flood {
  std::atomic<std::size_t> logged{0};
  std::atomic<bool> started{false};
  std::mutex mutex;
  std::condition_variable go_cv;
  bool go = false;  ///< under `mutex`
  std::string job_id;

  void start_printing() {
    {
      std::lock_guard lock{mutex};
      go = true;
    }
    go_cv.notify_all();
  }

  tool_function body(std::size_t lines, bool hold = false) {
    return [this, lines, hold](job_context& ctx) -> tool_result {
      {
        std::lock_guard lock{mutex};
        job_id = ctx.job_id();
      }
      if (hold) {
        ctx.checkpoint("started");
        started = true;
        // Woken by start_printing(); a stop is checked between waits.
        std::unique_lock lock{mutex};
        while (!go_cv.wait_for(lock, 100ms, [this] { return go; }))
          if (ctx.stop_requested()) return stopped();
      }
      for (std::size_t i = 0; i < lines; ++i) {
        if (ctx.stop_requested()) return stopped();
        ctx.log(log_level::info, "line " + std::to_string(i));
        ++logged;
      }
      return boost::json::object{};
    };
  }
  std::string id() {
    std::lock_guard lock{mutex};
    return job_id;
  }
};

/// Holds the writer thread in one commit (one that changes a job), from
/// arm() until release(). Shared with the engine's watcher, which may
/// outlive the test's scope.
struct writer_stall {
  std::mutex mutex;
  std::condition_variable cv;
  bool armed = false, held = false, released = false;

  static std::shared_ptr<writer_stall> watching(engine& eng) {
    auto stall = std::make_shared<writer_stall>();
    eng.watch_job_changes([stall](std::span<const std::string_view>, bool) {
      std::unique_lock lock{stall->mutex};
      if (!std::exchange(stall->armed, false)) return;
      stall->held = true;
      stall->cv.wait(lock, [&] { return stall->released; });
    });
    return stall;
  }
  void arm() {
    std::lock_guard lock{mutex};
    armed = true;
  }
  bool is_held() {
    std::lock_guard lock{mutex};
    return held;
  }
  void release() {
    {
      std::lock_guard lock{mutex};
      released = true;
    }
    cv.notify_all();
  }
};

/// Releases the writer when the test ends, a failed REQUIRE included: the
/// engine's stop waits for it.
struct release_at_exit {
  std::shared_ptr<writer_stall> stall;
  ~release_at_exit() { stall->release(); }
};

std::size_t tool_lines(engine& eng, const std::string& id) {
  auto page = eng.logs(id, log_level::debug, 1, 0);
  if (!page) return 0;
  std::size_t n = 0;
  // The engine's own lines (attempt started, cancelled) are not the tool's.
  auto all = eng.logs(id, log_level::debug, page->total, 0);
  for (const auto& l : all->lines) n += l.component == "tool";
  return n;
}

}  // namespace

TEST_CASE("a tool that prints while the store cannot write waits with its lines bounded, and a cancel reaches it",
          "[engine][logs][backpressure]") {
  constexpr std::size_t lines = 20 * bound;
  flood tool;
  engine_fixture f;
  f.eng->tools().add({.name = "flood"}, tool.body(lines, true));
  auto stall = writer_stall::watching(*f.eng);
  release_at_exit releaser{stall};
  f.start();
  const auto id = f.eng->submit({.tool = "flood"});
  REQUIRE(eventually([&] { return tool.started.load(); }));
  // Another job's creation holds the writer; then the tool prints.
  stall->arm();
  std::promise<submit_result> other;
  f.eng->submit_async({.tool = "noop"}, [&](submit_result r) { other.set_value(std::move(r)); });
  REQUIRE(eventually([&] { return stall->is_held(); }));
  tool.start_printing();
  // It logs up to the bound, then waits in log() for the store.
  REQUIRE(eventually([&] { return tool.logged.load() >= bound; }));
  CHECK(tool.logged.load() == bound);
  // The cancel reaches the job actor behind those lines, not behind a
  // flood, and its stop the waiting tool, which drops the line it waited
  // to send and returns. The store still cannot write.
  std::promise<change_result> cancelled;
  f.eng->cancel_async(id, [&](change_result r) { cancelled.set_value(std::move(r)); });
  REQUIRE(eventually([&] { return tool.logged.load() == bound + 1; }));
  stall->release();
  CHECK(other.get_future().get().code == errc::ok);
  CHECK(cancelled.get_future().get().code == errc::ok);
  REQUIRE(f.eng->wait(id, 20s)->status == job_status::cancelled);
  CHECK(tool.logged.load() == bound + 1);
  // Every line whose log() took a credit is in the job's log.
  CHECK(tool_lines(*f.eng, id) == bound);
}

TEST_CASE("a tool that prints many lines faster than the store writes has every one stored, in order",
          "[engine][logs][backpressure]") {
  constexpr std::size_t lines = 8 * bound;
  flood tool;
  engine_fixture f;
  f.eng->tools().add({.name = "flood"}, tool.body(lines));
  f.start();
  const auto id = f.eng->submit({.tool = "flood"});
  REQUIRE(f.eng->wait(id, 60s)->status == job_status::completed);
  CHECK(tool.logged.load() == lines);
  auto page = f.eng->logs(id, log_level::debug, 2 * lines, 0);
  REQUIRE(page);
  std::size_t next = 0;
  bool in_order = true;
  for (const auto& l : page->lines)
    if (l.component == "tool") in_order = in_order && l.message == "line " + std::to_string(next++);
  CHECK(next == lines);
  CHECK(in_order);
}

TEST_CASE("an attempt's log credit waits while full, comes back per line, and is refused once stopped",
          "[logs][backpressure]") {
  actors::attempt_control c;
  for (std::size_t i = 0; i < bound; ++i) REQUIRE(c.take_line(10));
  CHECK(c.log_waits() == 0);
  // Full: the next take waits until a line is given back.
  std::atomic<bool> taken{false};
  std::thread t{[&] { taken = c.take_line(10); }};
  REQUIRE(eventually([&] { return c.log_waits() == 1; }));
  CHECK_FALSE(taken.load());
  c.give_back_line(10);
  t.join();
  CHECK(taken.load());
  // Full again: a stop refuses the waiting take at once.
  std::atomic<int> refused{-1};
  std::thread u{[&] { refused = c.take_line(10) ? 0 : 1; }};
  REQUIRE(eventually([&] { return c.log_waits() == 2; }));
  c.request_stop();
  u.join();
  CHECK(refused.load() == 1);
  // Bytes bound too: one line over a megabyte is let through alone.
  actors::attempt_control big;
  CHECK(big.take_line(actors::attempt_control::max_unwritten_bytes + 1));
  big.give_back_line(actors::attempt_control::max_unwritten_bytes + 1);
  CHECK(big.take_line(actors::attempt_control::max_unwritten_bytes - 1));
  std::atomic<bool> second{false};
  std::thread v{[&] { second = big.take_line(2); }};
  REQUIRE(eventually([&] { return big.log_waits() == 1; }));
  CHECK_FALSE(second.load());
  big.give_back_line(actors::attempt_control::max_unwritten_bytes - 1);
  v.join();
  CHECK(second.load());
}
