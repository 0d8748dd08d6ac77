// The server refuses settings it cannot serve safely, before it listens.
#include <catch2/catch.hpp>

#include "overseer/http/server.hpp"
#include "support/engine_fixture.hpp"

using namespace overseer;
using namespace overseer::test;

namespace {

std::string refusal(const http::server_config& cfg) {
  engine_fixture f;
  try {
    http::server s{*f.eng, cfg};
  } catch (const error& e) {
    CHECK(e.code() == errc::invalid_spec);
    return e.what();
  }
  FAIL("the server started");
  return {};
}

}  // namespace

TEST_CASE("an empty token is refused, whatever the address", "[http][auth]") {
  auto why = refusal({.listen = "127.0.0.1:0", .tokens = {"good", ""}});
  CHECK(why.find("bearer token 2 is empty") != std::string::npos);
}

TEST_CASE("a token that no Authorization header can carry is refused", "[http][auth]") {
  for (const auto& token : std::vector<std::string>{"two words", "tab\there", std::string{"nul\0x", 5},
                                                     "line\r\nbreak", "trailing "}) {
    INFO(token);
    CHECK(refusal({.listen = "127.0.0.1:0", .tokens = {token}}).find("whitespace or control characters") !=
          std::string::npos);
  }
}

TEST_CASE("zero limits and deadlines are refused", "[http]") {
  using namespace std::chrono_literals;
  CHECK(refusal({.listen = "127.0.0.1:0", .header_timeout = 0ms}).find("header_timeout") != std::string::npos);
  CHECK(refusal({.listen = "127.0.0.1:0", .idle_timeout = -1ms}).find("idle_timeout") != std::string::npos);
  CHECK(refusal({.listen = "127.0.0.1:0", .max_connections = 0}).find("max_connections") != std::string::npos);
  CHECK(refusal({.listen = "127.0.0.1:0", .max_streams = 0}).find("max_streams") != std::string::npos);
}

TEST_CASE("usable tokens and limits start the server", "[http]") {
  engine_fixture f;
  f.start();
  http::server s{*f.eng, {.listen = "127.0.0.1:0", .tokens = {"s3cret-token_+/=~."}, .max_connections = 1}};
  CHECK(s.port() != 0);
}
