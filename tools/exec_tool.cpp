#include "tools/exec_tool.hpp"
#include "tools/trace_context.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <variant>

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "tools/allowed_paths.hpp"
#include "tools/did_you_mean.hpp"
#include "tools/json_number.hpp"
#include "tools/exec_process.hpp"
#include "tools/param_schema.hpp"
#include "tools/process.hpp"
#include "tools/regex.hpp"
#include "tools/tool_registry.hpp"
#include "tools/utf8.hpp"

namespace overseer::tools {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using boost::json::object;
using boost::json::value;

constexpr std::size_t max_line = 256 * 1024;  // longer lines are cut
constexpr std::size_t stderr_tail_lines = 5;  // quoted in a failure message
constexpr auto poll_interval = 100ms;         // how soon a stop is noticed
constexpr auto drain_limit = 2s;              // for pipes held by escaped processes
constexpr std::string_view checkpoint_name = "overseer.checkpoint";

// One argv element: literal text, {params.NAME} and {workdir}.
struct segment {
  enum class kind : std::uint8_t { text, param, workdir } what;
  std::string text;  // the literal, or the param's name
};
using arg_template = std::vector<segment>;

// Braces that do not open {params.NAME} or {workdir} are literal text, so
// that programs taking braces of their own (awk, jq) need no escaping.
arg_template parse_template(std::string_view s, const object& schema, std::string& problem) {
  arg_template out;
  auto text = [&](std::string_view t) {
    if (t.empty()) return;
    if (out.empty() || out.back().what != segment::kind::text) out.push_back({segment::kind::text, {}});
    out.back().text += t;
  };
  while (!s.empty()) {
    if (s.starts_with("{workdir}")) {
      out.push_back({segment::kind::workdir, {}});
      s.remove_prefix(9);
    } else if (s.starts_with("{params.")) {
      const auto close = s.find('}');
      const auto name = s.substr(8, close == std::string_view::npos ? 0 : close - 8);
      if (close == std::string_view::npos || name.empty()) {
        problem = "\"" + std::string(s) + "\" is not a template: write {params.NAME}";
        return {};
      }
      if (!schema.contains(name)) {
        std::vector<std::string_view> declared;
        for (const auto& kv : schema) declared.push_back(kv.key());
        const auto best = nearest_name(name, declared);
        problem = "template {params." + std::string(name) + "} names no param declared in \"params\"" +
                  (best.empty() ? "" : "; did you mean {params." + best + "}?");
        return {};
      }
      out.push_back({segment::kind::param, std::string(name)});
      s.remove_prefix(close + 1);
    } else {
      const auto next = s.find('{', 1);
      text(s.substr(0, next));
      s.remove_prefix(next == std::string_view::npos ? s.size() : next);
    }
  }
  return out;
}

bool is_executable_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
}

std::string env_or(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

// Looked up once, at registration: a job must not run whatever a later
// change of PATH happens to find.
std::string resolve_program(const std::string& program, std::string& problem) {
  if (program.find('{') != std::string::npos) {
    problem = "the program \"" + program + "\" must not contain templates";
  } else if (program.find('/') != std::string::npos) {
    if (!fs::path(program).is_absolute())
      problem = "the program \"" + program + "\" must be an absolute path or a name found on PATH";
    else if (!is_executable_file(program))
      problem = "the program \"" + program + "\" is not an executable file";
    else return program;
  } else if (!program.empty()) {
    const std::string path = env_or("PATH", "/usr/local/bin:/usr/bin:/bin");
    for (std::size_t at = 0; at <= path.size();) {
      const auto end = std::min(path.find(':', at), path.size());
      const fs::path dir = path.substr(at, end - at);
      if (dir.is_absolute() && is_executable_file(dir / program)) return (dir / program).string();
      at = end + 1;
    }
    problem = "the program \"" + program + "\" was not found on PATH (" + path + ")";
  } else {
    problem = "the program (element 0) is empty";
  }
  return {};
}

// Plain decimal: 4 not 4.0 or 4E0, 0.5 not 5E-1.
std::string format_param(const value& v) {
  switch (v.kind()) {
    case boost::json::kind::string: return std::string(v.get_string());
    case boost::json::kind::int64: return std::to_string(v.get_int64());
    case boost::json::kind::uint64: return std::to_string(v.get_uint64());
    case boost::json::kind::bool_: return v.get_bool() ? "true" : "false";
    case boost::json::kind::null: return {};
    case boost::json::kind::double_: return format_number(v.get_double(), number_form::plain);
    case boost::json::kind::array:
    case boost::json::kind::object: return boost::json::serialize(v);
  }
  return {};
}

struct compiled_tool {
  exec_tool_config config;
  std::vector<arg_template> argv;  // element 0 unused: the resolved program
  std::shared_ptr<const re2::RE2> progress;  // compiled at registration
  std::map<std::string, std::string> env;  // minimal environment + the tool's
};

// Relative values resolve against the first allowed directory; the program
// gets the resolved path, so it sees exactly what was checked.
std::string confine(const compiled_tool& t, const std::string& name, const std::string& given,
                    std::string& problem) {
  const auto& dirs = t.config.allowed_paths;
  fs::path p = given;
  if (p.is_relative()) p = dirs.front() / p;
  std::error_code ec;
  const auto resolved = fs::weakly_canonical(p, ec);
  if (ec) {
    problem = "params." + name + ": cannot resolve \"" + given + "\": " + ec.message();
    return {};
  }
  for (const auto& dir : dirs)
    if (is_within(resolved, dir)) return resolved.string();
  std::string allowed;
  for (const auto& dir : dirs) allowed += (allowed.empty() ? "" : ", ") + dir.string();
  problem = "params." + name + ": \"" + given + "\" resolves to " + resolved.string() +
            ", outside the allowed paths (" + allowed + ")";
  return {};
}

// An element naming a param the job does not have (optional, no default) is
// left out whole, so "--label={params.label}" disappears rather than
// becoming "--label=".
std::optional<std::string> substitute(const compiled_tool& t, const arg_template& tpl, const object& params,
                                      const std::string& workdir, std::string& problem) {
  std::string out;
  for (const auto& s : tpl) {
    switch (s.what) {
      case segment::kind::text: out += s.text; break;
      case segment::kind::workdir: out += workdir; break;
      case segment::kind::param: {
        const auto* v = params.if_contains(s.text);
        if (!v) return std::nullopt;
        std::string arg = format_param(*v);
        const auto& paths = t.config.path_params;
        if (std::find(paths.begin(), paths.end(), s.text) != paths.end())
          arg = confine(t, s.text, arg, problem);
        if (arg.find('\0') != std::string::npos)
          problem = "params." + s.text + " contains a NUL byte, which no argument can carry";
        if (!problem.empty()) return std::nullopt;
        out += arg;
        break;
      }
    }
  }
  return out;
}

std::string head(std::string_view s, std::size_t n) {
  return s.size() <= n ? std::string(s) : std::string(utf8_prefix(s, n)) + "...";
}

// Turns the program's output lines into logs, progress, checkpoints and a
// result.
class output_handler {
public:
  output_handler(const compiled_tool& t, job_context& ctx)
    : tool_(t), ctx_(ctx),
      limit_(static_cast<std::uint64_t>(std::min(t.config.limits.output_mb, 1e9) * 1024 * 1024)) {}

  void line(bool is_stderr, std::string_view text, bool cut) {
    // Everything below quotes the line, so it is made valid UTF-8 first:
    // logs and events go out as JSON text.
    std::string clean;
    if (!valid_utf8(text)) {
      clean = sanitize_utf8(text);
      text = clean;
    }
    if (!is_stderr && text.starts_with("@overseer") &&
        (text.size() == 9 || text[9] == ' ' || text[9] == '\t')) {
      if (cut)
        return log(log_level::warning, "malformed @overseer line (longer than 256 KiB): " + head(text, 200));
      return protocol(text);
    }
    if (is_stderr && !text.empty()) {
      stderr_tail_.emplace_back(head(text, 300));
      if (stderr_tail_.size() > stderr_tail_lines) stderr_tail_.pop_front();
    }
    if (tool_.progress) match_progress(text);
    log(is_stderr ? log_level::warning : log_level::info,
        cut ? std::string(text) + " [line cut at 256 KiB]" : std::string(text));
  }

  std::optional<value> result;
  [[nodiscard]] std::string stderr_tail() const {
    std::string out;
    for (const auto& l : stderr_tail_) out += (out.empty() ? "" : "\n") + l;
    return out;
  }

private:
  void log(log_level level, std::string_view message) {
    if (truncated_) return;
    output_ += message.size() + 1;
    if (output_ > limit_) {
      truncated_ = true;
      ctx_.log(log_level::warning, "output beyond limits.output_mb (" +
                                       format_param(tool_.config.limits.output_mb) +
                                       " MiB) is dropped from here on");
      return;
    }
    ctx_.log(level, message);
  }

  void match_progress(std::string_view text) {
    const auto group = search_group1(*tool_.progress, text);
    if (!group) return;
    double percent = 0;
    auto [end, ec] = std::from_chars(group->data(), group->data() + group->size(), percent);
    if (ec != std::errc{} || !std::isfinite(percent)) return;
    overseer::progress p;
    p.percent = std::clamp(percent, 0.0, 100.0);
    ctx_.progress(p);
  }

  // A broken protocol line is the program's bug, not the job's failure:
  // it is reported as a warning and the run goes on.
  void protocol(std::string_view line) {
    boost::system::error_code ec;
    auto v = boost::json::parse(line.substr(9), ec);
    if (ec || !v.is_object()) {
      return log(log_level::warning, "malformed @overseer line (" +
                                         (ec ? ec.message() : "not a JSON object") + "): " + head(line, 200));
    }
    const auto& o = v.get_object();
    auto bad = [&](std::string_view key, std::string_view expected) {
      log(log_level::warning, "@overseer line: \"" + std::string(key) + "\" must be " +
                                  std::string(expected) + ", ignored: " + head(line, 200));
    };
    for (const auto& kv : o) {
      static constexpr std::array<std::string_view, 8> known = {
          "progress", "step_name", "current_step", "total_steps", "result", "checkpoint", "log", "level"};
      if (std::find(known.begin(), known.end(), kv.key()) != known.end()) continue;
      const auto best = nearest_name(kv.key(), known);
      log(log_level::warning, "@overseer line: unknown key \"" + head(kv.key(), 100) + "\" ignored" +
                                  (best.empty() ? "" : "; did you mean \"" + best + "\"?"));
    }
    if (const auto* msg = o.if_contains("log")) {
      const auto* level_name = o.if_contains("level");
      auto level =
          level_name && level_name->is_string() ? parse_log_level(level_name->get_string()) : log_level::info;
      if (!msg->is_string()) bad("log", "a string");
      else log(level.value_or(log_level::info), msg->get_string());
    }
    // Any progress key makes a report; the others keep their "not reported" zero.
    overseer::progress p;
    bool reported = false;
    if (const auto* x = o.if_contains("progress")) {
      if (x->is_number() && std::isfinite(x->to_number<double>())) {
        p.percent = std::clamp(x->to_number<double>(), 0.0, 100.0);
        reported = true;
      } else {
        bad("progress", "a number (percent)");
      }
    }
    if (const auto* x = o.if_contains("step_name")) {
      if (x->is_string()) {
        p.step_name = x->get_string();
        reported = true;
      } else {
        bad("step_name", "a string");
      }
    }
    for (auto [key, field] :
         {std::pair{"current_step", &p.current_step}, std::pair{"total_steps", &p.total_steps}}) {
      if (const auto* x = o.if_contains(key)) {
        if (x->is_int64() && x->get_int64() >= 0 && x->get_int64() <= 1'000'000'000) {
          *field = static_cast<int>(x->get_int64());
          reported = true;
        } else {
          bad(key, "a non-negative integer");
        }
      }
    }
    if (!o.contains("progress") && p.total_steps > 0)
      p.percent = std::min(100.0, 100.0 * p.current_step / p.total_steps);
    if (reported) ctx_.progress(p);
    if (const auto* x = o.if_contains("checkpoint")) {
      if (x->is_string()) ctx_.checkpoint(std::string(x->get_string()));
      else bad("checkpoint", "a string");
    }
    if (const auto* x = o.if_contains("result")) result = *x;
  }

  const compiled_tool& tool_;
  job_context& ctx_;
  std::uint64_t limit_;
  std::uint64_t output_ = 0;
  bool truncated_ = false;
  std::deque<std::string> stderr_tail_;
};

std::string describe_exit(const compiled_tool& t, int status, double cpu, const std::string& tail) {
  std::string what;
  if (WIFEXITED(status)) {
    what = "exit code " + std::to_string(WEXITSTATUS(status));
  } else if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* abbrev = ::sigabbrev_np(sig);
    const char* descr = ::sigdescr_np(sig);
    what = "killed by signal " + (abbrev ? "SIG" + std::string(abbrev) : std::to_string(sig)) +
           (descr ? " (" + std::string(descr) + ")" : "");
    // RLIMIT_CPU sends SIGXCPU, then SIGKILL at the hard limit a second later.
    const auto& cpu_s = t.config.limits.cpu_s;
    if (cpu_s && (sig == SIGXCPU || (sig == SIGKILL && cpu >= static_cast<double>(*cpu_s))))
      what += ": the CPU time limit limits.cpu_s = " + std::to_string(*cpu_s) + " s was reached";
  } else {
    what = "ended with wait status " + std::to_string(status);
  }
  return tail.empty() ? what + " (nothing on stderr)" : what + ": " + tail;
}

// Reads the program's output until the leader has exited and the pipes are
// drained, stopping the group when the job is stopped: SIGTERM, then SIGKILL
// after `grace`. Says whether it stopped the program, and whether it had to
// kill it.
struct stop_report {
  bool stopped = false;
  bool killed = false;
};

stop_report supervise(child_process& child, output_handler& out, std::chrono::milliseconds grace, job_context& ctx) {
  std::array<line_splitter, 2> splitters{line_splitter{max_line}, line_splitter{max_line}};
  std::vector<char> buffer(64 * 1024);
  std::optional<std::chrono::steady_clock::time_point> term_sent, drain_until;
  bool kill_sent = false;
  auto close_stream = [&](int index, int fd) {
    splitters[index].finish([&](std::string_view l, bool cut) { out.line(index == 1, l, cut); });
    child.close_output(fd);
  };
  for (;;) {
    std::array<pollfd, 2> fds{};
    std::array<int, 2> stream{};
    nfds_t n = 0;
    for (int i : {0, 1}) {
      if (int fd = i == 0 ? child.stdout_fd() : child.stderr_fd(); fd >= 0) {
        fds[n] = {fd, POLLIN, 0};
        stream[n++] = i;
      }
    }
    ::poll(fds.data(), n, static_cast<int>(poll_interval.count()));
    for (nfds_t k = 0; k < n; ++k) {
      if (fds[k].revents == 0) continue;
      const ssize_t got = ::read(fds[k].fd, buffer.data(), buffer.size());
      const int i = stream[k];
      if (got > 0) {
        splitters[i].feed({buffer.data(), static_cast<std::size_t>(got)},
                          [&](std::string_view l, bool cut) { out.line(i == 1, l, cut); });
      } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
        close_stream(i, fds[k].fd);
      }
    }
    const auto now = std::chrono::steady_clock::now();
    if (!drain_until && child.exited()) {
      // The leader's exit ends the run: background children go with it.
      child.signal_group(SIGKILL);
      drain_until = now + drain_limit;
    }
    if (drain_until && ((child.stdout_fd() < 0 && child.stderr_fd() < 0) || now >= *drain_until)) break;
    if (!drain_until && ctx.stop_requested()) {
      if (!term_sent) {
        child.signal_group(SIGTERM);
        term_sent = now;
      } else if (!kill_sent && now - *term_sent >= grace) {
        child.signal_group(SIGKILL);
        kill_sent = true;
      }
    }
  }
  // Whatever an escaped process still holds open is abandoned.
  if (child.stdout_fd() >= 0) close_stream(0, child.stdout_fd());
  if (child.stderr_fd() >= 0) close_stream(1, child.stderr_fd());
  return {term_sent.has_value(), kill_sent};
}

tool_result run(const compiled_tool& t, job_context& ctx) {
  if (ctx.stop_requested()) return stopped();
  const fs::path workdir = ctx.workdir();
  std::vector<std::string> argv{t.config.command.front()};
  for (std::size_t i = 1; i < t.argv.size(); ++i) {
    std::string problem;
    auto arg = substitute(t, t.argv[i], ctx.params(), workdir.string(), problem);
    if (!problem.empty()) return failure(problem);
    if (arg) argv.push_back(std::move(*arg));
  }
  const auto checkpoint_file = workdir / checkpoint_name;
  if (auto saved = ctx.last_checkpoint()) {
    std::ofstream f{checkpoint_file, std::ios::binary | std::ios::trunc};
    if (!(f << *saved) || !f.flush()) return failure("cannot write " + checkpoint_file.string());
  }
  auto env = t.env;
  env["OVERSEER_JOB_ID"] = ctx.job_id();
  env["OVERSEER_ATTEMPT"] = std::to_string(ctx.attempt());
  env["OVERSEER_WORKDIR"] = workdir.string();
  env["OVERSEER_CHECKPOINT_FILE"] = checkpoint_file.string();
  // W3C Trace Context: the tool continues the trace of the request that
  // submitted the job, as a child span of its own.
  if (!ctx.trace_id().empty()) {
    env["TRACEPARENT"] = tools::traceparent_for(ctx.trace_id(), ctx.job_id(), ctx.attempt());
    env["OVERSEER_TRACE_ID"] = ctx.trace_id();
  }
  spawn_request request{std::move(argv), {}, workdir, {}, {}, {}};
  for (const auto& [k, v] : env) request.env.push_back(k + "=" + v);
  const auto& limits = t.config.limits;
  if (limits.cpu_s) request.cpu_seconds = static_cast<rlim_t>(*limits.cpu_s);
  if (limits.memory_mb)
    request.address_space = static_cast<rlim_t>(std::min(*limits.memory_mb, 1LL << 40)) << 20;
  if (limits.open_files) request.open_files = static_cast<rlim_t>(*limits.open_files);

  std::optional<child_process> child;
  try {
    child.emplace(child_process::spawn(request));
  } catch (const std::runtime_error& e) {
    return failure(e.what());
  }
  // Durable before anything else: from here on a crash of the engine leaves
  // a record naming the group, and recovery kills it. Should this throw,
  // the child's destructor kills the group.
  ctx.record_process(child->pid(), process_start_time(child->pid()).value_or(0));

  output_handler out{t, ctx};
  const auto stop = supervise(*child, out, t.config.kill_grace, ctx);
  double cpu = 0;
  const int status = child->reap(&cpu);
  if (stop.killed)
    return stopped("the process group ignored SIGTERM and was killed with SIGKILL after the " +
                   std::to_string(t.config.kill_grace.count()) + " ms grace period");
  if (stop.stopped) return stopped("the process group stopped on SIGTERM");
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    if (out.result) return *out.result;
    return object{{"exit_code", 0}, {"workdir", workdir.string()}};
  }
  // Killed by a signal it did not get from us: the program broke (a
  // segfault, the kernel's OOM killer, a resource limit), so it counts
  // toward the tool's restart intensity. A non-zero exit is its answer.
  if (WIFSIGNALED(status)) return tool_result::crashed(describe_exit(t, status, cpu, out.stderr_tail()));
  return failure(describe_exit(t, status, cpu, out.stderr_tail()));
}

}  // namespace

std::vector<field_error> check_exec_tool(exec_tool_config& c) {
  std::vector<field_error> errors = check_definition(c.definition);
  auto fail = [&](std::string field, std::string message) {
    errors.push_back({std::move(field), std::move(message)});
  };

  if (c.command.empty()) {
    fail("command", "must be a non-empty array of strings");
  } else {
    std::string problem;
    if (auto program = resolve_program(c.command.front(), problem); problem.empty())
      c.command.front() = program;
    else fail("command", problem);
    for (std::size_t i = 1; i < c.command.size(); ++i) {
      problem.clear();
      (void)parse_template(c.command[i], c.definition.params, problem);
      if (!problem.empty()) fail("command", "element " + std::to_string(i) + ": " + problem);
    }
  }
  for (const auto& [name, v] : c.env) {
    if (name.empty() || name.find_first_of("=") != std::string::npos || name.find('\0') != std::string::npos)
      fail("env." + name, "is not a valid variable name");
    else if (name.starts_with("OVERSEER_")) fail("env." + name, "OVERSEER_* names are set by the engine");
    if (v.find('\0') != std::string::npos) fail("env." + name, "contains a NUL byte");
  }
  if (!c.progress_regex.empty()) {
    std::string reason;
    if (auto re = compile_regex(c.progress_regex, reason); !re)
      fail("progress_regex", "\"" + c.progress_regex +
                                 "\" is not a valid RE2 regular expression (no backreferences, no lookaround): " +
                                 reason);
    else if (re->NumberOfCapturingGroups() < 1)
      fail("progress_regex", "needs a capture group for the percent, as in \"([0-9.]+)%\"");
  }
  const auto& l = c.limits;
  for (auto [field, v] : {std::pair{"limits.cpu_s", l.cpu_s}, std::pair{"limits.memory_mb", l.memory_mb},
                          std::pair{"limits.open_files", l.open_files}})
    if (v && *v < 1) fail(field, std::to_string(*v) + " must be at least 1");
  if (!(l.output_mb > 0)) fail("limits.output_mb", "must be above 0");
  if (c.kill_grace.count() < 0) fail("kill_grace_s", "must not be negative");
  for (auto& dir : c.allowed_paths) {
    std::error_code ec;
    if (!dir.is_absolute()) fail("allowed_paths", "\"" + dir.string() + "\" is not an absolute path");
    else if (auto canonical = fs::weakly_canonical(dir, ec); !ec) dir = canonical;
  }
  for (const auto& name : c.path_params) {
    const auto* entry = c.definition.params.if_contains(name);
    const auto* type = entry && entry->is_object() ? entry->get_object().if_contains("type") : nullptr;
    if (!type || !type->is_string() || type->get_string() != "string")
      fail("params." + name + ".path", "only a param of type string can be a path");
  }
  if (!c.path_params.empty() && c.allowed_paths.empty())
    fail("allowed_paths",
         "is required when a param has \"path\": true (param \"" + c.path_params.front() + "\")");
  return errors;
}

tool_function make_exec_body(exec_tool_config config) {
  auto t = std::make_shared<compiled_tool>();
  for (std::size_t i = 0; i < config.command.size(); ++i) {
    std::string problem;
    t->argv.push_back(i == 0 ? arg_template{}
                             : parse_template(config.command[i], config.definition.params, problem));
  }
  if (!config.progress_regex.empty()) {
    std::string reason;  // check_exec_tool has compiled it: this finds it in the cache
    t->progress = compile_regex(config.progress_regex, reason);
    if (!t->progress) throw error(errc::invalid_spec, "progress_regex: " + reason);
  }
  // A minimal environment: the engine's own may hold secrets.
  t->env = {{"PATH", env_or("PATH", "/usr/local/bin:/usr/bin:/bin")},
            {"HOME", env_or("HOME", "/")},
            {"LANG", env_or("LANG", "C.UTF-8")}};
  for (const auto& [k, v] : config.env) t->env[k] = v;
  t->config = std::move(config);
  return [t = std::shared_ptr<const compiled_tool>(std::move(t))](job_context& ctx) { return run(*t, ctx); };
}

void register_exec_tool(tool_registry& registry, exec_tool_config config) {
  if (auto errors = check_exec_tool(config); !errors.empty()) {
    std::string message;
    for (const auto& e : errors) {
      if (!message.empty()) message += '\n';
      message.append("tool \"").append(config.definition.name).append("\": field \"").append(e.field);
      message.append("\": ").append(e.message);
    }
    throw error(errc::invalid_spec, std::move(message), std::move(errors));
  }
  // A param reaches the program only through a template: an undeclared one
  // would be silently ignored, so it is refused at submit.
  config.definition.strict_params = true;
  auto definition = config.definition;
  registry.add(std::move(definition), make_exec_body(std::move(config)));
}

}  // namespace overseer::tools
