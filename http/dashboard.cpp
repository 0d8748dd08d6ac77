#include "http/dashboard.hpp"

#include <algorithm>

#include "http/web_assets.hpp"

namespace overseer::http {

namespace {

constexpr std::string_view index_name = "index.html";

const web_asset* find_asset(std::string_view name) {
  const auto assets = web_assets();
  const auto it = std::find_if(assets.begin(), assets.end(), [&](const web_asset& a) { return a.name == name; });
  return it == assets.end() ? nullptr : &*it;
}

// Host header characters that can be echoed into a header safely: a DNS
// name, an IPv4 or bracketed IPv6 address, and a port.
bool plain_host(std::string_view host) {
  if (host.empty() || host.size() > 255) return false;
  return std::all_of(host.begin(), host.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
           ch == '-' || ch == ':' || ch == '[' || ch == ']';
  });
}

// If-None-Match names this asset's ETag (or "*"): the browser's copy is current.
bool fresh(const request& req, std::string_view etag) {
  const auto field = req[bhttp::field::if_none_match];
  const std::string_view wanted{field.data(), field.size()};
  if (wanted == "*") return true;
  for (std::size_t start = 0; start < wanted.size();) {
    auto end = wanted.find(',', start);
    if (end == std::string_view::npos) end = wanted.size();
    auto tag = wanted.substr(start, end - start);
    while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
    if (tag.starts_with("W/")) tag.remove_prefix(2);  // weak comparison (RFC 9110 13.1.2)
    if (tag == etag) return true;
    start = end + 1;
  }
  return false;
}

void secure(response& res, std::string_view host) {
  res.set("Content-Security-Policy", content_security_policy(host));
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "no-referrer");
  res.set("X-Frame-Options", "DENY");
}

}  // namespace

std::string_view content_type_of(std::string_view name) {
  const auto dot = name.rfind('.');
  const auto ext = dot == std::string_view::npos ? std::string_view{} : name.substr(dot + 1);
  if (ext == "html") return "text/html; charset=utf-8";
  if (ext == "js") return "text/javascript; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  if (ext == "svg") return "image/svg+xml";
  if (ext == "png") return "image/png";
  if (ext == "json") return "application/json";
  return "application/octet-stream";
}

std::string content_security_policy(std::string_view host) {
  // 'self' covers same-origin WebSockets in current browsers, not in older
  // ones: the ws: and wss: origins of the page's own host are named too.
  std::string connect = "'self'";
  if (plain_host(host)) {
    connect += " ws://" + std::string{host};
    connect += " wss://" + std::string{host};
  }
  return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src " +
         connect + "; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
}

response dashboard_response(const call& c) {
  const auto version = c.req.version();
  const bool keep_alive = c.req.keep_alive();
  const auto host_field = c.req[bhttp::field::host];
  const std::string_view host{host_field.data(), host_field.size()};

  const web_asset* asset = nullptr;
  if (c.route == route_id::dashboard) {
    asset = find_asset(index_name);
  } else {
    const auto& build = c.params.at("build");
    const auto& name = c.params.at("name");
    // Only the current build is served: an old build's URL must not get
    // today's bytes under a year-long cache lifetime.
    if (build == web_build_id() && name != index_name) asset = find_asset(name);
    if (!asset) {
      auto res = problem_response(404, "no dashboard asset " + name + " in build " + build + " (this build is " +
                                         std::string{web_build_id()} + ")",
                                  version, keep_alive);
      secure(res, host);
      return res;
    }
  }

  const bool is_index = c.route == route_id::dashboard;
  response res{fresh(c.req, asset->etag) ? bhttp::status::not_modified : bhttp::status::ok, version};
  res.set(bhttp::field::etag, asset->etag);
  res.set(bhttp::field::cache_control, is_index ? "no-cache" : "public, max-age=31536000, immutable");
  secure(res, host);
  if (res.result() == bhttp::status::ok) {
    res.set(bhttp::field::content_type, content_type_of(asset->name));
    res.body().assign(asset->body.data(), asset->body.size());
    res.prepare_payload();
  }
  res.keep_alive(keep_alive);
  return res;
}

void serve_dashboard(api_context&, const call& c, const replier& r) { r.send(dashboard_response(c)); }

}  // namespace overseer::http
