#include "actors/attempt_pool.hpp"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include <catch2/catch.hpp>

#include "support/eventually.hpp"

using namespace overseer;
using namespace std::chrono_literals;
using overseer::test::eventually;

namespace {

/// Holds tasks until released, and counts them in.
struct gate {
  std::mutex m;
  std::condition_variable cv;
  int arrived = 0;
  bool open = false;

  void pass() {
    std::unique_lock lock{m};
    ++arrived;
    cv.notify_all();
    cv.wait(lock, [&] { return open; });
  }
  bool wait_arrived(int n) {
    std::unique_lock lock{m};
    return cv.wait_for(lock, 10s, [&] { return arrived >= n; });
  }
  void release() {
    std::lock_guard lock{m};
    open = true;
    cv.notify_all();
  }
};

}  // namespace

TEST_CASE("attempt_pool: tasks that block never wait for one another", "[attempt_pool]") {
  gate g;
  actors::attempt_pool pool;
  // All 16 must be in pass() at once: a pool that queued a task behind a
  // blocked one would leave arrived below 16 until the gate opens.
  for (int i = 0; i < 16; ++i) pool.run([&] { g.pass(); });
  CHECK(g.wait_arrived(16));
  CHECK(pool.threads() == 16);
  g.release();
}

TEST_CASE("attempt_pool: a finished thread takes the next task instead of a new one", "[attempt_pool]") {
  actors::attempt_pool pool;
  std::mutex m;
  std::set<std::thread::id> seen;
  std::atomic<int> done{0};
  for (int i = 0; i < 200; ++i) {
    pool.run([&] {
      std::lock_guard lock{m};
      seen.insert(std::this_thread::get_id());
      ++done;
    });
    // One at a time: each task finds the previous one's thread idle.
    REQUIRE(eventually([&] { return done.load() == i + 1 && pool.idle() == pool.threads(); }));
  }
  CHECK(seen.size() == 1);
  CHECK(pool.threads() == 1);
}

TEST_CASE("attempt_pool: threads idle for longer than the timeout leave", "[attempt_pool]") {
  gate g;
  actors::attempt_pool pool{50ms};
  for (int i = 0; i < 4; ++i) pool.run([&] { g.pass(); });
  REQUIRE(g.wait_arrived(4));
  g.release();
  CHECK(eventually([&] { return pool.threads() == 0; }));
  // A task after that still runs, on a new thread.
  std::atomic<bool> ran{false};
  pool.run([&] { ran = true; });
  CHECK(eventually([&] { return ran.load(); }));
}

TEST_CASE("attempt_pool: destruction waits for running tasks", "[attempt_pool]") {
  std::atomic<int> finished{0};
  gate g;  // outlives the pool
  {
    actors::attempt_pool pool;
    for (int i = 0; i < 3; ++i)
      pool.run([&] {
        g.pass();
        ++finished;
      });
    REQUIRE(g.wait_arrived(3));
    g.release();  // the tasks are still waking up when the pool is destroyed
  }
  CHECK(finished == 3);
}

TEST_CASE("attempt_pool: a task handed to a thread as its idle wait ends still runs", "[attempt_pool]") {
  // With a 1 ms idle timeout, a thread's wait often ends as run() hands it
  // the next task: it must take the task, not leave with it. Each task
  // says it ran through a latch, so none is waited for by polling.
  actors::attempt_pool pool{1ms};
  for (int i = 0; i < 300; ++i) {
    std::mutex m;
    std::condition_variable cv;
    bool ran = false;
    pool.run([&] {
      std::lock_guard lock{m};
      ran = true;
      cv.notify_all();
    });
    std::unique_lock lock{m};
    REQUIRE(cv.wait_for(lock, 10s, [&] { return ran; }));
    lock.unlock();
    // Let the thread go idle and wait about as long as its timeout, give
    // or take: the next run() lands before, during or after it leaves.
    const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds{(i % 7) * 300};
    while (std::chrono::steady_clock::now() < until) std::this_thread::yield();
  }
  CHECK(pool.threads() <= 2);
}

TEST_CASE("attempt_pool: destruction stops idle threads and joins every thread", "[attempt_pool]") {
  std::atomic<int> ran{0};
  {
    actors::attempt_pool pool;
    gate g;
    for (int i = 0; i < 5; ++i)
      pool.run([&] {
        g.pass();
        ++ran;
      });
    REQUIRE(g.wait_arrived(5));
    g.release();
    REQUIRE(eventually([&] { return pool.idle() == 5; }));
    CHECK(pool.threads() == 5);
  }  // five idle threads, each waiting on its own word: all must wake and return
  CHECK(ran == 5);
}
