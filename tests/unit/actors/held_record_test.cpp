// held_record: a queued job's record held encoded comes back as it was
// stored.
#include <memory>

#include <catch2/catch.hpp>

#include "actors/held_record.hpp"
#include "support/records.hpp"

using overseer::actors::held_record;
using overseer::persistence::job_record;
using overseer::test::full_job;

TEST_CASE("a packed record decodes to the record it was", "[held_record]") {
  const auto original = full_job();
  held_record h{std::make_shared<job_record>(original)};
  CHECK_FALSE(h.packed());
  h.pack();
  CHECK(h.packed());
  const auto& r = h.get();
  REQUIRE(r);
  CHECK(*r == original);
  CHECK_FALSE(h.packed());
  // Read again without a pack in between: the same object, so changes stay.
  r->priority = 2;
  CHECK(h.get().get() == r.get());
  CHECK(h.get()->priority == 2);
  h.pack();
  CHECK(h.get()->priority == 2);
}

TEST_CASE("a holder of the record from before a pack keeps its own object", "[held_record]") {
  held_record h{std::make_shared<job_record>(full_job())};
  auto before = h.get();
  h.pack();
  before->name = "changed after the pack";
  CHECK(h.get()->name == "nightly render");
  CHECK(h.get().get() != before.get());
}

TEST_CASE("set replaces a packed record, and an empty holder stays empty", "[held_record]") {
  held_record h{std::make_shared<job_record>(full_job())};
  h.pack();
  auto other = std::make_shared<job_record>(full_job());
  other->id = "other";
  h.set(other);
  CHECK_FALSE(h.packed());
  CHECK(h.get().get() == other.get());
  held_record empty;
  empty.pack();
  CHECK_FALSE(empty.packed());
  CHECK_FALSE(empty.get());
}

TEST_CASE("a record packed with the bytes of its creation write decodes the same", "[held_record]") {
  const auto original = full_job();
  held_record h{std::make_shared<job_record>(original)};
  h.pack(overseer::persistence::encode(original));
  CHECK(h.packed());
  CHECK(*h.get() == original);
}
