// The commands of `overseer`, one function each, behind the argument
// parsing of app.cpp. Each returns its exit status; an error the command
// cannot go on from is printed once and thrown as `command_failed`, which
// app.cpp turns into the exit status.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

#include "cli/api_client.hpp"
#include "cli/exit_status.hpp"
#include "cli/text.hpp"

namespace overseer::cli {

enum class output_format { table, json, ids };

struct command_failed {
  exit_status status;
};

struct context {
  api_client api;
  output_format output = output_format::table;
  palette colours;
  bool tty = false;  ///< stdout is a terminal that can redraw (not TERM=dumb): live redraws

  /// Sends a request and returns the parsed answer when its status is in
  /// `ok`. Otherwise prints the problem in one line (prefixed by `what`,
  /// when given) and throws command_failed.
  boost::json::value call(const std::string& method, const std::string& target, const std::string& body = {},
                          std::vector<unsigned> ok = {200}, const std::string& what = {});
  /// `body` as the JSON text of a request, or, when a string in it (a key
  /// or a value) is not UTF-8 or a number is not finite, which JSON cannot
  /// carry, a message naming every such field and command_failed (usage):
  /// refused before anything is sent.
  [[nodiscard]] static std::string json_body(const boost::json::value& body);
  /// Writes a JSON document on one line (--output json).
  void print_json(const boost::json::value& doc) const;
  /// The one rule of --output json and ids for a document about one job:
  /// json prints it, ids its "job_id". True when it printed; false for the
  /// table, which the command draws itself.
  bool print_data(const boost::json::value& doc) const;
};

/// Prints "overseer: MESSAGE" to stderr.
void complain(const std::string& message);

/// The whole of a file the user named, "-" meaning stdin; a usage error
/// (printed, then thrown) when it cannot be read.
[[nodiscard]] std::string read_input(const std::string& path, const std::string& what);

struct submit_options {
  std::string tool;
  std::vector<std::string> params;
  std::string params_file;
  std::string name;
  std::optional<int> priority;
  std::optional<double> timeout_s;
  std::optional<int> retries;
  std::vector<std::string> labels;
  std::vector<std::string> depends_on;
  std::optional<double> delay_s;
  std::string idempotency_key;
  bool use_cache = false;
  bool wait = false;
  bool watch = false;
  bool logs = false;
};

struct list_options {
  std::string status;
  std::string tool;
  std::string name;  ///< a part of the job's name (`--name`)
  std::vector<std::string> labels;
  std::string batch;
  std::string since;
  int limit = 50;
  int offset = 0;
};

struct watch_request {
  std::vector<std::string> job_ids;
  std::string batch;
  bool all = false;
  bool logs = false;
};

struct logs_options {
  std::string job_id;
  bool follow = false;
  std::string level;
};

struct batch_submit_options {
  std::string file;
  std::string from_list;
  std::string name;
  std::optional<int> parallel_limit;
  bool fail_fast = false;
  bool wait = false;
  bool watch = false;
};

/// The filters of `cancel` (without ids) and `purge`: those of `list`.
struct bulk_options {
  std::string status;
  std::string tool;
  std::string name;  ///< a part of the job's name (`--name`)
  std::vector<std::string> labels;
  std::string batch;
  std::string since;   ///< created since: RFC 3339 or an age
  std::string before;  ///< created before: RFC 3339 or an age (`--older-than`)
  bool all = false;
  bool dry_run = false;
  std::string reason;  ///< the operator's, for a cancel (`--reason`)
  /// Whether any filter (or --all) was given.
  [[nodiscard]] bool any() const {
    return all || !status.empty() || !tool.empty() || !name.empty() || !labels.empty() || !batch.empty() ||
           !since.empty() || !before.empty();
  }
};

struct batch_list_options {
  std::string status;
  std::string name;
  int limit = 50;
  int offset = 0;
};

exit_status submit(context& ctx, const submit_options& o);
exit_status get(context& ctx, const std::string& job_id);
exit_status list(context& ctx, const list_options& o);
exit_status watch(context& ctx, const watch_request& o);
exit_status logs(context& ctx, const logs_options& o);
exit_status history(context& ctx, const std::string& job_id);
exit_status result(context& ctx, const std::string& job_id, const std::string& file);
/// Cancels or retries each job, with the operator's `reason` if given.
exit_status cancel(context& ctx, const std::vector<std::string>& job_ids, const std::string& reason = {});
exit_status retry(context& ctx, const std::vector<std::string>& job_ids, const std::string& reason = {});
exit_status batch_submit(context& ctx, const batch_submit_options& o);
exit_status batch_get(context& ctx, const std::string& batch_id);
exit_status batch_cancel(context& ctx, const std::string& batch_id, const std::string& reason = {});
exit_status batch_list(context& ctx, const batch_list_options& o);
/// `cancel --status ...` (no ids): POST /v1/jobs/cancel; `purge`: POST /v1/jobs/purge.
exit_status cancel_matching(context& ctx, const bulk_options& o);
exit_status purge(context& ctx, const bulk_options& o);
exit_status tools(context& ctx, const std::string& name);
exit_status health(context& ctx);
/// `tool pause NAME` / `tool resume NAME`.
/// Pauses (with the operator's `reason`, if any) or resumes a tool.
exit_status tool_pause(context& ctx, const std::string& name, bool pause, const std::string& reason = {});
exit_status cache_stats(context& ctx);
exit_status cache_clear(context& ctx, const std::string& tool, const std::vector<std::string>& labels);

/// Watches `job_ids` to the end as --wait/--watch of submit ask, then
/// prints each job's final state in the output format.
exit_status follow_jobs(context& ctx, const std::vector<std::string>& job_ids, bool live, bool logs);

/// `list --since`: an RFC 3339 time as given, or "90s", "15m", "2h", "3d"
/// before now. nullopt when it is neither.
[[nodiscard]] std::optional<std::string> since_to_timestamp(const std::string& since, wall_clock::time_point now);

/// Splits one line of a `batch submit --from-list` file into words: blanks
/// separate, single and double quotes group (`name="two words"`).
/// nullopt for an unclosed quote.
[[nodiscard]] std::optional<std::vector<std::string>> split_words(const std::string& line);

}  // namespace overseer::cli
