#include "cli/watch_state.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "cli/progress_line.hpp"

using namespace overseer::cli;
namespace json = boost::json;

namespace {

json::value transition(std::uint64_t seq, const char* from, const char* to, int attempt, const char* reason) {
  return json::object{{"type", "transition"}, {"seq", seq}, {"job_id", "job_a"},
                      {"from", from ? json::value(from) : json::value(nullptr)}, {"to", to}, {"attempt", attempt},
                      {"at", "2026-12-01T10:00:00.000Z"}, {"reason", reason}};
}

json::value progress(std::uint64_t seq, double percent, int step) {
  return json::object{{"type", "progress"}, {"seq", seq}, {"job_id", "job_a"},
                      {"progress", {{"percent", percent}, {"current_step", step}, {"total_steps", 4}, {"step_name", ""}}},
                      {"at", "2026-12-01T10:00:01.000Z"}};
}

}  // namespace

TEST_CASE("a resubscription resumes after the last event, and repeats are dropped", "[cli][watch]") {
  watch_state s;
  s.add_job("job_a");
  auto subs = s.subscriptions(false);
  REQUIRE(subs.size() == 1);
  CHECK_FALSE(subs[0].contains("since"));  // first time: a snapshot

  auto notes = s.apply(json::parse(R"({"type":"subscribed","job_id":"job_a","seq":10,
      "snapshot":{"job_id":"job_a","tool":"sleep","status":"pending","attempt":0}})"));
  REQUIRE(notes.size() == 1);
  CHECK(notes[0].kind == watch_note::snapshot);
  CHECK(s.apply(transition(9, "pending", "pending", 0, "old")).empty());  // before the snapshot
  CHECK(s.apply(transition(11, "pending", "running", 1, "started")).size() == 1);
  CHECK(s.apply(progress(12, 50, 2)).empty());
  CHECK(s.jobs()[0].percent == 50);

  // The connection drops; the new one subscribes with since = 12.
  subs = s.subscriptions(true);
  CHECK(subs[0].at("since").as_uint64() == 12);
  CHECK(subs[0].at("logs").as_bool());
  // Its snapshot is newer than the replay, and is ignored.
  CHECK(s.apply(json::parse(R"({"type":"subscribed","job_id":"job_a","seq":15,"since":12,
      "snapshot":{"job_id":"job_a","status":"completed"}})")).empty());
  CHECK(s.jobs()[0].status == "running");
  CHECK(s.apply(transition(11, "pending", "running", 1, "started")).empty());  // a repeat
  CHECK(s.apply(transition(13, "running", "pending", 1, "interrupted")).size() == 1);
  CHECK(s.apply(transition(14, "pending", "running", 2, "attempt 2")).size() == 1);
  CHECK_FALSE(s.finished());
  const auto last = s.apply(transition(15, "running", "completed", 2, "completed"));
  REQUIRE(last.size() == 1);
  CHECK(last[0].text == "running -> completed (attempt 2: completed)");
  CHECK(s.finished());
  CHECK(s.outcome() == exit_status::ok);
}

TEST_CASE("a replay's caught_up is noted and becomes the resume point", "[cli][watch]") {
  watch_state s;
  s.add_job("job_a");
  // Before the job is seen there is nothing to resume: ignored.
  CHECK(s.apply(json::parse(R"({"type":"caught_up","job_id":"job_a","seq":3})")).empty());
  s.apply(json::parse(R"({"type":"subscribed","job_id":"job_a","seq":10,"snapshot":{"status":"running"}})"));
  s.apply(progress(12, 50, 2));
  // The replay read up to 20; job_a's last event was 12.
  const auto notes = s.apply(json::parse(R"({"type":"caught_up","job_id":"job_a","seq":20})"));
  REQUIRE(notes.size() == 1);
  CHECK(notes[0].kind == watch_note::caught_up);
  CHECK(notes[0].job_id == "job_a");
  CHECK(s.subscriptions(false)[0].at("since").as_uint64() == 20);
  // An older caught_up never moves the resume point back; another job's is not ours.
  s.apply(json::parse(R"({"type":"caught_up","job_id":"job_a","seq":15})"));
  CHECK(s.subscriptions(false)[0].at("since").as_uint64() == 20);
  CHECK(s.apply(json::parse(R"({"type":"caught_up","job_id":"job_b","seq":30})")).empty());
  CHECK(s.subscriptions(false)[0].at("since").as_uint64() == 20);

  watch_state all{true};
  all.apply(json::parse(R"({"type":"subscribed","all":true,"seq":5})"));
  REQUIRE(all.apply(json::parse(R"({"type":"caught_up","all":true,"seq":9})")).size() == 1);
  CHECK(all.subscriptions(false)[0].at("since").as_uint64() == 9);
  // An event the replay already covered is a repeat.
  CHECK(all.apply(json::parse(R"({"type":"transition","seq":8,"job_id":"job_c","from":"pending","to":"running",
      "attempt":1,"at":"2026-12-01T10:00:00.000Z","reason":"started"})")).empty());
}

TEST_CASE("the outcome of several jobs is the worst of them", "[cli][watch]") {
  watch_state s;
  for (const char* id : {"job_a", "job_b"}) s.add_job(id);
  s.apply(json::parse(R"({"type":"subscribed","job_id":"job_a","seq":1,"snapshot":{"status":"cancelled"}})"));
  CHECK_FALSE(s.finished());
  s.apply(json::parse(R"({"type":"subscribed","job_id":"job_b","seq":1,"snapshot":{"status":"failed"}})"));
  CHECK(s.finished());
  CHECK(s.outcome() == exit_status::job_failed);
}

TEST_CASE("odd stream messages change nothing and never throw", "[cli][watch]") {
  watch_state s;
  s.add_job("job_a");
  for (const char* odd : {R"(null)", R"([1,2])", R"({"type":5})", R"({"type":"transition"})",
                          R"({"type":"progress","job_id":"job_a","seq":"x","progress":7})",
                          R"({"type":"subscribed","job_id":"job_a","snapshot":"no"})"})
    CHECK_NOTHROW(s.apply(json::parse(odd)));
  const auto error = s.apply(json::parse(R"({"type":"error","message":"since 5 is older than the oldest retained event 9"})"));
  REQUIRE(error.size() == 1);
  CHECK(error[0].kind == watch_note::error);
}

TEST_CASE("the progress line shows bar, percent, steps, elapsed and ETA, and fits the width", "[cli][watch]") {
  watched_job j{.job_id = "job_a", .tool = "sleep", .status = "running", .percent = 50, .current_step = 2,
                .total_steps = 4, .step_name = "step 2/4"};
  const auto now = std::chrono::system_clock::now();
  j.started_at = now - std::chrono::seconds(2);
  const auto line = progress_line(j, now, 0, palette{});
  CHECK(line == "job_a  sleep  [##########..........]  50%  step 2/4  2.0s elapsed  eta 2.0s  running");
  CHECK(progress_line(j, now, 30, palette{}).size() == 30);
  // Half done when reported 2 s in: 2 s to go from then, 1.5 s from now.
  j.progress_at = now - std::chrono::milliseconds(500);
  j.started_at = now - std::chrono::milliseconds(2500);
  CHECK(progress_line(j, now, 0, palette{}).find("2.5s elapsed  eta 1.5s") != std::string::npos);
  // Resumed at 25 %: 25 % in 2 s, so 50 % more takes 4 s, 3.5 s from now.
  j.attempt_base_percent = 25;
  CHECK(progress_line(j, now, 0, palette{}).find("2.5s elapsed  eta 3.5s") != std::string::npos);
  j.status = "completed";
  j.percent = 100;
  j.completed_at = now;
  CHECK(progress_line(j, now, 0, palette{}) == "job_a  sleep  completed  100%  step 2/4  in 2.5s");
}
