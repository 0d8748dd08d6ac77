#include "cli/watch.hpp"

#include <atomic>
#include <csignal>
#include <map>
#include <set>
#include <sys/ioctl.h>
#include <thread>
#include <tuple>
#include <unistd.h>


#include "cli/json_read.hpp"
#include "cli/json_text.hpp"
#include "cli/problem.hpp"
#include "cli/progress_line.hpp"
#include "cli/stream_client.hpp"

namespace overseer::cli {

namespace {

std::atomic<bool> interrupted{false};

extern "C" void on_interrupt(int) { interrupted.store(true); }

std::size_t terminal_columns() {
  winsize ws{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

std::string clock_of(const std::string& at) {
  // "2026-11-25T00:12:23.108Z" -> "00:12:23"
  return at.size() >= 19 ? at.substr(11, 8) : at;
}

/// The screen: finished lines scroll, the bars of unfinished jobs stay at
/// the bottom and are redrawn in place (cursor up, clear, draw).
class screen {
public:
  screen(const watch_options& options, std::FILE* out) : options_(options), out_(out) {
    if (live()) std::fputs("\x1b[?25l", out_);  // hide the cursor while redrawing
  }
  ~screen() { finish(); }

  void finish() {
    if (finished_) return;
    finished_ = true;
    if (live()) std::fputs("\x1b[?25h", out_);
    std::fflush(out_);
  }

  [[nodiscard]] bool live() const { return options_.mode == watch_options::display::live; }

  /// A line that stays (a transition, a log line, a final summary).
  void print(const std::string& line) {
    if (options_.mode == watch_options::display::quiet || options_.mode == watch_options::display::json) return;
    erase_bars();
    std::fputs(line.c_str(), out_);
    std::fputc('\n', out_);
  }

  /// About the connection, not the jobs: on stderr when stdout is for a
  /// script (json) or silent until the end (quiet).
  void notice(const std::string& line) {
    if (options_.mode == watch_options::display::quiet || options_.mode == watch_options::display::json) {
      std::fprintf(stderr, "overseer: %s\n", line.c_str());
      return;
    }
    print("-- " + line);
  }

  void note(const watch_note& n) {
    const std::string when = n.at.empty() ? std::string{} : clock_of(n.at) + "  ";
    print(when + n.job_id + "  " + n.text);
  }

  /// Redraws the bars of the jobs not yet retired; in lines mode prints a
  /// line for a job whose progress or status changed.
  void draw(const watch_state& state) {
    const auto now = wall_clock::now();
    for (const auto& job : state.jobs()) {
      if (retired_.contains(job.job_id) || !job.seen) continue;
      if (is_terminal(job.status)) {
        retired_.insert(job.job_id);
        print(progress_line(job, now, live() ? terminal_columns() - 1 : 0, options_.colours));
      }
    }
    if (options_.mode == watch_options::display::lines) {
      for (const auto& job : state.jobs()) {
        if (retired_.contains(job.job_id) || !job.seen) continue;
        const auto key = std::make_tuple(job.percent, job.current_step, job.status, job.attempt);
        auto [it, fresh] = printed_.try_emplace(job.job_id, key);
        if (!fresh && it->second == key) continue;
        it->second = key;
        print(progress_line(job, now, 0, options_.colours));
      }
    }
    if (live()) {
      erase_bars();
      const std::size_t columns = terminal_columns() - 1;
      for (const auto& job : state.jobs()) {
        if (retired_.contains(job.job_id) || !job.seen) continue;
        std::fputs(progress_line(job, now, columns, options_.colours).c_str(), out_);
        std::fputs("\x1b[K\n", out_);
        ++drawn_;
      }
    }
    std::fflush(out_);
  }

private:
  void erase_bars() {
    if (!live() || drawn_ == 0) return;
    std::fprintf(out_, "\x1b[%zuA\r\x1b[J", drawn_);
    drawn_ = 0;
  }

  const watch_options& options_;
  std::FILE* out_;
  std::size_t drawn_ = 0;
  bool finished_ = false;
  std::set<std::string> retired_;  ///< jobs whose summary line is printed
  std::map<std::string, std::tuple<double, std::int64_t, std::string, std::int64_t>> printed_;
};

void say(const std::string& text) { std::fprintf(stderr, "overseer: %s\n", text.c_str()); }

}  // namespace

void catch_interrupts() {
  struct sigaction sa{};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

bool interrupt_requested() noexcept { return interrupted.load(); }

exit_status run_watch(const api_client& api, watch_state& state, const watch_options& options, std::FILE* out) {
  using clock = std::chrono::steady_clock;
  screen display{options, out};
  bool lost = false;
  std::string lost_reason;
  auto give_up_at = clock::now() + options.reconnect_for;
  for (;;) {
    if (interrupted.load()) {
      display.finish();
      return exit_status::interrupted;
    }
    std::unique_ptr<stream_client> stream;
    try {
      stream = std::make_unique<stream_client>(api.where(), api.token(), stream_client::wait_for(api.deadline()));
    } catch (const stream_client::refused& r) {
      display.finish();
      say(problem_line(r.status, r.body));
      return exit_status_for_http(r.status);
    } catch (const unreachable& e) {
      if (clock::now() >= give_up_at) {
        display.finish();
        say(std::string{e.what()} + (lost ? "; gave up reconnecting" : ""));
        return exit_status::unreachable;
      }
      // The server is restarting: try again shortly, until the deadline.
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      continue;
    }
    if (lost) {
      display.notice("reconnected; resuming from the last event seen");
      lost = false;
    }
    // A subscription with `since` replays what was missed, then says
    // caught_up: once every one has, what follows is live.
    std::size_t replaying = 0;
    for (const auto& sub : state.subscriptions(options.logs)) {
      replaying += sub.contains("since") ? 1 : 0;
      stream->send(sub);
    }
    display.draw(state);
    for (;;) {
      if (interrupted.load()) {
        display.finish();
        return exit_status::interrupted;
      }
      auto got = stream->next(std::chrono::milliseconds(250));
      if (got.kind == stream_client::received::idle) {
        display.draw(state);  // elapsed and ETA move on between events
        continue;
      }
      if (got.kind == stream_client::received::closed) {
        lost = true;
        lost_reason = got.reason;
        display.notice("connection lost (" + terminal_safe(got.reason) + "); reconnecting");
        give_up_at = clock::now() + options.reconnect_for;
        break;
      }
      if (options.mode == watch_options::display::json && got.doc.is_object())
        std::fprintf(out, "%s\n", compact_json(got.doc).c_str());
      for (const auto& n : state.apply(got.doc)) {
        if (n.kind == watch_note::error) {
          if (n.text.find("older than the oldest retained") != std::string::npos) {
            // The events after our resume point are gone: start again from
            // fresh snapshots, and say that a gap is possible.
            display.notice(n.text + "; some events may be missing, showing the current state");
            state.drop_resume_points();
            for (const auto& sub : state.subscriptions(options.logs)) stream->send(sub);
            replaying = 0;  // fresh snapshots: no replay to wait for
            continue;
          }
          display.finish();
          say("the stream refused the subscription: " + n.text);
          return exit_status::server_error;
        }
        if (n.kind == watch_note::caught_up && replaying > 0 && --replaying == 0)
          display.notice("caught up; live from here");
        if (n.kind == watch_note::log || n.kind == watch_note::transition || n.kind == watch_note::snapshot)
          display.note(n);
      }
      display.draw(state);
      if (state.finished()) {
        display.finish();
        return state.outcome();
      }
    }
  }
}

}  // namespace overseer::cli
