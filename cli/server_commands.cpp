// batch, tools, health, cache.
#include "cli/commands.hpp"

#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "cli/json_read.hpp"
#include "cli/json_text.hpp"
#include "cli/params.hpp"
#include "cli/table.hpp"

namespace overseer::cli {

namespace {


std::string batch_path(const std::string& id) { return "/v1/batches/" + url_encode(id); }

std::string counts_text(const boost::json::object& counts) {
  std::string s;
  for (const auto& kv : counts) {
    const auto n = as_number(kv.value());
    if (n == 0) continue;
    s += (s.empty() ? "" : ", ") + std::to_string(static_cast<long long>(n)) + " " + terminal_safe(kv.key());
  }
  return s.empty() ? "no jobs" : s;
}

void print_batch(context& ctx, const boost::json::value& batch) {
  std::string head = safe(batch, "batch_id");
  if (const auto name = safe(batch, "name"); !name.empty()) head += "  \"" + name + "\"";
  head += "  " + ctx.colours.status(safe(batch, "batch_status"));
  head += "  (" + counts_text(object_of(batch, "counts")) + ")";
  std::printf("%s\n", head.c_str());
  std::vector<std::vector<std::string>> rows;
  for (const auto& j : array_of(batch, "jobs")) rows.push_back({safe(j, "job_id"), safe(j, "status")});
  std::fputs(render_table({"JOB ID", "STATUS"}, rows, ctx.colours, 1).c_str(), stdout);
}

}  // namespace

std::optional<std::vector<std::string>> split_words(const std::string& line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (const char c : line) {
    if (quote) {
      if (c == quote) quote = 0;
      else word += c;
    } else if (c == '"' || c == '\'') {
      quote = c;
      in_word = true;
    } else if (c == ' ' || c == '\t' || c == '\r') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (quote) return std::nullopt;
  if (in_word) words.push_back(std::move(word));
  return words;
}

exit_status batch_submit(context& ctx, const batch_submit_options& o) {
  if (o.file.empty() == o.from_list.empty()) {
    complain("give a batch file (FILE.json) or --from-list FILE, one of them");
    return exit_status::usage;
  }
  if (o.wait && o.watch) {
    complain("give --wait or --watch, not both");
    return exit_status::usage;
  }
  boost::json::object body;
  if (!o.file.empty()) {
    boost::system::error_code ec;
    auto doc = boost::json::parse(read_input(o.file, "batch file"), ec);
    if (ec || !(doc.is_object() || doc.is_array())) {
      complain("batch file " + terminal_safe(o.file) +
               ": expected a JSON object {\"jobs\": [...]} or an array of job specs" +
               (ec ? " (" + ec.message() + ")" : std::string{}));
      return exit_status::usage;
    }
    if (doc.is_array()) body["jobs"] = std::move(doc.get_array());
    else body = std::move(doc.get_object());
  } else {
    // One job per line: TOOL [NAME=VALUE ...], typed by the tool's schema.
    const auto tools_doc = ctx.call("GET", "/v1/tools");
    std::istringstream lines(read_input(o.from_list, "--from-list"));
    std::string line;
    boost::json::array jobs;
    std::vector<std::string> errors;
    for (int number = 1; std::getline(lines, line); ++number) {
      const std::string where = "--from-list line " + std::to_string(number) + ": ";
      const auto words = split_words(line);
      if (!words) {
        errors.push_back(where + "unclosed quote");
        continue;
      }
      if (words->empty() || (*words)[0].starts_with("#")) continue;
      const std::string& tool_name = (*words)[0];
      boost::json::value tool;
      for (const auto& t : array_of(tools_doc, "tools"))
        if (text_of(t, "name") == tool_name) tool = t;
      if (tool.is_null()) {
        errors.push_back(where + "unknown tool \"" + terminal_safe(tool_name) + "\"");
        continue;
      }
      auto typed = type_params(tool, {words->begin() + 1, words->end()});
      for (const auto& e : typed.errors) errors.push_back(where + e);
      jobs.push_back(boost::json::object{{"tool", tool_name}, {"params", std::move(typed.params)}});
    }
    if (!errors.empty()) {
      for (const auto& e : errors) complain(e);
      return exit_status::usage;
    }
    body["jobs"] = std::move(jobs);
  }
  if (!o.name.empty()) body["name"] = o.name;
  if (o.parallel_limit) body["parallel_limit"] = *o.parallel_limit;
  if (o.fail_fast) body["fail_fast"] = true;
  const auto answer = ctx.call("POST", "/v1/batches", context::json_body(body), {202});
  std::vector<std::string> ids;
  for (const auto& id : array_of(answer, "job_ids")) ids.push_back(id.is_string() ? std::string{id.get_string()} : "");
  switch (ctx.output) {
    case output_format::json: ctx.print_json(answer); break;
    case output_format::ids:
      if (!o.wait && !o.watch)
        for (const auto& id : ids) std::printf("%s\n", terminal_safe(id).c_str());
      break;
    case output_format::table:
      std::printf("%s  %zu jobs\n", safe(answer, "batch_id").c_str(), ids.size());
      for (const auto& id : ids) std::printf("  %s\n", terminal_safe(id).c_str());
      break;
  }
  std::fflush(stdout);
  if (!o.wait && !o.watch) return exit_status::ok;
  const exit_status outcome = follow_jobs(ctx, ids, o.watch, false);
  if (ctx.output == output_format::table && outcome != exit_status::interrupted &&
      outcome != exit_status::unreachable) {
    const auto batch = ctx.call("GET", batch_path(text_of(answer, "batch_id")));
    std::printf("batch %s %s\n", safe(batch, "batch_id").c_str(), ctx.colours.status(safe(batch, "batch_status")).c_str());
  }
  return outcome;
}

namespace {

/// A batch document in the chosen output: the document, its jobs' ids, or a table.
exit_status show_batch(context& ctx, const boost::json::value& batch) {
  if (ctx.output == output_format::json) ctx.print_json(batch);
  else if (ctx.output == output_format::ids)
    for (const auto& j : array_of(batch, "jobs")) std::printf("%s\n", safe(j, "job_id").c_str());
  else print_batch(ctx, batch);
  return exit_status::ok;
}

}  // namespace

exit_status batch_get(context& ctx, const std::string& batch_id) {
  return show_batch(ctx, ctx.call("GET", batch_path(batch_id)));
}

exit_status batch_cancel(context& ctx, const std::string& batch_id, const std::string& reason) {
  const auto body = reason.empty() ? std::string{} : context::json_body(boost::json::object{{"reason", reason}});
  return show_batch(ctx, ctx.call("POST", batch_path(batch_id) + "/cancel", body));
}

exit_status tools(context& ctx, const std::string& name) {
  const auto doc = ctx.call("GET", "/v1/tools");
  boost::json::array chosen;
  for (const auto& t : array_of(doc, "tools"))
    if (name.empty() || text_of(t, "name") == name) chosen.push_back(t);
  if (!name.empty() && chosen.empty()) {
    complain("no tool \"" + terminal_safe(name) + "\" (`overseer tools` lists them)");
    return exit_status::not_found;
  }
  if (ctx.output == output_format::json) {
    ctx.print_json(name.empty() ? doc : boost::json::value(boost::json::object{{"tools", chosen}}));
    return exit_status::ok;
  }
  if (ctx.output == output_format::ids) {
    for (const auto& t : chosen) std::printf("%s\n", safe(t, "name").c_str());
    return exit_status::ok;
  }
  bool first = true;
  for (const auto& t : chosen) {
    if (!first) std::printf("\n");
    first = false;
    std::string head = ctx.colours.bold(safe(t, "name")) + " (version " + safe(t, "version") + ")";
    if (const auto d = safe(t, "description"); !d.empty()) head += ": " + d;
    std::printf("%s\n", head.c_str());
    std::string limits;
    if (const auto timeout = safe(t, "timeout_s"); !timeout.empty()) limits += "timeout " + timeout + "s";
    if (const auto mc = integer_of(t, "max_concurrent"); mc > 0)
      limits += (limits.empty() ? "" : ", ") + std::string{"at most "} + std::to_string(mc) + " at once";
    if (const auto attempts = integer_of(object_of(t, "retry"), "max_attempts", 1); attempts > 1)
      limits += (limits.empty() ? "" : ", ") + std::to_string(attempts) + " attempts";
    if (!limits.empty()) std::printf("  %s\n", limits.c_str());
    std::vector<std::vector<std::string>> rows;
    for (const auto& kv : object_of(t, "params")) {
      const auto& p = kv.value();
      std::string rule;
      if (const auto* req = member(p, "required"); req && req->is_bool() && req->get_bool()) rule = "required";
      if (member(p, "default")) rule += (rule.empty() ? "" : ", ") + std::string{"default "} + safe(p, "default");
      const auto lo = safe(p, "minimum"), hi = safe(p, "maximum");
      if (!lo.empty() || !hi.empty())
        rule += (rule.empty() ? "" : ", ") + (lo.empty() ? "up to " + hi : hi.empty() ? "at least " + lo : lo + " to " + hi);
      if (const auto* e = member(p, "enum")) rule += (rule.empty() ? "" : ", ") + std::string{"one of "} + terminal_safe(compact_json(*e));
      if (const auto pat = safe(p, "pattern"); !pat.empty()) rule += (rule.empty() ? "" : ", ") + std::string{"matching "} + pat;
      rows.push_back({"  " + terminal_safe(kv.key()), safe(p, "type"), rule, safe(p, "description")});
    }
    if (rows.empty()) std::printf("  no params\n");
    else std::fputs(render_table({"  PARAM", "TYPE", "RULE", "DESCRIPTION"}, rows, ctx.colours).c_str(), stdout);
  }
  return exit_status::ok;
}

exit_status health(context& ctx) {
  const auto doc = ctx.call("GET", "/v1/health", {}, {200, 503});
  const std::string status = safe(doc, "status");
  const bool healthy = status == "healthy" || status == "degraded" || status == "ok";
  if (ctx.output == output_format::json) {
    ctx.print_json(doc);
  } else if (ctx.output == output_format::ids) {
    std::printf("%s\n", status.c_str());
  } else {
    const auto paint = [&](const std::string& s) {
      return s == "healthy" || s == "ok" ? ctx.colours.paint(s, "32") : s == "degraded" || s == "paused" ? ctx.colours.paint(s, "33") : ctx.colours.red(s);
    };
    std::printf("%s\n", paint(status).c_str());
    const auto& components = object_of(doc, "components");
    for (const char* name : {"store", "scheduler"}) {
      if (!components.contains(name)) continue;
      const auto& c = components.at(name);
      std::string line = std::string{"  "} + name + ": " + paint(safe(c, "status"));
      if (const auto d = safe(c, "detail"); !d.empty()) line += " (" + d + ")";
      if (const auto corrupt = integer_of(c, "corrupt_records"); corrupt > 0)
        line += ", " + std::to_string(corrupt) + " corrupt records skipped";
      std::printf("%s\n", line.c_str());
    }
    if (const auto& q = object_of(doc, "queue_stats"); !q.empty())
      std::printf("  queue: %lld pending, %lld running, %lld retrying\n",
                  static_cast<long long>(integer_of(q, "pending_jobs")), static_cast<long long>(integer_of(q, "running_jobs")),
                  static_cast<long long>(integer_of(q, "retrying_jobs")));
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> retired;  // stored pauses of tools no longer registered
    for (const auto& kv : object_of(components, "tools")) {
      const auto* registered = member(kv.value(), "registered");
      const bool gone = registered && registered->is_bool() && !registered->as_bool();
      rows.push_back({"  " + terminal_safe(kv.key()), safe(kv.value(), "status") + (gone ? ", not registered" : ""),
                      safe(kv.value(), "running"), safe(kv.value(), "recent_failures")});
      if (gone)
        retired.push_back("  " + terminal_safe(kv.key()) + " is no longer registered but its pause is stored (" +
                          safe(kv.value(), "paused_reason") + "); `overseer tool resume " + terminal_safe(kv.key()) +
                          "` lifts it");
    }
    if (!rows.empty())
      std::fputs(render_table({"  TOOL", "STATUS", "RUNNING", "RECENT FAILURES"}, rows, ctx.colours).c_str(), stdout);
    for (const auto& line : retired) std::printf("%s\n", line.c_str());
  }
  return healthy ? exit_status::ok : exit_status::server_error;
}

exit_status tool_pause(context& ctx, const std::string& name, bool pause, const std::string& reason) {
  const auto body = reason.empty() ? std::string{} : context::json_body(boost::json::object{{"reason", reason}});
  const auto doc = ctx.call("POST", "/v1/tools/" + url_encode(name) + (pause ? "/pause" : "/resume"), body);
  if (ctx.output == output_format::json) ctx.print_json(doc);
  else if (ctx.output == output_format::ids) std::printf("%s\n", safe(doc, "name").c_str());
  else if (const auto* paused = member(doc, "paused"); paused && paused->is_bool() && paused->as_bool())
    std::printf("%s paused (%s); its queued jobs wait, running ones go on\n", safe(doc, "name").c_str(),
                safe(doc, "paused_reason").c_str());
  else
    std::printf("%s resumed; %lld queued\n", safe(doc, "name").c_str(),
                static_cast<long long>(integer_of(doc, "queued")));
  return exit_status::ok;
}

exit_status cache_stats(context& ctx) {
  const auto doc = ctx.call("GET", "/v1/cache/stats");
  if (ctx.output != output_format::table) {
    ctx.print_json(doc);
    return exit_status::ok;
  }
  char rate[32];
  std::snprintf(rate, sizeof rate, "%.1f%%", number_of(doc, "cache_hit_rate"));
  char size[32];
  const double mib = number_of(doc, "total_cache_size_mb");
  if (mib < 1) std::snprintf(size, sizeof size, "%.1f KiB", mib * 1024);
  else std::snprintf(size, sizeof size, "%.1f MiB", mib);
  std::vector<std::vector<std::string>> rows = {
      {"cached results", safe(doc, "total_cached_results")},
      {"hit rate", std::string{rate} + " (" + safe(doc, "cache_hits") + " hits, " + safe(doc, "cache_misses") +
                       " misses since the daemon started)"},
      {"size", size},
      {"oldest", member(doc, "oldest_cached_result") && member(doc, "oldest_cached_result")->is_string()
                     ? short_time(text_of(doc, "oldest_cached_result"))
                     : "-"},
      {"newest", member(doc, "newest_cached_result") && member(doc, "newest_cached_result")->is_string()
                     ? short_time(text_of(doc, "newest_cached_result"))
                     : "-"},
  };
  for (const auto& r : rows) std::printf("%s  %s\n", ctx.colours.bold(pad(r[0], 14)).c_str(), r[1].c_str());
  return exit_status::ok;
}

exit_status cache_clear(context& ctx, const std::string& tool, const std::vector<std::string>& labels) {
  std::string query = "?confirm=true";
  if (!tool.empty()) query += "&tool=" + url_encode(tool);
  const auto pairs = string_pairs(labels, "--label");
  if (!pairs.errors.empty()) {
    for (const auto& e : pairs.errors) complain(e);
    return exit_status::usage;
  }
  for (const auto& kv : pairs.params)
    query += "&label." + url_encode(std::string{kv.key()}) + "=" + url_encode(std::string{kv.value().as_string()});
  const auto doc = ctx.call("DELETE", "/v1/cache" + query);
  if (ctx.output == output_format::table)
    std::printf("cleared %lld cached results\n", static_cast<long long>(integer_of(doc, "cleared_results")));
  else ctx.print_json(doc);
  return exit_status::ok;
}

}  // namespace overseer::cli
