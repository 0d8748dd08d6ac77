#include "support/daemon.hpp"

#include "support/children.hpp"
#include "support/eventually.hpp"

#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <spawn.h>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

extern char** environ;

namespace overseer::test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

overseerd_process::overseerd_process(const std::filesystem::path& data_dir, std::vector<std::string> extra,
                                     const std::filesystem::path& stderr_file) {
  int out[2];
  if (::pipe(out) != 0) throw std::runtime_error("pipe failed");
  std::vector<std::string> args = {OVERSEERD_PATH, "--data-dir", data_dir.string(), "--listen", "127.0.0.1:0"};
  args.insert(args.end(), extra.begin(), extra.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  if (!stderr_file.empty())
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  if (rc != 0) throw std::runtime_error("cannot start " + args[0]);
  pid_ = pid;
  children::track(pid_);
  // The line tells us the port; reading it also means it accepts connections.
  FILE* in = ::fdopen(out[0], "r");
  char line[512];
  const std::string prefix = "overseerd listening on http://127.0.0.1:";
  const std::string cluster_prefix = "overseerd cluster listening on 127.0.0.1:";
  while (std::fgets(line, sizeof line, in)) {
    std::string s{line};
    if (s.starts_with(cluster_prefix))
      cluster_port_ = static_cast<unsigned short>(std::stoi(s.substr(cluster_prefix.size())));
    if (s.starts_with(prefix)) {
      port_ = static_cast<unsigned short>(std::stoi(s.substr(prefix.size())));
      break;
    }
  }
  // Keep draining its stdout in the background so it never blocks on a full pipe.
  std::thread([in] {
    char buf[512];
    while (std::fgets(buf, sizeof buf, in)) {}
    std::fclose(in);
  }).detach();
  if (port_ == 0) {
    kill9();
    throw std::runtime_error("overseerd did not report a listening port");
  }
}

overseerd_process::~overseerd_process() {
  if (pid_ > 0) stop();
}

int overseerd_process::stop(std::chrono::seconds grace) {
  if (pid_ <= 0) return 0;
  ::kill(pid_, SIGTERM);
  int status = 0;
  // A SIGTERM drains: running jobs get up to --drain-timeout to finish. A
  // second one, after a moment, stops at once (they resume at the next start).
  const auto drain = std::min<std::chrono::seconds>(grace, std::chrono::seconds(2));
  const auto exited = [&] { return ::waitpid(pid_, &status, WNOHANG) != 0; };
  bool done = eventually(exited, drain);
  if (!done) {
    ::kill(pid_, SIGTERM);
    done = eventually(exited, grace);
  }
  if (!done) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
  }
  children::forget(pid_);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

int overseerd_process::wait(std::chrono::seconds limit) {
  if (pid_ <= 0) return 0;
  int status = 0;
  if (!eventually([&] { return ::waitpid(pid_, &status, WNOHANG) != 0; }, limit)) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
  }
  children::forget(pid_);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

void overseerd_process::kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  children::forget(pid_);
  pid_ = -1;
}

boost::json::value http_reply::json() const { return boost::json::parse(body); }

struct http_client::impl {
  net::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
  unsigned short port;
  explicit impl(unsigned short p) : port(p) { connect(); }
  void connect() {
    stream.close();
    stream.connect(tcp::endpoint{net::ip::make_address("127.0.0.1"), port});
    buffer.clear();
  }
  http_reply read() {
    bhttp::response<bhttp::string_body> res;
    stream.expires_after(std::chrono::seconds(30));
    bhttp::read(stream, buffer, res);
    http_reply r;
    r.status = res.result_int();
    r.content_type = std::string{res[bhttp::field::content_type]};
    r.body = res.body();
    for (const auto& f : res) r.headers[std::string{f.name_string()}] = std::string{f.value()};
    if (!res.keep_alive()) connect();
    return r;
  }
};

http_client::http_client(unsigned short port) : impl_(std::make_unique<impl>(port)) {}
http_client::~http_client() = default;

http_reply http_client::request(const std::string& method, const std::string& target, const std::string& body,
                                const std::string& content_type,
                                const std::map<std::string, std::string>& headers) {
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
  req.set(bhttp::field::host, "127.0.0.1");
  if (!body.empty()) {
    req.set(bhttp::field::content_type, content_type);
    req.body() = body;
  }
  for (const auto& [k, v] : headers) req.set(k, v);
  req.prepare_payload();
  impl_->stream.expires_after(std::chrono::seconds(30));
  bhttp::write(impl_->stream, req);
  return impl_->read();
}

http_reply http_client::post(const std::string& target, const boost::json::value& body) {
  return request("POST", target, boost::json::serialize(body));
}

http_reply http_client::raw(const std::string& bytes) {
  net::write(impl_->stream.socket(), net::buffer(bytes));
  return impl_->read();
}

struct ws_client::impl {
  net::io_context ioc;
  websocket::stream<beast::tcp_stream> ws{ioc};
  beast::flat_buffer buffer;
  bool closed = false;
  std::optional<std::chrono::steady_clock::time_point> pending_deadline;
  // One outstanding async read, kept across next() calls that time out.
  bool reading = false;
  bool have = false;
  beast::error_code ec;
};

ws_client::ws_client(unsigned short port, const std::string& target, int receive_buffer)
  : impl_(std::make_unique<impl>()) {
  auto& d = *impl_;
  if (receive_buffer > 0) {
    auto& socket = beast::get_lowest_layer(d.ws).socket();
    socket.open(tcp::v4());
    socket.set_option(net::socket_base::receive_buffer_size(receive_buffer));
  }
  beast::get_lowest_layer(d.ws).connect(tcp::endpoint{net::ip::make_address("127.0.0.1"), port});
  beast::get_lowest_layer(d.ws).expires_never();
  d.ws.handshake("127.0.0.1", target);
}

ws_client::~ws_client() {
  beast::error_code ignored;  // the server may have closed already
  if (!impl_->closed) impl_->ws.next_layer().socket().close(ignored);
}

void ws_client::send(const boost::json::value& msg) {
  impl_->ws.text(true);
  impl_->ws.write(net::buffer(boost::json::serialize(msg)));
}

std::optional<boost::json::value> ws_client::next(std::chrono::milliseconds limit) {
  auto& d = *impl_;
  if (d.closed) return std::nullopt;
  if (!d.reading) {
    d.reading = true;
    d.have = false;
    d.ws.async_read(d.buffer, [&d](beast::error_code ec, std::size_t) {
      d.ec = ec;
      d.have = true;
    });
  }
  d.ioc.restart();
  d.ioc.run_for(limit);
  if (!d.have) return std::nullopt;  // the read stays pending for the next call
  d.reading = false;
  if (d.ec) {
    d.closed = true;
    return std::nullopt;
  }
  auto text = beast::buffers_to_string(d.buffer.data());
  d.buffer.consume(d.buffer.size());
  return boost::json::parse(text);
}

std::optional<boost::json::value> ws_client::until(const std::function<bool(const boost::json::object&)>& pred,
                                                   std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    auto m = next(left);
    if (!m) return std::nullopt;
    if (m->is_object() && pred(m->as_object())) return m;
  }
}

std::string ws_client::close_reason() const {
  const auto& r = impl_->ws.reason().reason;
  return std::string(r.data(), r.size());
}
int ws_client::close_code() const { return static_cast<int>(impl_->ws.reason().code); }
bool ws_client::closed() const noexcept { return impl_->closed; }

}  // namespace overseer::test
