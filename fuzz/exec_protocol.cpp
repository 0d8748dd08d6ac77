// fuzz_exec_protocol: the output of an exec tool, "@overseer {...}" protocol
// lines among its other lines (tools/exec_tool.cpp, docs/tools.md).
//
// The protocol reader is internal to the exec tool's body, so the input
// takes the true path: a real exec tool whose program is cat, printing the
// input as its stdout, supervised by make_exec_body's body with a recording
// job_context. That costs a fork and exec per input; the line splitter the
// body reads with (tools/exec_process.hpp) is also checked in-process.
//
// Promises checked: the run completes (cat exits 0) and its result, if a
// protocol line set one, is the tool's value; every progress report has a
// finite percent within 0-100 and non-negative steps; the line splitter
// cuts the same lines whatever chunks the bytes arrive in.
#include "fuzz/fuzz.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <unistd.h>

#include "support/fake_context.hpp"
#include "tools/exec_process.hpp"
#include "tools/exec_tool.hpp"

namespace overseer::fuzz {
namespace {

namespace fs = std::filesystem;

struct cat_tool {
  fs::path workdir;
  tool_function body;

  cat_tool() {
    workdir = fs::temp_directory_path() / ("overseer-fuzz-exec-" + std::to_string(::getpid()));
    fs::create_directories(workdir);
    tools::exec_tool_config c;
    c.definition.name = "fuzz_cat";
    c.command = {"cat", "{workdir}/stdout.txt"};
    c.progress_regex = "([0-9.]+)%";
    c.kill_grace = std::chrono::milliseconds(0);
    if (auto errors = tools::check_exec_tool(c); !errors.empty())
      fail("the cat tool does not register: " + errors.front().field + ": " + errors.front().message);
    body = tools::make_exec_body(std::move(c));
  }
  ~cat_tool() {
    std::error_code ignored;  // a leftover temp dir is harmless
    fs::remove_all(workdir, ignored);
  }
};

using lines = std::vector<std::pair<std::string, bool>>;

lines split(std::string_view text, std::size_t chunk) {
  lines out;
  tools::line_splitter s{64};
  auto on_line = [&](std::string_view l, bool cut) { out.emplace_back(l, cut); };
  for (std::size_t at = 0; at < text.size(); at += chunk) s.feed(text.substr(at, chunk), on_line);
  s.finish(on_line);
  return out;
}

void check_splitter(std::string_view text) {
  const auto whole = split(text, text.size() + 1);
  for (std::size_t chunk : {1, 7}) {
    if (split(text, chunk) != whole)
      fail("line_splitter: " + std::to_string(chunk) + "-byte chunks split differently from the whole: " +
           excerpt(text));
  }
  for (const auto& [line, cut] : whole)
    if (line.size() > 64) fail("line_splitter: a line of " + std::to_string(line.size()) + " bytes exceeds 64");
}

}  // namespace

int fuzz_exec_protocol(const std::uint8_t* data, std::size_t size) {
  const auto text = as_text(data, size);
  check_splitter(text);

  static cat_tool tool;
  {
    std::ofstream out{tool.workdir / "stdout.txt", std::ios::binary | std::ios::trunc};
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    if (!out.flush()) fail("cannot write the tool's output file in " + tool.workdir.string());
  }
  test::fake_context ctx;
  ctx.set_workdir(tool.workdir);
  const auto result = tool.body(ctx);
  if (result.what() != tool_result::kind::value)
    fail("the cat tool did not complete: " + std::string(result.what() == tool_result::kind::failure
                                                             ? "failure: " + result.message()
                                                             : "stopped"));
  for (const auto& p : ctx.progress_reports()) {
    if (!std::isfinite(p.percent) || p.percent < 0 || p.percent > 100)
      fail("a progress report has percent " + std::to_string(p.percent));
    if (p.current_step < 0 || p.total_steps < 0)
      fail("a progress report has step " + std::to_string(p.current_step) + " of " + std::to_string(p.total_steps));
  }
  return 0;
}

}  // namespace overseer::fuzz
