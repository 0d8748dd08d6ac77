// Webhooks' pure parts: the signature (RFC 4231 vectors), the retry
// schedule, the URL and allow-list checks, and the outbox rows' encoding.
#include <set>
#include <string>

#include <catch2/catch.hpp>

#include "overseer/engine.hpp"
#include "overseer/webhooks.hpp"
#include "webhooks/outbox.hpp"
#include "webhooks/signing.hpp"
#include "webhooks/url.hpp"

using namespace overseer;
using namespace overseer::webhooks;
using namespace std::chrono_literals;

TEST_CASE("HMAC-SHA256 matches the RFC 4231 test vectors", "[webhooks]") {
  std::string key4;
  for (int i = 1; i <= 25; ++i) key4.push_back(static_cast<char>(i));
  CHECK(hmac_sha256_hex(std::string(20, '\x0b'), "Hi There") ==
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  CHECK(hmac_sha256_hex("Jefe", "what do ya want for nothing?") ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  CHECK(hmac_sha256_hex(std::string(20, '\xaa'), std::string(50, '\xdd')) ==
        "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
  CHECK(hmac_sha256_hex(key4, std::string(50, '\xcd')) ==
        "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
  // Test case 5 truncates the output to 128 bits; the header never does.
  CHECK(hmac_sha256_hex(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First") ==
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  CHECK(hmac_sha256_hex(std::string(131, '\xaa'),
                        "This is a test using a larger than block-size key and a larger than block-size data. The key "
                        "needs to be hashed before being used by the HMAC algorithm.") ==
        "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
  CHECK(signature_header("Jefe", "what do ya want for nothing?") ==
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("the retry schedule doubles up to its cap, with jitter between half and all of it", "[webhooks]") {
  // Attempt n waits between cap/2 and cap, cap = min(max, initial * 2^(n-1)).
  CHECK(backoff(1, 1000ms, 600000ms, 0.0) == 500ms);
  CHECK(backoff(1, 1000ms, 600000ms, 1.0) == 1000ms);
  CHECK(backoff(2, 1000ms, 600000ms, 0.0) == 1000ms);
  CHECK(backoff(2, 1000ms, 600000ms, 1.0) == 2000ms);
  CHECK(backoff(3, 1000ms, 600000ms, 0.5) == 3000ms);
  CHECK(backoff(10, 1000ms, 600000ms, 1.0) == 512000ms);
  CHECK(backoff(11, 1000ms, 600000ms, 1.0) == 600000ms);  // capped
  CHECK(backoff(11, 1000ms, 600000ms, 0.0) == 300000ms);
  CHECK(backoff(1000, 1000ms, 600000ms, 1.0) == 600000ms);  // no overflow
  for (int n = 1; n < 30; ++n) {
    const auto lo = backoff(n, 100ms, 5000ms, 0.0), hi = backoff(n, 100ms, 5000ms, 1.0);
    CHECK(lo <= hi);
    CHECK(hi <= 5000ms);
    CHECK(lo >= 50ms);
    if (n > 1) CHECK(hi >= backoff(n - 1, 100ms, 5000ms, 1.0));  // never shrinks
  }
}

TEST_CASE("webhook URLs: http(s) only, with a host, no user info or fragment", "[webhooks]") {
  std::string why;
  auto u = parse_url("http://127.0.0.1:8123/hook?x=1", why);
  REQUIRE(u);
  CHECK(!u->tls);
  CHECK(u->host == "127.0.0.1");
  CHECK(u->port == "8123");
  CHECK(u->target == "/hook?x=1");
  u = parse_url("HTTPS://Example.com", why);
  REQUIRE(u);
  CHECK(u->tls);
  CHECK(u->port == "443");
  CHECK(u->target == "/");
  u = parse_url("http://[::1]:9/x", why);
  REQUIRE(u);
  CHECK(u->host == "::1");
  CHECK(u->port == "9");
  u = parse_url("http://example.com?q", why);
  REQUIRE(u);
  CHECK(u->target == "/?q");

  for (const char* bad : {"", "ftp://example.com/", "file:///etc/passwd", "example.com/hook", "http://",
                          "http://user:pw@example.com/", "http://example.com/#frag", "http://exa mple.com/",
                          "http://example.com:0/", "http://example.com:65536/", "http://example.com:/",
                          "http://example.com:8o/", "http://[::1/", "http://ex\xc3\xa4mple.com/", "http://a\r\nb/",
                          "gopher://x"}) {
    INFO(bad);
    CHECK_FALSE(parse_url(bad, why));
    CHECK_FALSE(why.empty());
  }
  CHECK(check_webhook_url(std::string(2049, 'a')).has_value());
}

TEST_CASE("a job's notify.url must name a host on the allow-list", "[webhooks]") {
  const std::vector<std::string> allow{"hooks.example.com", "127.0.0.1"};
  CHECK_FALSE(check_webhook_url("http://127.0.0.1:9/x", allow));
  CHECK_FALSE(check_webhook_url("https://HOOKS.example.com/x", allow));  // case-insensitive
  auto refused = check_webhook_url("http://169.254.169.254/latest/meta-data", allow);
  REQUIRE(refused);
  CHECK(refused->find("169.254.169.254") != std::string::npos);
  CHECK(refused->find("allow-list") != std::string::npos);
  CHECK(check_webhook_url("http://evil.hooks.example.com/", allow));  // exact, no suffix match
  CHECK(check_webhook_url("http://localhost/", allow));                // a name is not its address
  auto none = check_webhook_url("http://127.0.0.1/", {});
  REQUIRE(none);
  CHECK(none->find("--webhook-allow") != std::string::npos);
  CHECK(check_webhook_url("ftp://127.0.0.1/", allow)->find("http") != std::string::npos);
  CHECK(host_allowed("Hooks.Example.COM", allow));
  CHECK_FALSE(host_allowed("", allow));
}

TEST_CASE("outbox rows: keys sort by job then seq, and their values round-trip", "[webhooks]") {
  const std::string job = "job_01JD0000000000000000000000";
  const auto a = keys::pending(job, 9, job_target), b = keys::pending(job, 10, job_target),
             c = keys::pending(job, 10, daemon_target);
  CHECK(a < b);
  CHECK(b < c);
  CHECK(c < keys::job_end('o', job));
  CHECK(keys::job_begin('o', job) < a);
  std::string id;
  std::uint64_t seq = 0;
  std::uint8_t target = 0;
  REQUIRE(keys::split(c, id, seq, target));
  CHECK(id == job);
  CHECK(seq == 10);
  CHECK(target == daemon_target);
  CHECK_FALSE(keys::split("n:" + job, id, seq, target));
  CHECK(delivery_id(10, job_target) == "dlv_10_job");
  CHECK(delivery_id(10, daemon_target) == "dlv_10_all");

  delivery_state s;
  s.url = "http://127.0.0.1:1/x\n";
  s.kind = event_kind::progress;
  s.attempts = 3;
  s.last_status_code = 500;
  s.last_error = "HTTP 500\nline two";
  s.next_attempt_at = time_point{std::chrono::milliseconds{1234567}};
  const std::string bytes{"\x00\x01\n\xff", 4};
  const auto row = encode_pending(s, bytes);
  delivery_state back;
  std::string_view event_bytes;
  REQUIRE(split_pending(row, back, event_bytes));
  CHECK(event_bytes == bytes);
  CHECK(back.url == s.url);
  CHECK(back.kind == s.kind);
  CHECK(back.attempts == 3);
  CHECK(back.status == "pending");
  CHECK(back.last_status_code == 500);
  CHECK(back.last_error == s.last_error);
  CHECK(back.next_attempt_at == s.next_attempt_at);
  CHECK_FALSE(back.delivered_at);
  CHECK_FALSE(split_pending("not json\nxx", back, event_bytes));
  CHECK_FALSE(decode_state("{}"));

  notify_spec n{"http://h/", {false, true, true}};
  auto m = decode_notify(encode_notify(n));
  REQUIRE(m);
  CHECK(m->url == n.url);
  CHECK(m->events == n.events);
  CHECK(wanted(n.events, event_kind::log));
  CHECK_FALSE(wanted(n.events, event_kind::transition));
}

TEST_CASE("the engine config refuses unusable webhook settings", "[webhooks]") {
  engine_config c;
  CHECK(check_engine_config(c).empty());
  c.webhooks.url = "ftp://x/";
  c.webhooks.max_attempts = 0;
  c.webhooks.timeout = 10ms;
  c.webhooks.concurrency = 0;
  c.webhooks.events = {false, false, false};
  c.webhooks.max_backoff = 1ms;
  std::set<std::string> fields;
  for (const auto& e : check_engine_config(c)) fields.insert(e.field);
  CHECK(fields == std::set<std::string>{"webhooks.url", "webhooks.max_attempts", "webhooks.timeout",
                                        "webhooks.concurrency", "webhooks.events", "webhooks.max_backoff"});
}
