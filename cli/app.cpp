#include "cli/app.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "cli/commands.hpp"

namespace overseer::cli {

namespace {

constexpr const char* exit_statuses =
    "Exit status: 0 done (with --wait/--watch: every job completed), 1 a job failed, 2 usage error or\n"
    "a request the server refused as invalid, 3 a job was cancelled, 4 a job timed out, 5 server\n"
    "unreachable, 6 not found, 7 conflict (the job's status does not allow it), 8 unauthorized,\n"
    "9 server error or unhealthy, 10 standard output could not be written, 130 interrupted.";

std::string example(const std::string& lines) {
  return "\nExample:\n" + lines + "\n\nGlobal options (--url, --token, --output, --no-color, --request-timeout) and exit statuses: overseer --help";
}

/// Numbers as people write them. CLI11 reads integers with base 0 and
/// reals with strtod, so `--limit 010` would be 8, `--limit 0x10` 16 and
/// `--timeout nan` a number; these checks leave decimal digits only.
bool decimal_digits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

/// `s` without one leading + or -.
std::string_view unsigned_part(std::string_view s) {
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) s.remove_prefix(1);
  return s;
}

/// Also drops leading zeros, which CLI11 would read as octal.
const CLI::Validator decimal_integer{
    [](std::string& s) -> std::string {
      const std::string_view v = unsigned_part(s);
      const std::size_t sign = s.size() - v.size();
      if (!decimal_digits(v)) return "\"" + s + "\" is not a whole number in decimal";
      const auto first = std::min(v.find_first_not_of('0'), v.size() - 1);
      s = s.substr(0, sign) + std::string{v.substr(first)};
      return {};
    },
    ""};

const CLI::Validator decimal_number{
    [](std::string& s) -> std::string {
      std::string_view v = unsigned_part(s);
      if (const auto e = v.find_first_of("eE"); e != std::string_view::npos) {
        if (!decimal_digits(unsigned_part(v.substr(e + 1)))) v = {};
        else v = v.substr(0, e);
      }
      const auto dot = v.find('.');
      const auto whole = v.substr(0, dot);
      const auto fraction = dot == std::string_view::npos ? std::string_view{} : v.substr(dot + 1);
      const bool ok = (decimal_digits(whole) || whole.empty()) && (decimal_digits(fraction) || fraction.empty()) &&
                      !(whole.empty() && fraction.empty());
      return ok ? std::string{} : "\"" + s + "\" is not a decimal number";
    },
    ""};

/// The command line as far as it was understood: "overseer batch submit".
std::pair<const CLI::App*, std::string> deepest(const CLI::App& app) {
  const CLI::App* at = &app;
  std::string path = app.get_name();
  for (;;) {
    const auto parsed = at->get_subcommands();
    if (parsed.empty()) return {at, path};
    at = parsed.front();
    path += " " + at->get_name();
  }
}

/// The first word that is neither an option nor an option's value: the
/// command asked for.
std::string first_word(const CLI::App& app, int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.empty() || arg[0] != '-') return std::string(arg);
    if (arg.find('=') != std::string_view::npos) continue;
    // A global option that takes a value takes the next argument.
    const CLI::Option* o = app.get_option_no_throw(std::string(arg));
    if (o != nullptr && o->get_type_size() != 0) ++i;
  }
  return {};
}

/// "pause, resume": the subcommands `app` takes.
std::string subcommand_names(const CLI::App& app) {
  std::string names;
  for (const CLI::App* sub : app.get_subcommands({})) names += (names.empty() ? "" : ", ") + sub->get_name();
  return names;
}

/// One line for a command line CLI11 refused: its reason, and where help is.
std::string usage_error(const CLI::App& app, const CLI::ParseError& e, int argc, char** argv) {
  const auto [at, path] = deepest(app);
  if (at == &app && dynamic_cast<const CLI::RequiredError*>(&e) != nullptr) {
    // No command was understood: name the word that was not one.
    const auto commands = subcommand_names(app);
    if (auto word = first_word(app, argc, argv); !word.empty())
      return "unknown command \"" + word + "\"; the commands are " + commands + " (overseer --help)";
    for (int i = 1; i < argc; ++i)  // an option the daemon's client does not know, and no command
      if (std::string_view{argv[i]}.starts_with('-') && app.get_option_no_throw(argv[i]) == nullptr)
        return "unknown option \"" + std::string{argv[i]} + "\", and a command is needed: " + commands +
               " (overseer --help)";
    return "a command is needed: " + commands + " (overseer --help)";
  }
  std::string what = e.what();
  if (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr) {
    // CLI11 2.1 lists the extra arguments last first.
    const auto extras = app.remaining(true);
    std::string list;
    for (const auto& x : extras) list += (list.empty() ? "" : " ") + x;
    if (!extras.empty())
      what = (extras.size() > 1 ? "unexpected arguments: " : "unexpected argument: ") + list;
  }
  if (at != &app && what == "A subcommand is required") {
    const auto subs = subcommand_names(*at);
    const auto name = path.substr(app.get_name().size() + 1);
    // The word after the command's own, if it is one: not a subcommand.
    std::string word;
    for (int i = 1; i + 1 < argc; ++i)
      if (at->get_name() == argv[i] && argv[i + 1][0] != '-') word = argv[i + 1];
    what = word.empty() ? name + " needs a subcommand: " + subs
                        : "unknown " + name + " subcommand \"" + word + "\"; it takes " + subs;
  }
  for (auto& c : what)
    if (c == '\n') c = ' ';
  return what + " (" + path + " --help)";
}

/// Flushes standard output: the exit status of `s`, or cannot_write when
/// anything printed was lost (a full disk, a closed file): a script must
/// not take a failed write for output.
int finish_output(exit_status s) {
  errno = 0;
  if (std::fflush(stdout) == 0 && !std::ferror(stdout)) return static_cast<int>(s);
  const int why = errno;
  std::fprintf(stderr, "overseer: cannot write to standard output: %s\n",
               why != 0 ? std::strerror(why) : "write error");
  return static_cast<int>(worse(s, exit_status::cannot_write));
}

bool dumb_terminal() {
  const char* term = std::getenv("TERM");
  return term != nullptr && std::string_view{term} == "dumb";
}

}  // namespace

int run(int argc, char** argv) {
  CLI::App app{"overseer: submit, watch and manage the jobs of an overseerd server."};
  app.name("overseer");
  app.fallthrough();  // global options may come after the command too
  app.require_subcommand(1);
  app.set_version_flag("--version", "overseer 0.1.0");

  std::string url = "http://127.0.0.1:8080";
  std::string token;
  std::string output = "table";
  bool no_colour = false;
  app.add_option("--url", url, "the server, http://HOST:PORT")->envname("OVERSEER_URL")->capture_default_str();
  app.add_option("--token", token, "bearer token, if the server has tokens")->envname("OVERSEER_TOKEN");
  app.add_option("--output", output, "table (for people), json (the API's documents) or ids (one per line)")
      ->check(CLI::IsMember({"table", "json", "ids"}))
      ->capture_default_str();
  app.add_flag("--no-color", no_colour, "no colours (also: NO_COLOR set, or stdout not a terminal)");
  double request_timeout_s = 30;
  app.add_option("--request-timeout", request_timeout_s,
                 "seconds to wait for the server at each step of a request (connect, send, answer); a stream's "
                 "connect and upgrade wait at most 10")
      ->envname("OVERSEER_REQUEST_TIMEOUT")
      ->check(decimal_number)
      ->check(CLI::Validator{[](std::string& v) -> std::string {
                               const double seconds = std::strtod(v.c_str(), nullptr);
                               return seconds >= 0.001 && seconds <= 86400 ? std::string{}
                                                                           : "a wait from 0.001 to 86400 seconds, not " + v;
                             },
                             ""})
      ->type_name("SECONDS")
      ->capture_default_str();
  app.footer(std::string{"\nEnvironment: OVERSEER_URL, OVERSEER_TOKEN, OVERSEER_REQUEST_TIMEOUT, NO_COLOR.\n"} + exit_statuses +
             example("  overseer submit sleep seconds=20 steps=10 --watch\n  overseer list --status running"));

  // submit
  submit_options so;
  auto* submit_cmd = app.add_subcommand("submit", "submit a job; params as NAME=VALUE, typed by the tool's schema");
  submit_cmd->add_option("tool", so.tool, "the tool (`overseer tools` lists them)")->required();
  submit_cmd->add_option("params", so.params, "NAME=VALUE params");
  submit_cmd->add_option("--params-file", so.params_file, "a JSON object of params (- for stdin); NAME=VALUE wins");
  submit_cmd->add_option("--name", so.name, "a name for people");
  auto* priority = submit_cmd->add_option("--priority")->description("0-10, higher runs first (default 5)")->transform(decimal_integer)->type_name("INT");
  auto* timeout = submit_cmd->add_option("--timeout")->description("seconds per attempt")->check(decimal_number)->type_name("SECONDS");
  auto* retries = submit_cmd->add_option("--retries")
                      ->description("retries after a failed attempt (0-99; default: the tool's policy)")
                      ->type_name("INT")
                      ->transform(decimal_integer)
                      ->check(CLI::Range(0, 99));
  submit_cmd->add_option("--label", so.labels, "KEY=VALUE, repeatable")->allow_extra_args(false);
  submit_cmd->add_option("--depends-on", so.depends_on, "a job that must complete first, repeatable")
      ->allow_extra_args(false);
  auto* delay = submit_cmd->add_option("--delay")->description("seconds to wait before it may start")->check(decimal_number)->type_name("SECONDS");
  submit_cmd->add_option("--idempotency-key", so.idempotency_key, "the same key and spec return the same job");
  submit_cmd->add_flag("--use-cache", so.use_cache, "reuse the result of an equal completed job");
  submit_cmd->add_flag("--wait", so.wait, "wait for the end; the exit status tells how it ended");
  submit_cmd->add_flag("--watch", so.watch, "show live progress until the end; the exit status tells how it ended");
  submit_cmd->add_flag("--logs", so.logs, "with --watch: show the job's log lines too");
  submit_cmd->footer(example(
      "  overseer submit sleep seconds=20 steps=10 --label sample=42 --watch\n"
      "  JOB=$(overseer submit fail failures=1 --retries 2 --output ids)"));

  std::string job_id;
  auto* get_cmd = app.add_subcommand("get", "show a job");
  get_cmd->add_option("id", job_id, "the job id")->required();
  get_cmd->footer(example("  overseer get job_01KBZ6N6Q8W3D6Y0Q9X1E8K0M5"));

  list_options lo;
  auto* list_cmd = app.add_subcommand("list", "list jobs, newest first");
  list_cmd->add_option("--status", lo.status, "pending, running, retrying, completed, failed, cancelled or timed_out");
  list_cmd->add_option("--tool", lo.tool, "only this tool's jobs");
  list_cmd->add_option("--name", lo.name, "only jobs whose name contains this text (letters in any case)");
  list_cmd->add_option("--label", lo.labels, "KEY=VALUE, repeatable; all must match")->allow_extra_args(false);
  list_cmd->add_option("--batch", lo.batch, "only the jobs of this batch");
  list_cmd->add_option("--since", lo.since, "created since: an RFC 3339 time, or an age (90s, 15m, 2h, 3d)");
  list_cmd->add_option("--limit", lo.limit, "at most this many (1-1000)")->transform(decimal_integer)->capture_default_str();
  list_cmd->add_option("--offset", lo.offset, "skip this many")->transform(decimal_integer)->capture_default_str();
  list_cmd->footer(example("  overseer list --status failed --label sample=42 --since 2h\n"
                           "  overseer list --name \"sample 17\""));

  watch_request wo;
  auto* watch_cmd = app.add_subcommand("watch", "live progress of jobs until they end");
  watch_cmd->add_option("ids", wo.job_ids, "job ids");
  watch_cmd->add_option("--batch", wo.batch, "every job of a batch");
  watch_cmd->add_flag("--all", wo.all, "every job, as events come (until Ctrl-C)");
  watch_cmd->add_flag("--logs", wo.logs, "show log lines too");
  watch_cmd->footer(example("  overseer watch job_01KBZ6N6Q8W3D6Y0Q9X1E8K0M5\n  overseer watch --all --logs"));

  logs_options lgo;
  auto* logs_cmd = app.add_subcommand("logs", "a job's log lines");
  logs_cmd->add_option("id", lgo.job_id, "the job id")->required();
  logs_cmd->add_flag("-f,--follow", lgo.follow, "keep printing new lines until the job ends");
  logs_cmd->add_option("--level", lgo.level, "only this level and above: debug, info, warning, error, critical");
  logs_cmd->footer(example("  overseer logs job_01KBZ6N6Q8W3D6Y0Q9X1E8K0M5 -f --level warning"));

  auto* history_cmd = app.add_subcommand("history", "every transition of a job, with when and why");
  history_cmd->add_option("id", job_id, "the job id")->required();
  history_cmd->footer(example("  overseer history job_01KBZ6N6Q8W3D6Y0Q9X1E8K0M5"));

  std::string result_file;
  auto* result_cmd = app.add_subcommand("result", "the result of a completed job (JSON)");
  result_cmd->add_option("id", job_id, "the job id")->required();
  result_cmd->add_option("-o,--file", result_file, "write the result to FILE instead of stdout (- for stdout, as it is)");
  result_cmd->footer(example("  overseer result job_01KBZ6N6Q8W3D6Y0Q9X1E8K0M5 -o result.json"));

  std::vector<std::string> job_ids;
  // cancel (by filter) and purge share the filters of list.
  bulk_options co, po;
  auto add_filters = [](CLI::App* cmd, bulk_options& o) {
    cmd->add_option("--status", o.status, "pending, running, retrying, completed, failed, cancelled or timed_out");
    cmd->add_option("--tool", o.tool, "only this tool's jobs");
    cmd->add_option("--name", o.name, "only jobs whose name contains this text (letters in any case)");
    cmd->add_option("--label", o.labels, "KEY=VALUE, repeatable; all must match")->allow_extra_args(false);
    cmd->add_option("--batch", o.batch, "only the jobs of this batch");
    cmd->add_option("--since", o.since, "created since: an RFC 3339 time, or an age (90s, 15m, 2h, 3d)");
    cmd->add_option("--older-than", o.before, "created before: an RFC 3339 time, or an age (2h, 7d)");
    cmd->add_flag("--all", o.all, "every job: no filter (one is needed otherwise)");
    cmd->add_flag("--dry-run", o.dry_run, "only count the jobs that match");
  };
  auto* cancel_cmd = app.add_subcommand("cancel", "cancel pending, retrying or running jobs, by id or by filter");
  cancel_cmd->add_option("ids", job_ids, "job ids (or filters instead)");
  add_filters(cancel_cmd, co);
  const char* reason_help = "why, kept in each job's history after who did it (one line, at most 500 bytes)";
  std::vector<CLI::Option*> reason_options;  // an empty --reason is refused before any request
  reason_options.push_back(cancel_cmd->add_option("--reason", co.reason, reason_help));
  cancel_cmd->footer(example("  overseer cancel job_01KBZ6N6Q8W3D6Y0Q9X1E8K0M5 --reason \"wrong reference genome\"\n"
                             "  overseer cancel --tool sleep --label sample=42 --dry-run"));

  auto* purge_cmd = app.add_subcommand("purge", "delete finished jobs that match, with their results and logs");
  add_filters(purge_cmd, po);
  purge_cmd->footer(example("  overseer purge --status failed --older-than 7d --dry-run"));

  auto* retry_cmd = app.add_subcommand("retry", "run failed, timed-out or cancelled jobs again");
  retry_cmd->add_option("ids", job_ids, "job ids")->required();
  std::string retry_reason;
  reason_options.push_back(retry_cmd->add_option("--reason", retry_reason, reason_help));
  retry_cmd->footer(example("  overseer retry job_01KBZ6N6Q8W3D6Y0Q9X1E8K0M5"));

  auto* batch_cmd = app.add_subcommand("batch", "submit, list, show, watch or cancel batches of jobs");
  batch_cmd->require_subcommand(1);
  batch_cmd->footer(example("  overseer batch submit --from-list jobs.txt --parallel-limit 2 --watch"));
  batch_submit_options bso;
  auto* batch_submit_cmd = batch_cmd->add_subcommand("submit", "submit jobs as one batch, all or nothing");
  batch_submit_cmd->add_option("file", bso.file, "FILE.json: {\"jobs\": [specs...]} or an array of specs (- for stdin)");
  batch_submit_cmd->add_option("--from-list", bso.from_list, "a file with one job per line: TOOL NAME=VALUE ...");
  batch_submit_cmd->add_option("--name", bso.name, "the batch's name");
  auto* parallel = batch_submit_cmd->add_option("--parallel-limit")->description("at most this many of its jobs at once")->transform(decimal_integer)->type_name("INT");
  batch_submit_cmd->add_flag("--fail-fast", bso.fail_fast, "the first failure cancels the rest");
  batch_submit_cmd->add_flag("--wait", bso.wait, "wait for every job; the exit status tells how they ended");
  batch_submit_cmd->add_flag("--watch", bso.watch, "show live progress of every job until the end");
  batch_submit_cmd->footer(example("  printf 'sleep seconds=2\\nnoop\\n' > jobs.txt\n"
                                   "  overseer batch submit --from-list jobs.txt --name nightly --watch"));
  std::string batch_id;
  auto* batch_get_cmd = batch_cmd->add_subcommand("get", "show a batch and its jobs");
  batch_get_cmd->add_option("id", batch_id, "the batch id")->required();
  batch_get_cmd->footer(example("  overseer batch get batch_01KBZ6N6Q8W3D6Y0Q9X1E8K0M5"));
  auto* batch_watch_cmd = batch_cmd->add_subcommand("watch", "live progress of every job of a batch");
  batch_watch_cmd->add_option("id", batch_id, "the batch id")->required();
  batch_watch_cmd->footer(example("  overseer batch watch batch_01KBZ6N6Q8W3D6Y0Q9X1E8K0M5"));
  batch_list_options blo;
  auto* batch_list_cmd = batch_cmd->add_subcommand("list", "list batches, newest first");
  batch_list_cmd->add_option("--status", blo.status, "pending, running, completed, failed or cancelled");
  batch_list_cmd->add_option("--name", blo.name, "only batches of this name");
  batch_list_cmd->add_option("--limit", blo.limit, "at most this many (1-1000)")->transform(decimal_integer)->capture_default_str();
  batch_list_cmd->add_option("--offset", blo.offset, "skip this many")->transform(decimal_integer)->capture_default_str();
  batch_list_cmd->footer(example("  overseer batch list --status failed"));
  auto* batch_cancel_cmd = batch_cmd->add_subcommand("cancel", "cancel every unfinished job of a batch");
  batch_cancel_cmd->add_option("id", batch_id, "the batch id")->required();
  std::string batch_cancel_reason;
  reason_options.push_back(batch_cancel_cmd->add_option("--reason", batch_cancel_reason, reason_help));
  batch_cancel_cmd->footer(example("  overseer batch cancel batch_01KBZ6N6Q8W3D6Y0Q9X1E8K0M5"));

  std::string tool_name;
  auto* tools_cmd = app.add_subcommand("tools", "the tools the server runs, with their params");
  tools_cmd->add_option("name", tool_name, "only this tool");
  tools_cmd->footer(example("  overseer tools sleep"));

  auto* tool_cmd = app.add_subcommand("tool", "operate one tool");
  tool_cmd->require_subcommand(1);
  tool_cmd->footer(example("  overseer tool pause fasta_stats"));
  auto* tool_pause_cmd = tool_cmd->add_subcommand("pause", "hold the tool's queued jobs (running ones go on)");
  tool_pause_cmd->add_option("name", tool_name, "the tool")->required();
  std::string pause_reason;
  reason_options.push_back(
    tool_pause_cmd->add_option("--reason", pause_reason, "why, kept after who paused it (one line, at most 500 bytes)"));
  tool_pause_cmd->footer(example("  overseer tool pause fasta_stats --reason \"reference data is being rebuilt\""));
  auto* tool_resume_cmd = tool_cmd->add_subcommand("resume", "lift a pause, an operator's or the restart intensity's");
  tool_resume_cmd->add_option("name", tool_name, "the tool")->required();
  std::string resume_reason;
  reason_options.push_back(
    tool_resume_cmd->add_option("--reason", resume_reason, "why, in the server's audit log (one line, at most 500 bytes)"));
  tool_resume_cmd->footer(example("  overseer tool resume fasta_stats --reason \"license server back\""));

  auto* health_cmd = app.add_subcommand("health", "the server's health and queue");
  health_cmd->footer(example("  overseer health || echo unhealthy"));

  auto* cache_cmd = app.add_subcommand("cache", "the result cache");
  cache_cmd->require_subcommand(1);
  cache_cmd->footer(example("  overseer cache stats"));
  auto* cache_stats_cmd = cache_cmd->add_subcommand("stats", "entries, hit rate and size");
  cache_stats_cmd->footer(example("  overseer cache stats"));
  std::string cache_tool;
  std::vector<std::string> cache_labels;
  auto* cache_clear_cmd = cache_cmd->add_subcommand("clear", "remove cached results (the jobs stay)");
  cache_clear_cmd->add_option("--tool", cache_tool, "only this tool's entries");
  cache_clear_cmd->add_option("--label", cache_labels, "KEY=VALUE of the source job, repeatable")
      ->allow_extra_args(false);
  cache_clear_cmd->footer(example("  overseer cache clear --tool sleep"));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    std::fprintf(stderr, "overseer: %s\n", usage_error(app, e, argc, argv).c_str());
    return static_cast<int>(exit_status::usage);
  }

  const auto given = [](CLI::Option* o) { return o->count() > 0; };
  try {
    if (given(priority)) so.priority = priority->as<int>();
    if (given(timeout)) so.timeout_s = timeout->as<double>();
    if (given(retries)) so.retries = retries->as<int>();
    if (given(delay)) so.delay_s = delay->as<double>();
    if (given(parallel)) bso.parallel_limit = parallel->as<int>();
  } catch (const CLI::ConversionError& e) {
    std::fprintf(stderr, "overseer: %s (%s --help)\n", e.what(), deepest(app).second.c_str());
    return static_cast<int>(exit_status::usage);
  }

  for (const auto* opt : reason_options)
    if (opt->count() > 0 && opt->as<std::string>().empty()) {
      std::fprintf(stderr, "overseer: --reason needs text (leave it out to give none)\n");
      return static_cast<int>(exit_status::usage);
    }

  // A token goes into a header field as it is: a control character (the
  // \r of a file with CRLF lines) or a space would break the request or
  // add fields of its own.
  for (std::size_t i = 0; i < token.size(); ++i) {
    const auto c = static_cast<unsigned char>(token[i]);
    if (c <= 0x20 || c >= 0x7F) {
      std::fprintf(stderr,
                   "overseer: --token (or OVERSEER_TOKEN): a bearer token is printable ASCII without spaces; this one "
                   "has byte 0x%02X at position %zu\n",
                   c, i + 1);
      return static_cast<int>(exit_status::usage);
    }
  }

  endpoint where;
  try {
    where = parse_endpoint(url);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "overseer: --url: %s\n", e.what());
    return static_cast<int>(exit_status::usage);
  }
  const bool tty = ::isatty(STDOUT_FILENO) == 1;
  const auto request_deadline = std::chrono::milliseconds{std::llround(request_timeout_s * 1000)};
  context ctx{.api = api_client{where, token, request_deadline},
              .output = output == "json" ? output_format::json
                        : output == "ids" ? output_format::ids
                                          : output_format::table,
              .colours = palette{.on = colour_wanted(tty, no_colour)},
              // A dumb terminal (TERM=dumb: Emacs' shell, some CI logs)
              // cannot move its cursor: lines instead of redraws.
              .tty = tty && !dumb_terminal()};
  try {
    exit_status s = exit_status::ok;
    if (*submit_cmd) s = submit(ctx, so);
    else if (*get_cmd) s = get(ctx, job_id);
    else if (*list_cmd) s = list(ctx, lo);
    else if (*watch_cmd) s = watch(ctx, wo);
    else if (*logs_cmd) s = logs(ctx, lgo);
    else if (*history_cmd) s = history(ctx, job_id);
    else if (*result_cmd) s = result(ctx, job_id, result_file);
    else if (*cancel_cmd) {
      if (job_ids.empty() == !co.any()) {
        std::fprintf(stderr, "overseer: cancel: give job ids or filters (--status, --label, ..., --all), not %s\n",
                     job_ids.empty() ? "neither" : "both");
        return static_cast<int>(exit_status::usage);
      }
      s = job_ids.empty() ? cancel_matching(ctx, co) : cancel(ctx, job_ids, co.reason);
    } else if (*purge_cmd) {
      if (!po.any()) {
        std::fprintf(stderr, "overseer: purge: give a filter (--status, --label, ...) or --all\n");
        return static_cast<int>(exit_status::usage);
      }
      s = purge(ctx, po);
    }
    else if (*retry_cmd) s = retry(ctx, job_ids, retry_reason);
    else if (*batch_submit_cmd) s = batch_submit(ctx, bso);
    else if (*batch_get_cmd) s = batch_get(ctx, batch_id);
    else if (*batch_list_cmd) s = batch_list(ctx, blo);
    else if (*batch_watch_cmd) s = watch(ctx, {.batch = batch_id});
    else if (*batch_cancel_cmd) s = batch_cancel(ctx, batch_id, batch_cancel_reason);
    else if (*tools_cmd) s = tools(ctx, tool_name);
    else if (*health_cmd) s = health(ctx);
    else if (*tool_pause_cmd) s = tool_pause(ctx, tool_name, true, pause_reason);
    else if (*tool_resume_cmd) s = tool_pause(ctx, tool_name, false, resume_reason);
    else if (*cache_stats_cmd) s = cache_stats(ctx);
    else if (*cache_clear_cmd) s = cache_clear(ctx, cache_tool, cache_labels);
    return finish_output(s);
  } catch (const command_failed& f) {
    return finish_output(f.status);
  } catch (const std::exception& e) {
    // Odd server output that slipped past the tolerant readers ends here,
    // as a message, never as a crash.
    std::fprintf(stderr, "overseer: unexpected: %s\n", e.what());
    return finish_output(exit_status::server_error);
  }
}

}  // namespace overseer::cli
