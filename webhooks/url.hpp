// Webhook URLs: what a receiver's address may be, and the allow-list.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace overseer::webhooks {

/// A receiver's address, split for the HTTP client.
struct url_parts {
  bool tls = false;          ///< https
  std::string host;          ///< without brackets for an IPv6 literal
  std::string port;          ///< "80" / "443" when the URL names none
  std::string target;        ///< path and query, "/" at least
};

/// Parses http://HOST[:PORT][/PATH][?QUERY] (https too; the scheme in any
/// case, no user info, no fragment, no spaces or control characters, at most
/// 2048 bytes). nullopt with `why` set when it is not one.
[[nodiscard]] std::optional<url_parts> parse_url(std::string_view url, std::string& why);

/// Whether `host` is on `allow` (exact, ASCII case-insensitive).
[[nodiscard]] bool host_allowed(std::string_view host, const std::vector<std::string>& allow);

}  // namespace overseer::webhooks
