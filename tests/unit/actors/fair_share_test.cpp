// Fair share between principals in scheduler_state: weighted round-robin
// within a priority, FIFO within a principal, priorities first, and each
// principal's max_running.
#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "actors/scheduler_state.hpp"

using overseer::principal_share;
using overseer::principal_shares;
using overseer::actors::scheduler_state;

namespace {

int no_limit(const std::string&) { return 0; }
bool never_paused(const std::string&) { return false; }

struct queued_job {
  std::string id, owner;
  int priority = 5;
};

/// Pops everything, one at a time, with no slot limits: the start order.
std::vector<std::string> start_order(scheduler_state& st) {
  std::vector<std::string> out;
  while (auto id = st.pop_next(no_limit, never_paused)) out.push_back(*id);
  return out;
}

std::string owner_of(const std::string& id) { return id.substr(0, id.find('#')); }

}  // namespace

TEST_CASE("two principals of one priority alternate, FIFO within each", "[fair_share]") {
  scheduler_state st{1'000'000};
  for (int i = 0; i < 5; ++i) st.enqueue("A#" + std::to_string(i), "tool", 5, "A");
  for (int i = 0; i < 2; ++i) st.enqueue("B#" + std::to_string(i), "tool", 5, "B");
  CHECK(start_order(st) == std::vector<std::string>{"A#0", "B#0", "A#1", "B#1", "A#2", "A#3", "A#4"});
}

TEST_CASE("a principal that arrives late joins the round at once, without credit for its absence",
          "[fair_share]") {
  scheduler_state st{2};
  for (int i = 0; i < 500; ++i) st.enqueue("A#" + std::to_string(i), "tool", 5, "A");
  // Two of A's start and run.
  auto first = st.pop_next(no_limit, never_paused);
  st.started("tool", "A");
  auto second = st.pop_next(no_limit, never_paused);
  st.started("tool", "A");
  CHECK(*first == "A#0");
  CHECK(*second == "A#1");
  for (int i = 0; i < 5; ++i) st.enqueue("B#" + std::to_string(i), "tool", 5, "B");
  // The issue's test, in miniature: every one of B's starts before A's 20th.
  std::vector<std::string> order{*first, *second};
  while (order.size() < 30) {
    st.finished("tool", owner_of(order[order.size() - 2]));
    auto id = st.pop_next(no_limit, never_paused);
    REQUIRE(id);
    st.started("tool", owner_of(*id));
    order.push_back(*id);
  }
  const auto a20 = std::find(order.begin(), order.end(), "A#19") - order.begin();
  for (int i = 0; i < 5; ++i) {
    const auto b = std::find(order.begin(), order.end(), "B#" + std::to_string(i)) - order.begin();
    CHECK(b < a20);
  }
  // No more than one start in a row for either while both wait.
  CHECK(order[2] == "B#0");
}

TEST_CASE("weights give starts in proportion", "[fair_share]") {
  scheduler_state st{1'000'000};
  st.set_shares({{"heavy", principal_share{3, 0}}});
  for (int i = 0; i < 30; ++i) st.enqueue("heavy#" + std::to_string(i), "tool", 5, "heavy");
  for (int i = 0; i < 30; ++i) st.enqueue("light#" + std::to_string(i), "tool", 5, "light");
  const auto order = start_order(st);
  // In the first 20 starts: 15 of heavy's, 5 of light's.
  const auto heavy = std::count_if(order.begin(), order.begin() + 20,
                                   [](const std::string& id) { return owner_of(id) == "heavy"; });
  CHECK(heavy == 15);
}

TEST_CASE("a higher priority goes first whatever the principal's share", "[fair_share]") {
  scheduler_state st{1'000'000};
  st.enqueue("A#0", "tool", 5, "A");
  st.enqueue("A#1", "tool", 5, "A");
  st.enqueue("B#0", "tool", 9, "B");
  st.enqueue("B#1", "tool", 9, "B");
  CHECK(start_order(st) == std::vector<std::string>{"B#0", "B#1", "A#0", "A#1"});
}

TEST_CASE("a principal at its max_running waits, others go past it", "[fair_share]") {
  scheduler_state st{10};
  st.set_shares({{"A", principal_share{1, 2}}});
  for (int i = 0; i < 4; ++i) st.enqueue("A#" + std::to_string(i), "tool", 5, "A");
  st.enqueue("B#0", "tool", 5, "B");
  std::vector<std::string> order;
  while (auto id = st.pop_next(no_limit, never_paused)) {
    st.started("tool", owner_of(*id));
    order.push_back(*id);
  }
  CHECK(order == std::vector<std::string>{"A#0", "B#0", "A#1"});
  CHECK(st.running_of("A") == 2);
  CHECK(st.queued_of("A") == 2);
  st.finished("tool", "A");
  CHECK(st.pop_next(no_limit, never_paused) == "A#2");
}

TEST_CASE("shares are taken from principal_shares when its version moves", "[fair_share]") {
  principal_shares shares;
  scheduler_state st{10};
  st.refresh(shares);  // version 0: nothing set
  shares.set({{"A", principal_share{1, 1}}});
  st.refresh(shares);
  st.enqueue("A#0", "tool", 5, "A");
  st.enqueue("A#1", "tool", 5, "A");
  REQUIRE(st.pop_next(no_limit, never_paused) == "A#0");
  st.started("tool", "A");
  CHECK_FALSE(st.pop_next(no_limit, never_paused));
  shares.set({});
  st.refresh(shares);
  CHECK(st.pop_next(no_limit, never_paused) == "A#1");
}

TEST_CASE("position_in_queue: higher priorities plus the principal's own jobs ahead", "[fair_share]") {
  scheduler_state st{1};
  CHECK(st.enqueue("A#0", "tool", 5, "A") == 0);
  CHECK(st.enqueue("A#1", "tool", 5, "A") == 1);
  CHECK(st.enqueue("B#0", "tool", 5, "B") == 0);  // B's first shares the round with A
  CHECK(st.enqueue("C#0", "tool", 9, "C") == 0);
  CHECK(st.enqueue("B#1", "tool", 5, "B") == 2);  // C's, and B's own first
  // Without owners every job is one principal's: everything ahead counts.
  scheduler_state single{1};
  CHECK(single.enqueue("a", "tool", 5) == 0);
  CHECK(single.enqueue("b", "tool", 5) == 1);
  CHECK(single.enqueue("c", "tool", 7) == 0);
  CHECK(single.enqueue("d", "tool", 5) == 3);
}

TEST_CASE("property: with arrivals and endings at random, priorities first and FIFO per principal", "[fair_share]") {
  std::mt19937 rng{20261201};
  for (int round = 0; round < 200; ++round) {
    const int principals = std::uniform_int_distribution<int>{1, 6}(rng);
    const int slots = std::uniform_int_distribution<int>{1, 4}(rng);
    std::map<std::string, int> weight;
    std::map<std::string, principal_share> shares;
    for (int p = 0; p < principals; ++p) {
      const std::string name = "p" + std::to_string(p);
      weight[name] = std::uniform_int_distribution<int>{1, 4}(rng);
      shares[name] = principal_share{weight[name], 0};
    }
    scheduler_state st{slots};
    st.set_shares(shares);
    const bool mixed_priorities = round % 3 == 0;
    std::map<std::string, std::vector<std::string>> submitted;  // per principal, in order
    std::map<std::string, int> priority_of;
    int next = 0;
    auto submit = [&](int n) {
      for (int i = 0; i < n; ++i) {
        const auto owner = "p" + std::to_string(std::uniform_int_distribution<int>{0, principals - 1}(rng));
        const int priority = mixed_priorities ? std::uniform_int_distribution<int>{4, 6}(rng) : 5;
        const auto id = owner + "#" + std::to_string(next++);
        st.enqueue(id, "tool", priority, owner);
        submitted[owner].push_back(id);
        priority_of[id] = priority;
      }
    };
    submit(std::uniform_int_distribution<int>{1, 60}(rng));
    std::vector<std::string> running;
    std::vector<std::string> started;
    // Starts while jobs keep arriving and finishing.
    while (true) {
      if (std::uniform_int_distribution<int>{0, 9}(rng) == 0) submit(std::uniform_int_distribution<int>{1, 10}(rng));
      if (!running.empty() && (static_cast<int>(running.size()) >= slots || std::uniform_int_distribution<int>{0, 1}(rng))) {
        const auto k = std::uniform_int_distribution<std::size_t>{0, running.size() - 1}(rng);
        st.finished("tool", owner_of(running[k]));
        running.erase(running.begin() + static_cast<std::ptrdiff_t>(k));
      }
      // Before the pop: the best priority waiting.
      int top = -1;
      for (const auto& [owner, ids] : submitted)
        for (const auto& id : ids)
          if (std::find(started.begin(), started.end(), id) == started.end()) top = std::max(top, priority_of[id]);
      auto id = st.pop_next(no_limit, never_paused);
      if (!id) {
        if (top < 0 && running.empty()) break;
        REQUIRE((top < 0 || static_cast<int>(running.size()) >= slots));
        continue;
      }
      // Priorities first: nothing of a higher priority was waiting.
      REQUIRE(priority_of[*id] == top);
      st.started("tool", owner_of(*id));
      running.push_back(*id);
      started.push_back(*id);
      if (started.size() > 100000) FAIL("does not end");
    }
    // FIFO per principal within a priority.
    std::map<std::pair<std::string, int>, std::vector<std::string>> by_class_started, by_class_submitted;
    for (const auto& id : started) by_class_started[{owner_of(id), priority_of[id]}].push_back(id);
    for (const auto& [owner, ids] : submitted)
      for (const auto& id : ids) by_class_submitted[{owner, priority_of[id]}].push_back(id);
    REQUIRE(by_class_started == by_class_submitted);
  }
  SUCCEED();
}

TEST_CASE("property: with all jobs queued first, no principal runs ahead of its weighted share by more than a round",
          "[fair_share]") {
  std::mt19937 rng{42};
  for (int round = 0; round < 300; ++round) {
    const int principals = std::uniform_int_distribution<int>{2, 8}(rng);
    std::map<std::string, int> weight;
    std::map<std::string, principal_share> shares;
    std::map<std::string, int> total;
    scheduler_state st{1'000'000};
    for (int p = 0; p < principals; ++p) {
      const std::string name = "p" + std::to_string(p);
      weight[name] = std::uniform_int_distribution<int>{1, 5}(rng);
      shares[name] = principal_share{weight[name], 0};
    }
    st.set_shares(shares);
    const int jobs = std::uniform_int_distribution<int>{10, 200}(rng);
    std::map<std::string, std::vector<std::string>> submitted;
    for (int i = 0; i < jobs; ++i) {
      const auto owner = "p" + std::to_string(std::uniform_int_distribution<int>{0, principals - 1}(rng));
      const auto id = owner + "#" + std::to_string(i);
      st.enqueue(id, "tool", 5, owner);
      submitted[owner].push_back(id);
      ++total[owner];
    }
    const auto order = start_order(st);
    REQUIRE(order.size() == static_cast<std::size_t>(jobs));
    std::map<std::string, int> done;
    std::map<std::string, std::size_t> next_of;
    for (const auto& id : order) {
      const auto owner = owner_of(id);
      // FIFO within the principal.
      REQUIRE(submitted[owner][next_of[owner]++] == id);
      ++done[owner];
      // Fair: against every principal q that still has jobs waiting,
      // done(p)/w(p) <= done(q)/w(q) + 1 (one round of p's weight).
      for (const auto& [q, w] : weight) {
        if (q == owner || done[q] >= total[q]) continue;
        const double mine = static_cast<double>(done[owner]) / weight[owner];
        const double theirs = static_cast<double>(done[q]) / w;
        REQUIRE(mine <= theirs + 1.0 + 1e-9);
      }
    }
  }
}
