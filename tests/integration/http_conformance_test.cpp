// HTTP/1.1 and 1.0 as clients really use it, over raw sockets against the
// real daemon: every request read is answered, in order, and the connection
// ends the way the client asked. Each case includes POST /v1/jobs, whose
// answer comes asynchronously from the engine (where answers used to be
// lost once the session stopped reading).
#include <sstream>
#include <catch2/catch.hpp>

#include <boost/algorithm/string/replace.hpp>

#include "http/router.hpp"
#include "http/web_assets.hpp"
#include "integration/raw_connection.hpp"
#include "support/daemon.hpp"
#include "support/eventually.hpp"
#include "support/http_helpers.hpp"
#include "support/temp_dir.hpp"

using namespace overseer::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

const std::string submit_body = R"({"tool":"noop"})";

}  // namespace

TEST_CASE("Connection: close is answered, then the server closes", "[http][conformance]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  http_client c{d.port()};
  SECTION("an asynchronous route, 50 times over") {
    for (int i = 0; i < 50; ++i) {
      raw_connection raw{d.port()};
      raw.send(request_text("POST", "/v1/jobs", submit_body, "Connection: close\r\n"));
      auto r = raw.read();
      REQUIRE(r);
      CHECK(r->status == 202);
      CHECK(r->json().at("job_id").is_string());
      CHECK(r->header("connection") == "close");
      CHECK(raw.ends_within(5s));
      CHECK_FALSE(raw.was_reset());
    }
    CHECK(job_count(c) == 50);
  }
  SECTION("health, a read and an error") {
    for (const auto& [target, status] : std::vector<std::pair<std::string, unsigned>>{
           {"/v1/health", 200}, {"/v1/jobs", 200}, {"/v1/jobs/nope", 404}}) {
      raw_connection raw{d.port()};
      raw.send(request_text("GET", target, {}, "Connection: close\r\n"));
      auto r = raw.read();
      REQUIRE(r);
      CHECK(r->status == status);
      CHECK(r->header("connection") == "close");
      CHECK(raw.ends_within(5s));
    }
  }
  SECTION("requests pipelined after the closing one are not read") {
    raw_connection raw{d.port()};
    raw.send(request_text("POST", "/v1/jobs", submit_body, "Connection: close\r\n") +
             request_text("POST", "/v1/jobs", submit_body));
    auto r = raw.read();
    REQUIRE(r);
    CHECK(r->status == 202);
    CHECK_FALSE(raw.read(5s));  // the connection ends after the first answer
    CHECK(job_count(c) == 1);
  }
  SECTION("close in a second Connection field is heard: the fields are one list") {
    raw_connection raw{d.port()};
    raw.send(request_text("GET", "/v1/health", {}, "Connection: keep-alive\r\nConnection: close\r\n") +
             request_text("POST", "/v1/jobs", submit_body));
    auto r = raw.read();
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->header("connection") == "close");
    CHECK_FALSE(raw.read(5s));
    CHECK(job_count(c) == 0);
  }
}

TEST_CASE("HTTP/1.0 closes after the answer unless it asks for keep-alive", "[http][conformance]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  http_client c{d.port()};
  SECTION("without keep-alive") {
    for (const auto& [method, target, body, status] : std::vector<std::tuple<std::string, std::string, std::string, unsigned>>{
           {"POST", "/v1/jobs", submit_body, 202}, {"GET", "/v1/health", "", 200}, {"GET", "/v1/nothing", "", 404}}) {
      INFO(method << " " << target);
      raw_connection raw{d.port()};
      raw.send(request_text(method, target, body, {}, "HTTP/1.0"));
      auto r = raw.read();
      REQUIRE(r);
      CHECK(r->status == status);
      CHECK(r->version == 10);
      CHECK(r->header("connection") != "keep-alive");
      CHECK(raw.ends_within(5s));
    }
  }
  SECTION("with Connection: keep-alive the connection stays open") {
    raw_connection raw{d.port()};
    for (int i = 0; i < 3; ++i) {
      raw.send(request_text("POST", "/v1/jobs", submit_body, "Connection: keep-alive\r\n", "HTTP/1.0"));
      auto r = raw.read();
      REQUIRE(r);
      CHECK(r->status == 202);
      CHECK(r->version == 10);
      CHECK(r->header("connection") == "keep-alive");
    }
    CHECK_FALSE(raw.ends_within(300ms));
    raw.send(request_text("GET", "/v1/health", {}, {}, "HTTP/1.0"));
    auto last = raw.read();
    REQUIRE(last);
    CHECK(last->status == 200);
    CHECK(raw.ends_within(5s));
  }
  SECTION("keep-alive in a second Connection field keeps it open") {
    raw_connection raw{d.port()};
    raw.send(request_text("POST", "/v1/jobs", submit_body, "Connection: x-other\r\nConnection: keep-alive\r\n",
                          "HTTP/1.0"));
    auto r = raw.read();
    REQUIRE(r);
    CHECK(r->status == 202);
    CHECK(r->header("connection") == "keep-alive");
    CHECK_FALSE(raw.ends_within(300ms));
  }
  SECTION("a chunked body is faulty framing in HTTP/1.0: answered, then closed, even with keep-alive") {
    raw_connection raw{d.port()};
    raw.send("POST /v1/jobs HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n"
             "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
             [] {
               std::ostringstream hex;
               hex << std::hex << submit_body.size();
               return hex.str();
             }() +
             "\r\n" + submit_body + "\r\n0\r\n\r\n" + request_text("POST", "/v1/jobs", submit_body, {}, "HTTP/1.0"));
    auto r = raw.read();
    REQUIRE(r);
    CHECK(r->status == 202);
    CHECK(r->header("connection") != "keep-alive");
    CHECK_FALSE(raw.read(5s));  // the request behind it is not read
  }
  CHECK(job_count(c) >= 1);
}

TEST_CASE("Expect: 100-continue gets a 100 after the headers, the answer after the body", "[http][conformance]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data", {"--body-limit", "4096"}};
  http_client c{d.port()};
  const std::string head = "POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                           "Expect: 100-continue\r\nContent-Length: " +
                           std::to_string(submit_body.size()) + "\r\n\r\n";
  SECTION("the body is sent only after the 100") {
    raw_connection raw{d.port()};
    raw.send(head);
    auto interim = raw.read(10s);
    REQUIRE(interim);
    CHECK(interim->status == 100);
    CHECK_FALSE(raw.readable_within(200ms));  // nothing more until the body comes
    raw.send(submit_body);
    auto r = raw.read();
    REQUIRE(r);
    CHECK(r->status == 202);
    CHECK(job_count(c) == 1);
  }
  SECTION("the 100 follows the answers to earlier pipelined requests") {
    raw_connection raw{d.port()};
    raw.send(request_text("POST", "/v1/jobs", submit_body) + request_text("GET", "/v1/health") + head);
    auto first = raw.read();
    auto second = raw.read();
    auto interim = raw.read();
    REQUIRE((first && second && interim));
    CHECK(first->status == 202);
    CHECK(second->status == 200);
    CHECK(interim->status == 100);
    raw.send(submit_body);
    auto r = raw.read();
    REQUIRE(r);
    CHECK(r->status == 202);
    CHECK(job_count(c) == 2);
  }
  SECTION("a declared length over the limit gets 413 and no 100") {
    raw_connection raw{d.port()};
    raw.send("POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
             "Expect: 100-continue\r\nContent-Length: 100000\r\n\r\n");
    auto r = raw.read();
    REQUIRE(r);
    CHECK(r->status == 413);
    CHECK(r->header("content-type") == "application/problem+json");
    CHECK(raw.ends_within(5s));
    CHECK(job_count(c) == 0);
  }
  SECTION("another expectation gets 417") {
    raw_connection raw{d.port()};
    raw.send("POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
             "Expect: 200-ok\r\nContent-Length: 15\r\n\r\n");
    auto r = raw.read();
    REQUIRE(r);
    CHECK(r->status == 417);
    CHECK(r->json().at("detail").as_string().find("200-ok") != json::string::npos);
    CHECK(raw.ends_within(5s));
  }
  SECTION("an HTTP/1.0 client gets no 100 (it has no expectations)") {
    raw_connection raw{d.port()};
    raw.send(request_text("POST", "/v1/jobs", submit_body, "Expect: 100-continue\r\n", "HTTP/1.0"));
    auto r = raw.read();
    REQUIRE(r);
    CHECK(r->status == 202);
  }
}

TEST_CASE("HEAD answers every GET route with GET's status and headers, and no body", "[http][conformance]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  http_client c{d.port()};
  const auto job = submit(c, json::parse(submit_body));
  await_status(c, job, "completed");
  auto batch = c.post("/v1/batches", json::parse(R"({"jobs":[{"tool":"noop"}]})"));
  REQUIRE(batch.status == 202);
  const auto batch_id = str(batch.json(), "batch_id");
  REQUIRE(eventually([&] { return c.get("/v1/batches/" + batch_id).json().at("batch_status") == "completed"; }));

  raw_connection raw{d.port()};
  int checked = 0;
  for (const auto& r : overseer::http::routes()) {
    if (r.method != "GET") continue;
    auto target = r.pattern;
    boost::replace_all(target, "{id}", target.starts_with("/v1/batches") ? batch_id : job);
    boost::replace_all(target, "{build}", std::string{overseer::http::web_build_id()});
    boost::replace_all(target, "{name}", "app.js");
    INFO("HEAD " << target);
    raw.send(request_text("GET", target));
    auto get = raw.read();
    raw.send(request_text("HEAD", target));
    auto head = raw.read(20s, true);
    REQUIRE((get && head));
    CHECK(head->status == get->status);
    // Live documents (the metrics, health's uptime) change length between
    // two requests; HEAD still announces its own body's length.
    const bool live = r.id == overseer::http::route_id::metrics || r.id == overseer::http::route_id::health;
    if (live) CHECK_FALSE(head->header("content-length").empty());
    else CHECK(head->header("content-length") == get->header("content-length"));
    CHECK(head->header("content-type") == get->header("content-type"));
    CHECK(head->body.empty());
    CHECK_FALSE(get->body.empty());
    ++checked;
  }
  CHECK(checked >= 9);
  // No body bytes were sent after a HEAD answer: the next answer parses.
  raw.send(request_text("GET", "/v1/health"));
  auto after = raw.read();
  REQUIRE(after);
  CHECK(after->status == 200);
  CHECK(raw.pending().empty());


  // HEAD of a route without GET is 405; the Allow of a GET route lists HEAD.
  raw.send(request_text("HEAD", "/v1/cache"));
  auto no_get = raw.read(20s, true);
  REQUIRE(no_get);
  CHECK(no_get->status == 405);
  CHECK(no_get->header("allow") == "DELETE");
  CHECK(no_get->body.empty());
  CHECK(c.request("PUT", "/v1/jobs").headers.at("Allow") == "POST, GET, HEAD");
}

TEST_CASE("pipelined requests in one write are all answered, in order", "[http][conformance]") {
  const int n = GENERATE(16, 17, 100);
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  http_client c{d.port()};
  // Asynchronous submits interleaved with synchronous 404s that name their
  // place, so an answer out of order or missing shows.
  std::string burst;
  for (int i = 0; i < n; ++i)
    burst += i % 2 == 0 ? request_text("POST", "/v1/jobs", submit_body) : request_text("GET", "/v1/jobs/x" + std::to_string(i));
  raw_connection raw{d.port()};
  raw.send(burst);
  for (int i = 0; i < n; ++i) {
    INFO("answer " << i << " of " << n);
    auto r = raw.read();
    REQUIRE(r);
    if (i % 2 == 0) {
      CHECK(r->status == 202);
    } else {
      REQUIRE(r->status == 404);
      CHECK(std::string{r->json().at("detail").as_string()} == "no job x" + std::to_string(i));
    }
  }
  CHECK_FALSE(raw.was_reset());
  // The connection is still good for more.
  raw.send(request_text("GET", "/v1/health"));
  auto more = raw.read();
  REQUIRE(more);
  CHECK(more->status == 200);
  CHECK(job_count(c) == (n + 1) / 2);
}

TEST_CASE("a client that half-closes after sending is answered, then closed", "[http][conformance]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  http_client c{d.port()};
  const int n = GENERATE(1, 5, 40);
  raw_connection raw{d.port()};
  std::string burst;
  for (int i = 0; i < n; ++i) burst += request_text("POST", "/v1/jobs", submit_body) + request_text("GET", "/v1/health");
  raw.send(burst);
  raw.shutdown_send();
  for (int i = 0; i < 2 * n; ++i) {
    INFO("answer " << i);
    auto r = raw.read();
    REQUIRE(r);
    CHECK(r->status == (i % 2 == 0 ? 202u : 200u));
  }
  CHECK(raw.ends_within(5s));
  CHECK(raw.pending().empty());
  CHECK_FALSE(raw.was_reset());
  CHECK(job_count(c) == n);
}

TEST_CASE("an HTTP/1.1 request needs exactly one Host, and it must be a host", "[http][conformance]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  http_client c{d.port()};
  const std::string body = submit_body;
  const std::string length = "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  // RFC 9112 3.2: each of these is a 400, and nothing is submitted.
  for (const auto& [name, head] : std::vector<std::pair<std::string, std::string>>{
         {"no Host", "POST /v1/jobs HTTP/1.1\r\n"},
         {"two Hosts", "POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: example.org\r\n"},
         {"a Host that is no host", "POST /v1/jobs HTTP/1.1\r\nHost: exa mple/org\r\n"},
       }) {
    INFO(name);
    raw_connection raw{d.port()};
    raw.send(head + length + "\r\n" + body);
    auto r = raw.read();
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK(r->header("content-type") == "application/problem+json");
    CHECK(r->body.find("Host") != std::string::npos);
    CHECK(raw.ends_within(5s));
  }
  CHECK(job_count(c) == 0);
  // What is fine: a port, an IPv6 literal, an empty Host, HTTP/1.0 without one.
  for (const auto& head : {std::string{"POST /v1/jobs HTTP/1.1\r\nHost: localhost:8080\r\n"},
                           std::string{"POST /v1/jobs HTTP/1.1\r\nHost: [::1]:80\r\n"},
                           std::string{"POST /v1/jobs HTTP/1.1\r\nHost:\r\n"},
                           std::string{"POST /v1/jobs HTTP/1.0\r\n"}}) {
    INFO(head);
    raw_connection raw{d.port()};
    raw.send(head + length + "Connection: close\r\n\r\n" + body);
    auto r = raw.read();
    REQUIRE(r);
    CHECK(r->status == 202);
  }
  CHECK(job_count(c) == 4);
}

TEST_CASE("Authorization or Content-Type given twice is a 400, not a silent choice", "[http][conformance]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data", {"--token", "s3cret"}};
  http_client c{d.port()};
  for (const std::string extra : {"Authorization: Bearer s3cret\r\nAuthorization: Bearer other\r\n",
                                  "Authorization: Bearer s3cret\r\nContent-Type: text/plain\r\n"}) {
    INFO(extra);
    raw_connection raw{d.port()};
    raw.send(request_text("POST", "/v1/jobs", submit_body, extra));
    auto r = raw.read();
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK(r->body.find("is given more than once") != std::string::npos);
  }
  raw_connection raw{d.port()};
  raw.send(request_text("POST", "/v1/jobs", submit_body, "Authorization: Bearer s3cret\r\n"));
  auto ok = raw.read();
  REQUIRE(ok);
  CHECK(ok->status == 202);
}

TEST_CASE("a request target in absolute form is served like its path", "[http][conformance]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  http_client c{d.port()};
  // RFC 9112 3.2.2: a server must accept the absolute form (what a client
  // talking to a proxy sends); its path and query count, as in origin form.
  raw_connection raw{d.port()};
  raw.send("GET http://127.0.0.1/v1/health?probe=live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  auto r = raw.read();
  REQUIRE(r);
  CHECK(r->status == 200);
  raw.send(request_text("POST", "http://127.0.0.1:8080/v1/jobs?wait=0s", submit_body));
  r = raw.read();
  REQUIRE(r);
  CHECK(r->status == 202);
  raw.send("GET https://127.0.0.1/v1/jobs?limit=abc HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  r = raw.read();
  REQUIRE(r);
  CHECK(r->status == 400);  // the query is read as in origin form
  CHECK(r->body.find("\"limit\"") != std::string::npos);
  // An empty path in absolute form is "/": the dashboard's page.
  raw.send("GET http://127.0.0.1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  r = raw.read();
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->header("content-type").starts_with("text/html"));
  // Not a target: another scheme, no authority, the asterisk form,
  // credentials in the authority (RFC 9110 4.2.4).
  for (const auto* target : {"ftp://127.0.0.1/v1/health", "http:/v1/health", "*", "http://alice:secret@127.0.0.1/v1/health"}) {
    INFO(target);
    raw.send(std::string{"GET "} + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    r = raw.read();
    REQUIRE(r);
    CHECK(r->status == 400);
  }
  CHECK(job_count(c) == 1);
}
