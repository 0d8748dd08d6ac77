// A full disk under the real overseerd: it fail-stops (503 with Retry-After,
// health unhealthy, exit 3 by itself), refuses to start while the disk is
// still full, never aborts even when RocksDB meets the full disk itself, and
// after the disk has room again every job that got a 202 is there and
// finishes. The data directory is a small tmpfs the test mounts (root only).
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "actors/job_lifecycle.hpp"
#include "integration/raw_connection.hpp"
#include "support/daemon.hpp"
#include "support/eventually.hpp"
#include "support/http_helpers.hpp"
#include "support/temp_dir.hpp"

extern char** environ;

using namespace overseer::test;
using namespace std::chrono_literals;
using Catch::Contains;
namespace json = boost::json;

namespace {

/// A tmpfs mounted on `dir` for the object's lifetime.
class tmpfs {
public:
  tmpfs(std::filesystem::path dir, const std::string& size) : dir_(std::move(dir)) {
    std::filesystem::create_directories(dir_);
    mounted_ = ::mount("tmpfs", dir_.c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0;
    if (!mounted_) errno_ = errno;
  }
  ~tmpfs() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  tmpfs(const tmpfs&) = delete;
  tmpfs& operator=(const tmpfs&) = delete;

  [[nodiscard]] bool mounted() const noexcept { return mounted_; }
  [[nodiscard]] int error() const noexcept { return errno_; }
  bool resize(const std::string& size) {
    return ::mount("tmpfs", dir_.c_str(), "tmpfs", MS_REMOUNT, ("size=" + size).c_str()) == 0;
  }
  [[nodiscard]] std::uint64_t free_bytes() const {
    struct statvfs fs {};
    ::statvfs(dir_.c_str(), &fs);
    return static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
  }

private:
  std::filesystem::path dir_;
  bool mounted_ = false;
  int errno_ = 0;
};

/// overseerd with stdout and stderr captured, for phases that need its
/// messages and the exit status it chooses itself.
class logged_daemon {
public:
  explicit logged_daemon(std::vector<std::string> args) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    args.insert(args.begin(), OVERSEERD_PATH);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
    const int rc = ::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    if (rc != 0) {
      ::close(fds[0]);
      throw std::runtime_error("cannot start overseerd");
    }
    reader_ = std::thread([this, fd = fds[0]] {
      char buf[4096];
      for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR);) {
        std::lock_guard lock{mutex_};
        if (n > 0) output_.append(buf, static_cast<std::size_t>(n));
        cv_.notify_all();
      }
      ::close(fd);
      std::lock_guard lock{mutex_};
      eof_ = true;
      cv_.notify_all();
    });
  }
  ~logged_daemon() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    reader_.join();
  }
  logged_daemon(const logged_daemon&) = delete;
  logged_daemon& operator=(const logged_daemon&) = delete;

  /// The port once it listens; nullopt if its output ends first.
  std::optional<unsigned short> port(std::chrono::milliseconds limit) {
    const std::string prefix = "overseerd listening on http://127.0.0.1:";
    std::unique_lock lock{mutex_};
    cv_.wait_for(lock, limit, [&] {
      auto at = output_.find(prefix);
      return eof_ || (at != std::string::npos && output_.find('\n', at) != std::string::npos);
    });
    const auto at = output_.find(prefix);
    if (at == std::string::npos || output_.find('\n', at) == std::string::npos) return std::nullopt;
    return static_cast<unsigned short>(std::stoi(output_.substr(at + prefix.size())));
  }
  /// Its exit status, or -signal, once it has ended by itself; its output
  /// is then complete.
  std::optional<int> wait_exit(std::chrono::milliseconds limit) {
    int status = 0;
    if (!eventually([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, limit)) return std::nullopt;
    pid_ = -1;
    std::unique_lock lock{mutex_};
    cv_.wait_for(lock, limit, [&] { return eof_; });
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }
  void terminate() { ::kill(pid_, SIGTERM); }
  void kill9() { ::kill(pid_, SIGKILL); }
  [[nodiscard]] std::string output() const {
    std::lock_guard lock{mutex_};
    return output_;
  }

private:
  pid_t pid_ = -1;
  std::thread reader_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::string output_;
  bool eof_ = false;
};

/// Whether a daemon's output tells of an abort or a sanitizer report.
/// Whether the tmpfs is there to test on: without root the test is
/// skipped with a warning; any other failure to mount fails it.
bool usable(const tmpfs& disk) {
  if (disk.mounted()) return true;
  if (disk.error() == EPERM) {
    WARN("skipped: mounting a tmpfs needs root (" << std::strerror(disk.error()) << ")");
    return false;
  }
  FAIL("cannot mount a tmpfs: " << std::strerror(disk.error()));
  return false;
}

bool crashed(const std::string& output) {
  for (const char* sign : {"Assertion", "Sanitizer", "runtime error", "terminate called"})
    if (output.find(sign) != std::string::npos) return true;
  return false;
}

/// A job with a large record, so the disk fills after some hundreds; every
/// 50th sleeps, so some are running when the store fails.
json::value big_job(int i) {
  json::object labels;
  for (int k = 0; k < 8; ++k) labels["k" + std::to_string(k)] = std::string(250, static_cast<char>('a' + k));
  if (i % 50 == 0)
    return json::object{{"tool", "sleep"}, {"params", {{"seconds", 0.5}, {"steps", 2}}}, {"labels", labels}};
  return json::object{{"tool", "noop"}, {"name", std::string(200, 'n')}, {"labels", labels}};
}

/// What the submitters saw.
struct submissions {
  std::mutex mutex;
  std::vector<std::string> accepted;          ///< 202s
  std::vector<http_reply> refused;            ///< 503s
  std::vector<std::string> unexpected;        ///< any other answer
};

/// Submits big jobs until the first answer that is not a 202, or until the
/// connection breaks (the daemon is gone).
void submit_until_refused(unsigned short port, submissions& out) {
  try {
    http_client c{port};
    for (int i = 0;; ++i) {
      auto r = c.post("/v1/jobs", big_job(i));
      std::lock_guard lock{out.mutex};
      if (r.status == 202) {
        out.accepted.push_back(str(r.json(), "job_id"));
        continue;
      }
      if (r.status == 503) out.refused.push_back(r);
      else out.unexpected.push_back(std::to_string(r.status) + " " + r.body);
      return;
    }
  } catch (const std::exception&) {
    // The daemon went away: this request got no 202.
  }
}

}  // namespace

TEST_CASE("a full disk fail-stops overseerd, a restart waits for room, and no accepted job is lost",
          "[recovery][disk]") {
  temp_dir dir;
  tmpfs disk{dir.path() / "disk", "16m"};
  if (!usable(disk)) return;
  const auto data = dir.path() / "disk" / "data";
  auto args = [&](const std::string& reserve) {
    return std::vector<std::string>{"--data-dir",       data.string(), "--listen", "127.0.0.1:0",
                                    "--max-concurrent", "2",           "--min-free-space", reserve};
  };
  submissions subs;

  // 1. Submit until the free space falls below the 4 MiB reserve.
  {
    logged_daemon d{args("4M")};
    const auto port = d.port(60s);
    REQUIRE(port);
    // A stream open through the fail-stop, on one quiet job (it must not
    // fall behind meanwhile): it ends with a close frame saying where to
    // resume, not with the connection.
    http_client first{*port};
    const auto watched = str(first.post("/v1/jobs", json::object{{"tool", "noop"}}).json(), "job_id");
    raw_stream ws{*port, "/v1/stream?job=" + watched};
    REQUIRE(str(ws.read(), "type") == "subscribed");
    std::vector<std::thread> submitters;
    for (int t = 0; t < 3; ++t) submitters.emplace_back(submit_until_refused, *port, std::ref(subs));
    // Health, until it answers 503 or the daemon is gone.
    http_reply health;
    std::optional<http_client> probe;
    eventually(
      [&] {
        try {
          if (!probe) probe.emplace(*port);
          health = probe->get("/v1/health");
          return health.status == 503;
        } catch (const std::exception&) {
          return true;  // gone
        }
      },
      120s);
    for (auto& t : submitters) t.join();
    const auto status = d.wait_exit(60s);
    INFO(d.output());
    REQUIRE(status);
    CHECK(*status == 3);  // by itself, not by a signal
    CHECK_THAT(d.output(), Contains("overseerd: the store failed") && Contains("below the reserve of"));
    CHECK_FALSE(crashed(d.output()));
    REQUIRE(health.status == 503);
    CHECK(str(health.json(), "status") == "unhealthy");
    CHECK_THAT(std::string{health.json().at("components").at("store").at("detail").as_string()},
               Contains("free space on the file system of"));
    std::lock_guard lock{subs.mutex};
    CHECK(subs.unexpected.empty());
    REQUIRE_FALSE(subs.refused.empty());
    for (const auto& r : subs.refused) {
      CHECK(r.content_type == "application/problem+json");
      CHECK(r.headers.contains("Retry-After"));
    }
    CHECK(subs.accepted.size() > 100);
    boost::beast::error_code ec;
    while (!ec) (void)ws.read(ec);
    CHECK(ws.reason().code == boost::beast::websocket::close_code::internal_error);
    CHECK_THAT(std::string{ws.reason().reason.c_str()}, Contains("the store failed") && Contains("resume with since="));
  }

  // 2. While the disk is still full, a restart refuses before it listens.
  {
    const auto filler = dir.path() / "disk" / "filler";
    const int fd = ::open(filler.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    REQUIRE(fd >= 0);
    const auto room = disk.free_bytes();
    if (room > (1u << 20)) CHECK(::posix_fallocate(fd, 0, static_cast<off_t>(room - (1u << 20))) == 0);
    ::close(fd);
    REQUIRE(disk.free_bytes() < (4u << 20));
    logged_daemon d{args("4M")};
    const auto status = d.wait_exit(60s);
    INFO(d.output());
    REQUIRE(status);
    CHECK(*status == 1);
    CHECK_THAT(d.output(), Contains("overseerd: free space on the file system of") &&
                             Contains("below the reserve of 4.0 MiB") && !Contains("listening"));
    CHECK_FALSE(crashed(d.output()));
  }

  // 3. With the reserve off, RocksDB itself runs into the full disk: the
  // daemon still ends by itself with an error, never by an abort.
  {
    logged_daemon d{args("0")};
    if (const auto port = d.port(60s)) submit_until_refused(*port, subs);
    const auto status = d.wait_exit(60s);
    INFO(d.output());
    REQUIRE(status);
    CHECK(*status > 0);
    CHECK_FALSE(crashed(d.output()));
  }

  // 4. Room again: every job that got a 202 is there and finishes.
  std::filesystem::remove(dir.path() / "disk" / "filler");
  REQUIRE(disk.resize("128m"));
  logged_daemon d{args("4M")};
  const auto port = d.port(60s);
  INFO(d.output());
  REQUIRE(port);
  http_client c{*port};
  std::size_t lost = 0, illegal = 0;
  for (const auto& id : subs.accepted) {
    INFO(id);
    if (c.get("/v1/jobs/" + id).status != 200) {
      ++lost;
      continue;
    }
    CHECK(str(await_status(c, id, {}, 120s), "status") == "completed");
    std::optional<overseer::job_status> at;
    const auto history = c.get("/v1/jobs/" + id + "/history").json();
    for (const auto& t : history.at("transitions").as_array()) {
      const auto from = t.at("from").is_null() ? std::nullopt : overseer::parse_job_status(str(t, "from"));
      const auto to = overseer::parse_job_status(str(t, "to"));
      if (!to || from != at || !overseer::actors::can_transition(from, *to)) ++illegal;
      at = to;
    }
  }
  CHECK(lost == 0);
  CHECK(illegal == 0);
  d.terminate();
  CHECK(d.wait_exit(60s) == std::optional<int>{0});
  CHECK_FALSE(crashed(d.output()));
}

TEST_CASE("a start that the new write-ahead log's preallocation would put below the reserve is refused",
          "[recovery][disk]") {
  temp_dir dir;
  // RocksDB takes 64 MiB at once for a new log when the disk has that much:
  // 200 MiB free passes a 160 MiB reserve, and then leaves 136 MiB.
  tmpfs disk{dir.path() / "disk", "200m"};
  if (!usable(disk)) return;
  const auto data = dir.path() / "disk" / "data";
  auto args = [&](const std::string& reserve) {
    return std::vector<std::string>{"--data-dir", data.string(), "--listen", "127.0.0.1:0", "--min-free-space",
                                    reserve};
  };
  {
    // Before, it started and fail-stopped at its first write, and again at
    // every restart by a supervisor.
    logged_daemon d{args("160M")};
    const auto status = d.wait_exit(60s);
    INFO(d.output());
    REQUIRE(status);
    CHECK(*status == 1);
    CHECK_THAT(d.output(), Contains("for a new write-ahead log, which would leave 136.0 MiB, below the reserve of "
                                    "160.0 MiB") &&
                             !Contains("listening"));
    CHECK_FALSE(crashed(d.output()));
  }
  {
    // A reserve the preallocation leaves room for: it runs, until kill -9
    // leaves its log, 64 MiB allocated, behind.
    logged_daemon d{args("16M")};
    const auto port = d.port(60s);
    INFO(d.output());
    REQUIRE(port);
    http_client c{*port};
    const auto id = str(c.post("/v1/jobs", json::object{{"tool", "noop"}}).json(), "job_id");
    CHECK(str(await_status(c, id, {}, 60s), "status") == "completed");
    d.kill9();
    CHECK(d.wait_exit(60s));
  }
  // The old log is deleted once replayed, before the new one is written: it
  // counts as room. About 132 MiB are free with it; a check that forgot it
  // would expect 68 MiB after the new log's 64, and refuse a 100 MiB reserve.
  REQUIRE(disk.free_bytes() >= (100u << 20));
  REQUIRE(disk.free_bytes() < (164u << 20));
  logged_daemon again{args("100M")};
  const auto port = again.port(60s);
  INFO(again.output());
  REQUIRE(port);
  http_client c{*port};
  const auto id = str(c.post("/v1/jobs", json::object{{"tool", "noop"}}).json(), "job_id");
  CHECK(str(await_status(c, id, {}, 60s), "status") == "completed");
  CHECK(c.get("/v1/health").status == 200);
  CHECK(disk.free_bytes() >= (100u << 20));
  again.terminate();
  CHECK(again.wait_exit(60s) == std::optional<int>{0});
}

TEST_CASE("on ext4 short of the log's preallocation a start is refused: the log would keep all the room",
          "[recovery][disk]") {
  temp_dir dir;
  const auto image = dir.path() / "ext4.img", mnt = dir.path() / "ext4";
  std::filesystem::create_directories(mnt);
  // 60 MiB of ext4 (about 47 MiB free), mounted through a loop device.
  const std::string make = "truncate -s 60M '" + image.string() + "' && mkfs.ext4 -q -F '" + image.string() +
                           "' >/dev/null 2>&1 && mount -o loop '" + image.string() + "' '" + mnt.string() +
                           "' 2>/dev/null";
  if (std::system(make.c_str()) != 0) {
    WARN("skipped: cannot make and loop-mount an ext4 image here (needs root, mkfs.ext4 and a loop device)");
    return;
  }
  struct unmount {
    std::filesystem::path at;
    ~unmount() { ::umount2(at.c_str(), MNT_DETACH); }
  } mounted{mnt};
  // What RocksDB's fallocate does here: ext4 keeps the part it could
  // allocate when the whole does not fit.
  {
    logged_daemon d{{"--data-dir", (mnt / "data").string(), "--listen", "127.0.0.1:0", "--min-free-space", "4M"}};
    const auto status = d.wait_exit(60s);
    INFO(d.output());
    REQUIRE(status);
    CHECK(*status == 1);
    CHECK_THAT(d.output(), Contains("this file system keeps what it can of that: it would leave 0 bytes, below the "
                                    "reserve of 4.0 MiB") &&
                             !Contains("listening"));
    CHECK_FALSE(crashed(d.output()));
  }
  // With the reserve off the log takes every free block, and what the start
  // writes next fails: an exit with the reason, never an abort (it was one,
  // from the files directory's creation).
  logged_daemon d{{"--data-dir", (mnt / "data").string(), "--listen", "127.0.0.1:0", "--min-free-space", "0"}};
  const auto status = d.wait_exit(60s);
  INFO(d.output());
  REQUIRE(status);
  CHECK(*status == 1);
  CHECK_THAT(d.output(), Contains("overseerd: ") && Contains("No space left on device") && !Contains("listening"));
  CHECK_FALSE(crashed(d.output()));
}

TEST_CASE("a write-ahead log damaged in its middle stops overseerd, and --salvage-store is the way past it",
          "[recovery][store]") {
  temp_dir dir;
  const auto data = dir.path() / "data";
  std::vector<std::string> accepted;
  {
    overseerd_process d{data};
    http_client c{d.port()};
    for (int i = 0; i < 300; ++i) {
      auto r = c.post("/v1/jobs", json::object{{"tool", "noop"}});
      REQUIRE(r.status == 202);
      accepted.push_back(str(r.json(), "job_id"));
    }
    d.kill9();  // every accepted job is in the write-ahead log only
  }
  std::filesystem::path wal;
  for (const auto& e : std::filesystem::directory_iterator{data})
    if (e.path().extension() == ".log" && (wal.empty() || e.path().filename() > wal.filename())) wal = e.path();
  REQUIRE_FALSE(wal.empty());
  {
    // A bad sector halfway: the jobs accepted after it would be gone.
    std::fstream f{wal, std::ios::in | std::ios::out | std::ios::binary};
    const auto at = static_cast<std::streamoff>(std::filesystem::file_size(wal) / 2);
    f.seekg(at);
    char ch = 0;
    f.get(ch);
    f.seekp(at);
    f.put(static_cast<char>(ch ^ 0x5A));
  }
  const std::vector<std::string> base{"--data-dir", data.string(), "--listen", "127.0.0.1:0"};
  auto found = [&](unsigned short port) {
    http_client c{port};
    std::size_t n = 0;
    for (const auto& id : accepted) n += c.get("/v1/jobs/" + id).status == 200 ? 1 : 0;
    return n;
  };
  // 1. Refused, saying why and what to do, rather than started without them.
  {
    logged_daemon d{base};
    const auto status = d.wait_exit(60s);
    INFO(d.output());
    REQUIRE(status);
    CHECK(*status == 1);
    CHECK_THAT(d.output(), Contains("Corruption") && Contains("--salvage-store"));
    CHECK_FALSE(crashed(d.output()));
  }
  // 2. The operator salvages: what precedes the damage, with a warning.
  std::size_t kept = 0;
  {
    auto args = base;
    args.emplace_back("--salvage-store");
    logged_daemon d{args};
    const auto port = d.port(60s);
    INFO(d.output());
    REQUIRE(port);
    kept = found(*port);
    CHECK(kept > 0);
    CHECK(kept < accepted.size());
    CHECK_THAT(d.output(), Contains("opened to salvage"));
    d.terminate();
    CHECK(d.wait_exit(60s) == 0);
  }
  // 3. From then on it starts as usual, with the same jobs.
  overseerd_process d{data};
  CHECK(found(d.port()) == kept);
}

TEST_CASE("an upload or a tool's output file that would take the store's room is refused, and the daemon goes on",
          "[recovery][disk][files]") {
  temp_dir dir;
  tmpfs disk{dir.path() / "disk", "160m"};
  if (!usable(disk)) return;
  const auto data = dir.path() / "disk" / "data";
  // Writes SIZE MiB into out.bin in its workdir (under DATA/work, on the
  // same file system), which is an output to store.
  const auto tools = dir.path() / "tools.json";
  std::ofstream{tools} << R"({"tools":[{"name":"big_output","command":["/bin/sh","-c",)"
                       << R"("head -c $(($1 * 1048576)) /dev/zero > out.bin","sh","{params.mib}"],)"
                       << R"("params":{"mib":{"type":"integer","required":true}},"outputs":["*.bin"]}]})";
  // A reserve of 8 MiB: stored files must leave 16 MiB.
  logged_daemon d{{"--data-dir", data.string(), "--listen", "127.0.0.1:0", "--min-free-space", "8M", "--tools",
                   tools.string()}};
  const auto port = d.port(60s);
  INFO(d.output());
  REQUIRE(port);
  http_client c{*port};
  const auto healthy = [&] {
    const auto id = str(c.post("/v1/jobs", json::object{{"tool", "noop"}}).json(), "job_id");
    return c.get("/v1/health").status == 200 && str(await_status(c, id, {}, 60s), "status") == "completed";
  };
  const auto temp_files = [&] {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(data / "files" / "tmp")) ++n;
    return n;
  };
  const std::uint64_t mib = 1u << 20;

  SECTION("a declared length that does not fit is refused on the headers") {
    raw_connection conn{*port};
    conn.send("POST /v1/files?name=big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
              "Content-Length: " + std::to_string(disk.free_bytes() - 8 * mib) + "\r\n\r\n");
    const auto r = conn.read(30s);
    REQUIRE(r);
    CHECK(r->status == 507);
    CHECK_THAT(r->body, Contains("must leave 16.0 MiB"));
  }
  SECTION("a chunked upload is stopped before it takes the reserve's room") {
    raw_connection conn{*port};
    conn.send("POST /v1/files?name=big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
              "Transfer-Encoding: chunked\r\n\r\n");
    const std::string chunk = "100000\r\n" + std::string(mib, 'x') + "\r\n";  // 1 MiB
    bool answered = false;
    const auto sent = conn.repeat_until_answered(chunk, 60s, answered);
    REQUIRE(answered);
    CHECK(sent < (160u << 20));
    const auto r = conn.read(30s);
    REQUIRE(r);
    CHECK(r->status == 507);
    CHECK_THAT(r->body, Contains("the file does not fit"));
  }
  SECTION("a tool's output file that does not fit fails its job, not the daemon") {
    // The tool's own file takes X; storing it would take X again and leave
    // 4 MiB, below even the store's 8 MiB reserve.
    const auto x = (disk.free_bytes() - 4 * mib) / 2 / mib;
    const auto id = str(c.post("/v1/jobs", json::object{{"tool", "big_output"}, {"params", {{"mib", x}}}}).json(),
                        "job_id");
    const auto view = await_status(c, id, {}, 120s);
    CHECK(str(view, "status") == "failed");
    CHECK_THAT(str(view, "error"), Contains("out.bin: a file of") && Contains("does not fit"));
  }
  CHECK(temp_files() == 0);
  CHECK(healthy());
  CHECK(disk.free_bytes() >= 8 * mib);
  // A file that fits is taken.
  CHECK(c.request("POST", "/v1/files?name=small.bin", std::string(mib, 's'), "application/octet-stream", {}).status ==
        201);
  d.terminate();
  CHECK(d.wait_exit(60s) == std::optional<int>{0});
  CHECK_FALSE(crashed(d.output()));
}
