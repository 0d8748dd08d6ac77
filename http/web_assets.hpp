// The dashboard's files (web/), embedded in the binary at build time by
// cmake/embed_web.cmake: nothing is read from disk or the network at run
// time.
#pragma once

#include <span>
#include <string_view>

namespace overseer::http {

struct web_asset {
  std::string_view name;  ///< file name under web/, e.g. "app.js"
  std::string_view etag;  ///< quoted strong validator: a hash of the bytes
  std::string_view body;
};

/// Every file of web/, index.html first (its asset URLs filled in).
[[nodiscard]] std::span<const web_asset> web_assets();
/// A hash of every asset but index.html: the <build> of /assets/<build>/<name>.
[[nodiscard]] std::string_view web_build_id();

}  // namespace overseer::http
