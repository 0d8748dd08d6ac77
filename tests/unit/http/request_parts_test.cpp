// The pure parts of reading a request: route matching with HEAD, the query
// (repeated keys refused), and the subscription a stream URL asks for.
#include <set>
#include <string>
#include <vector>

#include <boost/url/parse.hpp>
#include <catch2/catch.hpp>

#include "http/api.hpp"
#include "http/router.hpp"
#include "http/stream_session.hpp"

using namespace overseer;
using namespace overseer::http;
namespace json = boost::json;

namespace {

std::vector<std::string> fields(const std::vector<field_error>& errors) {
  std::vector<std::string> out;
  for (const auto& e : errors) out.push_back(e.field);
  return out;
}

std::vector<field_error> read(std::string_view target, query_map& q) {
  auto url = boost::urls::parse_origin_form(target);
  REQUIRE(url);
  return read_query(*url, q);
}

}  // namespace

TEST_CASE("HEAD matches every GET route and nothing else", "[router]") {
  for (const auto& r : routes()) {
    if (r.method != "GET") continue;
    std::string path = r.pattern;
    if (auto at = path.find("{id}"); at != std::string::npos) path = path.substr(0, at) + "x" + path.substr(at + 4);
    INFO(path);
    auto head = match("HEAD", path);
    REQUIRE(head.found);
    CHECK(head.found->id == r.id);
  }
  auto cache = match("HEAD", "/v1/cache");
  CHECK_FALSE(cache.found);
  CHECK(cache.path_known);
  CHECK(cache.allowed == "DELETE");
  CHECK(match("PUT", "/v1/jobs").allowed == "POST, GET, HEAD");
  CHECK(match("PUT", "/v1/jobs/x").allowed == "GET, HEAD, DELETE");
}

TEST_CASE("the route table gives every route a handler, only health and the dashboard need no token", "[router]") {
  std::set<route_id> ids;
  for (const auto& r : routes()) {
    INFO(r.method << " " << r.pattern);
    CHECK(r.handler != nullptr);
    ids.insert(r.id);
    const bool open = r.id == route_id::health || r.id == route_id::dashboard || r.id == route_id::dashboard_asset;
    CHECK((r.access == access::anyone) == open);
    // Only the dashboard's routes and the Prometheus text of /metrics are
    // outside the documented (JSON) API.
    CHECK(r.api == (r.id != route_id::dashboard && r.id != route_id::dashboard_asset && r.id != route_id::metrics));
  }
  CHECK(ids.size() == static_cast<std::size_t>(route_id::delete_file) + 1);  // every route_id is routed
  auto found = match("GET", "/v1/jobs/job_x/logs");
  REQUIRE(found.found);
  CHECK(found.found->handler == &get_logs);
  CHECK(found.found->query == query_rule::own);
  CHECK(found.params == std::map<std::string, std::string>{{"id", "job_x"}});
  CHECK(match("POST", "/v1/jobs/job_x/cancel").found->handler == match("DELETE", "/v1/jobs/job_x").found->handler);
}

TEST_CASE("a path is split at its slashes before its segments are decoded: an encoded slash is data", "[router]") {
  // %2F inside a segment is a character of it (RFC 3986 3.3), not a separator.
  CHECK_FALSE(match("POST", "/v1/tools/noop%2Fpause").found);
  CHECK_FALSE(match("POST", "/v1/tools/noop%2Fpause").path_known);
  CHECK_FALSE(match("GET", "/v1%2Fhealth").found);
  CHECK_FALSE(match("GET", "/v1%2fhealth").found);
  // /v1/jobs/{id} with an id holding a slash: the route, and the id whole.
  auto job = match("GET", "/v1/jobs/job_x%2Flogs");
  REQUIRE(job.found);
  CHECK(job.found->id == route_id::get_job);
  CHECK(job.params == std::map<std::string, std::string>{{"id", "job_x/logs"}});
  // Other encoded characters are the characters they encode.
  auto pause = match("POST", "/v1/tools/n%6F%6Fp/pause");
  REQUIRE(pause.found);
  CHECK(pause.found->id == route_id::pause_tool);
  CHECK(pause.params.at("name") == "noop");
  CHECK(match("GET", "/%761/health").found);
  CHECK_FALSE(match("GET", "/v1/health%").found);  // not validly encoded
  CHECK(path_is("/v1/%66iles", "/v1/files"));
  CHECK_FALSE(path_is("/v1%2Ffiles", "/v1/files"));
}

TEST_CASE("read_query decodes the query and names every repeated key once", "[api]") {
  query_map q;
  CHECK(read("/v1/jobs?status=completed&label.a=x%20y&flag", q).empty());
  CHECK(q == query_map{{"status", "completed"}, {"label.a", "x y"}, {"flag", ""}});
  query_map r;
  auto errors = read("/v1/jobs?status=completed&status=failed&limit=1&status=x&limit=1&offset=0", r);
  CHECK(fields(errors) == std::vector<std::string>{"status", "limit"});
  CHECK(errors.front().message.find("more than once") != std::string::npos);
  query_map s;
  CHECK(fields(read("/v1/jobs?a&a", s)) == std::vector<std::string>{"a"});
}

TEST_CASE("a stream URL asks for one subscription, or none", "[stream]") {
  json::object op;
  CHECK(parse_stream_query({{"job", "job_1"}, {"logs", "1"}, {"since", "5"}}, op).empty());
  CHECK(op == json::object{{"op", "subscribe"}, {"job_id", "job_1"}, {"logs", true}, {"since", 5}});
  json::object none;
  CHECK(parse_stream_query({{"all", "0"}, {"access_token", "t"}}, none).empty());
  CHECK(none.empty());
  json::object all;
  CHECK(parse_stream_query({{"all", "true"}, {"logs", "false"}}, all).empty());
  CHECK(all == json::object{{"op", "subscribe"}, {"all", true}, {"logs", false}});
}

TEST_CASE("a stream URL with a bad since or an unknown key is refused, naming it", "[stream]") {
  for (auto since : {"abc", "-1", "", "1.5", "99999999999999999999999"}) {
    INFO(since);
    json::object op;
    CHECK(fields(parse_stream_query({{"all", "1"}, {"since", since}}, op)) == std::vector<std::string>{"since"});
    CHECK(op.empty());
  }
  json::object op;
  auto errors = parse_stream_query({{"all", "1"}, {"sinse", "3"}}, op);
  REQUIRE(fields(errors) == std::vector<std::string>{"sinse"});
  CHECK(errors.front().message.find("did you mean \"since\"") != std::string::npos);
  CHECK(op.empty());
  // all and logs are 1, true, 0 or false: anything else is named, not taken for true.
  for (auto v : {"2", "", "yes", "TRUE"}) {
    INFO(v);
    json::object none;
    CHECK(fields(parse_stream_query({{"all", v}}, none)) == std::vector<std::string>{"all"});
    CHECK(fields(parse_stream_query({{"all", "1"}, {"logs", v}}, none)) == std::vector<std::string>{"logs"});
    CHECK(none.empty());
  }
  json::object both;
  CHECK(parse_stream_query({{"all", "true"}, {"logs", "0"}}, both).empty());
  CHECK(both.at("all") == true);
  CHECK(both.at("logs") == false);
}

TEST_CASE("a reason is one line: C0 and C1 controls and the Unicode line and paragraph separators are refused",
          "[api]") {
  for (const std::string& bad : std::vector<std::string>{"a\nb", "a\rb", std::string{"a\0b", 3}, "a\x7f" "b", "a\xc2\x85" "b", "a\xc2\x80" "b",
                          "a\xc2\x9f" "b", "a\xe2\x80\xa8" "b", "a\xe2\x80\xa9" "b"}) {
    INFO(bad);
    std::vector<field_error> errors;
    CHECK_FALSE(check_reason(bad, errors));
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].field == "reason");
    CHECK(errors[0].message == "must be one line of text, without control characters");
  }
  // Bytes that are not UTF-8 (a query's reason is percent-decoded bytes): refused, named.
  for (const std::string& bad : std::vector<std::string>{"a\x85" "b", "\xff", "a\xe2\x80"}) {
    std::vector<field_error> errors;
    CHECK_FALSE(check_reason(bad, errors));
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].message == "must be UTF-8 text");
  }
  // Letters beside them in the code table are text.
  for (const std::string& good : std::vector<std::string>{"license server down", "caf\xc3\xa9", "\xc2\xa0no-break space", "a\xe2\x80\xa6" "b",
                           "a\xe2\x80\xaf" "b", "\xf0\x9f\x98\x80"}) {
    INFO(good);
    std::vector<field_error> errors;
    CHECK(check_reason(good, errors));
    CHECK(errors.empty());
  }
}
