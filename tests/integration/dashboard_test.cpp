// The dashboard as the real overseerd serves it: GET and HEAD of the page
// and its assets, the policy and cache headers on the wire, 404 and 405,
// no token needed for the page while the API still wants one.
#include <catch2/catch.hpp>

#include <regex>

#include "integration/raw_connection.hpp"
#include "support/daemon.hpp"
#include "support/temp_dir.hpp"

using namespace overseer::test;
using namespace std::chrono_literals;

namespace {

/// The asset URLs index.html names, e.g. "/assets/0123456789abcdef/app.js".
std::vector<std::string> asset_urls(const std::string& page) {
  std::vector<std::string> out;
  const std::regex url{"\"(/assets/[0-9a-f]{16}/[a-z.]+)\""};
  for (auto it = std::sregex_iterator(page.begin(), page.end(), url); it != std::sregex_iterator(); ++it)
    out.push_back((*it)[1]);
  return out;
}

}  // namespace

TEST_CASE("overseerd serves the dashboard page and its assets with their headers", "[http][dashboard]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  http_client c{d.port()};
  const auto page = c.get("/");
  REQUIRE(page.status == 200);
  CHECK(page.content_type == "text/html; charset=utf-8");
  CHECK(page.headers.at("Cache-Control") == "no-cache");
  const auto csp = page.headers.at("Content-Security-Policy");
  CHECK(csp.find("default-src 'self'") != std::string::npos);
  CHECK(csp.find("connect-src 'self' ws://127.0.0.1 wss://127.0.0.1;") != std::string::npos);  // the client's Host
  CHECK(csp.find("unsafe-inline") == std::string::npos);

  const auto urls = asset_urls(page.body);
  REQUIRE(urls.size() == 3);  // favicon, style sheet, script
  for (const auto& url : urls) {
    INFO(url);
    const auto a = c.get(url);
    CHECK(a.status == 200);
    CHECK(a.headers.at("Cache-Control") == "public, max-age=31536000, immutable");
    CHECK_FALSE(a.headers.at("ETag").empty());
    CHECK_FALSE(a.body.empty());
    if (url.ends_with(".js")) CHECK(a.content_type == "text/javascript; charset=utf-8");
    if (url.ends_with(".css")) CHECK(a.content_type == "text/css; charset=utf-8");
    if (url.ends_with(".svg")) CHECK(a.content_type == "image/svg+xml");
    // Revalidation with the ETag costs no body.
    const auto again = c.request("GET", url, {}, "application/json", {{"If-None-Match", a.headers.at("ETag")}});
    CHECK(again.status == 304);
    CHECK(again.body.empty());
  }
  // The page's module imports its siblings relative to its own URL.
  const auto script = std::find_if(urls.begin(), urls.end(), [](auto& u) { return u.ends_with("/app.js"); });
  REQUIRE(script != urls.end());
  const auto dir_url = script->substr(0, script->rfind('/') + 1);
  for (const char* module : {"dom.js", "api.js", "stream.js", "overview.js", "jobs.js", "job.js", "batch.js",
                             "tools.js", "submit.js"}) {
    INFO(module);
    CHECK(c.get(dir_url + module).status == 200);
  }

  // Unknown assets and other builds are 404 problem documents.
  for (const std::string& target : {dir_url + "nope.js", std::string{"/assets/0000000000000000/app.js"},
                                   std::string{"/assets/app.js"}, dir_url + "index.html"}) {
    INFO(target);
    const auto r = c.get(target);
    CHECK(r.status == 404);
    CHECK(r.content_type == "application/problem+json");
  }
  // GET and HEAD only.
  for (const char* method : {"POST", "PUT", "DELETE"}) {
    const auto r = c.request(method, "/");
    CHECK(r.status == 405);
    CHECK(r.headers.at("Allow") == "GET, HEAD");
  }
  // A query the page URL may carry is ignored, repeated keys included.
  CHECK(c.get("/?utm=1&utm=2").status == 200);
  // The API is unchanged beside it.
  CHECK(c.get("/v1/jobs").status == 200);
}

TEST_CASE("HEAD of the page and of an asset is GET's header without the body", "[http][dashboard]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  http_client c{d.port()};
  const auto page = c.get("/");
  const auto css = asset_urls(page.body).at(1);
  raw_connection raw{d.port()};
  for (const std::string& target : {std::string{"/"}, css}) {
    INFO(target);
    raw.send(request_text("GET", target));
    const auto get = raw.read();
    raw.send(request_text("HEAD", target));
    const auto head = raw.read(20s, true);
    REQUIRE((get && head));
    CHECK(head->status == 200);
    CHECK(head->header("content-length") == std::to_string(get->body.size()));
    CHECK(head->header("content-type") == get->header("content-type"));
    CHECK(head->header("etag") == get->header("etag"));
    CHECK(head->header("content-security-policy") == get->header("content-security-policy"));
    CHECK(head->body.empty());
  }
  raw.send(request_text("GET", "/v1/health"));
  const auto after = raw.read();
  REQUIRE(after);
  CHECK(after->status == 200);
}

TEST_CASE("with tokens the page loads without one, and the API and stream still need one", "[http][dashboard]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data", {"--token", "s3cret-token"}};
  http_client c{d.port()};
  const auto page = c.get("/");
  CHECK(page.status == 200);
  for (const auto& url : asset_urls(page.body)) CHECK(c.get(url).status == 200);
  CHECK(c.get("/v1/jobs").status == 401);
  CHECK(c.request("GET", "/v1/jobs", {}, "application/json", {{"Authorization", "Bearer wrong"}}).status == 401);
  CHECK(c.request("GET", "/v1/jobs", {}, "application/json", {{"Authorization", "Bearer s3cret-token"}}).status ==
        200);
}
