// Exec tools against real processes: small bash scripts in a temp dir, run
// by a real engine (and, where the engine adds nothing, by a fake context).
#include "tools/exec_tool.hpp"

#include <catch2/catch.hpp>

#include <cerrno>
#include <csignal>
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include <boost/json/serialize.hpp>

#include "support/process_probe.hpp"
#include "support/engine_fixture.hpp"
#include "support/example_tools.hpp"
#include "support/fake_context.hpp"
#include "tools/utf8.hpp"

using namespace std::chrono_literals;
using namespace overseer;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

using test::eventually_gone;
using test::gone;

namespace {

/// An engine plus a temp dir of scripts and the tools file naming them.
struct exec_fixture {
  test::engine_fixture f;
  test::temp_dir scripts;
  boost::json::array tools;

  /// Adds a tool running `body` with bash; `extra` fields are merged in
  /// ("args" are appended to the command).
  void tool(const std::string& name, const std::string& body, boost::json::object extra = {}) {
    const auto script = scripts.path() / (name + ".sh");
    std::ofstream{script} << "set -u\n" << body << "\n";
    boost::json::array command{"bash", script.string()};
    if (auto* args = extra.if_contains("args")) {
      for (auto& a : args->as_array()) command.push_back(a);
      extra.erase("args");
    }
    boost::json::object t{{"name", name}, {"command", command}, {"kill_grace_s", 0.5}};
    for (auto& kv : extra) t[kv.key()] = kv.value();
    tools.push_back(t);
  }
  void start() {
    const auto file = scripts.path() / "tools.json";
    std::ofstream{file} << boost::json::serialize(boost::json::object{{"tools", tools}});
    tools::register_tools_file(f.eng->tools(), file);
    f.start();
  }
  job_view run(const std::string& tool, boost::json::object params = {}) {
    auto v = f.eng->wait(f.eng->submit({.tool = tool, .params = std::move(params)}), 30s);
    REQUIRE(v);
    return *v;
  }
  std::vector<log_line> logs(const std::string& id) { return f.eng->logs(id, log_level::debug, 1000, 0).value().lines; }
  bool logged(const std::string& id, log_level level, const std::string& message) {
    for (const auto& l : logs(id))
      if (l.level == level && l.message == message) return true;
    return false;
  }
  /// Waits for a log line of `id` starting with `prefix`; returns the rest.
  std::string wait_for_log(const std::string& id, const std::string& prefix) {
    std::string rest;
    f.events.wait_for([&](const std::vector<event>& es) {
      for (const auto& e : es)
        if (e.job_id == id && e.kind == event_kind::log && e.message.starts_with(prefix))
          return rest = e.message.substr(prefix.size()), true;
      return false;
    });
    return rest;
  }
};

}  // namespace

TEST_CASE("an exec tool reports progress, logs and a result through @overseer lines", "[exec]") {
  exec_fixture x;
  x.tool("steps", R"sh(
echo '@overseer {"progress": 25, "step_name": "index", "current_step": 1, "total_steps": 4}'
echo "aligning"
echo '@overseer {"progress": 100, "step_name": "report", "current_step": 4, "total_steps": 4, "log": "all done"}'
echo '@overseer {"result": {"hits": 42, "genes": ["a", "b"]}}')sh");
  x.start();
  auto v = x.run("steps");
  REQUIRE(v.status == job_status::completed);
  CHECK(boost::json::serialize(*v.result) == R"({"hits":42,"genes":["a","b"]})");
  CHECK(v.progress.percent == Approx(100));
  CHECK(v.progress.step_name == "report");
  CHECK(v.progress.current_step == 4);
  CHECK(v.progress.total_steps == 4);
  CHECK(x.logged(v.id, log_level::info, "aligning"));
  CHECK(x.logged(v.id, log_level::info, "all done"));
  for (const auto& l : x.logs(v.id)) CHECK_FALSE(l.message.starts_with("@overseer"));
}

TEST_CASE("a progress regex turns a program's own output into progress", "[exec]") {
  exec_fixture x;
  x.tool("legacy", R"sh(
for p in 10 40 75; do echo "annotated $p% done"; done
echo "75.5% done" >&2)sh",
         {{"progress_regex", "([0-9.]+)% done"}});
  x.start();
  auto v = x.run("legacy");
  REQUIRE(v.status == job_status::completed);
  CHECK(v.progress.percent == Approx(75.5));
  CHECK(x.logged(v.id, log_level::info, "annotated 40% done"));
  // Without an @overseer result the result says how the program ended.
  CHECK(v.result->at("exit_code").as_int64() == 0);
  CHECK(v.result->at("workdir").as_string().ends_with("/" + v.id + "/1"));
}

TEST_CASE("stdout logs at info, stderr at warning, and odd lines never fail the job", "[exec]") {
  exec_fixture x;
  x.tool("noisy", R"sh(
echo "to stdout"
echo "to stderr" >&2
echo '@overseer {"progress": oops'
echo '@overseer {"progress": "half"}'
echo '@overseer {"log": "careful", "level": "error"}'
head -c 300000 /dev/zero | tr '\0' x; echo
printf 'no newline at the end')sh");
  x.start();
  auto v = x.run("noisy");
  REQUIRE(v.status == job_status::completed);
  CHECK(x.logged(v.id, log_level::info, "to stdout"));
  CHECK(x.logged(v.id, log_level::warning, "to stderr"));
  CHECK(x.logged(v.id, log_level::error, "careful"));
  CHECK(x.logged(v.id, log_level::info, "no newline at the end"));
  int malformed = 0, cut = 0;
  for (const auto& l : x.logs(v.id)) {
    if (l.level == log_level::warning && l.message.starts_with("malformed @overseer line")) ++malformed;
    if (l.level == log_level::warning && l.message.starts_with("@overseer line: \"progress\" must be"))
      ++malformed;
    if (l.message.ends_with("[line cut at 256 KiB]")) cut = static_cast<int>(l.message.size());
  }
  CHECK(malformed == 2);
  CHECK(cut == 256 * 1024 + 22);
}

TEST_CASE("a non-zero exit fails the job with the exit code and the last stderr lines", "[exec]") {
  exec_fixture x;
  x.tool("broken", R"sh(
echo "reading input" >&2
echo "bad record at line 3" >&2
exit 3)sh");
  x.start();
  auto v = x.run("broken");
  CHECK(v.status == job_status::failed);
  CHECK(v.error == "exit code 3: reading input\nbad record at line 3");
}

TEST_CASE("parameters reach the program as exactly one argument each, never through a shell", "[exec]") {
  exec_fixture x;
  x.tool("echoargs", R"sh(
echo "argc=$#"
for a in "$@"; do printf 'arg=[%s]\n' "$a"; done)sh",
         {{"params",
           {{"text", {{"type", "string"}}},
            {"n", {{"type", "integer"}}},
            {"x", {{"type", "number"}}},
            {"y", {{"type", "number"}}},
            {"flag", {{"type", "boolean"}}},
            {"label", {{"type", "string"}}}}},
          {"args",
           {"{params.text}", "--n={params.n}", "{params.x}", "{params.y}", "{params.flag}",
            "--label={params.label}", "{workdir}/out", "{literal} braces"}}});
  x.start();
  const std::string evil = R"(a b "c" 'd' ; touch pwned && echo $(touch pwned2) `id` | > x * {params.n})";
  auto v = x.run("echoargs", {{"text", evil}, {"n", 4}, {"x", 3.0}, {"y", 0.25}, {"flag", true}});
  REQUIRE(v.status == job_status::completed);
  const auto workdir = std::string(v.result->at("workdir").as_string());
  CHECK(x.logged(v.id, log_level::info, "argc=7"));  // --label= is left out: no label given
  CHECK(x.logged(v.id, log_level::info, "arg=[" + evil + "]"));
  CHECK(x.logged(v.id, log_level::info, "arg=[--n=4]"));
  CHECK(x.logged(v.id, log_level::info, "arg=[3]"));
  CHECK(x.logged(v.id, log_level::info, "arg=[0.25]"));
  CHECK(x.logged(v.id, log_level::info, "arg=[true]"));
  CHECK(x.logged(v.id, log_level::info, "arg=[" + workdir + "/out]"));
  CHECK(x.logged(v.id, log_level::info, "arg=[{literal} braces]"));
  CHECK_FALSE(std::filesystem::exists(std::filesystem::path(workdir) / "pwned"));
  CHECK_FALSE(std::filesystem::exists(std::filesystem::path(workdir) / "pwned2"));
}

TEST_CASE("path params must resolve inside the allowed directories", "[exec]") {
  exec_fixture x;
  test::temp_dir data;
  std::ofstream{data.path() / "in.fa"} << ">x\nACGT\n";
  std::filesystem::create_directory_symlink("/etc", data.path() / "etc-link");
  x.tool("reader", R"sh(echo "reading $1")sh",
         {{"params", {{"input", {{"type", "string"}, {"path", true}}}}},
          {"allowed_paths", {data.path().string()}},
          {"args", {"{params.input}"}}});
  x.start();
  const auto inside = std::filesystem::canonical(data.path() / "in.fa").string();
  auto ok = x.run("reader", {{"input", "in.fa"}});
  CHECK(ok.status == job_status::completed);
  CHECK(x.logged(ok.id, log_level::info, "reading " + inside));
  CHECK(x.run("reader", {{"input", inside}}).status == job_status::completed);
  for (const char* outside : {"../in.fa", "/etc/passwd", "etc-link/passwd", "sub/../../x"}) {
    INFO(outside);
    auto v = x.run("reader", {{"input", outside}});
    CHECK(v.status == job_status::failed);
    CHECK_THAT(v.error,
               Contains("outside the allowed paths (" + std::filesystem::canonical(data.path()).string()));
  }
}

TEST_CASE("the environment is minimal and the checkpoint is handed back in a file", "[exec]") {
  ::setenv("OVERSEER_TEST_SECRET", "leaked", 1);
  exec_fixture x;
  x.tool("resume", R"sh(
if [ -f "$OVERSEER_CHECKPOINT_FILE" ]; then
  saved=$(cat "$OVERSEER_CHECKPOINT_FILE")
  input=$(cat)
  printf '@overseer {"result": {"resumed": "%s", "attempt": %s, "job": "%s", "pwd": "%s", "workdir": "%s", "secret": "%s", "lc": "%s", "stdin": "%s"}}\n' \
    "$saved" "$OVERSEER_ATTEMPT" "$OVERSEER_JOB_ID" "$PWD" "$OVERSEER_WORKDIR" "${OVERSEER_TEST_SECRET:-none}" "$LC_ALL" "$input"
  exit 0
fi
echo '@overseer {"checkpoint": "step-7 of 9"}'
exit 1)sh",
         {{"env", {{"LC_ALL", "C"}}}, {"retry", {{"max_attempts", 2}, {"initial_backoff_ms", 0}}}});
  x.start();
  auto v = x.run("resume");
  ::unsetenv("OVERSEER_TEST_SECRET");
  REQUIRE(v.status == job_status::completed);
  const auto& r = v.result->as_object();
  CHECK(r.at("resumed") == "step-7 of 9");
  CHECK(r.at("attempt") == 2);
  CHECK(r.at("job").as_string() == v.id);
  CHECK(r.at("pwd") == r.at("workdir"));
  CHECK(r.at("workdir").as_string().ends_with("/" + v.id + "/2"));
  CHECK(r.at("secret") == "none");
  CHECK(r.at("lc") == "C");
  CHECK(r.at("stdin") == "");
}

TEST_CASE("cancelling a job kills its whole process tree, SIGKILL after the grace period", "[exec]") {
  exec_fixture x;
  // Ignoring SIGTERM (children inherit it) forces the SIGKILL path.
  x.tool("defiant", R"sh(
trap '' TERM
sleep 1000 &
echo "pids $$ $!"
while :; do sleep 0.05; done)sh");
  x.start();
  auto id = x.f.eng->submit({.tool = "defiant"});
  std::istringstream pids{x.wait_for_log(id, "pids ")};
  int leader = 0, grandchild = 0;
  pids >> leader >> grandchild;
  REQUIRE(grandchild > 0);
  CHECK_FALSE(gone(grandchild));
  auto c = x.f.eng->cancel(id);
  REQUIRE(c.code == errc::ok);
  CHECK(c.view->status == job_status::cancelled);
  CHECK(eventually_gone(grandchild));
  CHECK(eventually_gone(leader));
  // The job's own log says how it ended, in the engine's words.
  CHECK(x.f.events.wait_for([&](const std::vector<event>& es) {
    for (const auto& e : es)
      if (e.job_id == id && e.kind == event_kind::log && e.component == "engine" &&
          e.message == "attempt 1 stopped: the process group ignored SIGTERM and was killed with SIGKILL after the "
                       "500 ms grace period")
        return true;
    return false;
  }));
}

TEST_CASE("a timeout kills the process tree and times the job out", "[exec]") {
  exec_fixture x;
  x.tool("slow", R"sh(
sleep 1000 &
echo "pids $$ $!"
wait)sh",
         {{"timeout_s", 1}});
  x.start();
  auto id = x.f.eng->submit({.tool = "slow"});
  std::istringstream pids{x.wait_for_log(id, "pids ")};
  int leader = 0, grandchild = 0;
  pids >> leader >> grandchild;
  REQUIRE(grandchild > 0);
  auto v = x.f.eng->wait(id, 30s);
  REQUIRE(v);
  CHECK(v->status == job_status::timed_out);
  CHECK(eventually_gone(grandchild));
  CHECK(eventually_gone(leader));
}

TEST_CASE("a background child does not outlive a program that exits normally", "[exec]") {
  exec_fixture x;
  x.tool("leaky", R"sh(
sleep 1000 >/dev/null 2>&1 &
echo "grandchild $!")sh");
  x.start();
  auto v = x.run("leaky");
  CHECK(v.status == job_status::completed);
  const auto line = x.wait_for_log(v.id, "grandchild ");
  CHECK(eventually_gone(std::stoi(line)));
}

TEST_CASE("resource limits apply to the program", "[exec]") {
  exec_fixture x;
  SECTION("descriptors and address space") {
    x.tool("limits", R"sh(echo "files $(ulimit -n) memory $(ulimit -v)")sh",
           {{"limits", {{"open_files", 32}, {"memory_mb", 512}}}});
    x.start();
    auto v = x.run("limits");
    CHECK(v.status == job_status::completed);
    CHECK(x.logged(v.id, log_level::info, "files 32 memory 524288"));
  }
  SECTION("output beyond output_mb is dropped after one warning") {
    x.tool("chatty", R"sh(
line=$(head -c 999 /dev/zero | tr '\0' y)
for i in $(seq 1 100); do echo "$line"; done
echo '@overseer {"result": {"finished": true}}')sh",
           {{"limits", {{"output_mb", 0.01}}}});  // 10 lines of 1000 bytes
    x.start();
    auto v = x.run("chatty");
    REQUIRE(v.status == job_status::completed);
    CHECK(v.result->at("finished") == true);  // protocol lines are still honoured
    auto logs = x.logs(v.id);
    int kept = 0, warnings = 0;
    for (const auto& l : logs) {
      if (l.message.size() == 999) ++kept;
      if (l.message.starts_with("output beyond limits.output_mb (0.01 MiB)")) ++warnings;
    }
    CHECK(kept == 10);
    CHECK(warnings == 1);
  }
  SECTION("a CPU limit kills a busy loop") {
    x.tool("spin", "while :; do :; done", {{"limits", {{"cpu_s", 1}}}});
    x.start();
    auto v = x.run("spin");
    CHECK(v.status == job_status::failed);
    CHECK_THAT(v.error, StartsWith("killed by signal SIG"));
    CHECK_THAT(v.error, Contains("the CPU time limit limits.cpu_s = 1 s was reached"));
  }
}

TEST_CASE("the process group is recorded before the program's output is read", "[exec]") {
  test::temp_dir dir;
  tools::exec_tool_config c;
  c.definition.name = "hello";
  c.command = {"bash", "-c", "echo hello; echo $$ > pid"};
  REQUIRE(tools::check_exec_tool(c).empty());
  auto body = tools::make_exec_body(c);
  test::fake_context ctx;
  ctx.set_workdir(dir.path());
  ctx.set_last_checkpoint("saved");
  auto r = body(ctx);
  REQUIRE(r.what() == tool_result::kind::value);
  REQUIRE(ctx.processes().size() == 1);
  int pid = 0;
  std::ifstream{dir.path() / "pid"} >> pid;
  CHECK(ctx.processes()[0].first == pid);  // the leader's pid is the group id
  CHECK(ctx.processes()[0].second > 0);
  std::string saved;
  std::ifstream{dir.path() / "overseer.checkpoint"} >> saved;
  CHECK(saved == "saved");
  REQUIRE(ctx.logs().size() == 1);
  CHECK(ctx.logs()[0].message == "hello");
}

TEST_CASE("a program killed by a signal crashed, one that exits non-zero failed", "[exec][supervision]") {
  test::temp_dir dir;
  auto run = [&](const std::string& script) {
    tools::exec_tool_config c;
    c.definition.name = "prog";
    c.command = {"/bin/sh", "-c", script};
    REQUIRE(tools::check_exec_tool(c).empty());
    test::fake_context ctx;
    ctx.set_workdir(dir.path() / "work");
    return tools::make_exec_body(c)(ctx);
  };
  const auto segv = run("kill -SEGV $$");
  CHECK(segv.what() == tool_result::kind::crashed);
  CHECK_THAT(segv.message(), StartsWith("killed by signal SIGSEGV"));
  const auto exit3 = run("echo bad input >&2; exit 3");
  CHECK(exit3.what() == tool_result::kind::failure);
  CHECK_THAT(exit3.message(), StartsWith("exit code 3: bad input"));
}

TEST_CASE("a program that cannot start fails the attempt with the reason", "[exec]") {
  test::temp_dir dir;
  tools::exec_tool_config c;
  c.definition.name = "vanishing";
  std::ofstream{dir.path() / "prog"} << "#!/bin/sh\n";
  std::filesystem::permissions(dir.path() / "prog", std::filesystem::perms::owner_all);
  c.command = {(dir.path() / "prog").string()};
  REQUIRE(tools::check_exec_tool(c).empty());
  auto body = tools::make_exec_body(c);
  std::filesystem::remove(dir.path() / "prog");  // removed after registration
  test::fake_context ctx;
  ctx.set_workdir(dir.path() / "work");
  auto r = body(ctx);
  REQUIRE(r.what() == tool_result::kind::failure);
  CHECK_THAT(r.message(), Contains("cannot start " + (dir.path() / "prog").string() + ": execve"));
  CHECK_THAT(r.message(), Contains("No such file or directory"));
  CHECK(ctx.processes().empty());
}

#ifdef OVERSEER_SOURCE_DIR
TEST_CASE("the example tools of docs/examples load and run", "[exec]") {
  // The example names /opt/overseer/examples and /srv/genomes; here they are
  // the source tree and a temp dir.
  test::temp_dir data;
  std::ofstream{data.path() / "genome.fa"} << ">chr1\nacgtACGT\n>chr2\nGGCC\n";
  exec_fixture x;
  test::example_tools_file(OVERSEER_SOURCE_DIR, x.scripts.path(), data.path());
  tools::register_tools_file(x.f.eng->tools(), x.scripts.path() / "tools.json");
  x.f.start();

  auto a = x.run("annotate", {{"fasta", "genome.fa"}, {"chunks", 3}, {"seconds_per_chunk", 0}});
  REQUIRE(a.status == job_status::completed);
  CHECK(a.result->at("genes") == 18);
  CHECK(a.result->at("resumed_after") == 0);
  CHECK(a.progress.percent == Approx(100));
  CHECK(x.logged(a.id, log_level::info,
                 "annotating 2 sequences of " +
                     std::filesystem::canonical(data.path() / "genome.fa").string() + " in 3 chunks"));

  // Resuming: the saved "chunks genes file" comes back through the
  // checkpoint file. The earlier attempt's file also holds a chunk written
  // after its last checkpoint; that chunk is redone, not kept twice.
  const auto earlier = data.path() / "earlier.tsv";
  std::ofstream{earlier} << "chunk 1\t3 genes\nchunk 2\t6 genes\nchunk 3\t9 genes\n";
  test::fake_context ctx({{"fasta", "genome.fa"}, {"chunks", 3}, {"seconds_per_chunk", 0}}, 2);
  ctx.set_workdir(data.path() / "work");
  std::filesystem::create_directories(data.path() / "work");
  ctx.set_last_checkpoint("2 9 " + earlier.string());
  auto r = x.f.eng->tools().find("annotate")->body(ctx);
  REQUIRE(r.what() == tool_result::kind::value);
  CHECK(r.value().at("genes") == 18);
  CHECK(r.value().at("resumed_after") == 2);
  const auto annotations = (data.path() / "work" / "annotations.tsv").string();
  CHECK(std::string(r.value().at("annotations").as_string()) == annotations);
  CHECK(ctx.checkpoints() == std::vector<std::string>{"3 18 " + annotations});
  std::ifstream in_file{annotations};
  CHECK(std::string{std::istreambuf_iterator<char>{in_file}, {}} ==
        "chunk 1\t3 genes\nchunk 2\t6 genes\nchunk 3\t9 genes\n");

  auto c = x.run("convert", {{"input", "genome.fa"}});
  REQUIRE(c.status == job_status::completed);
  CHECK(c.progress.percent == Approx(100));
  CHECK(x.run("convert", {{"input", "../genome.fa"}}).status == job_status::failed);
}
#endif

TEST_CASE("bytes a program prints that are not UTF-8 reach the logs as U+FFFD", "[exec][utf8]") {
  // Run with a fake context, so that what is checked is the exec tool's own
  // output handling, not the engine's boundary behind it.
  test::temp_dir dir;
  const auto script = dir.path() / "bytes.sh";
  std::ofstream{script} << R"sh(
printf 'plain \xff\xfe end\n'
printf 'cut \xe2\x82 euro \xe2\x82\xac\n' >&2
printf '@overseer {"log": "\xff"}\n'
printf '@overseer {\xff}\n'
printf '@overseer {"step_name": "\xc3", "progress": 5}\n'
printf '@overseer {"progres\xff": 5, "progres": 6}\n'
printf '%s\xe2\x82\xac\n' "$(head -c 262143 /dev/zero | tr '\0' x)"
printf '12\xff%% done\n'
printf '@overseer {"result": {"ok": "\xe2\x82\xac"}}\n'
)sh";
  tools::exec_tool_config c;
  c.definition.name = "bytes";
  c.command = {"bash", script.string()};
  c.progress_regex = "([0-9]+)\xef\xbf\xbd% done";  // what the handler sees after replacement
  REQUIRE(tools::check_exec_tool(c).empty());
  auto body = tools::make_exec_body(c);
  test::fake_context ctx;
  ctx.set_workdir(dir.path() / "work");
  auto r = body(ctx);
  REQUIRE(r.what() == tool_result::kind::value);
  CHECK(r.value().at("ok") == "\xe2\x82\xac");

  const auto logs = ctx.logs();
  std::vector<std::string> messages;
  for (const auto& l : logs) {
    CHECK(tools::valid_utf8(l.message));
    messages.push_back(l.message);
  }
  auto has = [&](const std::string& m) { return std::find(messages.begin(), messages.end(), m) != messages.end(); };
  CHECK(has("plain \xef\xbf\xbd\xef\xbf\xbd end"));
  CHECK(has("cut \xef\xbf\xbd euro \xe2\x82\xac"));  // one U+FFFD for the broken two-byte prefix
  CHECK(has("\xef\xbf\xbd"));  // the log of the @overseer line, cleaned before it was parsed
  CHECK(std::any_of(messages.begin(), messages.end(), [](const std::string& m) {
    return m.starts_with("malformed @overseer line (") && m.ends_with("): @overseer {\xef\xbf\xbd}");
  }));
  CHECK(has("@overseer line: unknown key \"progres\xef\xbf\xbd\" ignored"));
  CHECK(has("@overseer line: unknown key \"progres\" ignored; did you mean \"progress\"?"));
  // A line cut at 256 KiB in the middle of a character ends in U+FFFD.
  CHECK(std::any_of(messages.begin(), messages.end(), [](const std::string& m) {
    return m.ends_with("xx\xef\xbf\xbd [line cut at 256 KiB]");
  }));
  // The progress regex and the protocol work on the cleaned text.
  auto progress = ctx.progress_reports();
  REQUIRE_FALSE(progress.empty());
  CHECK(progress.back().percent == Approx(12));
}

TEST_CASE("a progress regex searches long lines in linear time", "[exec]") {
  test::temp_dir dir;
  const auto script = dir.path() / "long.sh";
  // 256 KiB of digits without a percent sign: a backtracking engine would
  // try every start; RE2 scans the line once.
  std::ofstream{script} << "head -c 262000 /dev/zero | tr '\\0' 7; echo\necho '99% done'\n";
  tools::exec_tool_config c;
  c.definition.name = "long";
  c.command = {"bash", script.string()};
  c.progress_regex = "([0-9]+)+% done";
  REQUIRE(tools::check_exec_tool(c).empty());
  test::fake_context ctx;
  ctx.set_workdir(dir.path() / "work");
  REQUIRE(tools::make_exec_body(c)(ctx).what() == tool_result::kind::value);
  REQUIRE_FALSE(ctx.progress_reports().empty());
  CHECK(ctx.progress_reports().back().percent == Approx(99));
}
