// The tokens file reader, SHA-256 and the roles rule of the route table.
#include <string>

#include <catch2/catch.hpp>

#include "http/router.hpp"
#include "http/tenants.hpp"
#include "overseer/http/server.hpp"

using namespace overseer;
using namespace overseer::http;

namespace {

std::string hex(const std::array<unsigned char, 32>& h) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (auto c : h) {
    out += digits[c >> 4];
    out += digits[c & 0xF];
  }
  return out;
}

bool names(const tokens_file& f, const std::string& field) {
  for (const auto& e : f.errors)
    if (e.field == field) return true;
  return false;
}

const route& route_of(route_id id) {
  for (const auto& r : routes())
    if (r.id == id) return r;
  throw std::logic_error("no route");
}

}  // namespace

TEST_CASE("sha256 matches the FIPS 180-4 examples", "[tokens]") {
  CHECK(hex(sha256("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(hex(sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(hex(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // 55, 56 and 64 bytes: the padding's edges.
  CHECK(hex(sha256(std::string(55, 'a'))) == "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
  CHECK(hex(sha256(std::string(56, 'a'))) == "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
  CHECK(hex(sha256(std::string(64, 'a'))) == "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
  CHECK(hex(sha256(std::string(1000000, 'a'))) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("a tokens file with every field reads back", "[tokens]") {
  const auto f = parse_tokens_file(R"({"principals": [
    {"name": "alice", "role": "user", "token_sha256": ")" + hex(sha256("a-token")) + R"(",
     "weight": 3, "quotas": {"max_running": 4, "max_queued": 1000, "submits_per_second": 2.5}},
    {"name": "ops", "role": "admin", "token_sha256": ")" + hex(sha256("o-token")) + R"("},
    {"name": "audit", "role": "reader", "token_sha256": ")" + hex(sha256("r-token")) + R"("}]})");
  REQUIRE(f.errors.empty());
  REQUIRE(f.principals.size() == 3);
  const auto& a = f.principals[0];
  CHECK(a.name == "alice");
  CHECK(a.role == role::user);
  CHECK(a.token_sha256 == sha256("a-token"));
  CHECK(a.weight == 3);
  CHECK(a.quotas == principal_quotas{4, 1000, 2.5});
  CHECK(f.principals[1].role == role::admin);
  CHECK(f.principals[1].weight == 1);
  CHECK(f.principals[1].quotas == principal_quotas{});
  CHECK(f.principals[2].role == role::reader);
}

TEST_CASE("a bad tokens file names every bad field in one answer, and takes nothing", "[tokens]") {
  const auto good = hex(sha256("t"));
  const auto f = parse_tokens_file(R"({"principals": [
    {"name": "", "role": "root", "token_sha256": "the-token-itself", "weight": 0,
     "quotas": {"max_running": -1, "max_queued": 1.5, "submits_per_second": 0, "max_cpu": 3}, "colour": "red"},
    {"role": "user"},
    {"name": "bob", "role": "user", "token_sha256": ")" + good + R"("},
    {"name": "bob", "role": "user", "token_sha256": ")" + good + R"("},
    7], "extra": 1})");
  CHECK(f.principals.empty());
  for (const char* field :
       {"principals[0].name", "principals[0].role", "principals[0].token_sha256", "principals[0].weight",
        "principals[0].quotas.max_running", "principals[0].quotas.max_queued",
        "principals[0].quotas.submits_per_second", "principals[0].quotas.max_cpu", "principals[0].colour",
        "principals[1].name", "principals[1].token_sha256", "principals[3].name", "principals[3].token_sha256",
        "principals[4]", "extra"})
    CHECK(names(f, field));
  // A value that may be a token pasted by mistake is never echoed.
  for (const auto& e : f.errors) CHECK(e.message.find("the-token-itself") == std::string::npos);
  for (const auto& e : f.errors)
    if (e.field == "principals[3].name") CHECK(e.message == "\"bob\" is named twice");
}

TEST_CASE("a tokens file that is not JSON, or repeats a key, is refused", "[tokens]") {
  CHECK(names(parse_tokens_file("{"), "tokens file"));
  CHECK(names(parse_tokens_file("[]"), "tokens file"));
  CHECK(names(parse_tokens_file(R"({"principals": {}})"), "principals"));
  CHECK_FALSE(parse_tokens_file(R"({"principals": [], "principals": []})").errors.empty());
  CHECK(parse_tokens_file(R"({"principals": []})").errors.empty());
}

TEST_CASE("the route table's roles rule: readers change nothing, users no tools or global figures", "[tokens]") {
  for (const auto& r : routes()) {
    CHECK(permits(r, role::admin));
    if (r.method == "GET") CHECK(permits(r, role::reader));
    else CHECK_FALSE(permits(r, role::reader));
  }
  CHECK(permits(route_of(route_id::submit_job), role::user));
  CHECK(permits(route_of(route_id::cancel_jobs), role::user));
  CHECK(permits(route_of(route_id::clear_cache), role::user));
  CHECK_FALSE(permits(route_of(route_id::pause_tool), role::user));
  CHECK_FALSE(permits(route_of(route_id::resume_tool), role::user));
  CHECK_FALSE(permits(route_of(route_id::metrics), role::user));
  CHECK_FALSE(permits(route_of(route_id::windowed_metrics), role::user));
  CHECK_FALSE(permits(route_of(route_id::cache_stats), role::user));
  CHECK(permits(route_of(route_id::list_jobs), role::user));
}

TEST_CASE("an identity's scope and what it sees", "[tokens]") {
  identity user{"alice", role::user, "alice", {}, true};
  CHECK(user.scope() == std::optional<std::string>{"alice"});
  CHECK(user.sees("alice"));
  CHECK_FALSE(user.sees("bob"));
  CHECK_FALSE(user.sees(""));
  identity reader{"audit", role::reader, "audit", {}, true};
  CHECK_FALSE(reader.scope());
  CHECK(reader.sees("bob"));
  CHECK(user.by("client 127.0.0.1") == "alice (client 127.0.0.1)");
  CHECK(identity{}.by("client 127.0.0.1") == "client 127.0.0.1");
}
