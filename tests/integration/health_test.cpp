// GET /v1/health with tokens configured: a liveness answer for anyone, the
// full document only with a token.
#include <catch2/catch.hpp>

#include "support/daemon.hpp"
#include "support/http_helpers.hpp"
#include "support/temp_dir.hpp"

using namespace overseer::test;

TEST_CASE("without a token health is only a liveness answer, the token shows the full document",
          "[http][auth][health]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data", {"--token", "s3cret"}};
  http_client c{d.port()};

  SECTION("no token, or a wrong one: status only") {
    for (const auto& headers : {std::map<std::string, std::string>{},
                                std::map<std::string, std::string>{{"Authorization", "Bearer wrong"}},
                                std::map<std::string, std::string>{{"Authorization", "s3cret"}}}) {
      auto r = c.request("GET", "/v1/health", {}, {}, headers);
      CHECK(r.status == 200);
      CHECK(r.content_type == "application/json");
      CHECK(r.json() == boost::json::parse(R"({"status":"ok"})"));
    }
  }
  SECTION("the token: components, tools and queue figures") {
    auto r = c.request("GET", "/v1/health", {}, {}, {{"Authorization", "Bearer s3cret"}});
    CHECK(r.status == 200);
    const auto body = r.json().as_object();
    CHECK(str(body, "status") == "healthy");
    CHECK(body.at("components").at("tools").as_object().contains("noop"));
    CHECK(body.at("queue_stats").as_object().contains("pending_jobs"));
  }
}
