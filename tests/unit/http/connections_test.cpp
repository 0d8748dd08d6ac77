#include "http/connections.hpp"

#include <catch2/catch.hpp>

using overseer::http::connections;

TEST_CASE("tickets count open connections up to the cap, and free their place when gone", "[connections]") {
  connections open;
  auto a = open.open_connection(2);
  auto b = open.open_connection(2);
  REQUIRE((a && b));
  CHECK_FALSE(open.open_connection(2));
  a.reset();
  auto c = open.open_connection(2);
  CHECK(c);
  // A moved ticket still counts once, and frees once.
  auto moved = std::move(*c);
  c.reset();
  CHECK_FALSE(open.open_connection(2));
  {
    auto gone = std::move(moved);
  }
  CHECK(open.open_connection(2));
}

TEST_CASE("streams are counted apart from connections", "[connections]") {
  connections open;
  auto s = open.open_stream(1);
  REQUIRE(s);
  CHECK_FALSE(open.open_stream(1));
  CHECK(open.open_connection(1));
}
