// Files on the real overseerd (docs/api.md, "Files"): a 2 GiB upload with
// flat memory, 413 and cut-off uploads leaving nothing, a job whose exec
// tool reads a file param and leaves output files, downloads with Range,
// deletion while in use, and ownership with a tokens file.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include "http/tenants.hpp"
#include "persistence/file_store.hpp"
#include "raw_connection.hpp"
#include "support/daemon.hpp"
#include "support/eventually.hpp"
#include "support/http_helpers.hpp"
#include "support/temp_dir.hpp"

using namespace std::chrono_literals;
using namespace overseer::test;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

/// VmRSS of `pid`, in KiB.
long rss_kib(int pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.starts_with("VmRSS:")) return std::stol(line.substr(6));
  return -1;
}

std::string sha256_hex(std::string_view bytes) {
  overseer::persistence::files::sha256 h;
  h.update(bytes.data(), bytes.size());
  return h.hex();
}

std::string upload_head(std::string_view name, std::uint64_t length, std::string_view extra = {}) {
  return "POST /v1/files?name=" + std::string{name} + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
         "Content-Type: application/octet-stream\r\nContent-Length: " + std::to_string(length) + "\r\n" +
         std::string{extra} + "\r\n";
}

http_reply upload(http_client& c, std::string_view name, const std::string& bytes,
                  const std::map<std::string, std::string>& headers = {}) {
  return c.request("POST", "/v1/files?name=" + std::string{name}, bytes, "application/octet-stream", headers);
}

/// Entries of DATA/files/tmp (partial uploads).
std::size_t temp_entries(const fs::path& data) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(data / "files" / "tmp")) ++n;
  return n;
}

/// Stored files' bytes in DATA/files (not counting tmp/).
std::size_t stored_entries(const fs::path& data) {
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(data / "files"))
    if (e.path().filename() != "tmp") ++n;
  return n;
}

fs::path write_tools(const fs::path& dir) {
  // Reads its input file param, writes two outputs (one in a subdirectory)
  // and a file that matches no pattern; a symlink that points out of the
  // workdir matches a pattern and must not be stored.
  const std::string script =
    "set -e; tr a-z A-Z < \"$1\" > upper.txt; mkdir -p out; cp \"$1\" out/copy.bin; "
    "echo scratch > notes.log; ln -s /etc/passwd leak.txt; "
    "echo '@overseer {\"result\": {\"lines\": 3}}'";
  json::object tools{
    {"tools",
     {{{"name", "shout"},
       {"command", {"/bin/sh", "-c", script, "sh", "{params.input}"}},
       {"params", {{"input", {{"type", "file"}, {"required", true}}}}},
       {"outputs", {"*.txt", "out/*.bin"}}},
      {{"name", "hold"},
       {"command", {"/bin/sh", "-c", "cat \"$1\" > /dev/null; sleep 60", "sh", "{params.input}"}},
       {"params", {{"input", {{"type", "file"}, {"required", true}}}}},
       {"kill_grace_s", 1}}}}};
  const auto file = dir / "tools.json";
  std::ofstream{file} << json::serialize(tools);
  return file;
}

}  // namespace

TEST_CASE("files: a 2 GiB sparse file streams in with flat memory and the right sha256", "[files][slow]") {
  temp_dir dir;
  const auto data = dir.path() / "data";
  overseerd_process d{data};
  constexpr std::uint64_t size = 2ull << 30;
  const auto source = dir.path() / "zeros.bin";
  {
    const int fd = ::open(source.c_str(), O_CREAT | O_WRONLY, 0600);
    REQUIRE(fd >= 0);
    REQUIRE(::ftruncate(fd, static_cast<off_t>(size)) == 0);  // sparse: no disk, all zeros
    ::close(fd);
  }
  const long before = rss_kib(d.pid());
  REQUIRE(before > 0);

  raw_connection conn{d.port()};
  conn.send(upload_head("zeros.bin", size));
  overseer::persistence::files::sha256 expected;
  std::vector<char> chunk(1 << 20);
  long peak = before;
  const int in = ::open(source.c_str(), O_RDONLY);
  REQUIRE(in >= 0);
  for (std::uint64_t sent = 0; sent < size;) {
    const auto n = ::read(in, chunk.data(), chunk.size());
    if (n <= 0) FAIL("cannot read " << source);
    expected.update(chunk.data(), static_cast<std::size_t>(n));
    conn.send({chunk.data(), static_cast<std::size_t>(n)});
    sent += static_cast<std::uint64_t>(n);
    if (sent % (256u << 20) == 0) peak = std::max(peak, rss_kib(d.pid()));
  }
  ::close(in);
  const auto r = conn.read(120s);
  REQUIRE(r);
  REQUIRE(r->status == 201);
  const long after = rss_kib(d.pid());
  peak = std::max(peak, after);
  const auto f = r->json();
  CHECK(f.at("size").to_number<std::uint64_t>() == size);
  CHECK(str(f, "sha256") == expected.hex());
  CHECK(str(f, "name") == "zeros.bin");
  INFO("VmRSS before " << before << " KiB, peak " << peak << " KiB, after " << after << " KiB");
  CHECK(peak - before < 64 * 1024);
  CHECK(fs::file_size(data / "files" / str(f, "file_id")) == size);

  // A download's HEAD says the size without reading it.
  raw_connection head{d.port()};
  head.send("HEAD /v1/files/" + str(f, "file_id") + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  const auto h = head.read(20s, true);
  REQUIRE(h);
  CHECK(h->status == 200);
  CHECK(h->header("content-length") == std::to_string(size));
  CHECK(h->header("etag") == "\"" + str(f, "sha256") + "\"");
}

TEST_CASE("files: past --max-file-size is 413 and leaves nothing", "[files]") {
  temp_dir dir;
  const auto data = dir.path() / "data";
  overseerd_process d{data, {"--max-file-size", "1K"}};
  {
    // Announced too large: refused on the headers.
    raw_connection conn{d.port()};
    conn.send(upload_head("big.bin", 4096) + std::string(4096, 'x'));
    const auto r = conn.read();
    REQUIRE(r);
    CHECK(r->status == 413);
  }
  {
    // Chunked: found too large while streaming.
    raw_connection conn{d.port()};
    std::string req = "POST /v1/files?name=big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      "Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 4; ++i) req += "200\r\n" + std::string(512, 'y') + "\r\n";
    req += "0\r\n\r\n";
    conn.send(req);
    const auto r = conn.read();
    REQUIRE(r);
    CHECK(r->status == 413);
    CHECK(r->json().at("detail").as_string().find("1024") != json::string::npos);
  }
  {
    // Past the body limit too (1 MiB): still the file limit's answer.
    raw_connection conn{d.port()};
    conn.send(upload_head("huge.bin", 5ull << 30));
    const auto r = conn.read();
    REQUIRE(r);
    CHECK(r->status == 413);
    CHECK(r->json().at("detail").as_string() == "the file is larger than the limit of 1024 bytes");
  }
  http_client c{d.port()};
  CHECK(upload(c, "small.bin", std::string(1024, 'z')).status == 201);  // at the limit: fine
  CHECK(eventually([&] { return temp_entries(data) == 0; }));
  CHECK(stored_entries(data) == 1);
  CHECK(c.get("/v1/files").json().at("files").as_array().size() == 1);
}

TEST_CASE("files: a refused upload with a chunked body past the body limit gets its own answer, not the file limit's",
          "[files]") {
  temp_dir dir;
  const auto data = dir.path() / "data";
  overseerd_process d{data, {"--token", "s3cret"}};
  // 2 MiB, past the 1 MiB body limit that bounds a refused upload's body.
  std::string chunks;
  for (int i = 0; i < 32; ++i) chunks += "10000\r\n" + std::string(0x10000, 'y') + "\r\n";
  chunks += "0\r\n\r\n";
  const auto answer = [&](const std::string& head) {
    raw_connection conn{d.port()};
    // The daemon reads the first 1 MiB, answers, then reads and drops the
    // rest for 2 s before it closes: all of it is sent well before.
    conn.send(head + chunks);
    return conn.read();
  };
  auto r = answer("POST /v1/files?name=a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer s3cret\r\n"
                  "Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n");
  REQUIRE(r);
  CHECK(r->status == 415);
  r = answer("POST /v1/files?name=a.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n"
             "Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n");
  REQUIRE(r);
  CHECK(r->status == 401);
  CHECK(temp_entries(data) == 0);
  CHECK(stored_entries(data) == 0);
}

TEST_CASE("files: a client that disconnects mid-upload leaves nothing, and a restart clears stale temp files",
          "[files]") {
  temp_dir dir;
  const auto data = dir.path() / "data";
  {
    overseerd_process d{data};
    {
      raw_connection conn{d.port()};
      conn.send(upload_head("cut.bin", 10 << 20) + std::string(1 << 20, 'c'));
      // The part sent is on disk: wait until the daemon has it, then go.
      REQUIRE(eventually([&] { return temp_entries(data) == 1; }));
    }
    CHECK(eventually([&] { return temp_entries(data) == 0; }));
    http_client c{d.port()};
    CHECK(c.get("/v1/files").json().at("files").as_array().empty());
    CHECK(stored_entries(data) == 0);
    d.stop();
  }
  // A temp file left by a crash is removed at the next start.
  std::ofstream{data / "files" / "tmp" / "upload-stale"} << "partial";
  overseerd_process again{data};
  CHECK(temp_entries(data) == 0);
}

TEST_CASE("files: an exec tool reads a file param and its outputs download byte-exact, also by Range",
          "[files][tools]") {
  temp_dir dir;
  const auto data = dir.path() / "data";
  overseerd_process d{data, {"--tools", write_tools(dir.path()).string()}};
  http_client c{d.port()};

  // The tool document names its outputs and the file param.
  const auto tool = c.get("/v1/tools").json();
  for (const auto& t : tool.at("tools").as_array())
    if (str(t, "name") == "shout") {
      CHECK(json::serialize(t.at("outputs")) == R"(["*.txt","out/*.bin"])");
      CHECK(str(t.at("params").at("input"), "type") == "file");
    }

  const std::string text = "alpha\nbeta\ngamma\n";
  auto up = upload(c, "in%20put.txt", text);
  REQUIRE(up.status == 201);
  const auto input = str(up.json(), "file_id");
  CHECK(str(up.json(), "sha256") == sha256_hex(text));
  CHECK(str(up.json(), "name") == "in put.txt");
  struct stat st {};
  REQUIRE(::stat((data / "files" / input).c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0444);

  // An unknown or malformed file id is named in the one problem document.
  auto bad = c.post("/v1/jobs", json::object{{"tool", "shout"},
                                             {"params", {{"input", "file_01ARZ3NDEKTSV4RRFFQ69G5FAV"}}},
                                             {"priority", 42}});
  REQUIRE(bad.status == 400);
  const auto fields = json::serialize(bad.json().at("errors"));
  CHECK(fields.find("params.input") != std::string::npos);
  CHECK(fields.find("no file file_01ARZ3NDEKTSV4RRFFQ69G5FAV") != std::string::npos);
  CHECK(fields.find("priority") != std::string::npos);
  bad = c.post("/v1/jobs", json::object{{"tool", "shout"}, {"params", {{"input", "/etc/passwd"}}}});
  CHECK(bad.status == 400);

  const auto job = submit(c, json::object{{"tool", "shout"}, {"params", {{"input", input}}}});
  const auto view = await_status(c, job);
  REQUIRE(str(view, "status") == "completed");
  const auto result = c.get("/v1/jobs/" + job + "/result").json().at("result");
  CHECK(result.at("lines").as_int64() == 3);
  const auto& outputs = result.at("files").as_array();
  REQUIRE(outputs.size() == 2);  // upper.txt and out/copy.bin; not notes.log, not the leak.txt link
  std::map<std::string, json::object> by_name;
  for (const auto& o : outputs) by_name[str(o, "name")] = o.as_object();
  REQUIRE(by_name.count("upper.txt") == 1);
  REQUIRE(by_name.count("out/copy.bin") == 1);

  const std::string upper = "ALPHA\nBETA\nGAMMA\n";
  const auto out_id = str(by_name["upper.txt"], "file_id");
  CHECK(by_name["upper.txt"].at("size").to_number<std::uint64_t>() == upper.size());
  CHECK(str(by_name["upper.txt"], "sha256") == sha256_hex(upper));
  auto whole = c.get("/v1/files/" + out_id);
  REQUIRE(whole.status == 200);
  CHECK(whole.body == upper);
  CHECK(whole.headers["Content-Type"] == "application/octet-stream");
  CHECK(whole.headers["Accept-Ranges"] == "bytes");
  CHECK(whole.headers["ETag"] == "\"" + sha256_hex(upper) + "\"");
  CHECK(whole.headers["Content-Disposition"] == "attachment; filename=\"upper.txt\"; filename*=UTF-8''upper.txt");
  CHECK(c.get("/v1/files/" + str(by_name["out/copy.bin"], "file_id")).body == text);

  // Three ranges, one of each form, reassembled.
  std::string pieces;
  for (const auto& [range, expect] : std::vector<std::pair<std::string, std::string>>{
         {"bytes=0-4", "bytes 0-4/17"}, {"bytes=5-10", "bytes 5-10/17"}, {"bytes=-6", "bytes 11-16/17"}}) {
    auto part = c.request("GET", "/v1/files/" + out_id, {}, "application/json", {{"Range", range}});
    REQUIRE(part.status == 206);
    CHECK(part.headers["Content-Range"] == expect);
    pieces += part.body;
  }
  CHECK(pieces == upper);
  auto past = c.request("GET", "/v1/files/" + out_id, {}, "application/json", {{"Range", "bytes=17-"}});
  CHECK(past.status == 416);
  CHECK(past.headers["Content-Range"] == "bytes */17");
  auto open_end = c.request("GET", "/v1/files/" + out_id, {}, "application/json", {{"Range", "bytes=12-1000"}});
  CHECK(open_end.status == 206);
  CHECK(open_end.body == "AMMA\n");
  auto several = c.request("GET", "/v1/files/" + out_id, {}, "application/json", {{"Range", "bytes=0-1,3-4"}});
  CHECK(several.status == 200);
  CHECK(several.body == upper);

  // The outputs belong to the job: listed with it, newest first.
  const auto listed = c.get("/v1/files?limit=2").json();
  CHECK(listed.at("files").as_array().size() == 2);
  CHECK(listed.at("has_next").as_bool());
  const auto rest = c.get("/v1/files?cursor=" + str(listed, "next_cursor")).json();
  CHECK(rest.at("files").as_array().size() == 1);
  CHECK(str(rest.at("files").at(0), "file_id") == input);
  CHECK(str(listed.at("files").at(0), "job_id") == job);
}

TEST_CASE("files: a file a running job uses cannot be deleted, once it is over it can", "[files][tools]") {
  temp_dir dir;
  const auto data = dir.path() / "data";
  overseerd_process d{data, {"--tools", write_tools(dir.path()).string()}};
  http_client c{d.port()};
  const auto input = str(upload(c, "held.txt", "keep me").json(), "file_id");
  const auto job = submit(c, json::object{{"tool", "hold"}, {"params", {{"input", input}}}});
  REQUIRE(str(await_status(c, job, "running"), "status") == "running");
  auto refused = c.del("/v1/files/" + input);
  CHECK(refused.status == 409);
  CHECK(str(refused.json(), "detail").find(job) != std::string::npos);
  CHECK(c.get("/v1/files/" + input).body == "keep me");
  REQUIRE(c.del("/v1/jobs/" + job).status == 200);
  REQUIRE(str(await_status(c, job), "status") == "cancelled");
  auto gone = c.del("/v1/files/" + input);
  CHECK(gone.status == 200);
  CHECK(c.get("/v1/files/" + input).status == 404);
  CHECK(c.del("/v1/files/" + input).status == 404);
  CHECK(stored_entries(data) == 0);
  // A job cannot be submitted with a deleted file, nor retried: it would
  // fail every attempt.
  CHECK(c.post("/v1/jobs", json::object{{"tool", "hold"}, {"params", {{"input", input}}}}).status == 400);
  auto retry = c.post("/v1/jobs/" + job + "/retry", json::object{});
  CHECK(retry.status == 409);
  CHECK(str(retry.json(), "detail").find("file " + input + ", which its params name, has been deleted") !=
        std::string::npos);
  CHECK(str(c.get("/v1/jobs/" + job).json(), "status") == "cancelled");
  // With its file there, a retry runs, and the file is held again.
  const auto again = str(upload(c, "held2.txt", "keep me too").json(), "file_id");
  const auto second = submit(c, json::object{{"tool", "hold"}, {"params", {{"input", again}}}});
  REQUIRE(str(await_status(c, second, "running"), "status") == "running");
  REQUIRE(c.del("/v1/jobs/" + second).status == 200);
  REQUIRE(str(await_status(c, second), "status") == "cancelled");
  CHECK(c.post("/v1/jobs/" + second + "/retry", json::object{}).status == 202);
  CHECK(c.del("/v1/files/" + again).status == 409);
  CHECK(c.del("/v1/jobs/" + second).status == 200);
}

TEST_CASE("files: with --tokens a user sees and uses only its own files, a reader downloads and lists",
          "[files][tenants]") {
  temp_dir dir;
  auto hex = [](const std::string& token) {
    return sha256_hex(token);
  };
  json::array people{
    json::object{{"name", "alice"}, {"role", "user"}, {"token_sha256", hex("tok-alice")}},
    json::object{{"name", "bob"}, {"role", "user"}, {"token_sha256", hex("tok-bob")}},
    json::object{{"name", "audit"}, {"role", "reader"}, {"token_sha256", hex("tok-audit")}},
    json::object{{"name", "root"}, {"role", "admin"}, {"token_sha256", hex("tok-root")}}};
  std::ofstream{dir.path() / "tokens.json"} << json::serialize(json::object{{"principals", people}});
  overseerd_process d{dir.path() / "data",
                      {"--tokens", (dir.path() / "tokens.json").string(), "--tools", write_tools(dir.path()).string()}};
  http_client c{d.port()};
  auto as = [](const std::string& token) { return std::map<std::string, std::string>{{"Authorization", "Bearer " + token}}; };
  auto call = [&](const std::string& token, const std::string& method, const std::string& target,
                  const std::string& body = {}, const std::string& type = "application/json") {
    return c.request(method, target, body, type, as(token));
  };

  CHECK(upload(c, "x", "no token").status == 401);
  CHECK(upload(c, "x", "reader", as("tok-audit")).status == 403);
  auto up = upload(c, "alice.txt", "alice's bytes", as("tok-alice"));
  REQUIRE(up.status == 201);
  const auto id = str(up.json(), "file_id");
  CHECK(str(up.json(), "owner") == "alice");

  CHECK(call("tok-alice", "GET", "/v1/files/" + id).body == "alice's bytes");
  CHECK(call("tok-bob", "GET", "/v1/files/" + id).status == 404);  // not 403: ids do not leak
  CHECK(call("tok-bob", "DELETE", "/v1/files/" + id).status == 404);
  CHECK(call("tok-bob", "GET", "/v1/files").json().at("files").as_array().empty());
  CHECK(call("tok-audit", "GET", "/v1/files/" + id).body == "alice's bytes");
  CHECK(call("tok-audit", "GET", "/v1/files").json().at("files").as_array().size() == 1);
  CHECK(call("tok-audit", "DELETE", "/v1/files/" + id).status == 403);
  CHECK(call("tok-root", "GET", "/v1/files").json().at("files").as_array().size() == 1);

  // bob cannot use alice's file: the same "no file" as an unknown id.
  const auto spec = json::serialize(json::object{{"tool", "shout"}, {"params", {{"input", id}}}});
  auto refused = call("tok-bob", "POST", "/v1/jobs", spec);
  REQUIRE(refused.status == 400);
  CHECK(json::serialize(refused.json().at("errors")).find("params.input") != std::string::npos);
  auto ok = call("tok-alice", "POST", "/v1/jobs", spec);
  REQUIRE(ok.status == 202);
  const auto job = str(ok.json(), "job_id");
  json::object view;
  REQUIRE(eventually([&] {
    view = call("tok-alice", "GET", "/v1/jobs/" + job).json().as_object();
    return str(view, "status") == "completed" || str(view, "status") == "failed";
  }, 30s));
  REQUIRE(str(view, "status") == "completed");
  // Its outputs are alice's too.
  const auto out = str(view.at("result").at("files").at(0), "file_id");
  CHECK(call("tok-alice", "GET", "/v1/files/" + out).status == 200);
  CHECK(call("tok-bob", "GET", "/v1/files/" + out).status == 404);
  CHECK(call("tok-alice", "DELETE", "/v1/files/" + id).status == 200);
}
