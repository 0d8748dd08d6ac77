// Where a cluster's next attempt goes (actors/node_table.hpp).
#include <catch2/catch.hpp>

#include "actors/node_table.hpp"

using overseer::actors::node_table;

namespace {

node_table::node make(const std::string& name, int capacity, bool local, std::uint64_t session,
                      std::map<std::string, std::string> tools = {{"sleep", "1"}}) {
  node_table::node n;
  n.view.name = name;
  n.view.capacity = capacity;
  n.view.local = local;
  n.view.tools = std::move(tools);
  n.session = session;
  return n;
}

std::string picked(const node_table& t, const std::string& tool = "sleep", const std::string& version = "1",
                   bool local_only = false) {
  const auto* n = t.pick(tool, version, local_only);
  return n ? n->view.name : "none";
}

}  // namespace

TEST_CASE("an attempt goes to the node with the most free slots, this node first on a tie", "[node_table]") {
  node_table t;
  t.add(make("here", 1, true, 0));
  t.add(make("w1", 2, false, 1));
  t.add(make("w2", 2, false, 2));
  CHECK(t.capacity() == 5);
  CHECK(picked(t) == "w1");  // 2 free, before w2 by name
  t.started("w1", 1);
  CHECK(picked(t) == "w2");  // 2 free beats 1
  t.started("w2", 2);
  CHECK(picked(t) == "here");  // 1 free each: this node wins the tie
  t.started("here", 0);
  t.started("w1", 1);
  t.started("w2", 2);
  CHECK(picked(t) == "none");  // full
  t.finished("w2", 2);
  CHECK(picked(t) == "w2");
}

TEST_CASE("a worker gets only the tools it offers at the scheduler node's version", "[node_table]") {
  node_table t;
  t.add(make("here", 0, true, 0));
  t.add(make("w1", 4, false, 1, {{"sleep", "1"}, {"annotate", "2.0"}}));
  CHECK(picked(t, "annotate", "2.0") == "w1");
  CHECK(picked(t, "annotate", "2.1") == "none");  // another version
  CHECK(picked(t, "convert", "1") == "none");     // not offered
  CHECK(picked(t, "sleep", "1", true) == "none");  // local only, and this node has no capacity
}

TEST_CASE("a rejoined node's slots are not taken by its earlier membership's attempts", "[node_table]") {
  node_table t;
  t.add(make("w1", 1, false, 1));
  t.started("w1", 1);
  CHECK(picked(t) == "none");
  // The node is lost and rejoins (session 2) while session 1's attempt has
  // not released its slot yet.
  REQUIRE(t.remove("w1", 1));
  t.add(make("w1", 1, false, 2));
  CHECK(picked(t) == "w1");
  t.finished("w1", 1);  // the old attempt's release changes nothing now
  t.started("w1", 2);
  CHECK(picked(t) == "none");
  CHECK(!t.remove("w1", 1));  // a stale loss does not remove the new membership
  CHECK(t.find("w1") != nullptr);
  REQUIRE(t.views().size() == 1);
  CHECK(t.views()[0].running == 1);
}
