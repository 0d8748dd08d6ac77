#include "cli/progress_line.hpp"

#include <cmath>
#include <cstdio>

namespace overseer::cli {

namespace {

std::string percent_text(double p) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%3.0f%%", std::clamp(p, 0.0, 100.0));
  return buf;
}

std::string step_text(const watched_job& job) {
  std::string s;
  if (job.total_steps > 0)
    s = "step " + std::to_string(job.current_step) + "/" + std::to_string(job.total_steps);
  // The built-in tools name a step "step 2/5"; print a name only when it says more.
  if (!job.step_name.empty() && job.step_name != s) s += (s.empty() ? "" : " ") + job.step_name;
  return s;
}

}  // namespace

std::string progress_line(const watched_job& job, wall_clock::time_point now, std::size_t columns,
                          const palette& colours) {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  std::string plain_head = job.job_id + "  " + (job.tool.empty() ? std::string{} : job.tool + "  ");
  std::string line = plain_head;
  const std::string status = job.status.empty() ? "unknown" : job.status;
  const std::string steps = step_text(job);
  if (is_terminal(status)) {
    line += colours.status(status);
    // A job that never reported progress (noop, a failure at once) shows no 0 %.
    if (job.percent > 0 || job.total_steps > 0) line += "  " + percent_text(job.percent);
    if (!steps.empty()) line += "  " + steps;
    if (job.started_at && job.completed_at)
      line += "  in " + format_duration(duration_cast<milliseconds>(*job.completed_at - *job.started_at));
    if (status != "completed" && !job.error.empty()) line += "  " + job.error;
  } else {
    constexpr int bar_width = 20;
    const int filled = static_cast<int>(std::lround(std::clamp(job.percent, 0.0, 100.0) * bar_width / 100.0));
    line += '[';
    line += colours.paint(std::string(static_cast<std::size_t>(filled), '#'), "36") +
            std::string(static_cast<std::size_t>(bar_width - filled), '.') + "] " + percent_text(job.percent);
    if (!steps.empty()) line += "  " + steps;
    if (status == "running" && job.started_at) {
      const auto elapsed = duration_cast<milliseconds>(now - *job.started_at);
      line += "  " + format_duration(elapsed) + " elapsed";
      if (job.estimated_completion && *job.estimated_completion > now) {
        line += "  eta " + format_duration(duration_cast<milliseconds>(*job.estimated_completion - now));
      } else if (job.percent > job.attempt_base_percent && job.percent < 100) {
        const auto reported = job.progress_at && *job.progress_at > *job.started_at ? *job.progress_at : now;
        const auto took = duration_cast<milliseconds>(reported - *job.started_at);
        const double done_here = job.percent - job.attempt_base_percent;
        const double left = static_cast<double>(took.count()) * (100.0 - job.percent) / done_here -
                            static_cast<double>(duration_cast<milliseconds>(now - reported).count());
        line += "  eta " + format_duration(milliseconds(static_cast<long long>(std::max(left, 0.0))));
      }
    }
    line += "  " + colours.status(status);
    if (status == "retrying" && !job.error.empty()) line += "  " + job.error;
  }
  if (columns == 0) return line;
  // Cut the uncoloured text: escapes take no columns, and a cut through one
  // would leave the terminal coloured.
  if (colours.on) {
    palette plain;
    watched_job copy = job;
    const std::string uncoloured = progress_line(copy, now, 0, plain);
    if (width(uncoloured) <= columns) return line;
    return cut_to_width(uncoloured, columns);
  }
  return cut_to_width(line, columns);
}

}  // namespace overseer::cli
