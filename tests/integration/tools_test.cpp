// What tools and their params can do to the real overseerd: nothing that
// takes it down or puts invalid UTF-8 on the wire.
#include <csignal>
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include "support/daemon.hpp"
#include "support/http_helpers.hpp"
#include "support/temp_dir.hpp"
#include "support/tools_file.hpp"
#include "tools/utf8.hpp"

using namespace std::chrono_literals;
using namespace overseer::test;
namespace json = boost::json;

namespace {

constexpr const char* fffd = "\xef\xbf\xbd";

bool alive(const overseerd_process& d) { return ::kill(d.pid(), 0) == 0; }

}  // namespace

TEST_CASE("a long value for a pattern param gets its answer and the daemon lives on", "[http][tools]") {
  temp_dir dir;
  const auto tools = write_tools_file(
      dir.path(), {{"tools", {{{"name", "label"},
                               {"command", {"true", "{params.id}"}},
                               {"params", {{"id", {{"type", "string"}, {"pattern", "[a-z]+(-[a-z]+)*"}}}}}}}}});
  overseerd_process d{dir.path() / "data", {"--tools", tools.string()}};
  http_client c{d.port()};

  // libstdc++'s std::regex recursed per character: 30,000 passed, 100,000
  // crashed the daemon. The body limit (1 MiB) bounds what can be sent.
  for (const std::size_t n : {std::size_t{100'000}, std::size_t{1'000'000}}) {
    auto r = c.post("/v1/jobs", json::object{{"tool", "label"}, {"params", {{"id", std::string(n, 'a')}}}});
    CHECK(r.status == 202);
    r = c.post("/v1/jobs", json::object{{"tool", "label"}, {"params", {{"id", std::string(n, 'a') + "-"}}}});
    REQUIRE(r.status == 400);
    const auto answer = r.json();
    const auto& e = answer.at("errors").as_array().at(0);
    CHECK(str(e, "field") == "params.id");
    CHECK_THAT(str(e, "message"), Catch::EndsWith("does not match the pattern [a-z]+(-[a-z]+)*"));
    CHECK(r.body.size() < 2000);
  }
  // A NUL byte does not end the check early.
  auto r = c.request("POST", "/v1/jobs", R"({"tool": "label", "params": {"id": "abc\u0000def"}})");
  CHECK(r.status == 400);
  CHECK(alive(d));
  CHECK(c.get("/v1/health").status == 200);
}

TEST_CASE("bytes a tool prints that are not UTF-8 reach the logs and the stream as valid UTF-8",
          "[http][stream][tools][utf8]") {
  temp_dir dir;
  const auto tools = script_tool_file(dir.path(), "bytes",
                                      "printf 'raw \\xff\\xfe bytes\\n'\n"
                                      "printf 'broken \\xe2\\x82 euro \\xe2\\x82\\xac\\n' >&2\n");
  overseerd_process d{dir.path() / "data", {"--tools", tools.string()}};
  http_client c{d.port()};
  // Beast's WebSocket client fails a text frame that is not valid UTF-8:
  // receiving the log events proves the frames were.
  ws_client ws{d.port()};
  ws.send(json::object{{"op", "subscribe"}, {"all", true}, {"logs", true}});
  REQUIRE(ws.until([](const json::object& m) { return m.at("type") == "subscribed"; }));

  const auto id = submit(c, json::object{{"tool", "bytes"}});
  std::vector<std::string> streamed;
  auto last = ws.until([&](const json::object& m) {
    if (m.at("type") == "log" && m.at("job_id") == id.c_str() && m.at("component") == "tool")
      streamed.emplace_back(m.at("message").as_string());
    return streamed.size() == 2;
  });
  REQUIRE(last);
  CHECK(std::find(streamed.begin(), streamed.end(), std::string("raw ") + fffd + fffd + " bytes") != streamed.end());
  CHECK(std::find(streamed.begin(), streamed.end(), std::string("broken ") + fffd + " euro \xe2\x82\xac") !=
        streamed.end());

  REQUIRE(str(await_status(c, id), "status") == "completed");
  const auto logs = c.get("/v1/jobs/" + id + "/logs");
  REQUIRE(logs.status == 200);
  CHECK(overseer::tools::valid_utf8(logs.body));
  const auto body = json::parse(logs.body);  // boost::json refuses invalid UTF-8 too
  std::vector<std::string> stored;
  for (const auto& l : body.at("logs").as_array()) stored.emplace_back(l.at("message").as_string());
  CHECK(std::find(stored.begin(), stored.end(), std::string("raw ") + fffd + fffd + " bytes") != stored.end());
  CHECK(alive(d));
}

TEST_CASE("fasta_stats reads only inside the allowed paths the tools file gives it", "[http][tools]") {
  temp_dir dir;
  const auto genomes = dir.path() / "genomes";
  std::filesystem::create_directories(genomes);
  std::ofstream{genomes / "a.fa"} << ">a\nACGT\n";
  const auto tools = write_tools_file(
      dir.path(), {{"tools", json::array{}},
                   {"builtins", {{"fasta_stats", {{"allowed_paths", {genomes.string()}}}}}}});
  overseerd_process d{dir.path() / "data", {"--tools", tools.string()}};
  http_client c{d.port()};

  auto ok = await_status(c, submit(c, json::object{{"tool", "fasta_stats"},
                                                   {"params", {{"path", (genomes / "a.fa").string()}}}}));
  REQUIRE(str(ok, "status") == "completed");
  CHECK(ok.at("result").at("sequences").to_number<int>() == 1);

  auto relative = c.post("/v1/jobs", json::object{{"tool", "fasta_stats"}, {"params", {{"path", "a.fa"}}}});
  REQUIRE(relative.status == 400);
  const auto answer = relative.json();
  const auto& e = answer.at("errors").as_array().at(0);
  CHECK(str(e, "field") == "params.path");
  CHECK_THAT(str(e, "message"), Catch::Contains("is a relative path"));

  for (const auto& path : {std::string("/etc/shadow"), (genomes / ".." / ".." / "etc" / "passwd").string()}) {
    auto refused = await_status(c, submit(c, json::object{{"tool", "fasta_stats"}, {"params", {{"path", path}}}}));
    CHECK(str(refused, "status") == "failed");
    CHECK_THAT(str(refused, "error"), Catch::Contains("outside the allowed paths (" + genomes.string() + ")"));
  }

  auto undeclared = c.post("/v1/jobs", json::object{{"tool", "sleep"}, {"params", {{"secnds", 1}}}});
  REQUIRE(undeclared.status == 400);
  CHECK(str(undeclared.json().at("errors").as_array().at(0), "message") ==
        R"(unknown parameter "secnds"; did you mean "seconds"?)");
}
