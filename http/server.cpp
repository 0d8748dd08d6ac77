#include "overseer/http/server.hpp"

#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>

#include "http/listener.hpp"
#include "http/stream_hub.hpp"

namespace overseer::http {

namespace net = boost::asio;

namespace {

net::ip::tcp::endpoint parse_listen(const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0)
    throw error{errc::invalid_spec, "listen address \"" + listen + "\" is not HOST:PORT"};
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  auto address = net::ip::make_address(host, ec);
  if (ec) throw error{errc::invalid_spec, "listen host \"" + host + "\" is not an IP address"};
  unsigned long port = 0;
  try {
    std::size_t used = 0;
    port = std::stoul(listen.substr(colon + 1), &used);
    if (used != listen.size() - colon - 1 || port > 65535) throw std::out_of_range("port");
  } catch (const std::exception&) {
    throw error{errc::invalid_spec, "listen port in \"" + listen + "\" is not 0-65535"};
  }
  return {address, static_cast<unsigned short>(port)};
}

}  // namespace

struct server::impl {
  engine& eng;
  server_config config;
  stream_hub hub{eng};
  api_context ctx{eng, config, hub};
  net::io_context ioc;
  std::shared_ptr<listener> accept;
  std::vector<std::thread> threads;
  net::ip::tcp::endpoint bound;

  impl(engine& e, server_config cfg) : eng(e), config(std::move(cfg)), ioc(std::max(1, config.threads)) {}
};

server::server(engine& e, server_config cfg) : impl_(std::make_unique<impl>(e, std::move(cfg))) {
  auto& d = *impl_;
  const auto at = parse_listen(d.config.listen);
  if (!at.address().is_loopback() && d.config.tokens.empty() && !d.config.allow_insecure)
    throw error{errc::invalid_spec, "refusing to listen on " + d.config.listen +
                                      " without bearer tokens; configure tokens or allow insecure listening"};
  try {
    d.accept = std::make_shared<listener>(d.ioc, at, d.ctx);
  } catch (const boost::system::system_error& ex) {
    throw error{errc::invalid_spec, "cannot listen on " + d.config.listen + ": " + ex.code().message()};
  }
  d.bound = d.accept->local_endpoint();
  d.accept->run();
  for (int i = 0; i < std::max(1, d.config.threads); ++i) d.threads.emplace_back([&d] { d.ioc.run(); });
}

server::~server() { stop(); }

std::uint16_t server::port() const noexcept { return impl_->bound.port(); }

std::string server::url() const {
  const auto a = impl_->bound.address();
  const std::string host = a.is_v6() ? "[" + a.to_string() + "]" : a.to_string();
  return "http://" + host + ":" + std::to_string(port());
}

void server::stop() {
  auto& d = *impl_;
  if (d.threads.empty()) return;
  d.hub.stop();  // no more posts to sessions once the I/O threads stop
  d.accept->stop();
  d.ioc.stop();
  for (auto& t : d.threads) t.join();
  d.threads.clear();
}

}  // namespace overseer::http
