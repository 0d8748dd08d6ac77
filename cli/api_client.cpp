#include "cli/api_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace overseer::cli {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;

endpoint parse_endpoint(const std::string& url) {
  std::string rest = url;
  if (rest.starts_with("https://"))
    throw std::invalid_argument("https is not supported by this client: put a TLS proxy in front, or use http://");
  if (rest.starts_with("http://")) rest = rest.substr(7);
  else if (rest.find("://") != std::string::npos)
    throw std::invalid_argument("\"" + url + "\" is not an http:// URL");
  endpoint e;
  const auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  if (slash != std::string::npos) e.prefix = rest.substr(slash);
  while (!e.prefix.empty() && e.prefix.back() == '/') e.prefix.pop_back();
  if (authority.empty()) throw std::invalid_argument("\"" + url + "\" names no host");
  if (authority.find('@') != std::string::npos)
    throw std::invalid_argument("\"" + url + "\": give the token with --token or OVERSEER_TOKEN, not in the URL");
  if (authority.front() == '[') {  // [::1]:8080
    const auto close = authority.find(']');
    if (close == std::string::npos) throw std::invalid_argument("\"" + url + "\": unclosed [");
    e.host = authority.substr(1, close - 1);
    const auto after = authority.substr(close + 1);
    e.port = after.starts_with(":") ? after.substr(1) : "80";
  } else {
    const auto colon = authority.rfind(':');
    e.host = authority.substr(0, colon);
    e.port = colon == std::string::npos ? "80" : authority.substr(colon + 1);
  }
  if (e.host.empty()) throw std::invalid_argument("\"" + url + "\" names no host");
  if (e.port.empty() || e.port.find_first_not_of("0123456789") != std::string::npos || e.port.size() > 5 ||
      std::stoi(e.port) > 65535 || std::stoi(e.port) == 0)
    throw std::invalid_argument("\"" + url + "\": the port must be a number from 1 to 65535");
  return e;
}

api_client::api_client(endpoint where, std::string token, std::chrono::milliseconds deadline)
  : where_(std::move(where)), token_(std::move(token)), deadline_(deadline) {}

std::string seconds_text(std::chrono::milliseconds wait) {
  const auto ms = wait.count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
  std::string text = std::to_string(ms / 1000) + "." + std::to_string(1000 + ms % 1000).substr(1);
  while (text.back() == '0') text.pop_back();
  return text + " s";
}

std::string host_field(const endpoint& e) {
  const bool v6 = e.host.find(':') != std::string::npos;
  const std::string host = v6 ? "[" + e.host + "]" : e.host;
  return e.port == "80" ? host : host + ":" + e.port;
}

http_answer api_client::request(const std::string& method, const std::string& target, const std::string& body) {
  // Asynchronous operations run to completion one at a time: a
  // tcp_stream's deadline (expires_after) bounds only those, never a
  // blocking call, which would wait for a silent server forever.
  net::io_context ioc;
  beast::tcp_stream stream{ioc};
  tcp::resolver resolver{ioc};
  const std::string where = where_.host + ":" + where_.port;
  beast::error_code ec;
  const auto addresses = resolver.resolve(where_.host, where_.port, ec);
  if (ec) throw unreachable("cannot resolve " + where_.host + ": " + ec.message());
  const auto run = [&] {
    ioc.restart();
    ioc.run();
  };
  const std::string within = "within " + seconds_text(deadline_) + " (--request-timeout)";
  stream.expires_after(deadline_);
  stream.async_connect(addresses, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
  run();
  if (ec == beast::error::timeout) throw unreachable("cannot connect to " + where + ": no answer " + within);
  if (ec) throw unreachable("cannot connect to " + where + ": " + ec.message());

  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), where_.prefix + target, 11};
  req.set(bhttp::field::host, host_field(where_));
  req.set(bhttp::field::user_agent, "overseer-cli");
  req.set(bhttp::field::accept, "application/json, application/problem+json");
  req.set(bhttp::field::connection, "close");
  if (!token_.empty()) req.set(bhttp::field::authorization, "Bearer " + token_);
  if (!body.empty()) {
    req.set(bhttp::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();
  stream.expires_after(deadline_);
  bhttp::async_write(stream, req, [&](beast::error_code e, std::size_t) { ec = e; });
  run();
  if (ec == beast::error::timeout) throw unreachable("cannot send to " + where + ": no progress " + within);
  if (ec) throw unreachable("cannot send to " + where + ": " + ec.message());

  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);  // a large result or log page, but not unbounded
  stream.expires_after(deadline_);
  bhttp::async_read(stream, buffer, parser, [&](beast::error_code e, std::size_t) { ec = e; });
  run();
  if (ec == beast::error::timeout) throw unreachable("no answer from " + where + " " + within);
  if (ec) throw unreachable("no answer from " + where + ": " + ec.message());
  auto& res = parser.get();
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);  // closing anyway; the answer is read
  return {.status = res.result_int(),
          .content_type = std::string{res[bhttp::field::content_type]},
          .body = std::move(res.body())};
}

std::string url_encode(const std::string& s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace overseer::cli
