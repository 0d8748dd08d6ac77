// The WebSocket stream of the real overseerd.
#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include <catch2/catch.hpp>

#include "support/daemon.hpp"
#include "support/http_helpers.hpp"
#include "support/temp_dir.hpp"
#include "support/tools_file.hpp"

using namespace overseer::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

std::uint64_t seq_of(const json::object& m) { return m.at("seq").to_number<std::uint64_t>(); }

bool is(const json::object& m, const char* type) { return m.at("type").as_string() == type; }

bool transition_to(const json::object& m, const std::string& id, const char* to) {
  return is(m, "transition") && m.at("job_id").as_string() == id && m.at("to").as_string() == to;
}

}  // namespace

TEST_CASE("a client watches a sleep job from snapshot to completed", "[stream]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  http_client c{d.port()};
  auto id = submit(c, json::parse(R"({"tool":"sleep","params":{"seconds":1,"steps":4}})"));
  ws_client ws{d.port()};
  ws.send(json::object{{"op", "subscribe"}, {"job_id", id}});
  auto ack = ws.until([](auto& m) { return is(m, "subscribed"); });
  REQUIRE(ack);
  CHECK(str(*ack, "job_id") == id);
  CHECK(str(ack->at("snapshot"), "job_id") == id);
  const auto snapshot_seq = seq_of(ack->as_object());

  std::vector<json::object> seen;
  auto done = ws.until([&](auto& m) {
    seen.push_back(m);
    return transition_to(m, id, "completed");
  });
  REQUIRE(done);
  std::uint64_t last = snapshot_seq;
  int progress = 0;
  for (auto& m : seen) {
    CHECK(seq_of(m) > last);  // strictly increasing, after the snapshot
    last = seq_of(m);
    if (is(m, "progress")) ++progress;
  }
  CHECK(progress >= 1);
  CHECK(str(c.get("/v1/jobs/" + id).json(), "status") == "completed");
}

TEST_CASE("query subscriptions and malformed messages on an open connection", "[stream]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  http_client c{d.port()};
  ws_client ws{d.port(), "/v1/stream?all=1"};
  REQUIRE(ws.until([](auto& m) { return is(m, "subscribed") && m.at("all").as_bool(); }));
  for (auto bad : {json::value("not an object"), json::parse(R"({"op":"dance"})"),
                   json::parse(R"({"op":"subscribe"})"), json::parse(R"({"op":"subscribe","job_id":"job_x"})"),
                   json::parse(R"({"op":"subscribe","all":true,"since":-3})")}) {
    ws.send(bad);
    auto err = ws.until([](auto& m) { return is(m, "error"); });
    REQUIRE(err);
    CHECK_FALSE(str(*err, "message").empty());
  }
  // Still open, still subscribed to everything.
  auto id = submit(c, json::parse(R"({"tool":"noop"})"));
  CHECK(ws.until([&](auto& m) { return transition_to(m, id, "completed"); }));
  ws.send(json::parse(R"({"op":"unsubscribe","all":true})"));
  CHECK(ws.until([](auto& m) { return is(m, "unsubscribed"); }));
}

TEST_CASE("a subscription naming a job and a batch is to the job, by message and by URL", "[stream]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  http_client c{d.port()};
  const auto held = submit(c, json::parse(R"({"tool":"sleep","params":{"seconds":30}})"));
  const auto other = submit(c, json::parse(R"({"tool":"sleep","params":{"seconds":30}})"));
  auto batch = c.post("/v1/batches", json::parse(R"({"jobs":[{"tool":"noop"}]})"));
  REQUIRE(batch.status == 202);
  const std::string batch_id{batch.json().at("batch_id").as_string()};
  {
    ws_client ws{d.port()};
    ws.send(json::object{{"op", "subscribe"}, {"job_id", held}, {"batch_id", other}});
    auto ack = ws.until([](auto& m) { return is(m, "subscribed") || is(m, "error"); });
    REQUIRE(ack);
    const auto& m = ack->as_object();
    CHECK(is(m, "subscribed"));
    CHECK(str(m, "job_id") == held);
    CHECK(str(m.at("snapshot").as_object(), "job_id") == held);
  }
  ws_client ws{d.port(), "/v1/stream?job=" + held + "&batch=" + batch_id};
  auto ack = ws.until([](auto& m) { return is(m, "subscribed") || is(m, "error"); });
  REQUIRE(ack);
  CHECK(is(ack->as_object(), "subscribed"));
  CHECK(str(ack->as_object(), "job_id") == held);
  c.post("/v1/jobs/" + held + "/cancel", json::object{});
  c.post("/v1/jobs/" + other + "/cancel", json::object{});
}

TEST_CASE("a reconnect with since sees every missed event exactly once", "[stream]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  http_client c{d.port()};
  std::uint64_t resume_from = 0;
  {
    ws_client ws{d.port(), "/v1/stream?all=1"};
    auto ack = ws.until([](auto& m) { return is(m, "subscribed"); });
    REQUIRE(ack);
    resume_from = seq_of(ack->as_object());
  }
  // While nobody listens: jobs run and finish.
  std::vector<std::string> ids;
  for (int i = 0; i < 10; ++i) ids.push_back(submit(c, json::parse(R"({"tool":"noop"})")));
  for (auto& id : ids) await_status(c, id);

  ws_client ws{d.port(), "/v1/stream?all=1&since=" + std::to_string(resume_from)};
  REQUIRE(ws.until([](auto& m) { return is(m, "subscribed"); }));
  // And one more job live, after the replay.
  auto live = submit(c, json::parse(R"({"tool":"noop"})"));
  std::map<std::string, std::vector<std::string>> by_job;
  std::set<std::uint64_t> seqs;
  std::uint64_t last = resume_from;
  REQUIRE(ws.until([&](auto& m) {
    if (is(m, "transition")) {
      const auto seq = seq_of(m);
      CHECK(seq > last);
      last = seq;
      CHECK(seqs.insert(seq).second);  // never twice
      by_job[str(m, "job_id")].push_back(str(m, "to"));
    }
    return transition_to(m, live, "completed");
  }));
  ids.push_back(live);
  for (auto& id : ids) {
    INFO(id);
    CHECK(by_job[id] == std::vector<std::string>{"pending", "running", "completed"});
  }
}

TEST_CASE("a slow reader is closed with the seq to resume from, and resumes without a gap", "[stream]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data", {"--stream-queue-limit", "64"}};
  http_client c{d.port()};
  std::string reason;
  std::vector<std::string> ids;
  std::set<std::string> completed;  // across both connections
  auto collect = [&](const json::object& m) {
    if (is(m, "transition") && m.at("to").as_string() == "completed") completed.insert(str(m, "job_id"));
  };
  {
    // A small receive buffer, so the server feels a client that does not read.
    ws_client slow{d.port(), "/v1/stream?all=1", 4096};
    REQUIRE(slow.until([](auto& m) { return is(m, "subscribed"); }));
    // Transitions are never dropped, so 1000 jobs (3000 transitions, more
    // than the socket buffers hold) overflow a 64-message queue.
    for (int i = 0; i < 1000; ++i) ids.push_back(submit(c, json::parse(R"({"tool":"noop"})")));
    for (auto& id : ids) await_status(c, id);
    // Now read: what was written arrives, then the close with its reason.
    while (auto m = slow.next(5s)) collect(m->as_object());
    REQUIRE(slow.closed());
    reason = slow.close_reason();
  }
  INFO(reason);
  const std::string marker = "resume with since=";
  const auto at = reason.find(marker);
  REQUIRE(at != std::string::npos);
  const auto resume = std::stoull(reason.substr(at + marker.size()));
  CHECK(completed.size() < ids.size());  // it really was cut off

  ws_client again{d.port(), "/v1/stream?all=1&since=" + std::to_string(resume)};
  REQUIRE(again.until([&](auto& m) {
    collect(m);
    return completed.size() == ids.size();
  }));
  CHECK(c.get("/v1/health").status == 200);
}

namespace {

/// The seqs of job `id`'s messages from `ws` until the job completes;
/// every message with a seq goes to `seen`.
std::set<std::uint64_t> seqs_until_completed(ws_client& ws, const std::string& id, std::vector<json::object>& seen) {
  std::set<std::uint64_t> seqs;
  auto done = ws.until([&](auto& m) {
    if (m.contains("seq") && m.contains("job_id")) {
      seen.push_back(m);
      if (m.at("job_id").as_string() == id) seqs.insert(seq_of(m));
    }
    return transition_to(m, id, "completed");
  });
  REQUIRE(done);
  return seqs;
}

}  // namespace

TEST_CASE("each subscription gets what it asked for while a job logs, and live misses nothing a replay finds",
          "[stream]") {
  temp_dir dir;
  const auto tools =
      script_tool_file(dir.path(), "chatty", "for i in $(seq 1 300); do echo \"line $i\"; sleep 0.005; done\n");
  overseerd_process d{dir.path() / "data", {"--tools", tools.string()}};
  http_client c{d.port()};

  ws_client plain{d.port(), "/v1/stream?all=1"};  // transitions and progress, no log lines
  REQUIRE(plain.until([](auto& m) { return is(m, "subscribed"); }));
  ws_client silent{d.port()};  // no subscription: nothing
  const auto other = submit(c, json::parse(R"({"tool":"noop"})"));
  await_status(c, other);
  const auto chatty = submit(c, json::parse(R"({"tool":"chatty"})"));
  // Subscribed while the job writes a line every 5 ms.
  REQUIRE(plain.until([&](auto& m) { return transition_to(m, chatty, "running"); }));
  ws_client all_logs{d.port(), "/v1/stream?all=1&logs=1"};
  auto all_ack = all_logs.until([](auto& m) { return is(m, "subscribed"); });
  ws_client job_logs{d.port()};
  job_logs.send(json::object{{"op", "subscribe"}, {"job_id", chatty}, {"logs", true}});
  auto job_ack = job_logs.until([](auto& m) { return is(m, "subscribed"); });
  ws_client other_job{d.port()};  // another job's subscriber, logs included
  other_job.send(json::object{{"op", "subscribe"}, {"job_id", other}, {"logs", true}});
  REQUIRE(other_job.until([](auto& m) { return is(m, "subscribed"); }));
  REQUIRE(all_ack);
  REQUIRE(job_ack);

  std::vector<json::object> seen_plain, seen_all, seen_job;
  seqs_until_completed(plain, chatty, seen_plain);
  const auto live_all = seqs_until_completed(all_logs, chatty, seen_all);
  const auto live_job = seqs_until_completed(job_logs, chatty, seen_job);
  for (const auto& m : seen_plain) CHECK_FALSE(is(m, "log"));
  auto logs_in = [](const std::vector<json::object>& v) {
    return std::count_if(v.begin(), v.end(), [](auto& m) { return is(m, "log"); });
  };
  CHECK(logs_in(seen_all) > 0);  // subscribed mid-run: some lines, maybe not all 300
  CHECK(logs_in(seen_job) > 0);
  for (const auto& m : seen_job) CHECK(m.at("job_id").as_string() == chatty);

  // What a replay from each acknowledgement's seq finds for the job is
  // exactly what the live subscription received.
  ws_client replay_all{d.port(), "/v1/stream?all=1&logs=1&since=" + std::to_string(seq_of(all_ack->as_object()))};
  std::vector<json::object> ignored;
  CHECK(seqs_until_completed(replay_all, chatty, ignored) == live_all);
  ws_client replay_job{d.port()};
  replay_job.send(json::object{
      {"op", "subscribe"}, {"job_id", chatty}, {"logs", true}, {"since", seq_of(job_ack->as_object())}});
  CHECK(seqs_until_completed(replay_job, chatty, ignored) == live_job);

  // The other job's subscriber and the one without a subscription got
  // nothing of the chatty job.
  CHECK_FALSE(other_job.next(300ms));
  CHECK_FALSE(silent.next(10ms));
}

TEST_CASE("a replay ends with one caught_up after its last replayed event, and a live subscription gets none",
          "[stream]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data"};
  http_client c{d.port()};
  // More events than one replay chunk (512): 200 jobs, three transitions each.
  std::vector<std::string> ids;
  for (int i = 0; i < 200; ++i) ids.push_back(submit(c, json::parse(R"({"tool":"noop"})")));
  for (auto& id : ids) await_status(c, id);

  SECTION("all, from the start") {
    ws_client ws{d.port(), "/v1/stream?all=1&since=0"};
    REQUIRE(ws.until([](auto& m) { return is(m, "subscribed"); }));
    std::uint64_t last = 0;
    std::size_t transitions = 0;
    auto caught_up = ws.until([&](auto& m) {
      if (is(m, "transition")) {
        CHECK(seq_of(m) > last);
        last = seq_of(m);
        ++transitions;
      }
      return is(m, "caught_up");
    });
    REQUIRE(caught_up);
    CHECK(transitions == 3 * ids.size());  // every replayed event came before it
    CHECK(caught_up->at("all").as_bool());
    CHECK(seq_of(caught_up->as_object()) >= last);
    // Then live: a new job's events, and no second caught_up.
    auto live = submit(c, json::parse(R"({"tool":"noop"})"));
    REQUIRE(ws.until([&](auto& m) {
      CHECK_FALSE(is(m, "caught_up"));
      if (is(m, "transition")) CHECK(seq_of(m) > seq_of(caught_up->as_object()));
      return transition_to(m, live, "completed");
    }));
  }

  SECTION("one finished job, with its log lines") {
    const auto& id = ids.back();
    ws_client ws{d.port()};
    ws.send(json::object{{"op", "subscribe"}, {"job_id", id}, {"since", 0}, {"logs", true}});
    auto ack = ws.until([](auto& m) { return is(m, "subscribed"); });
    REQUIRE(ack);
    CHECK(str(ack->at("snapshot"), "status") == "completed");
    std::vector<std::string> kinds;
    std::uint64_t last = 0;
    auto caught_up = ws.until([&](auto& m) {
      if (!is(m, "caught_up")) {
        kinds.emplace_back(m.at("type").as_string());
        CHECK(str(m, "job_id") == id);
        last = seq_of(m);
      }
      return is(m, "caught_up");
    });
    REQUIRE(caught_up);
    CHECK(str(*caught_up, "job_id") == id);
    CHECK(seq_of(caught_up->as_object()) >= last);
    CHECK(seq_of(caught_up->as_object()) >= seq_of(ack->as_object()));  // everything the snapshot reflects
    CHECK(std::count(kinds.begin(), kinds.end(), "transition") == 3);
    CHECK(std::count(kinds.begin(), kinds.end(), "log") >= 1);
  }

  SECTION("without since there is no replay, so no caught_up") {
    ws_client ws{d.port(), "/v1/stream?all=1"};
    REQUIRE(ws.until([](auto& m) { return is(m, "subscribed"); }));
    auto live = submit(c, json::parse(R"({"tool":"noop"})"));
    REQUIRE(ws.until([&](auto& m) {
      CHECK_FALSE(is(m, "caught_up"));
      return transition_to(m, live, "completed");
    }));
  }
}
