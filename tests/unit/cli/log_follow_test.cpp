#include "cli/log_follow.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

using namespace overseer::cli;
namespace json = boost::json;
using step = log_follow::step;

namespace {

json::value subscribed(std::uint64_t seq, const char* status, int attempt) {
  return json::object{{"type", "subscribed"}, {"job_id", "job_a"}, {"seq", seq},
                      {"snapshot", {{"job_id", "job_a"}, {"status", status}, {"attempt", attempt}}}};
}

json::value transition(std::uint64_t seq, const char* to, int attempt) {
  return json::object{{"type", "transition"}, {"seq", seq}, {"job_id", "job_a"}, {"to", to}, {"attempt", attempt},
                      {"at", "2026-12-04T10:00:00.000Z"}, {"reason", "r"}};
}

json::value log_line(std::uint64_t seq, const char* level = "info") {
  return json::object{{"type", "log"}, {"seq", seq}, {"job_id", "job_a"}, {"level", level},
                      {"message", "m"}, {"at", "2026-12-04T10:00:00.000Z"}};
}

}  // namespace

TEST_CASE("logs -f: a job running at the first snapshot ends at a newer terminal transition", "[cli]") {
  log_follow f{"job_a"};
  CHECK(f.subscription().at("since").as_uint64() == 0);
  CHECK(f.apply(subscribed(20, "running", 2)) == step::skip);
  // Replayed from the start: a first run that failed, then a retry.
  CHECK(f.apply(transition(3, "running", 1)) == step::skip);
  CHECK(f.apply(log_line(4)) == step::print);
  CHECK(f.apply(transition(5, "failed", 1)) == step::skip);  // older than the snapshot: retried since
  CHECK(f.apply(transition(9, "pending", 1)) == step::skip);
  CHECK(f.apply(transition(12, "running", 2)) == step::skip);
  CHECK(f.quiet() == step::skip);  // live now: quiet means nothing
  CHECK(f.apply(log_line(21)) == step::print);
  CHECK(f.apply(log_line(21)) == step::skip);  // a repeat
  CHECK(f.apply(transition(22, "completed", 2)) == step::end);
}

TEST_CASE("logs -f: a job that ended before the subscription prints its stored lines and ends", "[cli]") {
  // The command saw the job running, and it ended before the stream's
  // snapshot: every event, the terminal one too, is at or below the
  // snapshot's seq, so waiting for a newer one would wait for ever.
  log_follow f{"job_a"};
  CHECK(f.apply(subscribed(40, "completed", 3)) == step::print_stored_and_end);
}

TEST_CASE("logs -f: a job that ended while the connection was down ends at its final transition", "[cli]") {
  log_follow f{"job_a"};
  CHECK(f.apply(subscribed(10, "running", 1)) == step::skip);
  CHECK(f.apply(log_line(8)) == step::print);
  CHECK(f.apply(transition(11, "retrying", 1)) == step::skip);
  // The connection drops; the next one resumes after seq 11.
  CHECK(f.subscription().at("since").as_uint64() == 11);
  CHECK(f.apply(subscribed(30, "cancelled", 2)) == step::skip);
  CHECK(f.quiet() == step::skip);  // the replay has not reached the end yet
  CHECK(f.apply(transition(11, "retrying", 1)) == step::skip);  // a repeat
  CHECK(f.apply(transition(14, "running", 2)) == step::skip);
  CHECK(f.apply(log_line(15)) == step::print);
  CHECK(f.apply(transition(16, "cancelled", 2)) == step::skip);  // to the snapshot's status and attempt...
  CHECK(f.apply(transition(18, "pending", 2)) == step::skip);     // ...but retried: not the last one
  CHECK(f.quiet() == step::skip);
  CHECK(f.apply(transition(19, "cancelled", 2)) == step::skip);  // cancelled again before it ran
  CHECK(f.apply(log_line(20, "warning")) == step::print);         // a line written after the ending
  CHECK(f.quiet() == step::end);                                  // the replay is done
}

TEST_CASE("logs -f: an event newer than the snapshot the job ended in ends the follow", "[cli]") {
  log_follow f{"job_a"};
  CHECK(f.apply(subscribed(10, "running", 1)) == step::skip);
  CHECK(f.apply(log_line(11)) == step::print);
  CHECK(f.apply(subscribed(30, "failed", 1)) == step::skip);
  CHECK(f.apply(transition(25, "failed", 1)) == step::skip);
  CHECK(f.apply(transition(31, "pending", 1)) == step::end);  // retried after the snapshot: not followed
}

TEST_CASE("logs -f: after the stored lines, only what is newer than a fresh snapshot", "[cli]") {
  log_follow f{"job_a"};
  f.printed_stored();
  CHECK_FALSE(f.subscription().contains("since"));
  SECTION("the job is still running") {
    CHECK(f.apply(subscribed(50, "running", 1)) == step::skip);
    CHECK(f.subscription().at("since").as_uint64() == 50);  // a reconnect resumes from the snapshot
    CHECK(f.apply(log_line(50)) == step::skip);             // in the stored lines already
    CHECK(f.apply(log_line(51)) == step::print);
    CHECK(f.apply(transition(52, "completed", 1)) == step::end);
  }
  SECTION("the job has ended: the stored lines were all of it") {
    CHECK(f.apply(subscribed(50, "failed", 1)) == step::end);
  }
}

TEST_CASE("logs -f: lines below --level are not printed, and other messages are ignored", "[cli]") {
  log_follow f{"job_a", log_follow::level_rank("warning")};
  CHECK(f.apply(subscribed(1, "running", 1)) == step::skip);
  CHECK(f.apply(log_line(2, "info")) == step::skip);
  CHECK(f.apply(log_line(3, "error")) == step::print);
  CHECK(f.apply(json::object{{"type", "unsubscribed"}, {"job_id", "job_a"}}) == step::skip);
  CHECK(f.apply(json::object{{"type", "progress"}, {"seq", 4}, {"job_id", "job_a"}}) == step::skip);
  CHECK(log_follow::level_rank("critical") == 4);
  CHECK(log_follow::level_rank("nonsense") == 0);
}

namespace {

json::value caught_up(std::uint64_t seq) {
  return json::object{{"type", "caught_up"}, {"job_id", "job_a"}, {"seq", seq}};
}

}  // namespace

TEST_CASE("logs -f: a daemon that marks the end of a replay ends the follow there, not at a short quiet",
          "[cli]") {
  log_follow f{"job_a"};
  CHECK(f.apply(subscribed(10, "running", 1)) == step::skip);
  CHECK(f.apply(log_line(8)) == step::print);
  CHECK(f.apply(caught_up(10)) == step::skip);  // the first replay is done; the job runs on
  CHECK(f.apply(transition(11, "retrying", 1)) == step::skip);
  // The connection drops; the job is retried and cancelled meanwhile.
  CHECK(f.apply(subscribed(30, "cancelled", 2)) == step::skip);
  CHECK(f.apply(transition(14, "running", 2)) == step::skip);
  CHECK(f.apply(transition(16, "cancelled", 2)) == step::skip);
  // A replay that stalls right after a transition like the final one: the
  // fallback would end here; this daemon says when the replay is done.
  CHECK(f.quiet() == step::skip);
  CHECK(f.apply(transition(18, "pending", 2)) == step::skip);
  CHECK(f.apply(transition(19, "cancelled", 2)) == step::skip);
  CHECK(f.apply(log_line(20, "warning")) == step::print);
  CHECK(f.quiet() == step::skip);
  CHECK(f.apply(caught_up(30)) == step::end);
}

TEST_CASE("logs -f: caught_up while the job runs is not its end", "[cli]") {
  log_follow f{"job_a"};
  CHECK(f.apply(subscribed(5, "running", 1)) == step::skip);
  CHECK(f.apply(caught_up(5)) == step::skip);
  CHECK(f.apply(log_line(6)) == step::print);
  CHECK(f.apply(transition(7, "completed", 1)) == step::end);
}

TEST_CASE("logs -f: a job found ended, then running again at the next resubscription, is followed on", "[cli]") {
  log_follow f{"job_a"};
  CHECK(f.apply(subscribed(5, "running", 1)) == step::skip);
  CHECK(f.apply(log_line(6)) == step::print);
  // The connection drops; the job fails meanwhile. The replay is cut before
  // its caught_up, and the job is retried before the next connection.
  CHECK(f.apply(subscribed(9, "failed", 1)) == step::skip);
  CHECK(f.apply(transition(8, "failed", 1)) == step::skip);
  CHECK(f.apply(subscribed(12, "running", 2)) == step::skip);
  // The retry's events are newer than the snapshot the job had ended in:
  // they are the job going on, not past its end.
  CHECK(f.apply(transition(11, "running", 2)) == step::skip);
  CHECK(f.apply(log_line(13)) == step::print);
  CHECK(f.apply(caught_up(13)) == step::skip);
  CHECK(f.quiet() == step::skip);
  CHECK(f.apply(transition(14, "completed", 2)) == step::end);
}

TEST_CASE("logs -f: a caught_up that never comes after a resumed replay ends the follow after a long quiet",
          "[cli]") {
  // The daemon sent caught_up once, then was replaced by an older build
  // while the follow was disconnected, and the job ended meanwhile.
  log_follow f{"job_a"};
  CHECK(f.apply(subscribed(5, "running", 1)) == step::skip);
  CHECK(f.apply(log_line(3)) == step::print);
  CHECK(f.apply(caught_up(5)) == step::skip);
  CHECK(f.apply(subscribed(9, "completed", 1)) == step::skip);
  CHECK(f.apply(log_line(6)) == step::print);
  CHECK(f.apply(transition(8, "completed", 1)) == step::skip);
  for (int i = 1; i < log_follow::patient_quiet_ticks - 1; ++i) CHECK(f.quiet() == step::skip);
  // Anything arriving starts the count again.
  CHECK(f.apply(log_line(9)) == step::print);
  for (int i = 1; i < log_follow::patient_quiet_ticks; ++i) CHECK(f.quiet() == step::skip);
  CHECK(f.quiet() == step::end);
}
