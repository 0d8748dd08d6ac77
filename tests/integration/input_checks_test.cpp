// Input the server used to accept silently or echo raw: repeated query keys,
// repeated JSON keys, empty tokens, bytes that are not UTF-8, and WebSocket
// handshakes it cannot accept. Each is refused with a problem document
// naming what is wrong, and changes nothing.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>

#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "integration/raw_connection.hpp"
#include "support/daemon.hpp"
#include "support/eventually.hpp"
#include "support/http_helpers.hpp"
#include "support/temp_dir.hpp"
#include "tools/utf8.hpp"

extern char** environ;

using namespace overseer::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

/// A 400 problem whose errors name exactly `fields`.
void require_fields(const http_reply& r, std::vector<std::string> fields) {
  INFO("body: " << r.body);
  REQUIRE(r.status == 400);
  CHECK(r.content_type == "application/problem+json");
  std::vector<std::string> named;
  const auto doc = r.json();
  for (const auto& e : doc.at("errors").as_array()) named.push_back(str(e, "field"));
  std::sort(named.begin(), named.end());
  std::sort(fields.begin(), fields.end());
  CHECK(named == fields);
}

void require_problem(const raw_response& r, unsigned status, const std::string& field = {}) {
  INFO("body: " << r.body);
  REQUIRE(r.status == status);
  CHECK(r.header("content-type") == "application/problem+json");
  auto doc = r.json().as_object();
  CHECK(doc.at("status").as_int64() == status);
  if (field.empty()) return;
  bool named = false;
  for (const auto& e : doc.at("errors").as_array())
    if (str(e, "field") == field) named = true;
  CHECK(named);
}

struct exit_report {
  int status = -1;
  std::string err;
};

/// Runs overseerd expecting it to refuse to start: its exit status and stderr.
exit_report run_refused(const std::filesystem::path& data, std::vector<std::string> extra,
                        std::vector<std::string> env = {}) {
  int err[2];
  REQUIRE(::pipe(err) == 0);
  std::vector<std::string> args = {OVERSEERD_PATH, "--data-dir", data.string(), "--listen", "127.0.0.1:0"};
  args.insert(args.end(), extra.begin(), extra.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (char** e = environ; *e; ++e) envp.push_back(*e);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
  posix_spawn_file_actions_addclose(&actions, err[0]);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(err[1]);
  REQUIRE(rc == 0);
  exit_report out;
  char buf[1024];
  for (ssize_t n; (n = ::read(err[0], buf, sizeof buf)) > 0;) out.err.append(buf, static_cast<std::size_t>(n));
  ::close(err[0]);
  int status = 0;
  // Its stderr ended: it has exited, or is about to.
  if (!eventually([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, 20s)) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  out.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

std::string upgrade_request(const std::string& target, const std::string& headers) {
  return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" + headers +
         "\r\n";
}

const std::string ws_headers = "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";

}  // namespace

TEST_CASE("a repeated query key is a 400 naming it, not a silent choice", "[http][input]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  http_client c{d.port()};
  require_fields(c.get("/v1/jobs?status=completed&status=failed"), {"status"});
  require_fields(c.get("/v1/jobs?label.a=1&limit=5&label.a=2&limit=6"), {"label.a", "limit"});
  require_fields(c.get("/v1/jobs/logs?x=1&x=1"), {"x"});
  require_fields(c.request("DELETE", "/v1/cache?confirm=true&confirm=false"), {"confirm"});
  CHECK(c.get("/v1/jobs?status=completed&limit=5").status == 200);
}

TEST_CASE("a query a route does not take is named in the same answer as its body's errors, and changes nothing",
          "[http][input]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  http_client c{d.port()};
  const auto held = submit(c, json::object{{"tool", "sleep"}, {"params", json::object{{"seconds", 60}}}});
  // Routes that take a body and no query: both named at once.
  require_fields(c.post("/v1/batches?x=1", json::parse(R"({"jobs":[{"tool":"noop","priority":99}]})")),
                 {"x", "jobs[0].priority"});
  require_fields(c.post("/v1/tools/noop/pause?x=1&x=2", json::parse(R"({"reasn":1,"reason":5})")),
                 {"x", "reasn", "reason"});
  require_fields(c.post("/v1/jobs/" + held + "/cancel?why=now", json::parse(R"({"reason":""})")), {"why", "reason"});
  require_fields(c.post("/v1/jobs/" + held + "/retry?x=1", json::parse(R"({"resaon":"a"})")), {"x", "resaon"});
  // Without a body, the query alone.
  require_fields(c.post("/v1/tools/noop/resume?x=1", json::object{}), {"x"});
  require_fields(c.request("DELETE", "/v1/jobs/" + held + "?force=1"), {"force"});
  // A bulk change with filters in both: the query's unknown key as a query
  // parameter, the body's as a field.
  auto bulk = c.post("/v1/jobs/cancel?x=1", json::parse(R"({"tool":"noop","priority":99})"));
  require_fields(bulk, {"body", "x", "priority"});
  const auto bulk_doc = bulk.json();
  for (const auto& e : bulk_doc.at("errors").as_array()) {
    if (e.at("field") == "x") CHECK(str(e, "message").starts_with("unknown query parameter \"x\""));
    if (e.at("field") == "priority") CHECK(str(e, "message").starts_with("unknown field \"priority\""));
  }
  // Nothing changed: no batch, no pause, the job still running or queued.
  CHECK(c.get("/v1/batches").json().at("total_count").as_int64() == 0);
  const auto tools = c.get("/v1/tools").json();
  for (const auto& t : tools.at("tools").as_array()) CHECK(t.at("paused") == false);
  const auto status = str(c.get("/v1/jobs/" + held).json(), "status");
  CHECK((status == "running" || status == "pending"));
  CHECK(c.post("/v1/jobs/" + held + "/cancel", json::object{}).status == 200);
}

TEST_CASE("a repeated JSON key is a 400 naming its path, and stores nothing", "[http][input]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  http_client c{d.port()};
  require_fields(c.request("POST", "/v1/jobs", R"({"tool":"noop","priority":1,"priority":9})"), {"priority"});
  require_fields(c.request("POST", "/v1/jobs", R"({"tool":"sleep","params":{"seconds":1,"seconds":2}})"),
                 {"params.seconds"});
  require_fields(c.request("POST", "/v1/jobs", R"({"tool":"noop","tool":"noop","labels":{"a":"1","b":"2","a":"3"}})"),
                 {"tool", "labels.a"});
  require_fields(c.request("POST", "/v1/batches", R"({"jobs":[{"tool":"noop"},{"tool":"noop","name":"a","name":"b"}]})"),
                 {"jobs[1].name"});
  require_fields(c.request("POST", "/v1/batches", R"({"name":"x","jobs":[],"name":"y"})"), {"name"});
  CHECK(job_count(c) == 0);
  // The same key in different objects is no repeat.
  CHECK(c.request("POST", "/v1/jobs", R"({"tool":"noop","labels":{"tool":"noop"}})").status == 202);
}

TEST_CASE("a body that is not JSON says where, and a notify's bad event is named once, not also as none", "[http][input]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  http_client c{d.port()};
  const auto detail = [&](const std::string& body) {
    auto r = c.request("POST", "/v1/jobs", body);
    CHECK(r.status == 400);
    CHECK(overseer::tools::valid_utf8(r.body));
    return str(r.json(), "detail");
  };
  CHECK(detail("{\"tool\":\"noop\",\"name\":\"a\xff\"}") ==
        "the body is not valid JSON: the text is not UTF-8: byte 0xFF at offset 24");
  CHECK_THAT(detail(R"({"tool":"noop","name":"a\ud800"})"), Catch::Contains("surrogate"));
  CHECK(detail(R"({"tool":)") == "the body is not valid JSON: incomplete JSON at offset 8");
  auto r = c.request("POST", "/v1/jobs", R"({"tool":"noop","notify":{"url":"http://127.0.0.1:9/h","events":["done"]}})");
  CHECK(r.status == 400);
  std::vector<std::string> fields;
  const auto doc = r.json();
  for (const auto& e : doc.at("errors").as_array()) fields.emplace_back(str(e, "field"));
  CHECK(fields == std::vector<std::string>{"notify.events[0]", "notify.url"});
  // An empty list is named as such.
  r = c.request("POST", "/v1/jobs", R"({"tool":"noop","notify":{"url":"http://127.0.0.1:9/h","events":[]}})");
  CHECK(r.body.find("must name at least one of transition, progress, log") != std::string::npos);
  CHECK(job_count(c) == 0);
}

TEST_CASE("a stream message with a repeated key is refused with an error naming it", "[http][input][stream]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  raw_stream ws{d.port()};
  ws.send(R"({"op":"subscribe","all":true,"filter":{"tool":"a","tool":"b"}})");
  auto m = ws.read();
  CHECK(m.at("type") == "error");
  CHECK(m.at("message").as_string().find("filter.tool") != json::string::npos);
  // The stream lives on.
  ws.send(R"({"op":"subscribe","all":true})");
  CHECK(ws.read().at("type") == "subscribed");
}

namespace {

std::set<std::string> error_fields(const json::value& m) {
  std::set<std::string> out;
  if (const auto* e = m.as_object().if_contains("errors"))
    for (const auto& x : e->as_array()) out.insert(std::string{x.at("field").as_string()});
  return out;
}

}  // namespace

TEST_CASE("a stream message names every bad key in one error and changes nothing", "[http][input][stream]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  raw_stream ws{d.port()};
  ws.send(R"({"op":"subscribe","job_id":5,"logs":"yes","sinse":3,"filter":{"tol":"x","labels":{"a":1}}})");
  auto m = ws.read();
  INFO(json::serialize(m));
  CHECK(m.at("type") == "error");
  CHECK(error_fields(m) == std::set<std::string>{"job_id", "logs", "sinse", "filter.tol", "filter.labels.a"});
  CHECK(m.at("message").as_string().find(R"(did you mean "since"?)") != json::string::npos);
  // docs/api.md's example, word for word.
  ws.send(R"({"op":"subscribe","job_id":5,"sinse":3})");
  m = ws.read();
  CHECK(m.at("message") == R"(unknown key "sinse"; did you mean "since"?; "job_id" must be a string)");
  // A misspelt key is not ignored: "log" would have subscribed without logs.
  ws.send(R"({"op":"subscribe","all":true,"log":true})");
  m = ws.read();
  INFO(json::serialize(m));
  CHECK(m.at("type") == "error");
  CHECK(error_fields(m) == std::set<std::string>{"log"});
  // No op and nothing to subscribe to: both said, in one error.
  ws.send(R"({"all":"yes"})");
  m = ws.read();
  INFO(json::serialize(m));
  CHECK(m.at("type") == "error");
  CHECK(error_fields(m) == std::set<std::string>{"op", "all"});
  CHECK(m.at("message").as_string().find("say what to subscribe to") != json::string::npos);
  // A binary frame is refused, even holding a good message; text still works.
  ws.send_binary(R"({"op":"subscribe","all":true})");
  m = ws.read();
  INFO(json::serialize(m));
  CHECK(m.at("type") == "error");
  CHECK(m.at("message").as_string().find("text frame") != json::string::npos);
  ws.send(R"({"op":"subscribe","all":true,"logs":true,"filter":{"tool":"noop","labels":{"a":"1"}}})");
  m = ws.read();
  INFO(json::serialize(m));
  CHECK(m.at("type") == "subscribed");
}

TEST_CASE("every answer is valid UTF-8, whatever bytes the client sent", "[http][input]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  http_client c{d.port()};
  for (const auto& target : {std::string{"/v1/jobs/%ff%fe"}, std::string{"/v1/jobs?%ff=1"},
                             std::string{"/v1/jobs?status=%c3%28"}, std::string{"/v1/jobs/%ed%a0%80/logs"}}) {
    INFO(target);
    auto r = c.get(target);
    CHECK(r.status >= 400);
    CHECK(overseer::tools::valid_utf8(r.body));
    CHECK(r.body.find("\xEF\xBF\xBD") != std::string::npos);  // U+FFFD stands for the bad bytes
    CHECK(r.json().is_object());
  }
  // A path no route has is quoted as it was sent, still encoded.
  auto unrouted = c.get("/v1/%ff/x");
  CHECK(unrouted.status == 404);
  CHECK(str(unrouted.json(), "detail") == "no route for /v1/%ff/x");
  auto media = c.request("POST", "/v1/jobs", R"({"tool":"noop"})", "text/\xff\xfe");
  CHECK(media.status == 415);
  CHECK(overseer::tools::valid_utf8(media.body));
  SECTION("raw bytes in the request line") {
    raw_connection raw{d.port()};
    raw.send("GET /v1/jobs/\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n");
    auto r = raw.read();
    REQUIRE(r);
    CHECK(r->status >= 400);
    CHECK(overseer::tools::valid_utf8(r->body));
  }
  SECTION("a stream subscription echoing a bad id") {
    ws_client ws{d.port(), "/v1/stream?job=job_%ff"};
    auto m = ws.until([](auto& x) { return x.at("type").as_string() == "error"; });
    REQUIRE(m);  // Beast's client would fail on a text frame that is not UTF-8
    CHECK(m->at("message").as_string().find("\xEF\xBF\xBD") != json::string::npos);
  }
  CHECK(job_count(c) == 0);
}

TEST_CASE("an empty or unusable bearer token is refused at startup", "[http][input][auth]") {
  temp_dir dir;
  SECTION("--token \"\"") {
    auto r = run_refused(dir.path() / "data", {"--token", ""});
    CHECK(r.status == 2);
    CHECK(r.err.find("bearer token must not be empty") != std::string::npos);
  }
  SECTION("an empty entry in OVERSEER_TOKENS") {
    auto r = run_refused(dir.path() / "data", {}, {"OVERSEER_TOKENS=good,,other"});
    CHECK(r.status == 2);
    CHECK(r.err.find("must not be empty") != std::string::npos);
  }
  SECTION("an empty token in a config file") {
    const auto file = dir.path() / "config.json";
    std::ofstream{file} << R"({"tokens":["good",""]})";
    auto r = run_refused(dir.path() / "data", {"--config", file.string()});
    CHECK(r.status == 2);
    CHECK(r.err.find("must not be empty") != std::string::npos);
  }
  SECTION("a token with a space, refused by the server itself") {
    auto r = run_refused(dir.path() / "data", {"--token", "two words"});
    CHECK(r.status == 1);
    CHECK(r.err.find("bearer token 1 contains whitespace or control characters") != std::string::npos);
  }
}

TEST_CASE("a misspelt setting is refused at startup with the nearest name", "[http][input][config]") {
  temp_dir dir;
  SECTION("a flag") {
    auto r = run_refused(dir.path() / "data", {"--max-concurent", "4"});
    CHECK(r.status == 2);
    CHECK(r.err.find("unknown option --max-concurent (did you mean --max-concurrent?)") != std::string::npos);
  }
  SECTION("a flag nothing is near") {
    auto r = run_refused(dir.path() / "data", {"--verbose"});
    CHECK(r.status == 2);
    CHECK(r.err.find("unknown option --verbose\n") != std::string::npos);
  }
  SECTION("a config file key") {
    const auto file = dir.path() / "config.json";
    std::ofstream{file} << R"({"idle_timout": 5})";
    auto r = run_refused(dir.path() / "data", {"--config", file.string()});
    CHECK(r.status == 2);
    CHECK(r.err.find(R"(unknown setting "idle_timout" (did you mean idle_timeout?))") != std::string::npos);
  }
  SECTION("every documented environment variable is read") {
    auto r = run_refused(dir.path() / "data", {}, {"OVERSEER_MAX_STREAMS=0"});
    CHECK(r.status == 2);
    CHECK(r.err.find("max_streams must be a whole number from 1") != std::string::npos);
  }
}

TEST_CASE("WebSocket handshakes the server cannot accept get problem documents", "[http][input][stream]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data", {"--token", "s3cret"}};
  const std::string auth = "Authorization: Bearer s3cret\r\n";
  auto ask = [&](const std::string& bytes) {
    raw_connection raw{d.port()};
    raw.send(bytes);
    auto r = raw.read();
    REQUIRE(r);
    return *r;
  };
  SECTION("no token") {
    auto r = ask(upgrade_request("/v1/stream?all=1", ws_headers));
    require_problem(r, 401);
    CHECK(r.header("www-authenticate") == "Bearer");
  }
  SECTION("a wrong token in the query") {
    require_problem(ask(upgrade_request("/v1/stream?all=1&access_token=nope", ws_headers)), 401);
  }
  SECTION("since that is not a sequence number") {
    require_problem(ask(upgrade_request("/v1/stream?all=1&since=abc", auth + ws_headers)), 400, "since");
  }
  SECTION("an unknown parameter, with a suggestion") {
    auto r = ask(upgrade_request("/v1/stream?all=1&sinse=3", auth + ws_headers));
    require_problem(r, 400, "sinse");
    CHECK(r.body.find("did you mean \\\"since\\\"") != std::string::npos);
  }
  SECTION("a repeated parameter, named with the query's other bad ones") {
    auto r = ask(upgrade_request("/v1/stream?job=a&job=b&since=abc&sinse=1", auth + ws_headers));
    require_problem(r, 400, "job");
    require_problem(r, 400, "since");
    require_problem(r, 400, "sinse");
  }
  SECTION("an unsupported WebSocket version") {
    auto r = ask(upgrade_request("/v1/stream?all=1", auth + "Sec-WebSocket-Version: 8\r\n"
                                                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"));
    require_problem(r, 426);
    CHECK(r.header("sec-websocket-version") == "13");
  }
  SECTION("a Sec-WebSocket-Key that is not the base64 of 16 bytes") {
    for (const std::string key : {"not base64 at all!!!!!!!", "dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZSBub25jZR==",
                                  "dGhlIHNhbXBsZSBub25jZQ=x", "dGhlIHNhbXBsZSBub25jZSBh"}) {
      INFO(key);
      require_problem(ask(upgrade_request("/v1/stream?all=1",
                                          auth + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + key + "\r\n")),
                      400);
    }
  }
  SECTION("no Sec-WebSocket-Key") {
    require_problem(ask(upgrade_request("/v1/stream?all=1", auth + "Sec-WebSocket-Version: 13\r\n")), 400);
  }
  SECTION("the wrong method") {
    auto r = ask("POST /v1/stream HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" + auth +
                 ws_headers + "\r\n");
    require_problem(r, 405);
    CHECK(r.header("allow") == "GET, HEAD");
  }
  // None of it disturbed a good upgrade.
  ws_client ok{d.port(), "/v1/stream?all=1&access_token=s3cret"};
  CHECK(ok.until([](auto& m) { return m.at("type").as_string() == "subscribed"; }));
}

namespace {

/// Sets an environment variable for the daemons a test starts, and removes
/// it again.
struct scoped_env {
  std::string name;
  scoped_env(std::string n, const std::string& value) : name(std::move(n)) { ::setenv(name.c_str(), value.c_str(), 1); }
  ~scoped_env() { ::unsetenv(name.c_str()); }
  scoped_env(const scoped_env&) = delete;
  scoped_env& operator=(const scoped_env&) = delete;
};

/// A valid job spec padded with blanks to `size` bytes.
std::string spec_of_size(std::size_t size) {
  std::string body = R"({"tool":"noop"})";
  body.insert(body.size() - 1, size - body.size(), ' ');
  return body;
}

unsigned post_size(unsigned short port, std::size_t size) {
  http_client c{port};
  return c.request("POST", "/v1/jobs", spec_of_size(size)).status;
}

}  // namespace

TEST_CASE("settings take flags over the environment over a config file, which may carry comments", "[http][input][config]") {
  temp_dir dir;
  const auto file = dir.path() / "config.json";
  std::ofstream{file} << "// the largest body\n{\n  \"body_limit\": 2000, // bytes\n  /* and a block */ \"idle_timeout\": 30\n}\n";
  const std::vector<std::string> config = {"--config", file.string()};
  {
    overseerd_process d{dir.path() / "a", config};  // the file's 2000
    CHECK(post_size(d.port(), 1900) == 202);
    CHECK(post_size(d.port(), 2100) == 413);
  }
  scoped_env env{"OVERSEER_BODY_LIMIT", "3000"};
  {
    overseerd_process d{dir.path() / "b", config};  // the environment's 3000 over the file's
    CHECK(post_size(d.port(), 2100) == 202);
    CHECK(post_size(d.port(), 3100) == 413);
  }
  {
    auto flags = config;
    flags.insert(flags.end(), {"--body-limit", "4000"});
    overseerd_process d{dir.path() / "c", flags};  // the flag's 4000 over both
    CHECK(post_size(d.port(), 3100) == 202);
    CHECK(post_size(d.port(), 4100) == 413);
  }
  {
    // --config after the flag: the flag still wins (files are read first).
    std::vector<std::string> flags = {"--body-limit", "4000"};
    flags.insert(flags.end(), config.begin(), config.end());
    overseerd_process d{dir.path() / "d", flags};
    CHECK(post_size(d.port(), 3100) == 202);
  }
}

TEST_CASE("a config file that is not JSON is refused with the parser's reason", "[http][input][config]") {
  temp_dir dir;
  const auto file = dir.path() / "config.json";
  std::ofstream{file} << "{\"body_limit\": 2000 /* unclosed";
  auto r = run_refused(dir.path() / "data", {"--config", file.string()});
  CHECK(r.status == 2);
  CHECK(r.err.find("is not valid JSON") != std::string::npos);
}
