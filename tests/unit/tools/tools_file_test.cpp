#include "tools/tools_file.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <boost/json/serialize.hpp>

#include "support/fake_context.hpp"
#include "support/temp_dir.hpp"
#include "tools/builtin_tools.hpp"

using namespace overseer;
using Catch::Matchers::Contains;

namespace {

struct tools_file {
  test::temp_dir dir;
  tool_registry registry;
  std::filesystem::path path = dir.path() / "tools.json";

  void write(const std::string& text) { std::ofstream{path} << text; }
  void write_tool(boost::json::object tool) {
    write(boost::json::serialize(boost::json::object{{"tools", boost::json::array{std::move(tool)}}}));
  }
  /// The error message of registering the file; empty when it was accepted.
  std::string refusal() {
    try {
      tools::register_tools_file(registry, path);
    } catch (const error& e) {
      CHECK(e.code() == errc::invalid_spec);
      return e.what();
    }
    return {};
  }
};

boost::json::object annotate() {
  return {{"name", "annotate"},
          {"version", "1.2"},
          {"description", "Annotate a genome"},
          {"command", {"bash", "-c", "echo {params.fasta}", "--out", "{workdir}"}},
          {"params",
           {{"fasta", {{"type", "string"}, {"required", true}}},
            {"threads", {{"type", "integer"}, {"minimum", 1}, {"default", 4}}}}},
          {"env", {{"LC_ALL", "C"}}},
          {"timeout_s", 7200},
          {"max_concurrent", 2},
          {"retry", {{"max_attempts", 2}, {"initial_backoff_ms", 10}}},
          {"progress_regex", "([0-9]+)% done"},
          {"limits", {{"cpu_s", 36000}, {"memory_mb", 8192}, {"open_files", 1024}, {"output_mb", 64}}},
          {"kill_grace_s", 10}};
}

}  // namespace

TEST_CASE("a well-formed tools file registers each tool with its declared definition", "[exec][tools_file]") {
  tools_file f;
  f.write_tool(annotate());
  REQUIRE(f.refusal().empty());
  auto e = f.registry.find("annotate");
  REQUIRE(e);
  const auto& d = e->definition;
  CHECK(d.version == "1.2");
  CHECK(d.description == "Annotate a genome");
  CHECK(d.timeout == std::chrono::seconds(7200));
  CHECK(d.max_concurrent == 2);
  CHECK(d.retry.max_attempts == 2);
  CHECK(d.retry.initial_backoff == std::chrono::milliseconds(10));
  CHECK(d.params.at("threads").at("default").as_int64() == 4);
}

TEST_CASE("the program is resolved on PATH when the file is loaded", "[exec][tools_file]") {
  auto t = annotate();
  std::vector<tools::tools_file_problem> problems;
  auto configs = tools::parse_tools_file(
      boost::json::serialize(boost::json::object{{"tools", boost::json::array{t}}}), problems).tools;
  REQUIRE(problems.empty());
  REQUIRE(tools::check_exec_tool(configs.at(0)).empty());
  CHECK(configs[0].command[0].starts_with("/"));
  CHECK(configs[0].command[0].ends_with("/bash"));
}

TEST_CASE("a path param keeps its flag out of the schema the engine validates", "[exec][tools_file]") {
  tools_file f;
  auto t = annotate();
  t["params"].as_object()["fasta"].as_object()["path"] = true;
  t["allowed_paths"] = {f.dir.path().string()};
  f.write_tool(t);
  REQUIRE(f.refusal().empty());
  CHECK_FALSE(f.registry.find("annotate")->definition.params.at("fasta").as_object().contains("path"));
}

TEST_CASE("a bad tools file is refused with a message naming the tool and the field", "[exec][tools_file]") {
  tools_file f;
  auto t = annotate();
  std::string expected;

  SECTION("not JSON") {
    f.write("{\"tools\": [\n  {\"name\": }\n]}");
    CHECK_THAT(f.refusal(), Contains("is not valid JSON (line 2, column"));
    return;
  }
  SECTION("no tools array") {
    f.write(R"({"tool": []})");
    const auto m = f.refusal();
    CHECK_THAT(m, Contains("tools file " + f.path.string() + ": field \"tools\": is required"));
    CHECK_THAT(m, Contains("field \"tool\": unknown field; did you mean \"tools\"?"));
    return;
  }
  SECTION("a missing file") {
    f.path = f.dir.path() / "missing.json";
    CHECK_THAT(f.refusal(), Contains("missing.json: cannot be read: no such file"));
    return;
  }
  SECTION("command is not an array of strings") {
    t["command"] = "annotate --fast";
    expected = "tools file " + f.path.string() +
               ": tool \"annotate\": field \"command\": must be a non-empty array of strings";
  }
  SECTION("command is empty") {
    t["command"] = boost::json::array{};
    expected = "tool \"annotate\": field \"command\": must be a non-empty array of strings";
  }
  SECTION("a misspelt field") {
    t["timeout"] = 60;
    expected = "tool \"annotate\": field \"timeout\": unknown field; did you mean \"timeout_s\"?";
  }
  SECTION("a misspelt retry field") {
    t["retry"] = {{"max_attempt", 2}};
    expected = "field \"retry.max_attempt\": unknown field; did you mean \"max_attempts\"?";
  }
  SECTION("a template naming an undeclared param") {
    t["command"] = {"bash", "{params.fastq}"};
    expected = "tool \"annotate\": field \"command\": element 1: template {params.fastq} names no param";
  }
  SECTION("an unterminated template") {
    t["command"] = {"bash", "--in={params.fasta"};
    expected = "field \"command\": element 1: \"{params.fasta\" is not a template";
  }
  SECTION("a relative program") {
    t["command"] = {"./annotate"};
    expected =
        "field \"command\": the program \"./annotate\" must be an absolute path or a name found on PATH";
  }
  SECTION("a program not on PATH") {
    t["command"] = {"no-such-program-overseer"};
    expected = "the program \"no-such-program-overseer\" was not found on PATH";
  }
  SECTION("a program that is not executable") {
    std::ofstream{f.dir.path() / "data.txt"} << "x";
    t["command"] = {(f.dir.path() / "data.txt").string()};
    expected = "data.txt\" is not an executable file";
  }
  SECTION("a template in the program") {
    t["command"] = {"{params.fasta}"};
    expected = "must not contain templates";
  }
  SECTION("a bad schema") {
    t["params"].as_object()["threads"].as_object()["type"] = "int";
    expected = "tool \"annotate\": field \"params.threads.type\": expected one of string, integer";
  }
  SECTION("a wrong type") {
    t["timeout_s"] = "1h";
    expected = "field \"timeout_s\": must be an integer, found \"1h\"";
  }
  SECTION("a value out of range") {
    t["retry"] = {{"max_attempts", 0}};
    expected = "field \"retry.max_attempts\": 0 is outside 1-100";
  }
  SECTION("a negative limit") {
    t["limits"] = {{"output_mb", 0}};
    expected = "field \"limits.output_mb\": 0 must be above 0";
  }
  SECTION("a regex without a capture group") {
    t["progress_regex"] = "[0-9]+% done";
    expected = "field \"progress_regex\": needs a capture group";
  }
  SECTION("a regex that does not compile") {
    t["progress_regex"] = "([0-9]+% done";
    expected = "field \"progress_regex\": \"([0-9]+% done\" is not a valid RE2 regular expression (no "
               "backreferences, no lookaround): missing ): ([0-9]+% done";
  }
  SECTION("a reserved environment variable") {
    t["env"] = {{"OVERSEER_JOB_ID", "x"}};
    expected = "field \"env.OVERSEER_JOB_ID\": OVERSEER_* names are set by the engine";
  }
  SECTION("a non-string environment value") {
    t["env"] = {{"THREADS", 4}};
    expected = "field \"env.THREADS\": must be a string, found 4";
  }
  SECTION("a path param without allowed paths") {
    t["params"].as_object()["fasta"].as_object()["path"] = true;
    expected = "field \"allowed_paths\": is required when a param has \"path\": true";
  }
  SECTION("a tool without a name") {
    t.erase("name");
    expected = "tool #1: field \"name\": is required";
  }
  SECTION("a name the registry already has") {
    tools::register_builtin_tools(f.registry);
    t["name"] = "sleep";
    expected = "tool \"sleep\": field \"name\": \"sleep\" is already registered";
  }
  f.write_tool(t);
  CHECK_THAT(f.refusal(), Contains(expected));
}

TEST_CASE("a tools file with one bad tool registers none of them", "[exec][tools_file]") {
  tools_file f;
  auto bad = annotate();
  bad["name"] = "broken";
  bad["kill_grace_s"] = -1;
  f.write(boost::json::serialize(boost::json::object{{"tools", {annotate(), bad, annotate()}}}));
  const auto m = f.refusal();
  CHECK_THAT(m, Contains("tool \"broken\": field \"kill_grace_s\": -1 must be at least 0"));
  CHECK_THAT(m, Contains("tool \"annotate\": field \"name\": \"annotate\" is declared twice"));
  CHECK_FALSE(f.registry.find("annotate"));
  CHECK_FALSE(f.registry.find("broken"));
}

TEST_CASE("every problem of every tool is reported in one pass", "[exec][tools_file]") {
  tools_file f;
  boost::json::array ts;
  for (int i = 1; i <= 5; ++i) {
    auto t = annotate();
    t["name"] = "tool" + std::to_string(i);
    ts.push_back(std::move(t));
  }
  // A meaning problem (the pattern) in tool2, shape problems in tool3 and
  // tool5, and a program that is not on PATH in tool4: before, the shape
  // problems hid the others until they were fixed.
  ts[1].as_object()["params"].as_object()["fasta"].as_object()["pattern"] = "(a)\\1";
  ts[2].as_object()["timeout_s"] = "1h";
  ts[2].as_object()["max_concurent"] = 2;
  ts[3].as_object()["command"] = {"no-such-program-overseer"};
  ts[4].as_object()["command"] = "annotate --fast";
  f.write(boost::json::serialize(boost::json::object{{"tools", ts}}));
  const auto m = f.refusal();
  CHECK_THAT(m, Contains("tool \"tool2\": field \"params.fasta.pattern\": \"(a)\\\\1\" is not a valid RE2 regular "
                         "expression (no backreferences, no lookaround): invalid escape sequence: \\1"));
  CHECK_THAT(m, Contains("tool \"tool3\": field \"timeout_s\": must be an integer, found \"1h\""));
  CHECK_THAT(m, Contains("tool \"tool3\": field \"max_concurent\": unknown field; did you mean \"max_concurrent\"?"));
  CHECK_THAT(m, Contains("tool \"tool4\": field \"command\": the program \"no-such-program-overseer\" was not found"));
  CHECK_THAT(m, Contains("tool \"tool5\": field \"command\": must be a non-empty array of strings"));
  // A field refused for its shape is not reported again by the meaning check.
  CHECK(std::count(m.begin(), m.end(), '\n') == 4);
  for (const char* name : {"tool1", "tool2", "tool3", "tool4", "tool5"}) CHECK_FALSE(f.registry.find(name));
}

TEST_CASE("a misspelt name in a tools file gets a suggestion only when it is a plausible typo",
          "[exec][tools_file]") {
  tools_file f;
  auto t = annotate();
  SECTION("a key") {
    t["max_concurent"] = 2;
    f.write_tool(t);
    CHECK_THAT(f.refusal(), Contains("field \"max_concurent\": unknown field; did you mean \"max_concurrent\"?"));
  }
  SECTION("a key far from every known one") {
    t["sort"] = 2;
    f.write_tool(t);
    const auto m = f.refusal();
    CHECK_THAT(m, Contains("field \"sort\": unknown field"));
    CHECK_THAT(m, !Contains("did you mean"));
  }
  SECTION("a template naming a param") {
    t["command"] = {"bash", "{params.fastq}"};
    f.write_tool(t);
    CHECK_THAT(f.refusal(), Contains("template {params.fastq} names no param declared in \"params\"; did you "
                                     "mean {params.fasta}?"));
  }
}

TEST_CASE("the tools file configures the built-in fasta_stats", "[exec][tools_file]") {
  tools_file f;
  tools::register_builtin_tools(f.registry);
  const auto genomes = f.dir.path() / "genomes";
  std::filesystem::create_directories(genomes);
  std::ofstream{genomes / "a.fa"} << ">a\nACGT\n";
  auto run = [&](const std::string& path) {
    boost::json::object params{{"path", path}};
    test::fake_context ctx(params);
    return f.registry.find("fasta_stats")->body(ctx);
  };
  REQUIRE(run((genomes / "a.fa").string()).what() == tool_result::kind::failure);  // nothing allowed yet

  SECTION("allowed_paths") {
    f.write(boost::json::serialize(boost::json::object{
        {"tools", boost::json::array{}},
        {"builtins", {{"fasta_stats", {{"allowed_paths", {genomes.string()}}}}}}}));
    REQUIRE(f.refusal().empty());
    CHECK(run((genomes / "a.fa").string()).what() == tool_result::kind::value);
  }
  SECTION("misspelt, relative, or the wrong shape") {
    f.write(R"({"tools": [], "builtins": {"fasta_stat": {}, "fasta_stats": {"allowed_path": []}}})");
    auto m = f.refusal();
    CHECK_THAT(m, Contains("field \"builtins.fasta_stat\": unknown field; did you mean \"fasta_stats\"?"));
    CHECK_THAT(m, Contains("field \"builtins.fasta_stats.allowed_path\": unknown field; did you mean "
                           "\"allowed_paths\"?"));
    f.write(R"({"tools": [], "builtins": {"fasta_stats": {"allowed_paths": ["genomes"]}}})");
    CHECK_THAT(f.refusal(),
               Contains("field \"builtins.fasta_stats.allowed_paths\": \"genomes\" is not an absolute path"));
    f.write(R"({"tools": [], "builtins": {"fasta_stats": {"allowed_paths": "/srv"}}})");
    CHECK_THAT(f.refusal(),
               Contains("field \"builtins.fasta_stats.allowed_paths\": must be an array of strings"));
    CHECK(run((genomes / "a.fa").string()).what() == tool_result::kind::failure);  // nothing changed
  }
}

TEST_CASE("a tools file configuring built-ins that are not registered is refused", "[exec][tools_file]") {
  tools_file f;
  f.write(R"({"tools": [], "builtins": {"fasta_stats": {"allowed_paths": ["/srv"]}}})");
  CHECK_THAT(f.refusal(), Contains("field \"builtins.fasta_stats\": the built-in fasta_stats is not registered"));
}

TEST_CASE("a tool's own supervision strategy is read from the tools file", "[exec][tools_file][supervision]") {
  tools_file f;
  auto t = annotate();
  SECTION("every field") {
    t["supervision"] = {{"max_failures", 3}, {"window_s", 2.5}, {"count", {"failures", "crashes"}}};
    f.write_tool(t);
    REQUIRE(f.refusal().empty());
    const auto s = f.registry.find("annotate")->definition.supervision;
    REQUIRE(s);
    CHECK(s->max_failures == 3);
    CHECK(s->window == std::chrono::milliseconds(2500));
    CHECK(s->counts == intensity_counts{.crashes = true, .timeouts = false, .failures = true});
  }
  SECTION("unset fields keep the defaults") {
    t["supervision"] = {{"max_failures", 0}};
    f.write_tool(t);
    REQUIRE(f.refusal().empty());
    const auto s = f.registry.find("annotate")->definition.supervision;
    REQUIRE(s);
    CHECK(s->max_failures == 0);
    CHECK(s->window == supervision_strategy{}.window);
    CHECK(s->counts == intensity_counts{});
  }
  SECTION("bad fields are named, all of them") {
    t["supervision"] = {{"max_failures", -1}, {"window_s", 0}, {"count", {"signals"}}, {"period", 1}};
    f.write_tool(t);
    const auto m = f.refusal();
    CHECK_THAT(m, Contains("field \"supervision.max_failures\": -1 must be at least 0"));
    CHECK_THAT(m, Contains("field \"supervision.window_s\""));
    CHECK_THAT(m, Contains("field \"supervision.count\": \"signals\" is not one of crashes, timeouts, failures"));
    CHECK_THAT(m, Contains("field \"supervision.period\": unknown field"));
  }
  CHECK(f.registry.find("no_such") == nullptr);
}

TEST_CASE("outputs are names or globs inside the working directory, a file param is a type", "[exec][tools_file][files]") {
  {
    tools_file f;
    auto t = annotate();
    t["params"].as_object()["input"] = boost::json::object{{"type", "file"}};
    t["outputs"] = boost::json::array{"*.gff", "out/part-??.csv"};
    f.write_tool(t);
    REQUIRE(f.refusal().empty());
    const auto d = f.registry.find("annotate")->definition;
    CHECK(d.outputs == std::vector<std::string>{"*.gff", "out/part-??.csv"});
  }
  tools_file f;
  auto t = annotate();
  t["outputs"] = boost::json::array{"ok.txt", "../escape", "/etc/passwd", ""};
  f.write_tool(t);
  const auto m = f.refusal();
  CHECK_THAT(m, Contains("tool \"annotate\": field \"outputs[1]\": \"../escape\" leaves the working directory (..)"));
  CHECK_THAT(m, Contains("field \"outputs[2]\": \"/etc/passwd\" is an absolute path"));
  CHECK_THAT(m, Contains("field \"outputs[3]\": \"\" is empty"));
  CHECK_THAT(m, !Contains("outputs[0]"));
}
