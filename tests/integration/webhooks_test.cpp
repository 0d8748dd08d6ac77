// Webhooks against the real overseerd: a receiver on loopback (raw sockets,
// in this file) gets a job's events in seq order, signed; retries; the
// allow-list's 400; a kill -9 with deliveries still in the outbox; the
// Host header and SNI of address-named receivers; an answer with a large
// body; and a receiver that never answers, beside others.
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <catch2/catch.hpp>

#include "support/daemon.hpp"
#include "support/eventually.hpp"
#include "support/http_helpers.hpp"
#include "support/temp_dir.hpp"

using namespace overseer::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

/// HMAC-SHA256 in hex, computed here with libcrypto directly, not with the
/// daemon's code.
std::string hmac_hex(const std::string& key, const std::string& data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), mac, &len);
  std::string out;
  char hex[3];
  for (unsigned i = 0; i < len; ++i) {
    std::snprintf(hex, sizeof hex, "%02x", mac[i]);
    out += hex;
  }
  return out;
}

struct received {
  std::map<std::string, std::string> headers;  ///< names in lower case
  std::string target;
  std::string body;
  [[nodiscard]] std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string{} : it->second;
  }
  [[nodiscard]] json::object event() const { return json::parse(body).as_object(); }
  [[nodiscard]] std::uint64_t seq() const { return event().at("seq").to_number<std::uint64_t>(); }
};

/// A listening TCP socket on loopback (127.0.0.1, or ::1 with `v6`), port 0:
/// any free one. Throws when it cannot listen.
int listen_on_loopback(unsigned short port, bool v6, unsigned short& bound) {
  const int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("receiver cannot make a socket");
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_storage storage{};
  socklen_t len = 0;
  if (v6) {
    auto& a = reinterpret_cast<sockaddr_in6&>(storage);
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    a.sin6_port = htons(port);
    len = sizeof a;
  } else {
    auto& a = reinterpret_cast<sockaddr_in&>(storage);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    len = sizeof a;
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&storage), len) != 0 || ::listen(fd, 64) != 0) {
    ::close(fd);
    throw std::runtime_error("receiver cannot listen");
  }
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &len);
  bound = ntohs(v6 ? reinterpret_cast<sockaddr_in6&>(storage).sin6_port : reinterpret_cast<sockaddr_in&>(storage).sin_port);
  return fd;
}

/// A one-request-per-connection HTTP server on 127.0.0.1 (or ::1, `v6`).
/// `answer(n)` is the status of the n-th request (0-based); `interim`, sent
/// before each answer, is interim answers (e.g. an unasked 100 Continue);
/// `body` is each answer's body.
class receiver {
public:
  explicit receiver(unsigned short port = 0, std::function<int(int)> answer = [](int) { return 200; },
                    std::string interim = {}, std::string body = {}, bool v6 = false)
    : answer_(std::move(answer)), interim_(std::move(interim)), body_(std::move(body)), v6_(v6) {
    fd_ = listen_on_loopback(port, v6, port_);
    thread_ = std::thread([this] { loop(); });
  }
  ~receiver() { stop(); }

  void stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  [[nodiscard]] unsigned short port() const { return port_; }
  [[nodiscard]] std::vector<received> requests() const {
    std::lock_guard lock{mutex_};
    return got_;
  }
  [[nodiscard]] std::string url(const std::string& path = "/hook") const {
    return std::string{v6_ ? "http://[::1]:" : "http://127.0.0.1:"} + std::to_string(port_) + path;
  }

private:
  void loop() {
    while (!stopping_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;  // wakes to see stopping_
      const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      serve(c);
      ::close(c);
    }
  }

  void serve(int c) {
    timeval tv{5, 0};
    ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);  // a client that stops reading a large body
    std::string data;
    char buf[4096];
    std::size_t header_end = std::string::npos;
    std::size_t length = 0;
    for (;;) {
      if (header_end != std::string::npos && data.size() >= header_end + 4 + length) break;
      const auto n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) return;
      data.append(buf, static_cast<std::size_t>(n));
      if (header_end == std::string::npos && (header_end = data.find("\r\n\r\n")) != std::string::npos) {
        received r;
        std::size_t line_end = data.find("\r\n");
        const auto first = data.substr(0, line_end);
        r.target = first.substr(first.find(' ') + 1, first.rfind(' ') - first.find(' ') - 1);
        std::size_t pos = line_end + 2;
        while (pos < header_end) {
          const auto e = data.find("\r\n", pos);
          const auto line = data.substr(pos, e - pos);
          const auto colon = line.find(':');
          std::string name = line.substr(0, colon);
          for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
          auto value = line.substr(colon + 1);
          while (!value.empty() && value.front() == ' ') value.erase(0, 1);
          r.headers[name] = value;
          pos = e + 2;
        }
        length = std::stoul(r.header("content-length").empty() ? "0" : r.header("content-length"));
        pending_ = std::move(r);
      }
    }
    pending_.body = data.substr(header_end + 4, length);
    int status = 0;
    {
      std::lock_guard lock{mutex_};
      status = answer_(static_cast<int>(got_.size()));
      got_.push_back(pending_);
    }
    const std::string reply = interim_ + "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: " +
                              std::to_string(body_.size()) + "\r\nConnection: close\r\n\r\n" + body_;
    // The client may close before a large body is all sent: the send fails then.
    for (std::size_t sent = 0; sent < reply.size();) {
      const auto n = ::send(c, reply.data() + sent, reply.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += static_cast<std::size_t>(n);
    }
  }

  int fd_ = -1;
  unsigned short port_ = 0;
  std::function<int(int)> answer_;
  std::string interim_;
  std::string body_;
  bool v6_ = false;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::vector<received> got_;
  received pending_;
  std::thread thread_;
};

/// A receiver that never answers: it accepts each connection on 127.0.0.1
/// and holds it open, reading nothing, until stopped. Counts connections.
class silent_receiver {
public:
  silent_receiver() {
    fd_ = listen_on_loopback(0, false, port_);
    thread_ = std::thread([this] { loop(); });
  }
  ~silent_receiver() {
    stopping_ = true;
    thread_.join();
    for (int c : held_) ::close(c);
    ::close(fd_);
  }
  silent_receiver(const silent_receiver&) = delete;
  silent_receiver& operator=(const silent_receiver&) = delete;
  [[nodiscard]] int connections() const { return count_; }
  [[nodiscard]] std::string url(const std::string& path = "/hook") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

private:
  void loop() {
    while (!stopping_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;  // wakes to see stopping_
      const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      held_.push_back(c);  // this thread's own until the join
      ++count_;
    }
  }
  int fd_ = -1;
  unsigned short port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> count_{0};
  std::vector<int> held_;
  std::thread thread_;
};

/// An https receiver on 127.0.0.1 with a certificate for IP 127.0.0.1:
/// answers 200 to each request and counts them, and keeps the SNI server
/// name each handshake carried ("" for none).
class tls_receiver {
public:
  tls_receiver(const std::filesystem::path& cert, const std::filesystem::path& key)
    : acceptor_(ioc_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    ctx_.use_certificate_chain_file(cert.string());
    ctx_.use_private_key_file(key.string(), boost::asio::ssl::context::pem);
    thread_ = std::thread([this] { loop(); });
  }
  ~tls_receiver() {
    stopping_ = true;
    // Wake the blocking accept with a connection of our own.
    boost::system::error_code ec;
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::socket poke{ioc};
    poke.connect(acceptor_.local_endpoint(), ec);
    poke.close(ec);
    thread_.join();
  }
  [[nodiscard]] unsigned short port() const { return acceptor_.local_endpoint().port(); }
  [[nodiscard]] int count() const { return count_; }
  [[nodiscard]] std::vector<std::string> server_names() const {
    std::lock_guard lock{mutex_};
    return names_;
  }

private:
  void loop() {
    namespace bhttp = boost::beast::http;
    while (!stopping_) {
      boost::system::error_code ec;
      boost::asio::ip::tcp::socket s{ioc_};
      acceptor_.accept(s, ec);
      if (ec) continue;
      boost::asio::ssl::stream<boost::asio::ip::tcp::socket> tls{std::move(s), ctx_};
      tls.handshake(boost::asio::ssl::stream_base::server, ec);
      if (ec) continue;
      {
        const char* sni = SSL_get_servername(tls.native_handle(), TLSEXT_NAMETYPE_host_name);
        std::lock_guard lock{mutex_};
        names_.push_back(sni ? sni : "");
      }
      boost::beast::flat_buffer buf;
      bhttp::request<bhttp::string_body> req;
      bhttp::read(tls, buf, req, ec);
      if (ec) continue;
      ++count_;
      bhttp::response<bhttp::empty_body> res{bhttp::status::ok, 11};
      res.keep_alive(false);
      res.prepare_payload();
      bhttp::write(tls, res, ec);
      tls.shutdown(ec);
    }
  }
  boost::asio::io_context ioc_;
  boost::asio::ssl::context ctx_{boost::asio::ssl::context::tls_server};
  boost::asio::ip::tcp::acceptor acceptor_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> count_{0};
  mutable std::mutex mutex_;
  std::vector<std::string> names_;
  std::thread thread_;
};

json::array deliveries(http_client& c, const std::string& id) {
  auto r = c.get("/v1/jobs/" + id + "/deliveries");
  REQUIRE(r.status == 200);
  return r.json().at("deliveries").as_array();
}

bool all_delivered(http_client& c, const std::string& id, std::size_t at_least) {
  auto ds = deliveries(c, id);
  if (ds.size() < at_least) return false;
  for (const auto& d : ds)
    if (d.at("status").as_string() != "delivered") return false;
  return true;
}

std::set<std::string> fields_of(const json::value& problem) {
  std::set<std::string> out;
  for (const auto& e : problem.at("errors").as_array()) out.insert(str(e, "field"));
  return out;
}

}  // namespace

TEST_CASE("a job's events reach its receiver in seq order, signed", "[webhooks]") {
  temp_dir dir;
  const std::string secret = "s3cret-for-the-test";
  {
    std::ofstream f{dir.path() / "secret"};
    f << secret << "\n";  // the trailing newline is not part of the key
  }
  receiver rx;
  overseerd_process d{dir.path() / "data",
                      {"--webhook-allow", "127.0.0.1", "--webhook-secret-file", (dir.path() / "secret").string()}};
  http_client c{d.port()};
  const auto id = submit(c, json::object{{"tool", "sleep"},
                                         {"params", json::object{{"seconds", 1}, {"steps", 2}}},
                                         {"notify", json::object{{"url", rx.url("/hook?src=test")},
                                                                 {"events", json::array{"transition", "progress"}}}}});
  REQUIRE(str(await_status(c, id), "status") == "completed");
  // pending, running, completed, each a transition.
  REQUIRE(eventually([&] {
    for (const auto& r : rx.requests())
      if (r.event().at("type") == "transition" && r.event().at("to") == "completed") return true;
    return false;
  }, 20s));
  REQUIRE(eventually([&] { return all_delivered(c, id, 3); }, 20s));
  const auto got = rx.requests();
  std::uint64_t last = 0;
  std::vector<std::string> to;
  int progress = 0;
  for (const auto& r : got) {
    INFO(r.body);
    CHECK(r.target == "/hook?src=test");
    CHECK(r.header("content-type") == "application/json");
    CHECK(r.header("overseer-signature") == "sha256=" + hmac_hex(secret, r.body));
    CHECK(r.header("overseer-job") == id);
    const auto e = r.event();
    CHECK(str(e, "job_id") == id);
    CHECK(r.seq() > last);  // strictly increasing: in order, and no repeat without a crash
    last = r.seq();
    CHECK(r.header("overseer-delivery") == "dlv_" + std::to_string(r.seq()) + "_job");
    CHECK(r.header("overseer-event") == str(e, "type"));
    if (e.at("type") == "transition") to.push_back(str(e, "to"));
    else if (e.at("type") == "progress") ++progress;
    else FAIL("a log event was not asked for");
  }
  CHECK(to == std::vector<std::string>{"pending", "running", "completed"});
  CHECK(progress >= 1);
  // The record of every delivery, in seq order.
  auto ds = deliveries(c, id);
  REQUIRE(ds.size() == got.size());
  for (std::size_t i = 0; i < ds.size(); ++i) {
    const auto& x = ds[i].as_object();
    CHECK(x.at("seq").to_number<std::uint64_t>() == got[i].seq());
    CHECK(str(x, "id") == got[i].header("overseer-delivery"));
    CHECK(x.at("attempts").to_number<int>() == 1);
    CHECK(x.at("last_status_code").to_number<int>() == 200);
    CHECK(str(x, "url") == rx.url("/hook?src=test"));
    CHECK(x.at("next_attempt_at").is_null());
    CHECK(x.at("delivered_at").is_string());
  }
  // A job without notify has none.
  const auto quiet = submit(c, json::object{{"tool", "noop"}});
  await_status(c, quiet);
  CHECK(deliveries(c, quiet).empty());
  CHECK(c.get("/v1/jobs/job_00000000000000000000000000/deliveries").status == 404);
  // The gauges.
  const auto metrics = c.get("/metrics").body;
  CHECK(metrics.find("overseer_webhook_deliveries_ok " + std::to_string(got.size())) != std::string::npos);
  CHECK(metrics.find("overseer_webhook_deliveries_pending 0") != std::string::npos);
}

TEST_CASE("a receiver that answers 500 twice gets the delivery again, and one that always fails is given up",
          "[webhooks]") {
  temp_dir dir;
  receiver flaky{0, [](int n) { return n < 2 ? 500 : 200; }};
  receiver broken{0, [](int) { return 503; }};
  const auto log = dir.path() / "stderr.log";
  overseerd_process d{dir.path() / "data",
                      {"--webhook-allow", "127.0.0.1", "--webhook-backoff-ms", "20", "--webhook-max-backoff-ms", "100",
                       "--webhook-max-attempts", "3"},
                      log};
  http_client c{d.port()};
  const auto id = submit(c, json::object{{"tool", "noop"}, {"notify", json::object{{"url", flaky.url()}}}});
  await_status(c, id);
  REQUIRE(eventually([&] { return all_delivered(c, id, 3); }, 20s));
  auto ds = deliveries(c, id);
  const auto& first = ds[0].as_object();
  CHECK(first.at("attempts").to_number<int>() == 3);
  CHECK(first.at("last_status_code").to_number<int>() == 200);
  CHECK(str(first, "event") == "transition");
  for (std::size_t i = 1; i < ds.size(); ++i) CHECK(ds[i].at("attempts").to_number<int>() == 1);
  // The receiver saw the first delivery three times, under one id, before the second.
  const auto got = flaky.requests();
  REQUIRE(got.size() == ds.size() + 2);
  CHECK(got[0].header("overseer-delivery") == str(first, "id"));
  CHECK(got[1].header("overseer-delivery") == str(first, "id"));
  CHECK(got[2].header("overseer-delivery") == str(first, "id"));
  CHECK(got[0].body == got[2].body);
  CHECK(got[3].seq() > got[2].seq());
  CHECK(got[0].header("overseer-signature").empty());  // no secret configured

  const auto doomed = submit(c, json::object{{"tool", "noop"}, {"notify", json::object{{"url", broken.url()}}}});
  await_status(c, doomed);
  REQUIRE(eventually([&] {
    auto x = deliveries(c, doomed);
    return x.size() == 3 && std::all_of(x.begin(), x.end(), [](auto& v) { return v.at("status") == "failed"; });
  }, 20s));
  for (const auto& x : deliveries(c, doomed)) {
    CHECK(x.at("attempts").to_number<int>() == 3);
    CHECK(x.at("last_status_code").to_number<int>() == 503);
    CHECK(str(x, "last_error") == "HTTP 503");
  }
  CHECK(broken.requests().size() == 9);  // each of 3 given up after 3 attempts, one after the other
  CHECK(c.get("/metrics").body.find("overseer_webhook_deliveries_failed 3") != std::string::npos);
  d.stop();
  std::ifstream in{log};
  const std::string text{std::istreambuf_iterator<char>{in}, {}};
  CHECK(text.find("gave up a webhook delivery after 3 attempts") != std::string::npos);
}

TEST_CASE("a receiver's interim answers (100 Continue, 102) are passed over for its final one", "[webhooks]") {
  temp_dir dir;
  receiver rx{0, [](int) { return 200; },
              "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n"};
  overseerd_process d{dir.path() / "data", {"--webhook-allow", "127.0.0.1", "--webhook-backoff-ms", "20"}};
  http_client c{d.port()};
  const auto id = submit(c, json::object{{"tool", "noop"}, {"notify", json::object{{"url", rx.url()}}}});
  await_status(c, id);
  REQUIRE(eventually([&] { return all_delivered(c, id, 3); }, 20s));
  for (const auto& x : deliveries(c, id)) {
    CHECK(x.at("attempts").to_number<int>() == 1);
    CHECK(x.at("last_status_code").to_number<int>() == 200);
  }
  CHECK(rx.requests().size() == 3);  // each delivered once, none again
}

TEST_CASE("a notify URL off the allow-list is a 400 naming notify.url", "[webhooks]") {
  temp_dir dir;
  overseerd_process d{dir.path() / "data", {"--webhook-allow", "127.0.0.1,hooks.example.com"}};
  http_client c{d.port()};
  auto r = c.post("/v1/jobs", json::object{{"tool", "noop"}, {"notify", json::object{{"url", "http://169.254.169.254/x"}}}});
  CHECK(r.status == 400);
  CHECK(fields_of(r.json()) == std::set<std::string>{"notify.url"});
  // Every bad field in one answer: the URL, the events, and the rest of the spec.
  r = c.post("/v1/jobs", json::object{{"tool", "noop"},
                                      {"priority", 99},
                                      {"notify", json::object{{"url", "ftp://127.0.0.1/x"},
                                                              {"events", json::array{"transition", "done"}}}}});
  CHECK(r.status == 400);
  CHECK(fields_of(r.json()) == std::set<std::string>{"notify.url", "notify.events[1]", "priority"});
  r = c.post("/v1/jobs", json::object{{"tool", "noop"}, {"notify", json::object{{"events", json::array{}}, {"uri", "x"}}}});
  CHECK(r.status == 400);
  CHECK(fields_of(r.json()) == std::set<std::string>{"notify.url", "notify.events", "notify.uri"});
  r = c.post("/v1/jobs", json::object{{"tool", "noop"}, {"notify", "http://127.0.0.1/"}});
  CHECK(r.status == 400);
  CHECK(fields_of(r.json()) == std::set<std::string>{"notify"});
  // In a batch, named by the job.
  r = c.post("/v1/batches",
             json::object{{"jobs", json::array{json::object{{"tool", "noop"}},
                                               json::object{{"tool", "noop"},
                                                            {"notify", json::object{{"url", "http://10.1.2.3/"}}}}}}});
  CHECK(r.status == 400);
  CHECK(fields_of(r.json()) == std::set<std::string>{"jobs[1].notify.url"});
  // Allowed hosts pass; nothing is delivered to a host that does not answer.
  r = c.post("/v1/jobs", json::object{{"tool", "noop"}, {"notify", json::object{{"url", "https://HOOKS.example.com/x"}}}});
  CHECK(r.status == 202);
}

TEST_CASE("without --webhook-allow every notify is refused, and a bad --webhook stops the start", "[webhooks]") {
  temp_dir dir;
  {
    overseerd_process d{dir.path() / "data"};
    http_client c{d.port()};
    auto r = c.post("/v1/jobs", json::object{{"tool", "noop"}, {"notify", json::object{{"url", "http://127.0.0.1/"}}}});
    CHECK(r.status == 400);
    CHECK(fields_of(r.json()) == std::set<std::string>{"notify.url"});
  }
  CHECK_THROWS(overseerd_process{dir.path() / "data", {"--webhook", "ftp://127.0.0.1/"}});
}

TEST_CASE("deliveries left in the outbox by kill -9 are made after the restart, in order", "[webhooks]") {
  temp_dir dir;
  // A port for the receiver, closed while the events happen.
  unsigned short port = 0;
  {
    receiver probe;
    port = probe.port();
  }
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/hook";
  const std::vector<std::string> flags{"--webhook-allow", "127.0.0.1", "--webhook-backoff-ms", "20",
                                       "--webhook-max-backoff-ms", "200", "--webhook-max-attempts", "1000",
                                       "--webhook", url, "--webhook-events", "transition"};
  std::string id;
  std::size_t expected = 0;
  {
    overseerd_process d{dir.path() / "data", flags};
    http_client c{d.port()};
    id = submit(c, json::object{{"tool", "sleep"},
                                {"params", json::object{{"seconds", 1}, {"steps", 3}}},
                                {"notify", json::object{{"url", url}, {"events", json::array{"transition", "progress"}}}}});
    REQUIRE(str(await_status(c, id), "status") == "completed");
    // Every event is in the outbox, and the receiver was tried and not there.
    REQUIRE(eventually([&] {
      auto ds = deliveries(c, id);
      return ds.size() >= 7 && ds[0].at("attempts").to_number<int>() >= 1;
    }, 20s));
    auto ds = deliveries(c, id);
    expected = ds.size();
    for (const auto& x : ds) CHECK(x.at("status") == "pending");
    d.kill9();
  }
  receiver rx{port};
  overseerd_process d{dir.path() / "data", flags};
  http_client c{d.port()};
  REQUIRE(eventually([&] { return all_delivered(c, id, expected); }, 30s));
  auto ds = deliveries(c, id);
  CHECK(ds.size() == expected);
  const auto got = rx.requests();
  // Each delivery arrived; a repeat only under the same id; and the first
  // arrivals are in seq order per target.
  std::set<std::string> ids;
  std::map<std::string, std::uint64_t> last_seq;  // by target suffix
  for (const auto& r : got) {
    const auto did = r.header("overseer-delivery");
    if (!ids.insert(did).second) continue;  // at least once: a repeat of an earlier one
    const auto target = did.substr(did.rfind('_'));
    CHECK(r.seq() > last_seq[target]);
    last_seq[target] = r.seq();
    CHECK(did == "dlv_" + std::to_string(r.seq()) + target);
  }
  std::set<std::string> listed;
  for (const auto& x : ds) listed.insert(str(x, "id"));
  CHECK(ids == listed);
  // The daemon-wide receiver got the transitions too, the job's own every event.
  std::size_t job_transitions = 0, all_transitions = 0;
  for (const auto& x : ds) {
    if (str(x, "event") != "transition") continue;
    (str(x, "id").ends_with("_job") ? job_transitions : all_transitions) += 1;
  }
  CHECK(job_transitions == 3);
  CHECK(all_transitions == 3);
}

TEST_CASE("https receivers: a certificate the system trusts is delivered to, an unknown one is refused",
          "[webhooks]") {
  temp_dir dir;
  const auto cert = dir.path() / "cert.pem", key = dir.path() / "key.pem";
  const std::string make = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
                           "-addext subjectAltName=IP:127.0.0.1 -keyout " + key.string() + " -out " + cert.string() +
                           " 2>/dev/null";
  REQUIRE(std::system(make.c_str()) == 0);
  tls_receiver rx{cert, key};
  const std::string url = "https://127.0.0.1:" + std::to_string(rx.port()) + "/hook";
  const std::vector<std::string> flags{"--webhook-allow", "127.0.0.1", "--webhook-backoff-ms", "20",
                                       "--webhook-max-attempts", "2"};
  std::size_t delivered = 0;
  {
    // SSL_CERT_FILE is where OpenSSL's default verify paths look: the daemon
    // trusts exactly this certificate.
    ::setenv("SSL_CERT_FILE", cert.c_str(), 1);
    overseerd_process d{dir.path() / "data", flags};
    ::unsetenv("SSL_CERT_FILE");
    http_client c{d.port()};
    const auto id = submit(c, json::object{{"tool", "noop"}, {"notify", json::object{{"url", url}}}});
    await_status(c, id);
    REQUIRE(eventually([&] { return all_delivered(c, id, 3); }, 20s));
    delivered = deliveries(c, id).size();
    CHECK(rx.count() == static_cast<int>(delivered));
  }
  // The system's own CA certificates do not know it.
  overseerd_process d{dir.path() / "data", flags};
  http_client c{d.port()};
  const auto id = submit(c, json::object{{"tool", "noop"}, {"notify", json::object{{"url", url}}}});
  await_status(c, id);
  REQUIRE(eventually([&] {
    auto x = deliveries(c, id);
    return x.size() == 3 && std::all_of(x.begin(), x.end(), [](auto& v) { return v.at("status") == "failed"; });
  }, 20s));
  const auto first = deliveries(c, id)[0];
  CHECK(str(first, "last_error").find("certificate verify failed") != std::string::npos);
  CHECK(rx.count() == static_cast<int>(delivered));  // no request got through
}

TEST_CASE("a receiver that never answers leaves a slot to other receivers", "[webhooks]") {
  temp_dir dir;
  silent_receiver dead;
  receiver good;
  // Four slots; an attempt at `dead` ends only after 10 minutes.
  overseerd_process d{dir.path() / "data", {"--webhook-allow", "127.0.0.1", "--webhook-timeout", "600",
                                            "--webhook-concurrency", "4"}};
  http_client c{d.port()};
  std::vector<std::string> stuck;
  for (int i = 0; i < 6; ++i)
    stuck.push_back(submit(c, json::object{{"tool", "noop"},
                                           {"notify", json::object{{"url", dead.url("/hang" + std::to_string(i))}}}}));
  REQUIRE(eventually([&] { return dead.connections() >= 3; }, 20s));
  const auto id = submit(c, json::object{{"tool", "noop"}, {"notify", json::object{{"url", good.url()}}}});
  await_status(c, id);
  // The fourth slot is the good receiver's: its job's deliveries go one after
  // the other while every attempt at `dead` is still waiting.
  REQUIRE(eventually([&] { return all_delivered(c, id, 3); }, 20s));
  CHECK(dead.connections() == 3);  // all slots but one, never more
  CHECK(good.requests().size() == deliveries(c, id).size());
  for (const auto& s : stuck) CHECK(str(deliveries(c, s)[0], "status") == "pending");
}

TEST_CASE("with one slot receivers take turns: one that never answers delays another's deliveries by an attempt each",
          "[webhooks]") {
  temp_dir dir;
  silent_receiver dead;
  std::atomic<int> dead_before_last{-1};  // attempts at `dead` when the good receiver got its third request
  receiver good{0, [&](int n) {
    if (n == 2) dead_before_last = dead.connections();
    return 200;
  }};
  overseerd_process d{dir.path() / "data",
                      {"--webhook-allow", "127.0.0.1", "--webhook-concurrency", "1", "--webhook-timeout", "1",
                       "--webhook-backoff-ms", "20", "--webhook-max-backoff-ms", "50", "--webhook-max-attempts", "1000"}};
  http_client c{d.port()};
  for (int i = 0; i < 3; ++i)
    submit(c, json::object{{"tool", "noop"}, {"notify", json::object{{"url", dead.url("/hang" + std::to_string(i))}}}});
  REQUIRE(eventually([&] { return dead.connections() >= 1; }, 20s));
  const auto id = submit(c, json::object{{"tool", "noop"}, {"notify", json::object{{"url", good.url()}}}});
  await_status(c, id);
  REQUIRE(eventually([&] { return all_delivered(c, id, 3); }, 30s));
  // dead, good, dead, good, dead, good: the slot goes to the receiver that
  // had it least recently, not to the dead one's other jobs and retries.
  CHECK(good.requests().size() == 3);
  CHECK(dead_before_last >= 1);
  CHECK(dead_before_last <= 4);
}

TEST_CASE("a receiver named by an IPv6 address gets a Host header with the address in brackets", "[webhooks]") {
  std::optional<receiver> rx;
  try {
    rx.emplace(0, [](int) { return 200; }, "", "", true);
  } catch (const std::exception&) {
    WARN("no IPv6 loopback (::1) here: the bracketed Host header is not checked");
    return;
  }
  temp_dir dir;
  overseerd_process d{dir.path() / "data", {"--webhook-allow", "::1"}};
  http_client c{d.port()};
  const auto id = submit(c, json::object{{"tool", "noop"}, {"notify", json::object{{"url", rx->url()}}}});
  await_status(c, id);
  REQUIRE(eventually([&] { return all_delivered(c, id, 3); }, 20s));
  const auto got = rx->requests();
  REQUIRE(got.size() == 3);
  for (const auto& r : got) CHECK(r.header("host") == "[::1]:" + std::to_string(rx->port()));
}

TEST_CASE("an https receiver named by its IP address is sent no SNI server name and one named by a host name is",
          "[webhooks]") {
  temp_dir dir;
  const auto cert = dir.path() / "cert.pem", key = dir.path() / "key.pem";
  const std::string make = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
                           "-addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout " + key.string() + " -out " +
                           cert.string() + " 2>/dev/null";
  REQUIRE(std::system(make.c_str()) == 0);
  tls_receiver rx{cert, key};
  ::setenv("SSL_CERT_FILE", cert.c_str(), 1);
  overseerd_process d{dir.path() / "data", {"--webhook-allow", "127.0.0.1,localhost", "--webhook-backoff-ms", "20"}};
  ::unsetenv("SSL_CERT_FILE");
  http_client c{d.port()};
  const auto port = std::to_string(rx.port());
  const auto by_address = submit(
      c, json::object{{"tool", "noop"}, {"notify", json::object{{"url", "https://127.0.0.1:" + port + "/hook"}}}});
  await_status(c, by_address);
  REQUIRE(eventually([&] { return all_delivered(c, by_address, 3); }, 20s));
  auto names = rx.server_names();
  CHECK(names == std::vector<std::string>(3, ""));  // RFC 6066: no IP literal in SNI
  // localhost may resolve to ::1 first, where nothing listens: the next
  // address is tried within the same attempt.
  const auto by_name = submit(
      c, json::object{{"tool", "noop"}, {"notify", json::object{{"url", "https://localhost:" + port + "/hook"}}}});
  await_status(c, by_name);
  REQUIRE(eventually([&] { return all_delivered(c, by_name, 3); }, 20s));
  names = rx.server_names();
  REQUIRE(names.size() >= 6);
  for (std::size_t i = 3; i < names.size(); ++i) CHECK(names[i] == "localhost");
}

TEST_CASE("a 2xx answer with a body over 1 MiB is delivered, with no error recorded", "[webhooks]") {
  temp_dir dir;
  receiver rx{0, [](int) { return 200; }, "", std::string(std::size_t{2} << 20, 'x')};
  overseerd_process d{dir.path() / "data", {"--webhook-allow", "127.0.0.1", "--webhook-backoff-ms", "20"}};
  http_client c{d.port()};
  const auto id = submit(c, json::object{{"tool", "noop"}, {"notify", json::object{{"url", rx.url()}}}});
  await_status(c, id);
  REQUIRE(eventually([&] { return all_delivered(c, id, 3); }, 20s));
  for (const auto& x : deliveries(c, id)) {
    CHECK(x.at("attempts").to_number<int>() == 1);
    CHECK(x.at("last_status_code").to_number<int>() == 200);
    CHECK(str(x, "last_error") == "");
  }
  CHECK(rx.requests().size() == 3);  // each once: the status decided, the body unread
}

namespace {

/// CPU seconds the thread of `pid` named `name` has used (user and system).
double thread_cpu_seconds(int pid, const std::string& name) {
  const std::filesystem::path tasks = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& t : std::filesystem::directory_iterator{tasks}) {
    std::ifstream comm{t.path() / "comm"};
    std::string n;
    std::getline(comm, n);
    if (n != name) continue;
    std::ifstream stat{t.path() / "stat"};
    const std::string line{std::istreambuf_iterator<char>{stat}, {}};
    std::istringstream fields{line.substr(line.rfind(')') + 2)};
    std::vector<std::string> f{std::istream_iterator<std::string>{fields}, {}};
    // After the name: state is field 3, utime 14 and stime 15 (proc(5)).
    return static_cast<double>(std::stoull(f.at(11)) + std::stoull(f.at(12))) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  }
  throw std::runtime_error("no thread named " + name);
}

}  // namespace

TEST_CASE("the delivery thread idles while more than a page of jobs wait for their retries", "[webhooks]") {
  temp_dir dir;
  silent_receiver slow;
  overseerd_process d{dir.path() / "data", {"--webhook-allow", "127.0.0.1", "--webhook-timeout", "1",
                                            "--webhook-backoff-ms", "3600000", "--webhook-max-backoff-ms", "3600000"}};
  http_client c{d.port()};
  // More jobs than one read of the outbox (256) takes; port 1 refuses, and
  // each job's first delivery then waits an hour for its retry.
  for (int i = 0; i < 300; ++i)
    submit(c, json::object{{"tool", "noop"}, {"notify", json::object{{"url", "http://127.0.0.1:1/hook"}}}});
  REQUIRE(eventually([&] {
    const std::string name = "\noverseer_webhook_attempts_total ";
    const auto m = c.get("/metrics").body;
    const auto at = m.find(name);
    return at != std::string::npos && std::stoul(m.substr(at + name.size())) >= 300;
  }, 60s));
  // A second of the daemon's own time: one attempt at a receiver that never
  // answers, under --webhook-timeout 1.
  const auto cpu_before = thread_cpu_seconds(d.pid(), "ovs.webhooks");
  const auto wall_before = std::chrono::steady_clock::now();
  const auto id = submit(c, json::object{{"tool", "noop"}, {"notify", json::object{{"url", slow.url()}}}});
  REQUIRE(eventually([&] {
    auto ds = deliveries(c, id);
    return !ds.empty() && ds[0].at("attempts").to_number<int>() >= 1;
  }, 20s));
  const double used = thread_cpu_seconds(d.pid(), "ovs.webhooks") - cpu_before;
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_before).count();
  INFO("the delivery thread used " << used << " s of CPU in " << wall << " s");
  CHECK(wall >= 1.0);
  CHECK(used < wall / 4);  // reading the outbox over and over would take the whole of it
}
