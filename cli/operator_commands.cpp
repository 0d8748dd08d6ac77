// An operator's commands: `batch list`, `cancel` by filter and `purge`.
#include <cstdio>
#include <tuple>

#include "cli/commands.hpp"
#include "cli/json_read.hpp"
#include "cli/params.hpp"
#include "cli/table.hpp"

namespace overseer::cli {

namespace {

/// The filters as a query string ("?status=...&..."), or nullopt with the
/// problem printed.
std::optional<std::string> bulk_query(const bulk_options& o) {
  std::string query;
  auto add = [&](const std::string& key, const std::string& value) {
    query += (query.empty() ? "?" : "&") + key + "=" + url_encode(value);
  };
  if (!o.status.empty()) add("status", o.status);
  if (!o.tool.empty()) add("tool", o.tool);
  if (!o.name.empty()) add("name_contains", o.name);
  if (!o.batch.empty()) add("batch_id", o.batch);
  const auto labels = string_pairs(o.labels, "--label");
  if (!labels.errors.empty()) {
    for (const auto& e : labels.errors) complain(e);
    return std::nullopt;
  }
  for (const auto& kv : labels.params) add("label." + std::string{kv.key()}, std::string{kv.value().as_string()});
  for (const auto& [flag, given, key] : {std::tuple{"--since", &o.since, "created_after"},
                                         std::tuple{"--older-than", &o.before, "created_before"}}) {
    if (given->empty()) continue;
    const auto t = since_to_timestamp(*given, wall_clock::now());
    if (!t) {
      complain(std::string{flag} + " \"" + terminal_safe(*given) +
               "\": give an RFC 3339 time or an age such as 90s, 15m, 2h, 3d");
      return std::nullopt;
    }
    add(key, *t);
  }
  if (o.all) add("all", "true");
  if (o.dry_run) add("dry_run", "true");
  if (!o.reason.empty()) add("reason", o.reason);
  return query;
}

exit_status bulk(context& ctx, const bulk_options& o, const std::string& action, const char* counted,
                 const char* done, const char* would) {
  const auto query = bulk_query(o);
  if (!query) return exit_status::usage;
  const auto doc = ctx.call("POST", "/v1/jobs/" + action + *query, "{}");
  if (ctx.output != output_format::table) {
    ctx.print_json(doc);
    return exit_status::ok;
  }
  const auto matched = integer_of(doc, "matched");
  const bool one = matched == 1;
  if (o.dry_run)
    std::printf("%lld %s; %s %s (dry run: nothing changed)\n", static_cast<long long>(matched),
                one ? "job matches" : "jobs match", one ? "it" : "they", would);
  else
    std::printf("%lld %s matched, %lld %s\n", static_cast<long long>(matched), one ? "job" : "jobs",
                static_cast<long long>(integer_of(doc, counted)), done);
  return exit_status::ok;
}

}  // namespace

exit_status cancel_matching(context& ctx, const bulk_options& o) {
  return bulk(ctx, o, "cancel", "cancelled", "cancelled", "would be cancelled");
}

exit_status purge(context& ctx, const bulk_options& o) {
  return bulk(ctx, o, "purge", "deleted", "deleted", "would be deleted");
}

exit_status batch_list(context& ctx, const batch_list_options& o) {
  std::string query = "?limit=" + std::to_string(o.limit) + "&offset=" + std::to_string(o.offset);
  if (!o.status.empty()) query += "&status=" + url_encode(o.status);
  if (!o.name.empty()) query += "&name=" + url_encode(o.name);
  const auto doc = ctx.call("GET", "/v1/batches" + query);
  if (ctx.output == output_format::json) {
    ctx.print_json(doc);
    return exit_status::ok;
  }
  if (ctx.output == output_format::ids) {
    for (const auto& b : array_of(doc, "batches")) std::printf("%s\n", safe(b, "batch_id").c_str());
    return exit_status::ok;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& b : array_of(doc, "batches"))
    rows.push_back({safe(b, "batch_id"), safe(b, "batch_status"), std::to_string(integer_of(b, "total_jobs")),
                    short_time(text_of(b, "created_at")), safe(b, "name")});
  std::fputs(render_table({"BATCH ID", "STATUS", "JOBS", "CREATED", "NAME"}, rows, ctx.colours, 1).c_str(), stdout);
  if (rows.empty()) std::printf("no batches match\n");
  else if (const auto* more = member(doc, "has_next"); more && more->is_bool() && more->get_bool())
    std::printf("%zu of %lld shown; the next ones with --offset %lld\n", rows.size(),
                static_cast<long long>(integer_of(doc, "total_count")),
                static_cast<long long>(o.offset + static_cast<long long>(rows.size())));
  return exit_status::ok;
}

}  // namespace overseer::cli
