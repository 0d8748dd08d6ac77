// actors/job_waiters.hpp: each waiter answered exactly once, by the job's
// end, its deadline or stop.
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <vector>

#include <catch2/catch.hpp>

#include "actors/job_waiters.hpp"

using namespace std::chrono_literals;
using namespace overseer;
using actors::job_waiters;
using outcome = job_waiters::outcome;

namespace {

struct answers {
  std::mutex m;
  std::condition_variable cv;
  std::vector<std::pair<int, outcome>> got;
  job_waiters::callback of(int who) {
    return [this, who](outcome o) {
      std::lock_guard lock{m};
      got.emplace_back(who, o);
      cv.notify_all();
    };
  }
  bool wait_for(std::size_t n) {
    std::unique_lock lock{m};
    return cv.wait_for(lock, 10s, [&] { return got.size() >= n; });
  }
};

event ended(const std::string& id) {
  event e;
  e.job_id = id;
  e.kind = event_kind::transition;
  e.to = job_status::completed;
  return e;
}

const auto not_yet = [] { return false; };

}  // namespace

TEST_CASE("a waiter is woken by its job's terminal transition only", "[waiters]") {
  answers a;  // outlives the waiters: their stop answers the rest
  job_waiters w;
  w.add("job_a", std::chrono::steady_clock::now() + 1h, not_yet, a.of(1));
  w.add("job_a", std::chrono::steady_clock::now() + 1h, not_yet, a.of(2));
  w.add("job_b", std::chrono::steady_clock::now() + 1h, not_yet, a.of(3));
  event running = ended("job_a");
  running.to = job_status::running;
  w.on_event(running);
  event progress = ended("job_a");
  progress.kind = event_kind::progress;
  w.on_event(progress);
  CHECK(w.size() == 3);
  w.on_event(ended("job_a"));
  REQUIRE(a.wait_for(2));
  CHECK(a.got.size() == 2);
  for (auto& [who, o] : a.got) CHECK(o == outcome::ended);
  CHECK(w.size() == 1);
  w.on_event(ended("job_a"));  // again: nobody left to answer
  CHECK(a.got.size() == 2);
}

TEST_CASE("a waiter whose job ended before it was added is answered at once", "[waiters]") {
  answers a;  // outlives the waiters: their stop answers the rest
  job_waiters w;
  w.add("job_a", std::chrono::steady_clock::now() + 1h, [] { return true; }, a.of(1));
  REQUIRE(a.got.size() == 1);  // on the calling thread, before add returned
  CHECK(a.got[0].second == outcome::ended);
  CHECK(w.size() == 0);
}

TEST_CASE("deadlines answer in their order, and stop answers the rest", "[waiters]") {
  answers a;  // outlives the waiters: their stop answers the rest
  job_waiters w;
  const auto now = std::chrono::steady_clock::now();
  w.add("job_a", now + 300ms, not_yet, a.of(2));
  w.add("job_b", now + 50ms, not_yet, a.of(1));
  w.add("job_c", now + 1h, not_yet, a.of(3));
  REQUIRE(a.wait_for(2));
  CHECK(a.got[0] == std::pair{1, outcome::timed_out});
  CHECK(a.got[1] == std::pair{2, outcome::timed_out});
  w.on_event(ended("job_a"));  // timed out already: not answered twice
  w.stop();
  REQUIRE(a.wait_for(3));
  CHECK(a.got.size() == 3);
  CHECK(a.got[2] == std::pair{3, outcome::stopping});
  w.add("job_d", now + 1h, not_yet, a.of(4));  // after stop: at once
  CHECK(a.got.size() == 4);
  CHECK(a.got[3] == std::pair{4, outcome::stopping});
}

TEST_CASE("ends and deadlines racing answer every waiter exactly once", "[waiters]") {
  job_waiters w;
  std::atomic<int> answered{0};
  constexpr int n = 2000;
  std::thread ender([&] {
    for (int i = 0; i < n; ++i) w.on_event(ended("job_" + std::to_string(i)));
  });
  for (int i = 0; i < n; ++i)
    w.add("job_" + std::to_string(i), std::chrono::steady_clock::now() + std::chrono::microseconds(i % 50), not_yet,
          [&](outcome) { answered.fetch_add(1); });
  ender.join();
  w.stop();
  CHECK(answered.load() == n);
  CHECK(w.size() == 0);
}
