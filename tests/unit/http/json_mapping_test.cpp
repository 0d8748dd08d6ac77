#include "http/json_mapping.hpp"
#include "tools/utf8.hpp"

#include <cstdint>
#include <limits>
#include <string>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

using namespace overseer;
using namespace overseer::http;
using namespace std::chrono_literals;
using std::chrono::sys_days;
using overseer::time_point;
namespace json = boost::json;

namespace {

const time_point t0 = sys_days{2026y / 11 / 24} + 5h + 43min + 123ms;

// The one error of parsing `text`, or a failure if there is not exactly one.
field_error only_error(std::string_view text) {
  job_spec spec;
  auto errors = parse_job_spec(json::parse(text), spec);
  INFO(text);
  REQUIRE(errors.size() == 1);
  return errors.front();
}

job_view completed_view() {
  job_view v;
  v.id = "job_01";
  v.tool = "sleep";
  v.name = "nap";
  v.status = job_status::completed;
  v.attempt = 1;
  v.attempts_counted = 1;
  v.priority = 7;
  v.labels = {{"country", "Kenya"}};
  v.params = {{"seconds", 2}};
  v.progress = {.percent = 100, .current_step = 4, .total_steps = 4, .step_name = "done"};
  v.result = json::object{{"slept", 2}};
  v.created_at = t0;
  v.started_at = t0 + 1s;
  v.completed_at = t0 + 3500ms;
  v.ttl_hours = 24;
  return v;
}

}  // namespace

TEST_CASE("times are formatted as RFC 3339 UTC with exactly three fraction digits", "[json_mapping]") {
  CHECK(format_time(t0) == "2026-11-24T05:43:00.123Z");
  CHECK(format_time(t0 + 999us) == "2026-11-24T05:43:00.123Z");  // truncated, not rounded
  CHECK(format_time(time_point{}) == "1970-01-01T00:00:00.000Z");
  CHECK(format_time(time_point{} - 1ms) == "1969-12-31T23:59:59.999Z");
}

TEST_CASE("a formatted time parses back to the same millisecond", "[json_mapping]") {
  const auto t = GENERATE(time_point{}, t0, sys_days{2000y / 2 / 29} + 23h + 59min + 59s + 1ms);
  CHECK(parse_time(format_time(t)) == t);
}

TEST_CASE("parse_time accepts offsets and fractions of any length", "[json_mapping]") {
  auto [text, expected] = GENERATE(table<std::string, time_point>({
    {"2026-11-24T05:43:00.123Z", t0},
    {"2026-11-24T05:43:00.1239999Z", t0},
    {"2026-11-24T05:43:00.1Z", t0 - 23ms},
    {"2026-11-24T05:43:00Z", t0 - 123ms},
    {"2026-11-24t05:43:00.123z", t0},
    {"2026-11-24T08:43:00.123+03:00", t0},
    {"2026-11-23T23:13:00.123-06:30", t0},
    {"2026-11-24T05:43:00.123+00:00", t0},
  }));
  CAPTURE(text);
  CHECK(parse_time(text) == expected);
}

TEST_CASE("parse_time rejects malformed and out-of-range times", "[json_mapping]") {
  const std::string text = GENERATE(as<std::string>{}, "", "garbage", "2026-11-24", "2026-11-24T05:43Z",
                                    "2026-11-24T05:43:00", "2026-11-24T05:43:00.Z", "2026-13-01T00:00:00Z",
                                    "2026-02-29T00:00:00Z", "2026-11-31T00:00:00Z", "2026-11-24T24:00:00Z",
                                    "2026-11-24T05:60:00Z", "2026-11-24T05:43:60Z", "2026-11-24T05:43:00+24:00",
                                    "2026-11-24T05:43:00+0300", "2026-11-24T05:43:00Zjunk", "26-11-24T05:43:00Z",
                                    "2026-11-24T05:43:00.123ZZ", "9999-01-01T00:00:00Z", "+2026-11-24T05:43:00Z");
  CAPTURE(text);
  CHECK_FALSE(parse_time(text));
}

TEST_CASE("to_json_text prints numbers as a person writes them", "[json_mapping]") {
  CHECK(to_json_text(2.0) == "2");
  CHECK(to_json_text(0.25) == "0.25");
  CHECK(to_json_text(-0.5) == "-0.5");
  CHECK(to_json_text(0.1) == "0.1");
  CHECK(to_json_text(std::numeric_limits<std::int64_t>::max()) == "9223372036854775807");
  CHECK(to_json_text(std::numeric_limits<std::uint64_t>::max()) == "18446744073709551615");
  CHECK(to_json_text(std::numeric_limits<double>::infinity()) == "null");
  CHECK(to_json_text(std::numeric_limits<double>::quiet_NaN()) == "null");
}

TEST_CASE("to_json_text stays valid JSON that reads back equal", "[json_mapping]") {
  const json::value v = GENERATE(as<json::value>{}, 1e300, -1e-300, 123456789.125, 5e-324, nullptr, true,
                                 "quote \" backslash \\ newline \n tab \t nul", "caf\xC3\xA9");
  const auto text = to_json_text(v);
  CAPTURE(text);
  CHECK(json::parse(text) == v);
}

TEST_CASE("to_json_text is valid UTF-8 whatever bytes its strings hold", "[json_mapping]") {
  json::object o{{"detail", "no job \xff\xfe"}, {"\xc3(", "key"}, {"ok", "caf\xc3\xa9"}};
  const auto text = to_json_text(o);
  CHECK(tools::valid_utf8(text));
  CHECK(text.find("no job \xEF\xBF\xBD\xEF\xBF\xBD") != std::string::npos);
  CHECK(text.find("caf\xc3\xa9") != std::string::npos);  // valid bytes are kept
  CHECK(json::parse(text).is_object());
}

TEST_CASE("to_json_text recurses into objects and arrays", "[json_mapping]") {
  const json::value v = {{"a", {1, 2.5, "x"}}, {"b\"", {{"c", 3.0}, {"d", json::array{}}}}, {"e", json::object{}}};
  CHECK(to_json_text(v) == R"({"a":[1,2.5,"x"],"b\"":{"c":3,"d":[]},"e":{}})");
}

TEST_CASE("a full spec parses into every field", "[json_mapping]") {
  const auto body = json::parse(R"({
    "tool": "fasta_stats", "params": {"path": "genome.fa"}, "name": "E. coli run",
    "priority": 5, "labels": {"country": "Kenya"}, "timeout_s": 1799.5,
    "retry": {"max_attempts": 3, "initial_backoff_ms": 500, "max_backoff_ms": 60000,
              "multiplier": 1.5, "retry_on_timeout": true},
    "ttl_hours": 48, "use_cache": true, "depends_on": ["job_a", "job_b"],
    "idempotency_key": "sample-42"})");
  job_spec spec;
  REQUIRE(parse_job_spec(body, spec).empty());
  CHECK(spec.tool == "fasta_stats");
  CHECK(spec.params == json::object{{"path", "genome.fa"}});
  CHECK(spec.name == "E. coli run");
  CHECK(spec.priority == 5);
  CHECK(spec.labels == std::map<std::string, std::string>{{"country", "Kenya"}});
  CHECK(spec.timeout == 1800s);  // rounded up: never less than asked
  REQUIRE(spec.retry);
  CHECK(*spec.retry == retry_policy{.max_attempts = 3, .initial_backoff = 500ms, .max_backoff = 60000ms,
                                    .multiplier = 1.5, .retry_on_timeout = true});
  CHECK(spec.ttl_hours == 48);
  CHECK(spec.use_cache);
  CHECK(spec.depends_on == std::vector<std::string>{"job_a", "job_b"});
  CHECK(spec.idempotency_key == "sample-42");
}

TEST_CASE("a minimal spec leaves every optional field unset", "[json_mapping]") {
  job_spec spec;
  REQUIRE(parse_job_spec(json::parse(R"({"tool": "noop"})"), spec).empty());
  CHECK(spec.tool == "noop");
  CHECK(spec.params.empty());
  CHECK(spec.name.empty());
  CHECK_FALSE(spec.priority);
  CHECK(spec.labels.empty());
  CHECK_FALSE(spec.timeout);
  CHECK_FALSE(spec.retry);
  CHECK_FALSE(spec.ttl_hours);
  CHECK_FALSE(spec.use_cache);
  CHECK(spec.depends_on.empty());
  CHECK(spec.idempotency_key.empty());
}

TEST_CASE("unspecified retry fields take the retry_policy defaults", "[json_mapping]") {
  job_spec spec;
  REQUIRE(parse_job_spec(json::parse(R"({"tool": "t", "retry": {"max_attempts": 4.0}})"), spec).empty());
  CHECK(spec.retry == retry_policy{.max_attempts = 4});
}

TEST_CASE("a timeout below one second runs for one second", "[json_mapping]") {
  job_spec spec;
  REQUIRE(parse_job_spec(json::parse(R"({"tool": "t", "timeout_s": 0.001})"), spec).empty());
  CHECK(spec.timeout == 1s);
}

TEST_CASE("every kind of bad field produces an error naming it", "[json_mapping]") {
  auto [fields, field, message] = GENERATE(table<std::string, std::string, std::string>({
    {R"("tool": 3)", "tool", "expected string, found integer"},
    {R"("tool": "")", "tool", "expected a tool name, found an empty string"},
    {R"("params": [])", "params", "expected object, found array"},
    {R"("name": null)", "name", "expected string, found null"},
    {R"("priority": "high")", "priority", "expected integer, found string"},
    {R"("priority": 2.5)", "priority", "expected integer, found number"},
    {R"("priority": 12)", "priority", "12 is outside 0-10"},
    {R"("priority": -1)", "priority", "-1 is outside 0-10"},
    {R"("priority": 18446744073709551615)", "priority", "18446744073709551615 is outside 0-10"},
    {R"("labels": "x")", "labels", "expected object, found string"},
    {R"("labels": {"country": 1})", "labels.country", "expected string, found integer"},
    {R"("labels": {"": "x"})", "labels", R"(label name "": expected 1-64 characters, found 0)"},
    {R"("timeout_s": "10")", "timeout_s", "expected number, found string"},
    {R"("timeout_s": 0)", "timeout_s", "expected a positive number up to 1000000000, found 0"},
    {R"("timeout_s": -2.5)", "timeout_s", "expected a positive number up to 1000000000, found -2.5"},
    {R"("timeout_s": 1e300)", "timeout_s", "expected a positive number up to 1000000000, found 1e+300"},
    {R"("retry": 3)", "retry", "expected object, found integer"},
    {R"("retry": {"max_attempts": 0})", "retry.max_attempts", "0 is outside 1-100"},
    {R"("retry": {"max_attempts": 101})", "retry.max_attempts", "101 is outside 1-100"},
    {R"("retry": {"initial_backoff_ms": -1})", "retry.initial_backoff_ms", "-1 is outside 0-604800000 (7 days)"},
    {R"("retry": {"initial_backoff_ms": -1e30})", "retry.initial_backoff_ms", "-1e+30 is too small"},
    {R"("retry": {"max_backoff_ms": 604800001})", "retry.max_backoff_ms", "604800001 is above 604800000 (7 days)"},
    {R"("retry": {"max_backoff_ms": 10})", "retry.max_backoff_ms", "10 is below initial_backoff_ms 1000"},
    {R"("retry": {"max_attempts": 1e12})", "retry.max_attempts", "1e+12 is too large"},
    {R"("retry": {"max_backoff_ms": 1e30})", "retry.max_backoff_ms", "1e+30 is too large"},
    {R"("retry": {"max_backoff_ms": true})", "retry.max_backoff_ms", "expected integer, found boolean"},
    {R"("retry": {"multiplier": 0.5})", "retry.multiplier", "0.5 is outside 1-100"},
    {R"("retry": {"multiplier": 101})", "retry.multiplier", "101 is outside 1-100"},
    {R"("retry": {"multiplier": 1e400})", "retry.multiplier", "is too large"},
    {R"("retry": {"multiplier": "2"})", "retry.multiplier", "expected number, found string"},
    {R"("retry": {"retry_on_timeout": 1})", "retry.retry_on_timeout", "expected boolean, found integer"},
    {R"("ttl_hours": 0)", "ttl_hours", "0 is outside 1-168"},
    {R"("ttl_hours": 169)", "ttl_hours", "169 is outside 1-168"},
    {R"("use_cache": "yes")", "use_cache", "expected boolean, found string"},
    {R"("depends_on": "job_a")", "depends_on", "expected array, found string"},
    {R"("depends_on": ["job_a", 7])", "depends_on[1]", "expected string, found integer"},
    {R"("idempotency_key": "")", "idempotency_key", "expected 1-256 characters, found 0"},
  }));
  const auto e = only_error(R"({"tool": "t", )" + fields + "}");
  CHECK(e.field == field);
  CHECK(e.message == message);
}

TEST_CASE("string limits count characters, not bytes", "[json_mapping]") {
  const std::string e_acute = "\xC3\xA9";
  std::string name;
  for (int i = 0; i < 256; ++i) name += e_acute;
  job_spec spec;
  CHECK(parse_job_spec(json::object{{"tool", "t"}, {"name", name}}, spec).empty());
  const auto errors = parse_job_spec(json::object{{"tool", "t"}, {"name", name + "x"}}, spec);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].message == "expected at most 256 characters, found 257");
  const auto long_label = parse_job_spec(
    json::object{{"tool", "t"}, {"labels", {{std::string(65, 'k'), "v"}}}}, spec);
  REQUIRE(long_label.size() == 1);
  CHECK(long_label[0].field == "labels");
}

TEST_CASE("a missing tool is reported as required", "[json_mapping]") {
  job_spec spec;
  const auto errors = parse_job_spec(json::parse("{}"), spec);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].field == "tool");
  CHECK(errors[0].message == "is required");
}

TEST_CASE("several bad fields are all reported at once, and out keeps what could be read", "[json_mapping]") {
  job_spec spec{.tool = "before"};
  const auto errors = parse_job_spec(
    json::parse(R"({"priority": 11, "ttl_hours": "x", "retry": {"multiplier": 0, "max_attempts": 0}})"), spec);
  std::vector<std::string> fields;
  for (const auto& e : errors) fields.push_back(e.field);
  // A retry object's bounds are checked once it is read, in check_retry_policy's order.
  CHECK(fields == std::vector<std::string>{"priority", "ttl_hours", "retry.max_attempts", "retry.multiplier",
                                           "tool"});
  // What was readable is there for the engine's own checks; no tool was given.
  CHECK(spec.tool.empty());
  CHECK_FALSE(spec.priority);
}

TEST_CASE("a body that is not an object is refused as a whole", "[json_mapping]") {
  const auto body = GENERATE(as<std::string>{}, "[]", "3", "\"tool\"", "null");
  CAPTURE(body);
  const auto e = only_error(body);
  CHECK(e.field == "body");
  CHECK(e.message == "must be a JSON object");
}

TEST_CASE("an unknown field suggests the nearest known name", "[json_mapping]") {
  auto [text, field, message] = GENERATE(table<std::string, std::string, std::string>({
    {R"({"tool": "t", "priorty": 5})", "priorty", R"(unknown field "priorty"; did you mean "priority"?)"},
    {R"({"tool": "t", "timeout": 5})", "timeout", R"(unknown field "timeout"; did you mean "timeout_s"?)"},
    {R"({"tool": "t", "colour": 5})", "colour", R"(unknown field "colour")"},
    {R"({"tool": "t", "id": 5})", "id", R"(unknown field "id")"},
    {R"({"tool": "t", "retry": {"max_attempt": 2}})", "retry.max_attempt",
     R"(unknown field "max_attempt"; did you mean "max_attempts"?)"},
  }));
  const auto e = only_error(text);
  CHECK(e.field == field);
  CHECK(e.message == message);
}

TEST_CASE("the view of a completed job has its result, duration and expiry", "[json_mapping]") {
  const auto o = render_view(completed_view());
  const auto expected = json::parse(R"({
    "job_id": "job_01", "tool": "sleep", "name": "nap", "status": "completed", "attempt": 1,
    "attempts_counted": 1, "priority": 7, "labels": {"country": "Kenya"}, "params": {"seconds": 2},
    "progress": {"percent": 100.0, "current_step": 4, "total_steps": 4, "step_name": "done"},
    "result": {"slept": 2},
    "created_at": "2026-11-24T05:43:00.123Z", "started_at": "2026-11-24T05:43:01.123Z",
    "completed_at": "2026-11-24T05:43:03.623Z", "duration_ms": 2500,
    "retry": {"max_attempts": 1, "initial_backoff_ms": 1000, "max_backoff_ms": 60000,
              "multiplier": 2.0, "retry_on_timeout": false},
    "ttl_hours": 24, "expires_at": "2026-11-25T05:43:03.623Z", "use_cache": false,
    "links": {"self": "/v1/jobs/job_01", "result": "/v1/jobs/job_01/result",
              "logs": "/v1/jobs/job_01/logs", "history": "/v1/jobs/job_01/history"}})");
  CHECK(to_json_text(o) == to_json_text(expected));
}

TEST_CASE("the view of a waiting job omits what has not happened", "[json_mapping]") {
  job_view v = completed_view();
  v.status = job_status::retrying;
  v.completed_at.reset();
  v.started_at.reset();
  v.next_attempt_at = t0 + 10s;
  v.error = "boom";
  v.timeout = 30s;
  v.idempotency_key = "k";
  const auto o = render_view(v);
  for (const char* absent : {"result", "started_at", "completed_at", "duration_ms", "expires_at"}) {
    CAPTURE(absent);
    CHECK_FALSE(o.contains(absent));
  }
  CHECK(o.at("status") == "retrying");
  CHECK(o.at("error") == "boom");
  CHECK(o.at("next_attempt_at") == "2026-11-24T05:43:10.123Z");
  CHECK(o.at("timeout_s") == 30);
  CHECK(o.at("idempotency_key") == "k");
  CHECK_FALSE(o.at("progress").as_object().contains("estimated_completion"));
}

TEST_CASE("a running job's duration counts up to now", "[json_mapping]") {
  job_view v = completed_view();
  v.status = job_status::running;
  v.result.reset();
  v.completed_at.reset();
  v.started_at = clock::now() - 5s;
  const auto o = render_view(v);
  CHECK(o.at("duration_ms").as_int64() >= 5000);
  CHECK_FALSE(o.contains("expires_at"));
}

TEST_CASE("transitions and log lines render with their fixed names", "[json_mapping]") {
  CHECK(to_json_text(render_transition({.to = job_status::pending, .at = t0, .attempt = 0, .reason = "submitted"})) ==
        R"({"from":null,"to":"pending","at":"2026-11-24T05:43:00.123Z","attempt":0,"reason":"submitted"})");
  CHECK(render_transition({.from = job_status::running, .to = job_status::failed}).at("from") == "running");
  CHECK(to_json_text(render_log({.at = t0, .level = log_level::warning, .message = "hot", .component = "tool"})) ==
        R"({"at":"2026-11-24T05:43:00.123Z","level":"warning","message":"hot","component":"tool"})");
}

TEST_CASE("each kind of event renders as its stream message", "[json_mapping]") {
  event e{.seq = 1042, .job_id = "job_01", .at = t0};
  SECTION("a creation transition has a null from") {
    e.kind = event_kind::transition;
    e.to = job_status::pending;
    e.reason = "submitted";
    CHECK(to_json_text(render_event(e)) ==
          R"({"type":"transition","seq":1042,"job_id":"job_01","from":null,"to":"pending","attempt":0,)"
          R"("at":"2026-11-24T05:43:00.123Z","reason":"submitted"})");
  }
  SECTION("a later transition names both statuses") {
    e.kind = event_kind::transition;
    e.from = job_status::pending;
    e.to = job_status::running;
    e.attempt = 1;
    const auto o = render_event(e);
    CHECK(o.at("from") == "pending");
    CHECK(o.at("to") == "running");
    CHECK(o.at("attempt") == 1);
  }
  SECTION("progress") {
    e.kind = event_kind::progress;
    e.progress = {.percent = 60, .current_step = 3, .total_steps = 5, .step_name = "align",
                  .estimated_completion = t0 + 1min};
    CHECK(to_json_text(render_event(e)) ==
          R"({"type":"progress","seq":1042,"job_id":"job_01","progress":{"percent":60,"current_step":3,)"
          R"("total_steps":5,"step_name":"align","estimated_completion":"2026-11-24T05:44:00.123Z"},)"
          R"("at":"2026-11-24T05:43:00.123Z"})");
  }
  SECTION("log") {
    e.kind = event_kind::log;
    e.level = log_level::error;
    e.message = "disk full";
    CHECK(to_json_text(render_event(e)) ==
          R"({"type":"log","seq":1042,"job_id":"job_01","level":"error","message":"disk full",)"
          R"("component":"tool","at":"2026-11-24T05:43:00.123Z"})");
    e.component = "engine";
    CHECK(json::parse(to_json_text(render_event(e))).at("component") == "engine");
  }
}

TEST_CASE("a tool renders its definition, with a null timeout when it has none", "[json_mapping]") {
  tool_definition d{.name = "align", .description = "Align reads",
                    .params = {{"ref", {{"type", "string"}}}}, .retry = {.max_attempts = 3},
                    .max_concurrent = 2};
  CHECK(to_json_text(render_tool(d)) ==
        R"({"name":"align","version":"1","description":"Align reads","params":{"ref":{"type":"string"}},)"
        R"("timeout_s":null,"max_concurrent":2,"mode":"queued","retry":{"max_attempts":3,"initial_backoff_ms":1000,)"
        R"("max_backoff_ms":60000,"multiplier":2,"retry_on_timeout":false}})");
  d.timeout = 2h;
  CHECK(render_tool(d).at("timeout_s") == 7200);
}

TEST_CASE("the engine's errors join the reader's, each field once", "[json][validation]") {
  std::vector<overseer::field_error> errors{{"priority", "11 is outside 0-10"}, {"jobs[1]", "must be a JSON object"}};
  add_unreported(errors, {{"priority", "again"},
                          {"params.seconds", "-1 is below the minimum 0"},
                          {"jobs[1].tool", "is required"},
                          {"jobs[10].tool", "is required"}});
  REQUIRE(errors.size() == 4);
  CHECK(errors[2].field == "params.seconds");
  CHECK(errors[3].field == "jobs[10].tool");
  // One of the engine's errors that holds a later one names it too.
  add_unreported(errors, {{"labels", "too many"}, {"labels.k", "too long"}, {"labels", "again"}});
  REQUIRE(errors.size() == 5);
  CHECK(errors[4].field == "labels");

  batch_spec b;
  const auto reader = parse_batch_spec(json::parse(R"({"name":5,"jobs":[{"tool":"sleep","params":{"seconds":-2}}]})"), b);
  REQUIRE(reader.size() == 1);
  REQUIRE(b.jobs.size() == 1);
  CHECK(b.jobs[0].tool == "sleep");
  CHECK(b.jobs[0].params.at("seconds").as_int64() == -2);
}
