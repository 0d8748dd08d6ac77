// held_record: a queued job's record held encoded comes back as it was
// stored.
#include <chrono>
#include <memory>

#include <catch2/catch.hpp>

#include "actors/held_record.hpp"

using overseer::actors::held_record;
using overseer::persistence::job_record;

namespace {

job_record queued_record() {
  job_record r;
  r.id = "0000019a3c5e7f21-4b2c8d1e9f0a";
  r.tool = "annotate";
  r.tool_version = "2.1.0";
  r.name = "chromosome 7";
  r.params_json = R"({"genome":"hg38","chunks":12})";
  r.priority = 7;
  r.labels = {{"project", "p1"}, {"lab", "b"}};
  r.timeout_ms = 60'000;
  r.idempotency_key = "k-1";
  r.created_at = std::chrono::time_point_cast<std::chrono::milliseconds>(overseer::clock::now());
  r.run_at = r.created_at + std::chrono::seconds{5};
  r.batch_id = "batch-1";
  r.depends_on = {"a", "b"};
  r.owner = "alice";
  r.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  r.spec_hash = 0x1234567890abcdefULL;
  r.node_selector = {{"gpu", "a100"}};
  r.checkpoint = R"({"step":3})";
  return r;
}

}  // namespace

TEST_CASE("a packed record decodes to the record it was", "[held_record]") {
  const auto original = queued_record();
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
  held_record h{std::make_shared<job_record>(queued_record())};
  auto before = h.get();
  h.pack();
  before->name = "changed after the pack";
  CHECK(h.get()->name == "chromosome 7");
  CHECK(h.get().get() != before.get());
}

TEST_CASE("set replaces a packed record, and an empty holder stays empty", "[held_record]") {
  held_record h{std::make_shared<job_record>(queued_record())};
  h.pack();
  auto other = std::make_shared<job_record>(queued_record());
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
  const auto original = queued_record();
  held_record h{std::make_shared<job_record>(original)};
  h.pack(overseer::persistence::encode(original));
  CHECK(h.packed());
  CHECK(*h.get() == original);
}
