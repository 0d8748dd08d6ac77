// Serving the embedded dashboard (http/dashboard.cpp): content types, the
// Content-Security-Policy, caching and validators, 404s; and the embedded
// bytes are exactly web/ as it is on disk.
#include "http/dashboard.hpp"

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include "http/web_assets.hpp"

#ifndef OVERSEER_SOURCE_DIR
#error "OVERSEER_SOURCE_DIR must name the source tree (tests/CMakeLists.txt defines it)"
#endif

using namespace overseer::http;

namespace {

request get(const std::string& target, const std::string& host = "127.0.0.1:8080") {
  request req{bhttp::verb::get, target, 11};
  req.set(bhttp::field::host, host);
  return req;
}

response serve(const request& req, route_id route, std::map<std::string, std::string> params = {}) {
  static const std::string peer = "client 127.0.0.1";
  return dashboard_response(call{req, route, std::move(params), {}, peer});
}

response serve_asset(const std::string& name, const std::string& build = std::string{web_build_id()},
                     const std::string& if_none_match = {}) {
  auto req = get("/assets/" + build + "/" + name);
  if (!if_none_match.empty()) req.set(bhttp::field::if_none_match, if_none_match);
  return serve(req, route_id::dashboard_asset, {{"build", build}, {"name", name}});
}

std::string header(const response& res, std::string_view name) {
  const auto v = res[name];
  return std::string{v.data(), v.size()};
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in{p, std::ios::binary};
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

const std::filesystem::path web_dir = OVERSEER_SOURCE_DIR "/web";

}  // namespace

TEST_CASE("the page is served with no-cache, a validator and the strict policy", "[dashboard]") {
  const auto res = serve(get("/"), route_id::dashboard);
  CHECK(res.result_int() == 200);
  CHECK(header(res, "Content-Type") == "text/html; charset=utf-8");
  CHECK(header(res, "Cache-Control") == "no-cache");
  CHECK(header(res, "ETag") == std::string{web_assets().front().etag});
  CHECK(header(res, "X-Content-Type-Options") == "nosniff");
  const auto csp = header(res, "Content-Security-Policy");
  CHECK(csp.starts_with("default-src 'self'; script-src 'self'; style-src 'self';"));
  CHECK(csp.find("connect-src 'self' ws://127.0.0.1:8080 wss://127.0.0.1:8080;") != std::string::npos);
  CHECK(csp.find("unsafe") == std::string::npos);
  CHECK(csp.find("frame-ancestors 'none'") != std::string::npos);
  // The page names this build's assets, and nothing is left to fill in.
  CHECK(res.body().find("/assets/" + std::string{web_build_id()} + "/app.js") != std::string::npos);
  CHECK(res.body().find("@BUILD_ID@") == std::string::npos);
  CHECK(res.body().size() == std::stoul(header(res, "Content-Length")));
}

TEST_CASE("every asset has its content type and a year-long immutable lifetime", "[dashboard]") {
  for (const auto& a : web_assets()) {
    if (a.name == "index.html") continue;
    INFO(a.name);
    const auto res = serve_asset(std::string{a.name});
    CHECK(res.result_int() == 200);
    CHECK(header(res, "Content-Type") == content_type_of(a.name));
    CHECK(header(res, "Cache-Control") == "public, max-age=31536000, immutable");
    CHECK(header(res, "ETag") == std::string{a.etag});
    CHECK_FALSE(header(res, "Content-Security-Policy").empty());
    CHECK(res.body() == a.body);
  }
}

TEST_CASE("content types follow the file extension", "[dashboard]") {
  auto [name, type] = GENERATE(table<std::string, std::string>({
    {"index.html", "text/html; charset=utf-8"},
    {"app.js", "text/javascript; charset=utf-8"},
    {"app.css", "text/css; charset=utf-8"},
    {"favicon.svg", "image/svg+xml"},
    {"shot.png", "image/png"},
    {"data.json", "application/json"},
    {"README", "application/octet-stream"},
  }));
  CHECK(content_type_of(name) == type);
}

TEST_CASE("a matching If-None-Match gets a 304 without a body", "[dashboard]") {
  const auto& app = *std::find_if(web_assets().begin(), web_assets().end(),
                                  [](const web_asset& a) { return a.name == "app.js"; });
  const std::string etag{app.etag};
  auto tags = GENERATE_COPY(values<std::string>({etag, "W/" + etag, "\"other\", " + etag, "*"}));
  INFO(tags);
  const auto res = serve_asset("app.js", std::string{web_build_id()}, tags);
  CHECK(res.result_int() == 304);
  CHECK(res.body().empty());
  CHECK(header(res, "ETag") == etag);
  CHECK(serve_asset("app.js", std::string{web_build_id()}, "\"other\"").result_int() == 200);
}

TEST_CASE("an unknown asset, another build's or index.html under /assets is a 404 problem", "[dashboard]") {
  auto [build, name] = GENERATE(table<std::string, std::string>({
    {std::string{web_build_id()}, "nope.js"},
    {"0123456789abcdef", "app.js"},
    {std::string{web_build_id()}, "index.html"},
    {std::string{web_build_id()}, "..%2Fapp.js"},
  }));
  const auto res = serve_asset(name, build);
  CHECK(res.result_int() == 404);
  CHECK(header(res, "Content-Type") == "application/problem+json");
  const auto doc = boost::json::parse(res.body());
  CHECK(doc.at("status").as_int64() == 404);
  CHECK(std::string{doc.at("detail").as_string()}.find(name) != std::string::npos);
}

TEST_CASE("a Host header that is not a plain host adds no ws: source to the policy", "[dashboard]") {
  CHECK(content_security_policy("example.org:8080").find("ws://example.org:8080 wss://example.org:8080") !=
        std::string::npos);
  CHECK(content_security_policy("[::1]:80").find("ws://[::1]:80") != std::string::npos);
  for (const std::string& bad : std::vector<std::string>{"", "evil.org; script-src *", "a b", "x\"y", std::string(300, 'a')}) {
    INFO(bad);
    const auto csp = content_security_policy(bad);
    CHECK(csp.find("ws:") == std::string::npos);
    CHECK(csp.find("connect-src 'self';") != std::string::npos);
  }
}

TEST_CASE("the embedded assets are web/ byte for byte, and the page stays free of inline code", "[dashboard]") {
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(web_dir)) {
    ++files;
    const auto name = entry.path().filename().string();
    INFO(name);
    const auto it = std::find_if(web_assets().begin(), web_assets().end(),
                                 [&](const web_asset& a) { return a.name == name; });
    REQUIRE(it != web_assets().end());
    const auto text = read_file(entry.path());
    if (name != "index.html") CHECK(it->body == text);
    // Server text only ever enters the page as text: no HTML parsing sinks.
    if (name.ends_with(".js")) {
      for (const char* sink : {"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("}) {
        INFO(sink);
        CHECK(text.find(sink) == std::string::npos);
      }
    }
  }
  CHECK(web_assets().size() == files);
  // A strict policy would block inline code: there must be none to block.
  const std::string index{web_assets().front().body};
  CHECK(web_assets().front().name == "index.html");
  CHECK_FALSE(std::regex_search(index, std::regex{"<script(?![^>]*\\bsrc=)[^>]*>"}));
  CHECK(index.find("<style") == std::string::npos);
  CHECK(index.find(" style=") == std::string::npos);
  CHECK_FALSE(std::regex_search(index, std::regex{" on[a-z]+="}));
}
