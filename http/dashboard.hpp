// Serving the dashboard: GET / (index.html) and GET /assets/{build}/{name}.
//
// Pure: the answer depends only on the request and the embedded assets.
// index.html is revalidated on every load (no-cache with an ETag); an asset's
// URL names the build, so it never changes and is cached for a year. Every
// answer carries the Content-Security-Policy: scripts, styles and
// connections from this origin only (plus its ws:/wss: twin for the stream),
// nothing inline.
#pragma once

#include <string>
#include <string_view>

#include "http/api.hpp"

namespace overseer::http {

/// The answer to a dashboard route (route_id::dashboard or dashboard_asset);
/// serve_dashboard (api.hpp) sends it.
[[nodiscard]] response dashboard_response(const call& c);

/// "text/javascript; charset=utf-8" for "app.js"; by extension.
[[nodiscard]] std::string_view content_type_of(std::string_view name);

/// The policy for a page served to `host` (the request's Host header); a
/// host that is not a plain host[:port] adds no ws: source.
[[nodiscard]] std::string content_security_policy(std::string_view host);

}  // namespace overseer::http
