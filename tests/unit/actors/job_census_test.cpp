// The census of job actors (actors/job_census.hpp) the engine waits on at
// stop: it counts an actor until it terminates, reaches every counted actor
// with shut_down, and its wait returns only once the last one has gone,
// not when they were told. (Every actor here takes an argument: CAF 0.17
// dereferences a null pointer to an empty argument tuple when a function
// actor takes none, which UBSan reports.)
#include "actors/job_census.hpp"

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <caf/all.hpp>

#include "overseer/engine.hpp"
#include "support/eventually.hpp"

using namespace std::chrono_literals;
using overseer::test::eventually;

namespace {

caf::actor_system_config& census_config() {
  static caf::actor_system_config* cfg = [] {
    auto* c = new caf::actor_system_config;
    overseer::register_types(*c);
    return c;
  }();
  return *cfg;
}

/// Sees shut_down, then goes only when sent a string: an actor that still
/// has work to finish after it was told to stop.
caf::behavior lingering(caf::event_based_actor* self, std::atomic<int>* told) {
  return {
    [told](overseer::actors::shut_down) { ++*told; },
    [self](const std::string&) { self->quit(); },
  };
}

}  // namespace

TEST_CASE("the job census counts actors until they terminate and waits for the last", "[job_census]") {
  caf::actor_system sys{census_config()};
  auto census = std::make_shared<overseer::actors::job_census>();
  std::atomic<int> told{0};
  std::vector<caf::actor> actors;
  for (int i = 0; i < 3; ++i) {
    actors.push_back(sys.spawn(lingering, &told));
    census->add(actors.back());
  }
  CHECK(census->size() == 3);

  census->shut_down_all();
  REQUIRE(eventually([&] { return told.load() == 3; }));
  CHECK(census->size() == 3);  // told is not gone

  auto waited = std::async(std::launch::async, [&] { census->wait_empty(); });
  CHECK(waited.wait_for(50ms) == std::future_status::timeout);
  caf::anon_send(actors[0], std::string{"go"});
  caf::anon_send(actors[1], std::string{"go"});
  REQUIRE(eventually([&] { return census->size() == 1; }));
  CHECK(waited.wait_for(50ms) == std::future_status::timeout);
  caf::anon_send(actors[2], std::string{"go"});
  CHECK(waited.wait_for(30s) == std::future_status::ready);
  CHECK(census->size() == 0);

  // One that has already gone when it is added is not counted.
  auto gone = sys.spawn(lingering, &told);
  caf::scoped_actor self{sys};
  self->monitor(gone);
  caf::anon_send(gone, std::string{"go"});
  self->receive([](const caf::down_msg&) {});
  census->add(gone);
  CHECK(census->size() == 0);
  census->wait_empty();
}
