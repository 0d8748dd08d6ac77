// The scheduler's plain parts, without actors or clocks: batch admission,
// the dependency graph and idempotency claims.
#include <catch2/catch.hpp>

#include "actors/batch_admission.hpp"
#include "actors/dependency_graph.hpp"
#include "actors/idempotency_claims.hpp"

using namespace overseer;
using namespace overseer::actors;

namespace {

persistence::batch_record batch(std::vector<std::string> ids, int limit, bool fail_fast = false) {
  persistence::batch_record b;
  b.id = "b1";
  b.job_ids = std::move(ids);
  b.parallel_limit = limit;
  b.fail_fast = fail_fast;
  return b;
}

submit_job submit(std::string id, std::uint64_t hash, std::vector<submit_result>* answers = nullptr) {
  auto rec = std::make_shared<persistence::job_record>();
  rec->id = std::move(id);
  rec->spec_hash = hash;
  rec->idempotency_key = "k";
  return {rec, [answers](submit_result r) {
            if (answers) answers->push_back(std::move(r));
          },
          std::nullopt};
}

}  // namespace

TEST_CASE("batch admission holds jobs past the limit and releases them in list order", "[scheduler][batch]") {
  batch_admission a;
  a.add(batch({"j0", "j1", "j2", "j3"}, 2), 4);
  CHECK(a.admit("b1", "j0"));
  CHECK(a.admit("b1", "j1"));
  // Held back, arriving out of order: released by list position.
  CHECK_FALSE(a.admit("b1", "j3"));
  CHECK_FALSE(a.admit("b1", "j2"));
  CHECK_FALSE(a.next_admissible("b1"));  // no room yet
  CHECK(a.finished("b1", job_status::completed, true).cancel.empty());
  CHECK(a.next_admissible("b1") == "j2");
  CHECK(a.admit("b1", "j2"));            // the caller admits what it took
  CHECK_FALSE(a.next_admissible("b1"));  // and j2 fills the room
  a.finished("b1", job_status::completed, true);
  CHECK(a.next_admissible("b1") == "j3");
  CHECK(a.admit("b1", "j3"));
  for (int i = 0; i < 2; ++i) a.finished("b1", job_status::completed, true);
  CHECK(a.size() == 1);
  CHECK_FALSE(a.next_admissible("b1"));  // nothing unfinished: forgotten
  CHECK(a.size() == 0);
  CHECK(a.admit("unknown", "x"));  // a job of no tracked batch is never held back
}

TEST_CASE("a batch without a limit admits everything, fail-fast names every job to cancel", "[scheduler][batch]") {
  batch_admission a;
  a.add(batch({"j0", "j1", "j2"}, 0, true), 3);
  for (auto id : {"j0", "j1", "j2"}) CHECK(a.admit("b1", id));
  CHECK(a.finished("b1", job_status::completed, true).cancel.empty());
  const auto end = a.finished("b1", job_status::timed_out, true);
  CHECK(end.cancel == std::vector<std::string>{"j0", "j1", "j2"});
  a.cancel("b1");
  REQUIRE(a.find("b1"));
  CHECK(a.find("b1")->cancelled);
}

TEST_CASE("a retried job reopens its batch, even one already forgotten", "[scheduler][batch]") {
  batch_admission a;
  a.add(batch({"j0"}, 1), 1);
  CHECK(a.admit("b1", "j0"));
  a.finished("b1", job_status::failed, true);
  CHECK_FALSE(a.next_admissible("b1"));
  CHECK(a.size() == 0);
  a.reopen("b1", batch({"j0"}, 1));
  CHECK(a.size() == 1);
  CHECK(a.admit("b1", "j0"));
  CHECK_FALSE(a.admit("b1", "j1"));  // the limit applies again
}

TEST_CASE("the dependency graph releases a job once every dependency completed", "[scheduler][dependencies]") {
  dependency_graph g;
  g.add("c", "a");
  g.add("c", "b");
  g.add("c", "b");  // twice is once
  g.add("d", "a");
  CHECK(g.waiting("c"));
  CHECK(g.waits_for("c") == std::set<std::string>{"a", "b"});
  auto released = g.resolve("a", true);
  std::sort(released.begin(), released.end());
  CHECK(released == std::vector<std::string>{"c", "d"});
  CHECK(g.waiting("c"));  // still b
  CHECK_FALSE(g.waiting("d"));
  CHECK(g.resolve("a", true).empty());  // resolved once
  CHECK(g.resolve("b", true) == std::vector<std::string>{"c"});
  CHECK_FALSE(g.waiting("c"));
  CHECK(g.size() == 0);
}

TEST_CASE("a dependency that fails hands back its dependents still waiting, to fail them", "[scheduler][dependencies]") {
  dependency_graph g;
  g.add("c", "a");
  g.add("c", "b");
  CHECK(g.resolve("a", false) == std::vector<std::string>{"c"});
  CHECK(g.waiting("c"));  // the caller fails it, then forgets it
  g.forget("c");
  CHECK_FALSE(g.waiting("c"));
  CHECK(g.resolve("b", true).empty());  // forgotten everywhere
  CHECK(g.size() == 0);
}

TEST_CASE("idempotency claims answer every submit of a key against its one owner", "[scheduler][idempotency]") {
  idempotency_claims c;
  std::vector<submit_result> answers;
  CHECK(c.enqueue("k", submit("J1", 7, &answers)));    // first: look the key up
  CHECK_FALSE(c.enqueue("k", submit("J2", 7, &answers)));  // waits behind it
  auto waiters = c.take("k");
  REQUIRE(waiters.size() == 2);
  CHECK(c.size() == 0);
  // Not found in the store: the first creates the job and claims the key.
  c.claim("k", waiters.front().record->id, waiters.front().record->spec_hash);
  CHECK_FALSE(c.enqueue("k", submit("J3", 8, &answers)));  // arrives meanwhile, different spec
  auto settled = c.settle("k");
  REQUIRE(settled);
  CHECK(settled->owner == "J1");
  REQUIRE(settled->waiters.size() == 1);
  CHECK(c.size() == 0);

  const auto same = idempotency_claims::answer(waiters[1], "J1", 7, job_status::pending);
  CHECK(same.code == errc::ok);
  CHECK(same.job_id == "J1");
  CHECK(same.existing);
  CHECK(same.status == job_status::pending);
  const auto other = idempotency_claims::answer(settled->waiters[0], "J1", 7, job_status::pending);
  CHECK(other.code == errc::conflict);
  REQUIRE(other.errors.size() == 1);
  CHECK(other.errors[0].field == "idempotency_key");
  CHECK(other.message.find("used by job J1 with a different spec") != std::string::npos);
}
