#include "fuzz/live_server.hpp"

#include <cstdlib>
#include <system_error>

#include "fuzz/fuzz.hpp"
#include "tools/exec_tool.hpp"

namespace overseer::fuzz {

namespace fs = std::filesystem;

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
}

live_server& live_server::instance() {
  // Never destroyed: an engine destroyed from a static destructor, at exit,
  // crashes in caf::actor_system's destructor (docs/fuzzing.md). At exit the
  // server and the engine are stopped and the temp dir removed; the objects
  // stay reachable, so LeakSanitizer does not count them.
  static live_server* server = [] {
    auto* s = new live_server;
    std::atexit([] { instance().shut_down(); });
    return s;
  }();
  return *server;
}

live_server::live_server() {
  std::string pattern = (fs::temp_directory_path() / "overseer-fuzz-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) fail("cannot create a temp dir from " + pattern);
  dir_ = pattern;
  engine_ = std::make_unique<engine>(engine_config{
    .data_dir = dir_ / "data", .max_concurrent = 2, .sync = false, .retention_interval = std::chrono::hours(1)});

  // One exec tool whose schema uses every rule, so that submits reach each
  // of validate_params' checks.
  tools::exec_tool_config echo;
  echo.definition.name = "fuzz_echo";
  echo.definition.params = {
    {"text", {{"type", "string"}, {"pattern", "^[a-z ]+$"}, {"default", "hi"}}},
    {"count", {{"type", "integer"}, {"minimum", 0}, {"maximum", 10}, {"default", 1}}},
    {"ratio", {{"type", "number"}, {"minimum", 0.5}, {"maximum", 2.5}}},
    {"mode", {{"type", "string"}, {"enum", {"fast", "slow"}}, {"required", true}}},
    {"flag", {{"type", "boolean"}}},
    {"items", {{"type", "array"}}},
    {"extra", {{"type", "object"}}}};
  echo.command = {"echo", "{params.text}", "{params.count}", "{params.mode}"};
  echo.kill_grace = std::chrono::milliseconds(100);
  tools::register_exec_tool(engine_->tools(), std::move(echo));
  engine_->start();

  job_id_ = engine_->submit({.tool = "noop", .labels = {{"fuzz", "seed"}}});
  const auto batch = engine_->submit_batch({.name = "fuzz", .jobs = {{.tool = "noop"}, {.tool = "noop"}}});
  if (batch.code != errc::ok) fail("the seed batch was refused: " + batch.message);
  batch_id_ = batch.batch_id;
  server_ = std::make_unique<http::server>(
    *engine_, http::server_config{.listen = "127.0.0.1:0", .tokens = {std::string(token())}});
  port_ = server_->port();
}

void live_server::shut_down() {
  server_->stop();
  engine_->stop();
  std::error_code ignored;  // a leftover temp dir is harmless
  fs::remove_all(dir_, ignored);
}

std::string live_server::substitute(std::string_view input) const {
  std::string s(input);
  replace_all(s, "$JOB", job_id_);
  replace_all(s, "$BATCH", batch_id_);
  replace_all(s, "$TOKEN", token());
  return s;
}

}  // namespace overseer::fuzz
