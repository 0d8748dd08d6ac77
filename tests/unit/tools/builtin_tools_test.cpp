#include "tools/builtin_tools.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>

#include <sys/stat.h>
#include <future>
#include <thread>

#include "support/fake_context.hpp"
#include "support/temp_dir.hpp"
#include "tools/param_schema.hpp"

namespace {

using namespace std::chrono_literals;
using overseer::tool_result;
using overseer::test::fake_context;

// Runs a built-in tool the way the engine does: params validated first.
struct builtins {
  overseer::tool_registry registry;
  explicit builtins(const overseer::tools::builtin_config& config = {}) {
    overseer::tools::register_builtin_tools(registry, config);
  }

  boost::json::object params(std::string_view tool, const boost::json::object& given) const {
    boost::json::object out;
    auto errors = validate(tool, given, out);
    REQUIRE(errors.empty());
    return out;
  }
  std::vector<overseer::field_error> validate(std::string_view tool, const boost::json::object& given,
                                              boost::json::object& out) const {
    return overseer::tools::validate_params(registry.find(tool)->definition, given, out);
  }
  tool_result run(std::string_view tool, fake_context& ctx) const {
    return registry.find(tool)->body(ctx);
  }
};

}  // namespace

TEST_CASE("the built-in tools are registered with schemas", "[tools]") {
  builtins b;
  auto tools = b.registry.list();
  REQUIRE(tools.size() == 4);
  for (const auto& t : tools) {
    CHECK(t.version == "1");
    CHECK_FALSE(t.description.empty());
    CHECK(overseer::tools::check_schema(t.params).empty());
  }
  CHECK(b.params("sleep", {}) == boost::json::object{{"seconds", 1}, {"steps", 4}});
}

TEST_CASE("sleep reports progress after each step and checkpoints it", "[tools]") {
  builtins b;
  fake_context ctx(b.params("sleep", {{"seconds", 0.02}, {"steps", 4}}));
  auto r = b.run("sleep", ctx);
  REQUIRE(r.what() == tool_result::kind::value);
  CHECK(r.value() == boost::json::object{{"slept_seconds", 0.02}, {"steps", 4}});
  auto reports = ctx.progress_reports();
  REQUIRE(reports.size() == 4);
  CHECK(reports[0].percent == 25);
  CHECK(reports[3].percent == 100);
  CHECK(reports[3].current_step == 4);
  CHECK(reports[3].total_steps == 4);
  CHECK(reports[1].step_name == "step 2/4");
  CHECK(ctx.checkpoints() == std::vector<std::string>{"1", "2", "3", "4"});
}

TEST_CASE("sleep stops promptly when a stop is requested", "[tools]") {
  builtins b;
  fake_context ctx(b.params("sleep", {{"seconds", 60}, {"steps", 2}}));
  const auto start = std::chrono::steady_clock::now();
  auto result = std::async(std::launch::async, [&] { return b.run("sleep", ctx); });
  std::thread stopper([&] {
    std::this_thread::sleep_for(50ms);  // let it start sleeping; any delay works
    ctx.request_stop();
  });
  REQUIRE(result.wait_for(20s) == std::future_status::ready);
  stopper.join();
  CHECK(result.get().what() == tool_result::kind::stopped);
  CHECK(std::chrono::steady_clock::now() - start < 20s);  // far below the 60 s asked for
  CHECK(ctx.progress_reports().empty());
}

TEST_CASE("sleep resumes after the checkpointed step", "[tools]") {
  builtins b;
  fake_context ctx(b.params("sleep", {{"seconds", 0.04}, {"steps", 4}}), 2);
  ctx.set_last_checkpoint("2");
  auto r = b.run("sleep", ctx);
  REQUIRE(r.what() == tool_result::kind::value);
  auto reports = ctx.progress_reports();
  REQUIRE(reports.size() == 2);
  CHECK(reports[0].current_step == 3);
  CHECK(reports[1].current_step == 4);
  CHECK(ctx.checkpoints() == std::vector<std::string>{"3", "4"});
  auto logs = ctx.logs();
  REQUIRE(logs.size() == 1);
  CHECK(logs[0].level == overseer::log_level::info);
  CHECK(logs[0].message == "resuming after step 2");
}

TEST_CASE("sleep ignores a checkpoint it cannot use", "[tools]") {
  builtins b;
  fake_context ctx(b.params("sleep", {{"seconds", 0}, {"steps", 3}}));
  ctx.set_last_checkpoint(GENERATE(std::string("garbage"), std::string("9"), std::string("-1")));
  REQUIRE(b.run("sleep", ctx).what() == tool_result::kind::value);
  CHECK(ctx.progress_reports().size() == 3);
}

TEST_CASE("fail fails its first attempts and then completes", "[tools]") {
  builtins b;
  fake_context ctx(b.params("fail", {{"failures", 2}, {"message", "boom"}}));
  for (int attempt = 1; attempt <= 2; ++attempt) {
    ctx.set_attempt(attempt);
    auto r = b.run("fail", ctx);
    REQUIRE(r.what() == tool_result::kind::failure);
    CHECK(r.message() == "boom (attempt " + std::to_string(attempt) + ")");
  }
  ctx.set_attempt(3);
  auto r = b.run("fail", ctx);
  REQUIRE(r.what() == tool_result::kind::value);
  CHECK(r.value() == boost::json::object{{"attempts", 3}});
}

TEST_CASE("fail with defaults fails once with the default message", "[tools]") {
  builtins b;
  fake_context ctx(b.params("fail", {}));
  CHECK(b.run("fail", ctx).message() == "deliberate failure (attempt 1)");
}

TEST_CASE("noop completes at once with an empty object", "[tools]") {
  builtins b;
  fake_context ctx(b.params("noop", {}));
  auto r = b.run("noop", ctx);
  REQUIRE(r.what() == tool_result::kind::value);
  CHECK(r.value() == boost::json::object{});
}

TEST_CASE("fasta_stats counts sequences, residues, GC and N50", "[tools]") {
  overseer::test::temp_dir dir;
  const auto path = (dir.path() / "small.fa").string();
  // Lengths 8, 7 and 5 (total 20): 8 < 10 <= 8 + 7, so N50 is 7. Of the
  // 18 A/C/G/T, 7 are G or C; the two N count as residues only.
  std::ofstream(path) << "\n>seq1 first\nACGTA\ngtn\n"
                         ">seq2\r\nAAAAAT\r\nN\r\n"
                         ">seq3\nGGCCA";
  builtins b{{.fasta_stats_allowed_paths = {dir.path()}}};
  fake_context ctx(b.params("fasta_stats", {{"path", path}}));
  auto r = b.run("fasta_stats", ctx);
  REQUIRE(r.what() == tool_result::kind::value);
  const auto& v = r.value().as_object();
  CHECK(v.at("sequences").to_number<int>() == 3);
  CHECK(v.at("total_length").to_number<int>() == 20);
  CHECK(v.at("gc_content").as_double() == Approx(7.0 / 18.0));
  CHECK(v.at("n50").to_number<int>() == 7);
  REQUIRE_FALSE(ctx.progress_reports().empty());
  CHECK(ctx.progress_reports().back().percent == 100);
  CHECK(ctx.logs().size() == 2);
}

TEST_CASE("fasta_stats refuses a missing file", "[tools]") {
  overseer::test::temp_dir dir;
  builtins b{{.fasta_stats_allowed_paths = {dir.path()}}};
  const auto path = (dir.path() / "genome.fa").string();
  fake_context ctx(b.params("fasta_stats", {{"path", path}}));
  auto r = b.run("fasta_stats", ctx);
  REQUIRE(r.what() == tool_result::kind::failure);
  CHECK(r.message() == "cannot open " + path + ": No such file or directory");
}

TEST_CASE("fasta_stats refuses a file that is not FASTA", "[tools]") {
  overseer::test::temp_dir dir;
  const auto path = (dir.path() / "notes.txt").string();
  std::ofstream(path) << "\n  \nhello world\n>seq\nACGT\n";
  builtins b{{.fasta_stats_allowed_paths = {dir.path()}}};
  fake_context ctx(b.params("fasta_stats", {{"path", path}}));
  auto r = b.run("fasta_stats", ctx);
  REQUIRE(r.what() == tool_result::kind::failure);
  CHECK_THAT(r.message(), Catch::Contains(path) && Catch::Contains("not FASTA"));
}

TEST_CASE("fasta_stats returns stopped when a stop was requested", "[tools]") {
  overseer::test::temp_dir dir;
  const auto path = (dir.path() / "a.fa").string();
  std::ofstream(path) << ">a\nACGT\n";
  builtins b{{.fasta_stats_allowed_paths = {dir.path()}}};
  fake_context ctx(b.params("fasta_stats", {{"path", path}}));
  ctx.request_stop();
  CHECK(b.run("fasta_stats", ctx).what() == tool_result::kind::stopped);
}

TEST_CASE("fasta_stats coalesces progress to whole percents", "[tools]") {
  overseer::test::temp_dir dir;
  const auto path = (dir.path() / "big.fa").string();
  {
    std::ofstream out(path);
    for (int i = 0; i < 20000; ++i) out << ">s" << i << "\n" << std::string(60, 'A') << "\n";
  }
  builtins b{{.fasta_stats_allowed_paths = {dir.path()}}};
  fake_context ctx(b.params("fasta_stats", {{"path", path}}));
  auto r = b.run("fasta_stats", ctx);
  REQUIRE(r.what() == tool_result::kind::value);
  CHECK(r.value().at("sequences").to_number<int>() == 20000);
  auto reports = ctx.progress_reports();
  CHECK(reports.size() > 1);  // the file spans many chunks
  CHECK(reports.size() <= 101);
  for (std::size_t i = 1; i < reports.size(); ++i) CHECK(reports[i].percent > reports[i - 1].percent);
  CHECK(reports.back().percent == 100);
}

TEST_CASE("every built-in refuses a param it does not declare, naming it", "[tools]") {
  builtins b;
  struct row {
    const char* tool;
    boost::json::object params;
    const char* field;
    const char* message;
  };
  const auto [tool, given, field, message] = GENERATE(
      row{"sleep", {{"secnds", 1}}, "params.secnds", R"(unknown parameter "secnds"; did you mean "seconds"?)"},
      row{"fail", {{"mesage", "x"}}, "params.mesage", R"(unknown parameter "mesage"; did you mean "message"?)"},
      row{"fail", {{"reason", "x"}}, "params.reason", R"(unknown parameter "reason")"},
      row{"noop", {{"x", 1}}, "params.x", R"(unknown parameter "x": this tool takes no params)"},
      row{"fasta_stats", {{"path", "/a.fa"}, {"pth", "/a.fa"}}, "params.pth",
          R"(unknown parameter "pth"; did you mean "path"?)"});
  boost::json::object out;
  const auto errors = b.validate(tool, given, out);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].field == field);
  CHECK(errors[0].message == message);
  CHECK(b.registry.find(tool)->definition.strict_params);
}

TEST_CASE("fasta_stats refuses a relative path when the job is submitted", "[tools]") {
  builtins b;
  boost::json::object out;
  const auto errors = b.validate("fasta_stats", {{"path", "genome.fa"}}, out);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].field == "params.path");
  CHECK(errors[0].message == R"("genome.fa" is a relative path; give an absolute one, starting with /)");
  CHECK(b.validate("fasta_stats", {{"path", std::string("/a\0b", 4)}}, out).size() == 1);
  CHECK(b.validate("fasta_stats", {{"path", "/srv/genomes/genome.fa"}}, out).empty());
}

namespace {

// A data dir with genomes/ (allowed) and a FASTA file outside it, which
// fasta_stats would read happily if it were allowed to.
struct confined {
  overseer::test::temp_dir dir;
  std::filesystem::path genomes = dir.path() / "genomes";
  std::filesystem::path outside = dir.path() / "secret.fa";
  confined() {
    std::filesystem::create_directories(genomes);
    std::ofstream(genomes / "inside.fa") << ">in\nACGT\n";
    std::ofstream(outside) << ">secret\nGGGG\n";
  }
  tool_result run(builtins& b, const std::string& path) const {
    fake_context ctx(b.params("fasta_stats", {{"path", path}}));
    return b.run("fasta_stats", ctx);
  }
};

}  // namespace

TEST_CASE("fasta_stats reads no file until its allowed paths are configured", "[tools]") {
  confined c;
  builtins b;
  auto r = c.run(b, (c.genomes / "inside.fa").string());
  REQUIRE(r.what() == tool_result::kind::failure);
  CHECK_THAT(r.message(), Catch::StartsWith("params.path: fasta_stats may read no file: it has no allowed_paths"));
}

TEST_CASE("fasta_stats reads only inside its allowed paths, whatever .. or symbolic links say", "[tools]") {
  namespace fs = std::filesystem;
  confined c;
  builtins b{{.fasta_stats_allowed_paths = {c.genomes}}};
  REQUIRE(c.run(b, (c.genomes / "inside.fa").string()).what() == tool_result::kind::value);

  const std::string allowed = " (" + c.genomes.string() + ")";
  SECTION("a path elsewhere is refused before it is looked at") {
    auto r = c.run(b, "/etc/shadow");
    REQUIRE(r.what() == tool_result::kind::failure);
    CHECK(r.message() == "params.path: \"/etc/shadow\" is outside the allowed paths" + allowed);
  }
  SECTION("..") {
    const auto path = (c.genomes / ".." / "secret.fa").string();
    auto r = c.run(b, path);
    REQUIRE(r.what() == tool_result::kind::failure);
    CHECK(r.message() == "params.path: \"" + path + "\" is outside the allowed paths" + allowed);
  }
  SECTION("a symbolic link to a file outside") {
    fs::create_symlink(c.outside, c.genomes / "link.fa");
    const auto path = (c.genomes / "link.fa").string();
    auto r = c.run(b, path);
    REQUIRE(r.what() == tool_result::kind::failure);
    CHECK(r.message() == "params.path: \"" + path + "\" resolves to " + fs::canonical(c.outside).string() +
                             ", outside the allowed paths" + allowed);
  }
  SECTION("a symbolic link to a directory outside") {
    fs::create_directory_symlink(c.dir.path(), c.genomes / "up");
    auto r = c.run(b, (c.genomes / "up" / "secret.fa").string());
    REQUIRE(r.what() == tool_result::kind::failure);
    CHECK_THAT(r.message(), Catch::Contains("resolves to " + fs::canonical(c.outside).string()));
  }
  SECTION("a symbolic link that stays inside is followed") {
    fs::create_symlink(c.genomes / "inside.fa", c.genomes / "alias.fa");
    auto r = c.run(b, (c.genomes / "alias.fa").string());
    REQUIRE(r.what() == tool_result::kind::value);
    CHECK(r.value().at("sequences").to_number<int>() == 1);
  }
  SECTION("an allowed directory named through a symbolic link") {
    fs::create_directory_symlink(c.genomes, c.dir.path() / "alias");
    builtins via_alias{{.fasta_stats_allowed_paths = {c.dir.path() / "alias"}}};
    CHECK(c.run(via_alias, (c.dir.path() / "alias" / "inside.fa").string()).what() == tool_result::kind::value);
    CHECK(c.run(via_alias, (c.genomes / "inside.fa").string()).what() == tool_result::kind::value);
    CHECK(c.run(via_alias, c.outside.string()).what() == tool_result::kind::failure);
  }
  SECTION("something that is not a regular file, a FIFO included, is refused without blocking") {
    REQUIRE(::mkfifo((c.genomes / "pipe.fa").c_str(), 0600) == 0);
    auto r = c.run(b, (c.genomes / "pipe.fa").string());
    REQUIRE(r.what() == tool_result::kind::failure);
    CHECK_THAT(r.message(), Catch::EndsWith("pipe.fa: not a regular file"));
    r = c.run(b, c.genomes.string());
    REQUIRE(r.what() == tool_result::kind::failure);
    CHECK_THAT(r.message(), Catch::EndsWith("genomes: not a regular file"));
  }
}

TEST_CASE("the built-ins are configured after registration, checked first", "[tools]") {
  confined c;
  builtins b;
  overseer::tools::builtin_config config{.fasta_stats_allowed_paths = {"genomes"}};
  auto problems = overseer::tools::check_builtin_config(b.registry, config);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].field == "builtins.fasta_stats.allowed_paths");
  CHECK(problems[0].message == R"("genomes" is not an absolute path)");

  config.fasta_stats_allowed_paths = {c.genomes};
  REQUIRE(overseer::tools::check_builtin_config(b.registry, config).empty());
  overseer::tools::configure_builtin_tools(b.registry, config);
  CHECK(c.run(b, (c.genomes / "inside.fa").string()).what() == tool_result::kind::value);

  overseer::tool_registry without_builtins;
  problems = overseer::tools::check_builtin_config(without_builtins, config);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].field == "builtins.fasta_stats");
}
