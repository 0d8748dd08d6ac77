// Cache keys and spec fingerprints are stored (the cache family's keys, a
// job record's spec_hash): the values below were computed before the number
// formatting moved to tools/json_number.hpp, and must never change.
#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>

#include "actors/fingerprint.hpp"

using namespace overseer;

namespace {

boost::json::object sample_params() {
  return boost::json::parse(
           R"({"b":2.0,"a":[1,0.5,1e15,1e16,-3.0,"x",true,null],"c":{"z":1e-7,"y":123456.789}})")
    .as_object();
}

}  // namespace

TEST_CASE("canonical JSON sorts keys and spells each number one way", "[fingerprint]") {
  CHECK(actors::canonical_json(sample_params()) ==
        R"({"a":[1,0.5,1000000000000000,1e+16,-3,"x",true,null],"b":2,"c":{"y":123456.789,"z":1e-07}})");
  CHECK(actors::canonical_json(boost::json::parse(R"({"x":1.0,"w":2})")) ==
        actors::canonical_json(boost::json::parse(R"({"w":2,"x":1})")));
}

TEST_CASE("a cache key is the same as every earlier build's", "[fingerprint]") {
  CHECK(actors::cache_key("sleep", "1.0", sample_params()) == "292e216986e4509bd0fa0f4e361b2b2f");
  CHECK(actors::cache_key("sleep", "1.1", sample_params()) != "292e216986e4509bd0fa0f4e361b2b2f");
}

TEST_CASE("a spec fingerprint is the same as every earlier build's", "[fingerprint]") {
  job_spec s;
  s.tool = "sleep";
  s.params = sample_params();
  s.name = "n";
  s.priority = 7;
  s.labels = {{"k", "v"}};
  s.timeout = std::chrono::seconds(30);
  s.retry = retry_policy{.max_attempts = 3, .initial_backoff = std::chrono::milliseconds(250), .multiplier = 1.5};
  s.ttl_hours = 48;
  s.use_cache = true;
  s.depends_on = {"job_a"};
  s.delay = std::chrono::milliseconds(1500);
  CHECK(actors::spec_fingerprint(s) == 0xca243921397b4b77ULL);
  s.priority = 6;
  CHECK(actors::spec_fingerprint(s) != 0xca243921397b4b77ULL);
  // A webhook is part of the request: an idempotent repeat must name the same one.
  s.priority = 7;
  s.notify = notify_spec{"http://127.0.0.1/hook", {}};
  const auto with_notify = actors::spec_fingerprint(s);
  CHECK(with_notify != 0xca243921397b4b77ULL);
  s.notify->events.progress = true;
  CHECK(actors::spec_fingerprint(s) != with_notify);
  // So is a node selector; a spec without one keeps its fingerprint.
  const auto before = actors::spec_fingerprint(s);
  s.node_selector = {{"gpu", "a100"}};
  CHECK(actors::spec_fingerprint(s) != before);
  s.node_selector.clear();
  CHECK(actors::spec_fingerprint(s) == before);
}
