// submit, get, list, watch, logs, history, result, cancel, retry.
#include "cli/commands.hpp"

#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "cli/json_read.hpp"
#include "cli/params.hpp"
#include "cli/json_text.hpp"
#include "cli/log_follow.hpp"
#include "cli/problem.hpp"
#include "cli/progress_line.hpp"
#include "cli/stream_client.hpp"
#include "cli/table.hpp"
#include "cli/watch.hpp"
#include "cli/watch_state.hpp"
#include "tools/did_you_mean.hpp"

namespace overseer::cli {

namespace {

std::string job_path(const std::string& id) { return "/v1/jobs/" + url_encode(id); }


std::string compact(const boost::json::value& v) { return terminal_safe(compact_json(v)); }

std::string labels_text(const boost::json::object& labels) {
  std::string s;
  for (const auto& kv : labels) {
    if (!s.empty()) s += ',';
    s += terminal_safe(kv.key());
    s += '=';
    s += terminal_safe(kv.value().is_string() ? std::string{kv.value().get_string()} : compact_json(kv.value()));
  }
  return s;
}

std::string progress_cell(const boost::json::value& view) {
  const auto& p = object_of(view, "progress");
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.0f%%", std::clamp(number_of(p, "percent"), 0.0, 100.0));
  std::string s = buf;
  if (const auto total = integer_of(p, "total_steps"); total > 0)
    s += " " + std::to_string(integer_of(p, "current_step")) + "/" + std::to_string(total);
  return s;
}

/// The tool document of `name` from GET /v1/tools; a usage error with a
/// did-you-mean when the server has no such tool.
boost::json::value find_tool(context& ctx, const std::string& name, const std::string& where = {}) {
  const auto doc = ctx.call("GET", "/v1/tools");
  std::vector<std::string> names;
  for (const auto& t : array_of(doc, "tools")) {
    if (text_of(t, "name") == name) return t;
    names.push_back(text_of(t, "name"));
  }
  std::string message = where + "unknown tool \"" + terminal_safe(name) + "\"";
  if (const auto near = tools::nearest_name(name, names); !near.empty())
    message += "; did you mean \"" + terminal_safe(near) + "\"?";
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + terminal_safe(n);
  complain(message + " (the server has " + (list.empty() ? std::string{"no tools"} : list) +
           "; `overseer tools` describes them)");
  throw command_failed{exit_status::usage};
}

exit_status print_problems(const std::vector<std::string>& errors, const std::string& where = {}) {
  for (const auto& e : errors) complain(where + e);
  return exit_status::usage;
}

std::vector<std::string> job_ids_of(const boost::json::value& list_doc) {
  std::vector<std::string> ids;
  for (const auto& j : array_of(list_doc, "jobs")) ids.push_back(safe(j, "job_id"));
  return ids;
}

}  // namespace

std::optional<std::string> since_to_timestamp(const std::string& since, wall_clock::time_point now) {
  if (parse_rfc3339(since)) return since;
  if (since.size() < 2) return std::nullopt;
  const char unit = since.back();
  const std::string number = since.substr(0, since.size() - 1);
  if (number.find_first_not_of("0123456789") != std::string::npos || number.size() > 9) return std::nullopt;
  const long long n = std::stoll(number);
  std::chrono::seconds back{};
  switch (unit) {
    case 's': back = std::chrono::seconds(n); break;
    case 'm': back = std::chrono::minutes(n); break;
    case 'h': back = std::chrono::hours(n); break;
    case 'd': back = std::chrono::hours(24 * n); break;
    default: return std::nullopt;
  }
  return format_rfc3339(now - back);
}

exit_status follow_jobs(context& ctx, const std::vector<std::string>& job_ids, bool live, bool logs) {
  watch_state state;
  for (const auto& id : job_ids) state.add_job(id);
  watch_options options{.logs = logs, .colours = ctx.colours};
  if (!live) options.mode = watch_options::display::quiet;
  else if (ctx.output == output_format::json) options.mode = watch_options::display::json;
  else if (ctx.output == output_format::ids) options.mode = watch_options::display::quiet;
  else options.mode = ctx.tty ? watch_options::display::live : watch_options::display::lines;
  catch_interrupts();
  const exit_status outcome = run_watch(ctx.api, state, options, stdout);
  if (outcome == exit_status::interrupted || outcome == exit_status::unreachable ||
      outcome == exit_status::server_error || outcome == exit_status::unauthorized)
    return outcome;
  if (!live) {
    for (const auto& job : state.jobs()) {
      switch (ctx.output) {
        case output_format::json: ctx.print_json(ctx.call("GET", job_path(job.job_id))); break;
        case output_format::ids: std::printf("%s\n", job.job_id.c_str()); break;
        case output_format::table:
          std::printf("%s\n", progress_line(job, wall_clock::now(), 0, ctx.colours).c_str());
          break;
      }
    }
  } else if (ctx.output == output_format::ids) {
    for (const auto& job : state.jobs()) std::printf("%s\n", job.job_id.c_str());
  }
  return outcome;
}

exit_status submit(context& ctx, const submit_options& o) {
  if (o.wait && o.watch) {
    complain("give --wait or --watch, not both");
    return exit_status::usage;
  }
  const auto tool = find_tool(ctx, o.tool);
  boost::json::object base;
  if (!o.params_file.empty()) {
    boost::system::error_code ec;
    auto doc = boost::json::parse(read_input(o.params_file, "--params-file"), ec);
    if (ec || !doc.is_object()) {
      complain("--params-file " + terminal_safe(o.params_file) + ": expected a JSON object" +
               (ec ? " (" + ec.message() + ")" : std::string{}));
      return exit_status::usage;
    }
    base = std::move(doc.get_object());
  }
  auto typed = type_params(tool, o.params, std::move(base));
  auto labels = string_pairs(o.labels, "--label");
  if (!typed.errors.empty() || !labels.errors.empty()) {
    print_problems(typed.errors);
    return print_problems(labels.errors);
  }
  boost::json::object spec{{"tool", o.tool}, {"params", std::move(typed.params)}};
  if (!o.name.empty()) spec["name"] = o.name;
  if (o.priority) spec["priority"] = *o.priority;
  if (!labels.params.empty()) spec["labels"] = std::move(labels.params);
  if (o.timeout_s) spec["timeout_s"] = *o.timeout_s;
  if (o.retries) spec["retry"] = boost::json::object{{"max_attempts", *o.retries + 1}};
  if (!o.depends_on.empty()) {
    boost::json::array deps;
    for (const auto& d : o.depends_on) deps.emplace_back(d);
    spec["depends_on"] = std::move(deps);
  }
  if (o.delay_s) spec["delay_s"] = *o.delay_s;
  if (!o.idempotency_key.empty()) spec["idempotency_key"] = o.idempotency_key;
  if (o.use_cache) spec["use_cache"] = true;
  const auto answer = ctx.call("POST", "/v1/jobs", context::json_body(spec), {200, 202});
  const std::string id = safe(answer, "job_id");
  switch (ctx.output) {
    case output_format::json: ctx.print_json(answer); break;
    case output_format::ids:
      // With --wait/--watch the id is printed once, at the end.
      if (!o.wait && !o.watch) std::printf("%s\n", id.c_str());
      break;
    case output_format::table: {
      const std::string status = safe(answer, "status");
      std::string line = id + "  " + terminal_safe(o.tool) + "  " + ctx.colours.status(status);
      if (member(answer, "existing")) line += "  (the job that already has this idempotency key)";
      else if (status == "completed") line += "  (from the result cache)";
      else line += "  (" + std::to_string(integer_of(answer, "position_in_queue")) + " ahead in the queue)";
      std::printf("%s\n", line.c_str());
      break;
    }
  }
  std::fflush(stdout);
  if (o.wait || o.watch) return follow_jobs(ctx, {id}, o.watch, o.logs);
  return exit_status::ok;
}

exit_status get(context& ctx, const std::string& job_id) {
  const auto view = ctx.call("GET", job_path(job_id));
  if (ctx.print_data(view)) return exit_status::ok;
  std::vector<std::vector<std::string>> rows;
  const auto add = [&](const std::string& key, const std::string& value) {
    if (!value.empty()) rows.push_back({key, value});
  };
  add("job", safe(view, "job_id"));
  add("tool", safe(view, "tool"));
  add("name", safe(view, "name"));
  add("status", safe(view, "status"));
  // As the engine's own lines say it: interrupted attempts, and those before
  // an explicit retry, do not count against the budget.
  const auto attempt = integer_of(view, "attempt");
  add("attempt", std::to_string(attempt) + " (" + std::to_string(integer_of(view, "attempts_counted", attempt)) +
                     " of " + std::to_string(integer_of(object_of(view, "retry"), "max_attempts", 1)) + " allowed)");
  add("node", safe(view, "node"));  // in a cluster, where its latest attempt ran
  add("priority", safe(view, "priority"));
  add("labels", labels_text(object_of(view, "labels")));
  add("params", compact(object_of(view, "params")));
  std::string progress = progress_cell(view);
  const auto& p = object_of(view, "progress");
  // The built-in tools name a step "step 2/5", which the cell says already.
  if (const auto step = safe(p, "step_name");
      !step.empty() && step != "step " + std::to_string(integer_of(p, "current_step")) + "/" +
                                   std::to_string(integer_of(p, "total_steps")))
    progress += "  " + step;
  add("progress", progress);
  add("error", safe(view, "error"));
  add("created", short_time(text_of(view, "created_at")));
  if (member(view, "started_at")) add("started", short_time(text_of(view, "started_at")));
  if (member(view, "completed_at")) add("finished", short_time(text_of(view, "completed_at")));
  if (member(view, "duration_ms"))
    add("duration", format_duration(std::chrono::milliseconds(integer_of(view, "duration_ms"))));
  if (member(view, "next_attempt_at")) add("next attempt", short_time(text_of(view, "next_attempt_at")));
  if (member(view, "run_at")) add("run at", short_time(text_of(view, "run_at")));
  if (member(view, "timeout_s")) add("timeout", safe(view, "timeout_s") + "s");
  add("batch", safe(view, "batch_id"));
  std::string deps;
  for (const auto& d : array_of(view, "depends_on")) deps += (deps.empty() ? "" : ", ") + terminal_safe(d.is_string() ? std::string{d.get_string()} : "");
  add("depends on", deps);
  std::string waiting;
  for (const auto& d : array_of(view, "waiting_on")) waiting += (waiting.empty() ? "" : ", ") + terminal_safe(d.is_string() ? std::string{d.get_string()} : "");
  add("waiting on", waiting);
  add("idempotency key", safe(view, "idempotency_key"));
  if (const auto& cache = object_of(view, "cache_info"); !cache.empty())
    add("from cache", "result of " + safe(cache, "source_job_id") + ", cached " + short_time(text_of(cache, "cached_at")));
  if (const auto* r = member(view, "result")) add("result", compact(*r));
  if (member(view, "expires_at")) add("expires", short_time(text_of(view, "expires_at")));
  std::size_t key_width = 0;
  for (const auto& r : rows) key_width = std::max(key_width, r[0].size());
  for (const auto& r : rows) {
    const std::string value = r[0] == "status" ? ctx.colours.status(r[1]) : r[1];
    std::printf("%s  %s\n", ctx.colours.bold(pad(r[0], key_width)).c_str(), value.c_str());
  }
  return exit_status::ok;
}

exit_status list(context& ctx, const list_options& o) {
  std::string query = "?limit=" + std::to_string(o.limit) + "&offset=" + std::to_string(o.offset);
  if (!o.status.empty()) query += "&status=" + url_encode(o.status);
  if (!o.tool.empty()) query += "&tool=" + url_encode(o.tool);
  if (!o.name.empty()) query += "&name_contains=" + url_encode(o.name);
  if (!o.batch.empty()) query += "&batch_id=" + url_encode(o.batch);
  const auto labels = string_pairs(o.labels, "--label");
  if (!labels.errors.empty()) return print_problems(labels.errors);
  for (const auto& kv : labels.params)
    query += "&label." + url_encode(std::string{kv.key()}) + "=" + url_encode(std::string{kv.value().as_string()});
  if (!o.since.empty()) {
    const auto t = since_to_timestamp(o.since, wall_clock::now());
    if (!t) {
      complain("--since \"" + terminal_safe(o.since) + "\": give an RFC 3339 time or an age such as 90s, 15m, 2h, 3d");
      return exit_status::usage;
    }
    query += "&created_after=" + url_encode(*t);
  }
  const auto doc = ctx.call("GET", "/v1/jobs" + query);
  if (ctx.output == output_format::json) {
    ctx.print_json(doc);
    return exit_status::ok;
  }
  if (ctx.output == output_format::ids) {
    for (const auto& id : job_ids_of(doc)) std::printf("%s\n", id.c_str());
    return exit_status::ok;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& j : array_of(doc, "jobs"))
    rows.push_back({safe(j, "job_id"), safe(j, "tool"), safe(j, "status"), progress_cell(j),
                    std::to_string(integer_of(j, "attempt")), short_time(text_of(j, "created_at")), safe(j, "name")});
  std::fputs(render_table({"JOB ID", "TOOL", "STATUS", "PROGRESS", "ATTEMPT", "CREATED", "NAME"}, rows, ctx.colours, 2)
                 .c_str(),
             stdout);
  const auto total = integer_of(doc, "total_count");
  if (rows.empty()) std::printf("no jobs match\n");
  else if (member(doc, "has_next") && member(doc, "has_next")->is_bool() && member(doc, "has_next")->get_bool())
    std::printf("%zu of %lld shown; the next ones with --offset %lld\n", rows.size(), static_cast<long long>(total),
                static_cast<long long>(o.offset + static_cast<long long>(rows.size())));
  return exit_status::ok;
}

exit_status watch(context& ctx, const watch_request& o) {
  const int ways = (o.job_ids.empty() ? 0 : 1) + (o.batch.empty() ? 0 : 1) + (o.all ? 1 : 0);
  if (ways != 1) {
    complain("say what to watch: job ids, --batch ID or --all (one of them)");
    return exit_status::usage;
  }
  std::vector<std::string> ids = o.job_ids;
  if (!o.batch.empty()) {
    const auto batch = ctx.call("GET", "/v1/batches/" + url_encode(o.batch));
    for (const auto& j : array_of(batch, "jobs")) ids.push_back(text_of(j, "job_id"));
    if (ids.empty()) {
      complain("batch " + terminal_safe(o.batch) + " has no jobs left");
      return exit_status::ok;
    }
  }
  // An unknown id gets its 404 here, as a problem document, rather than as
  // a stream error that does not say which subscription it answers.
  if (o.batch.empty() && !o.all)
    for (const auto& id : ids) (void)ctx.call("GET", job_path(id));
  if (o.all) {
    watch_state state{true};
    watch_options options{.logs = o.logs, .colours = ctx.colours};
    options.mode = ctx.output == output_format::json ? watch_options::display::json
                   : ctx.tty                          ? watch_options::display::live
                                                      : watch_options::display::lines;
    catch_interrupts();
    return run_watch(ctx.api, state, options, stdout);
  }
  const exit_status outcome = follow_jobs(ctx, ids, true, o.logs);
  if (!o.batch.empty() && ctx.output == output_format::table && outcome != exit_status::interrupted &&
      outcome != exit_status::unreachable) {
    const auto batch = ctx.call("GET", "/v1/batches/" + url_encode(o.batch));
    std::printf("batch %s %s\n", safe(batch, "batch_id").c_str(), ctx.colours.status(safe(batch, "batch_status")).c_str());
  }
  return outcome;
}

namespace {

void print_log_line(context& ctx, const boost::json::value& line) {
  const std::string level = safe(line, "level");
  std::string shown = pad(level, 8);
  if (level == "error" || level == "critical") shown = ctx.colours.red(shown);
  else if (level == "warning") shown = ctx.colours.paint(shown, "33");
  else if (level == "debug") shown = ctx.colours.dim(shown);
  const std::string component = text_of(line, "component") == "engine" ? "[engine] " : "";
  std::printf("%s  %s  %s%s\n", short_time(text_of(line, "at")).c_str(), shown.c_str(), component.c_str(),
              safe(line, "message").c_str());
}

/// Prints every stored line at or above the level, page by page.
void print_stored_logs(context& ctx, const logs_options& o) {
  boost::json::array all;
  boost::json::value first;
  for (std::int64_t offset = 0;;) {
    std::string query = "?limit=1000&offset=" + std::to_string(offset);
    if (!o.level.empty()) query += "&level=" + url_encode(o.level);
    auto page = ctx.call("GET", job_path(o.job_id) + "/logs" + query);
    const auto& lines = array_of(page, "logs");
    for (const auto& l : lines) {
      if (ctx.output == output_format::json) all.push_back(l);
      else print_log_line(ctx, l);
    }
    if (first.is_null()) first = page;
    offset += static_cast<std::int64_t>(lines.size());
    if (lines.empty() || offset >= integer_of(page, "total")) break;
  }
  if (ctx.output == output_format::json) {
    boost::json::object doc{{"job_id", text_of(first, "job_id")}, {"logs", std::move(all)},
                            {"total", integer_of(first, "total")}};
    ctx.print_json(doc);
  }
}

}  // namespace

exit_status logs(context& ctx, const logs_options& o) {
  if (!o.level.empty() && o.level != "debug" && log_follow::level_rank(o.level) == 0) {
    complain("--level \"" + terminal_safe(o.level) + "\" is not a level (debug, info, warning, error, critical)");
    return exit_status::usage;
  }
  const auto view = ctx.call("GET", job_path(o.job_id));
  if (!o.follow || is_terminal(text_of(view, "status"))) {
    print_stored_logs(ctx, o);
    return exit_status::ok;
  }
  // Follow: replay the job's events from the start (since=0), then live,
  // until the job ends (log_follow says when). Every event has a seq; one at
  // or below the last seen is a repeat after a reconnect.
  log_follow follow{o.job_id, log_follow::level_rank(o.level)};
  catch_interrupts();
  const auto give_up = [] { return std::chrono::steady_clock::now() + std::chrono::seconds(60); };
  auto give_up_at = give_up();
  for (;;) {
    if (interrupt_requested()) return exit_status::interrupted;
    std::unique_ptr<stream_client> stream;
    try {
      stream = std::make_unique<stream_client>(ctx.api.where(), ctx.api.token(),
                                               stream_client::wait_for(ctx.api.deadline()));
    } catch (const stream_client::refused& r) {
      complain(problem_line(r.status, r.body));
      return exit_status_for_http(r.status);
    } catch (const unreachable& e) {
      if (std::chrono::steady_clock::now() >= give_up_at) {
        complain(e.what());
        return exit_status::unreachable;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the server is restarting
      continue;
    }
    stream->send(follow.subscription());
    for (;;) {
      if (interrupt_requested()) return exit_status::interrupted;
      auto got = stream->next(std::chrono::milliseconds(250));
      if (got.kind == stream_client::received::idle) {
        if (follow.quiet() == log_follow::step::end) return exit_status::ok;
        continue;
      }
      if (got.kind == stream_client::received::closed) {
        complain("connection lost (" + terminal_safe(got.reason) + "); reconnecting");
        give_up_at = give_up();
        break;
      }
      const auto& m = got.doc;
      if (text_of(m, "type") == "error") {
        const std::string message = text_of(m, "message");
        if (message.find("older than the oldest retained") == std::string::npos) {
          complain("the stream refused: " + terminal_safe(message));
          return exit_status::server_error;
        }
        // The early events are gone: print what the store still has, then
        // follow live from a fresh snapshot.
        complain(terminal_safe(message) + "; printing the stored lines, then following");
        print_stored_logs(ctx, o);
        follow.printed_stored();
        stream->send(follow.subscription());
        continue;
      }
      switch (follow.apply(m)) {
        case log_follow::step::skip: break;
        case log_follow::step::print:
          if (ctx.output == output_format::json) ctx.print_json(m);
          else print_log_line(ctx, m);
          std::fflush(stdout);
          break;
        case log_follow::step::end: return exit_status::ok;
        case log_follow::step::print_stored_and_end:
          // The job ended before the subscription: its stored lines are all.
          print_stored_logs(ctx, o);
          return exit_status::ok;
      }
    }
  }
}

exit_status history(context& ctx, const std::string& job_id) {
  const auto doc = ctx.call("GET", job_path(job_id) + "/history");
  if (ctx.print_data(doc)) return exit_status::ok;
  std::vector<std::vector<std::string>> rows;
  // In a cluster the transitions into and out of running name their node:
  // a column for it then, none on a single daemon.
  bool nodes = false;
  for (const auto& t : array_of(doc, "transitions")) nodes = nodes || member(t, "node") != nullptr;
  for (const auto& t : array_of(doc, "transitions")) {
    const std::string from = safe(t, "from");
    rows.push_back({short_time(text_of(t, "at")), from.empty() ? "-" : from, safe(t, "to"),
                    std::to_string(integer_of(t, "attempt"))});
    if (nodes) rows.back().push_back(member(t, "node") ? safe(t, "node") : "-");
    rows.back().push_back(safe(t, "reason"));
  }
  std::vector<std::string> head = {"AT", "FROM", "TO", "ATTEMPT"};
  if (nodes) head.emplace_back("NODE");
  head.emplace_back("REASON");
  std::fputs(render_table(head, rows, ctx.colours, 2).c_str(), stdout);
  return exit_status::ok;
}

exit_status result(context& ctx, const std::string& job_id, const std::string& file) {
  const auto doc = ctx.call("GET", job_path(job_id) + "/result");
  const boost::json::value value = member(doc, "result") ? *member(doc, "result") : boost::json::value{};
  if (file == "-") {
    // `-o -` is standard output, as in curl and wget: the result as it is
    // for a pipe, made safe only when it reaches a terminal.
    const std::string text = pretty_json(value) + "\n";
    const std::string out = ::isatty(STDOUT_FILENO) == 1 ? terminal_safe(text, true) : text;
    std::fwrite(out.data(), 1, out.size(), stdout);
    return exit_status::ok;
  }
  if (!file.empty()) {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    const std::string text = pretty_json(value) + "\n";
    out << text;
    out.close();
    if (!out) {
      complain("cannot write " + terminal_safe(file));
      return exit_status::usage;
    }
    std::fprintf(stderr, "wrote the result of %s to %s (%zu bytes)\n", terminal_safe(job_id).c_str(),
                 terminal_safe(file).c_str(), text.size());
    return exit_status::ok;
  }
  if (!ctx.print_data(doc)) std::printf("%s\n", terminal_safe(pretty_json(value), true).c_str());
  return exit_status::ok;
}

namespace {

exit_status for_each_job(context& ctx, const std::vector<std::string>& job_ids, const std::string& method,
                         const std::string& suffix, std::vector<unsigned> ok, const std::string& done,
                         const std::string& reason) {
  const auto body = reason.empty() ? std::string{} : context::json_body(boost::json::object{{"reason", reason}});
  exit_status worst = exit_status::ok;
  for (const auto& id : job_ids) {
    try {
      const auto view = ctx.call(method, job_path(id) + suffix, body, ok);
      switch (ctx.output) {
        case output_format::json:
        case output_format::ids: (void)ctx.print_data(view); break;
        case output_format::table:
          std::printf("%s  %s  %s\n", safe(view, "job_id").c_str(), ctx.colours.status(safe(view, "status")).c_str(),
                      done.c_str());
          break;
      }
    } catch (const command_failed& f) {
      worst = worse(worst, f.status);
      if (f.status == exit_status::unreachable) break;
    }
  }
  return worst;
}

}  // namespace

exit_status cancel(context& ctx, const std::vector<std::string>& job_ids, const std::string& reason) {
  return for_each_job(ctx, job_ids, "POST", "/cancel", {200}, "(cancelled)", reason);
}

exit_status retry(context& ctx, const std::vector<std::string>& job_ids, const std::string& reason) {
  return for_each_job(ctx, job_ids, "POST", "/retry", {202}, "(queued again, with a fresh retry budget)", reason);
}

}  // namespace overseer::cli
