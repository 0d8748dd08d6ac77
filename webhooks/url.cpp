#include "webhooks/url.hpp"

#include <algorithm>
#include <cctype>

#include "overseer/webhooks.hpp"

namespace overseer::webhooks {

namespace {

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

bool host_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
}

}  // namespace

std::optional<url_parts> parse_url(std::string_view url, std::string& why) {
  if (url.empty()) {
    why = "must not be empty";
    return std::nullopt;
  }
  if (url.size() > 2048) {
    why = "is longer than 2048 bytes";
    return std::nullopt;
  }
  for (char c : url)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || static_cast<unsigned char>(c) >= 0x80) {
      why = "must not contain spaces, control characters or non-ASCII bytes (percent-encode them)";
      return std::nullopt;
    }
  url_parts out;
  std::string_view rest;
  if (url.size() >= 7 && iequals(url.substr(0, 7), "http://")) {
    rest = url.substr(7);
  } else if (url.size() >= 8 && iequals(url.substr(0, 8), "https://")) {
    out.tls = true;
    rest = url.substr(8);
  } else {
    why = "must be an http:// or https:// URL";
    return std::nullopt;
  }
  if (auto hash = rest.find('#'); hash != std::string_view::npos) {
    why = "must not have a fragment (#...)";
    return std::nullopt;
  }
  const auto end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, end);
  std::string_view target = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
  if (authority.find('@') != std::string_view::npos) {
    why = "must not carry user information (user@host)";
    return std::nullopt;
  }
  std::string_view host, port;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) {
      why = "has an unclosed [ in its host";
      return std::nullopt;
    }
    host = authority.substr(1, close - 1);
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        why = "has characters after its [host]";
        return std::nullopt;
      }
      port = after.substr(1);
      if (port.empty()) {
        why = "has an empty port";
        return std::nullopt;
      }
    }
    if (host.empty() || !std::all_of(host.begin(), host.end(), [](char c) {
          return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
        })) {
      why = "has an invalid IPv6 host";
      return std::nullopt;
    }
  } else {
    const auto colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) {
        why = "has an empty port";
        return std::nullopt;
      }
    }
    if (host.empty()) {
      why = "has no host";
      return std::nullopt;
    }
    if (!std::all_of(host.begin(), host.end(), host_char)) {
      why = "has an invalid host";
      return std::nullopt;
    }
  }
  if (!port.empty()) {
    unsigned long n = 0;
    if (port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        (n = std::stoul(std::string{port})) == 0 || n > 65535) {
      why = "has an invalid port (1-65535)";
      return std::nullopt;
    }
  }
  out.host = std::string{host};
  out.port = port.empty() ? (out.tls ? "443" : "80") : std::string{port};
  out.target = target.empty() ? "/" : (target.front() == '?' ? "/" + std::string{target} : std::string{target});
  return out;
}

bool host_allowed(std::string_view host, const std::vector<std::string>& allow) {
  return std::any_of(allow.begin(), allow.end(), [&](const std::string& a) { return iequals(a, host); });
}

}  // namespace overseer::webhooks

namespace overseer {

std::optional<event_kind> parse_event_kind(std::string_view s) noexcept {
  if (s == "transition") return event_kind::transition;
  if (s == "progress") return event_kind::progress;
  if (s == "log") return event_kind::log;
  return std::nullopt;
}

std::optional<std::string> check_webhook_url(std::string_view url) {
  std::string why;
  if (!webhooks::parse_url(url, why)) return why;
  return std::nullopt;
}

std::optional<std::string> check_webhook_url(std::string_view url, const std::vector<std::string>& allow) {
  std::string why;
  auto parts = webhooks::parse_url(url, why);
  if (!parts) return why;
  if (!webhooks::host_allowed(parts->host, allow))
    return allow.empty() ? "names host \"" + parts->host + "\", and this server allows no webhook hosts (--webhook-allow)"
                         : "names host \"" + parts->host + "\", which is not on the server's webhook allow-list";
  return std::nullopt;
}

}  // namespace overseer
