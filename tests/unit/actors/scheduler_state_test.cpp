#include "actors/scheduler_state.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

using overseer::actors::scheduler_state;

namespace {

int no_limit(const std::string&) { return 0; }
bool never_paused(const std::string&) { return false; }

/// Pops with no tool limits or pauses and marks the attempt started, as the
/// scheduler does.
std::optional<std::string> pop_and_start(scheduler_state& st, const std::string& tool) {
  auto id = st.pop_next(no_limit, never_paused);
  if (id) st.started(tool);
  return id;
}

std::vector<std::string> drain(scheduler_state& st) {
  std::vector<std::string> out;
  while (auto id = st.pop_next(no_limit, never_paused)) out.push_back(*id);
  return out;
}

}  // namespace

TEST_CASE("higher priorities start first, FIFO within a priority", "[scheduler_state]") {
  scheduler_state st{100};
  st.enqueue("a", "tool", 5);
  st.enqueue("b", "tool", 5);
  st.enqueue("c", "tool", 9);
  st.enqueue("d", "tool", 0);
  st.enqueue("e", "tool", 9);
  st.enqueue("f", "tool", 10);
  st.enqueue("g", "tool", 5);
  CHECK(st.queue_size() == 7);
  CHECK(drain(st) == std::vector<std::string>{"f", "c", "e", "a", "b", "g", "d"});
  CHECK(st.queue_size() == 0);
}

TEST_CASE("priority and FIFO order hold across tools", "[scheduler_state]") {
  scheduler_state st{100};
  st.enqueue("a", "render", 5);
  st.enqueue("b", "mail", 5);
  st.enqueue("c", "render", 7);
  st.enqueue("d", "mail", 7);
  st.enqueue("e", "zip", 5);
  st.enqueue("f", "mail", 1);
  CHECK(drain(st) == std::vector<std::string>{"c", "d", "a", "b", "e", "f"});
}

TEST_CASE("enqueue returns how many queued jobs are ahead", "[scheduler_state]") {
  scheduler_state st{100};
  CHECK(st.enqueue("a", "render", 5) == 0);
  CHECK(st.enqueue("b", "mail", 5) == 1);   // a
  CHECK(st.enqueue("c", "render", 9) == 0);
  CHECK(st.enqueue("d", "zip", 1) == 3);    // a b c
  CHECK(st.enqueue("e", "mail", 9) == 1);   // c
  CHECK(st.enqueue("f", "render", 5) == 4); // c e a b
  CHECK(st.enqueue("g", "zip", 10) == 0);
  CHECK(st.enqueue("h", "zip", 0) == 7);    // everything
  SECTION("removal shortens the line") {
    REQUIRE(st.remove("c"));
    CHECK(st.enqueue("i", "render", 9) == 2);  // g e
  }
  SECTION("popping shortens the line") {
    CHECK(st.pop_next(no_limit, never_paused) == "g");
    CHECK(st.pop_next(no_limit, never_paused) == "c");
    CHECK(st.enqueue("i", "mail", 5) == 4);  // e a b f
  }
  SECTION("the reported position is the order of popping") {
    const auto pos = st.enqueue("i", "mail", 5);
    const auto order = drain(st);
    const auto it = std::find(order.begin(), order.end(), "i");
    REQUIRE(it != order.end());
    CHECK(static_cast<std::size_t>(it - order.begin()) == pos);
  }
}

TEST_CASE("a removed job is never popped", "[scheduler_state]") {
  scheduler_state st{100};
  st.enqueue("a", "render", 5);
  st.enqueue("b", "render", 5);
  st.enqueue("c", "mail", 9);
  st.enqueue("d", "render", 5);
  CHECK(st.queued("b"));
  CHECK(st.remove("b"));
  CHECK_FALSE(st.queued("b"));
  CHECK_FALSE(st.remove("b"));
  CHECK_FALSE(st.remove("never-queued"));
  CHECK(st.remove("c"));  // the only job of its tool
  CHECK(st.queue_size() == 2);
  CHECK(drain(st) == std::vector<std::string>{"a", "d"});
  CHECK_FALSE(st.pop_next(no_limit, never_paused).has_value());
  CHECK_FALSE(st.remove("a"));  // popped, so no longer queued
}

TEST_CASE("a removed job can be queued again and goes to the back of its priority",
          "[scheduler_state]") {
  scheduler_state st{100};
  st.enqueue("a", "t", 5);
  st.enqueue("b", "t", 5);
  REQUIRE(st.remove("a"));
  CHECK(st.enqueue("a", "t", 5) == 1);
  CHECK(drain(st) == std::vector<std::string>{"b", "a"});
}

TEST_CASE("an empty queue pops nothing", "[scheduler_state]") {
  scheduler_state st{1};
  CHECK_FALSE(st.pop_next(no_limit, never_paused).has_value());
  CHECK(st.running() == 0);
  CHECK(st.running("anything") == 0);
}

TEST_CASE("nothing starts while the global limit is reached", "[scheduler_state]") {
  scheduler_state st{2};
  CHECK(st.max_running() == 2);
  st.enqueue("a", "render", 5);
  st.enqueue("b", "mail", 5);
  st.enqueue("c", "zip", 5);
  CHECK(pop_and_start(st, "render") == "a");
  CHECK(pop_and_start(st, "mail") == "b");
  CHECK(st.running() == 2);
  CHECK_FALSE(st.pop_next(no_limit, never_paused).has_value());
  CHECK_FALSE(st.pop_next(no_limit, never_paused).has_value());
  CHECK(st.queued("c"));
  st.finished("mail");
  CHECK(st.running() == 1);
  CHECK(st.running("mail") == 0);
  CHECK(pop_and_start(st, "zip") == "c");
  CHECK(st.running() == 2);
}

TEST_CASE("a tool at its limit is skipped and jobs of other tools behind it still start",
          "[scheduler_state]") {
  scheduler_state st{10};
  const auto limit = [](const std::string& tool) { return tool == "render" ? 1 : 0; };
  st.enqueue("r1", "render", 9);
  st.enqueue("r2", "render", 9);
  st.enqueue("r3", "render", 9);
  st.enqueue("m1", "mail", 1);
  st.enqueue("m2", "mail", 1);

  auto id = st.pop_next(limit, never_paused);
  CHECK(id == "r1");
  st.started("render");
  CHECK(st.running("render") == 1);

  id = st.pop_next(limit, never_paused);
  CHECK(id == "m1");
  st.started("mail");
  id = st.pop_next(limit, never_paused);
  CHECK(id == "m2");
  st.started("mail");
  CHECK_FALSE(st.pop_next(limit, never_paused).has_value());
  CHECK(st.queued("r2"));

  st.finished("render");
  CHECK(st.pop_next(limit, never_paused) == "r2");
  st.started("render");
  CHECK_FALSE(st.pop_next(limit, never_paused).has_value());
  CHECK(st.running() == 3);
  CHECK(st.running("render") == 1);
  CHECK(st.running("mail") == 2);
}

TEST_CASE("a paused tool is skipped until it is resumed", "[scheduler_state]") {
  scheduler_state st{10};
  std::set<std::string> paused_tools{"render"};
  const auto paused = [&](const std::string& tool) { return paused_tools.contains(tool); };
  st.enqueue("r1", "render", 10);
  st.enqueue("m1", "mail", 0);
  CHECK(st.pop_next(no_limit, paused) == "m1");
  CHECK_FALSE(st.pop_next(no_limit, paused).has_value());
  CHECK(st.queued("r1"));
  paused_tools.clear();
  CHECK(st.pop_next(no_limit, paused) == "r1");
}

TEST_CASE("slot accounting counts per tool and in total", "[scheduler_state]") {
  scheduler_state st{5};
  st.started("a");
  st.started("a");
  st.started("b");
  CHECK(st.running() == 3);
  CHECK(st.running("a") == 2);
  CHECK(st.running("b") == 1);
  st.finished("a");
  st.finished("b");
  CHECK(st.running() == 1);
  CHECK(st.running("a") == 1);
  CHECK(st.running("b") == 0);
}

// A model of the queue: what the next pop must return, checked against the
// real thing under random interleavings of enqueue, remove, pop, finish and
// pause.
TEST_CASE("random interleavings respect every limit and start each job exactly once",
          "[scheduler_state]") {
  const std::uint64_t seed = GENERATE(1u, 2u, 3u, 17u, 99u, 2024u, 31337u, 424242u);
  CAPTURE(seed);
  std::mt19937_64 rng{seed};
  const auto roll = [&](int n) {
    return static_cast<int>(std::uniform_int_distribution<int>{0, n - 1}(rng));
  };

  const std::map<std::string, int> limits{{"a", 1}, {"b", 2}, {"c", 0}, {"d", 3}};
  const std::vector<std::string> tools{"a", "b", "c", "d"};
  const int max_running = 4;
  std::set<std::string> paused_tools;
  const auto limit = [&](const std::string& tool) { return limits.at(tool); };
  const auto paused = [&](const std::string& tool) { return paused_tools.contains(tool); };

  scheduler_state st{max_running};

  struct model_job {
    std::string id;
    std::string tool;
    int priority;
    std::uint64_t order;
  };
  std::vector<model_job> queue;                  // the model queue
  std::map<std::string, std::string> tool_of;    // every job ever enqueued
  std::set<std::string> popped, removed;
  std::vector<std::pair<std::string, std::string>> running;  // id, tool
  std::map<std::string, int> running_by_tool;
  std::uint64_t next_order = 0;
  int next_id = 0;
  int blocked_pops = 0;  // nothing started though jobs were queued
  int skipping_pops = 0;  // started a job with a better one still queued

  const auto eligible = [&](const model_job& j) {
    if (paused(j.tool)) return false;
    const int l = limits.at(j.tool);
    return l == 0 || running_by_tool[j.tool] < l;
  };
  const auto expected_next = [&]() -> std::optional<std::string> {
    if (static_cast<int>(running.size()) >= max_running) return std::nullopt;
    const model_job* best = nullptr;
    for (const auto& j : queue) {
      if (!eligible(j)) continue;
      if (!best || j.priority > best->priority ||
          (j.priority == best->priority && j.order < best->order))
        best = &j;
    }
    if (!best) return std::nullopt;
    return best->id;
  };
  const auto check_limits = [&] {
    REQUIRE(st.running() == static_cast<int>(running.size()));
    REQUIRE(st.running() <= max_running);
    for (const auto& t : tools) {
      REQUIRE(st.running(t) == running_by_tool[t]);
      if (limits.at(t) > 0) REQUIRE(st.running(t) <= limits.at(t));
    }
    REQUIRE(st.queue_size() == queue.size());
  };
  const auto do_pop = [&] {
    const auto want = expected_next();
    const auto got = st.pop_next(limit, paused);
    REQUIRE(got == want);
    if (!got) {
      blocked_pops += queue.empty() ? 0 : 1;
      return false;
    }
    const auto before = [](const model_job& x, const model_job& y) {
      return x.priority != y.priority ? x.priority > y.priority : x.order < y.order;
    };
    const auto& head = *std::min_element(queue.begin(), queue.end(), before);
    skipping_pops += head.id == *got ? 0 : 1;
    REQUIRE(popped.insert(*got).second);  // never twice
    REQUIRE_FALSE(removed.contains(*got));
    REQUIRE_FALSE(st.queued(*got));
    const auto& tool = tool_of.at(*got);
    queue.erase(std::find_if(queue.begin(), queue.end(),
                             [&](const model_job& j) { return j.id == *got; }));
    st.started(tool);
    running.emplace_back(*got, tool);
    ++running_by_tool[tool];
    return true;
  };
  const auto do_finish = [&] {
    if (running.empty()) return;
    const auto i = static_cast<std::size_t>(roll(static_cast<int>(running.size())));
    const auto tool = running[i].second;
    running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
    --running_by_tool[tool];
    st.finished(tool);
  };

  for (int step = 0; step < 5000; ++step) {
    CAPTURE(step);
    const int op = roll(100);
    if (op < 30) {
      const std::string id = "job" + std::to_string(next_id++);
      const auto& tool = tools[static_cast<std::size_t>(roll(static_cast<int>(tools.size())))];
      const int priority = roll(11);
      std::size_t ahead = 0;
      for (const auto& j : queue) ahead += j.priority >= priority ? 1 : 0;
      REQUIRE(st.enqueue(id, tool, priority) == ahead);
      REQUIRE(st.queued(id));
      queue.push_back({id, tool, priority, next_order++});
      tool_of.emplace(id, tool);
    } else if (op < 35) {
      if (!queue.empty()) {
        const auto i = static_cast<std::size_t>(roll(static_cast<int>(queue.size())));
        const auto id = queue[i].id;
        REQUIRE(st.remove(id));
        REQUIRE_FALSE(st.queued(id));
        queue.erase(queue.begin() + static_cast<std::ptrdiff_t>(i));
        removed.insert(id);
      }
    } else if (op < 65) {
      do_pop();
    } else if (op < 97) {
      do_finish();
    } else {
      const auto& tool = tools[static_cast<std::size_t>(roll(static_cast<int>(tools.size())))];
      if (!paused_tools.erase(tool)) paused_tools.insert(tool);
    }
    check_limits();
  }

  // Drain: resume every tool and run the rest to completion.
  paused_tools.clear();
  while (!queue.empty() || !running.empty()) {
    if (!do_pop()) do_finish();
    check_limits();
  }
  CHECK(st.queue_size() == 0);
  CHECK(st.running() == 0);
  // The run exercised the limits, not only the happy path.
  CHECK(blocked_pops > 0);
  CHECK(skipping_pops > 0);
  CHECK(popped.size() > 1000);
  CHECK(popped.size() + removed.size() == tool_of.size());
  for (const auto& [id, tool] : tool_of) {
    CAPTURE(id);
    CHECK(popped.contains(id) != removed.contains(id));
  }
}
