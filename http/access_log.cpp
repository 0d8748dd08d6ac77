#include "http/access_log.hpp"

#include <string_view>

#include "http/ops_context.hpp"
#include "tools/trace_context.hpp"

namespace overseer::http {

namespace {

std::string millis(std::chrono::steady_clock::duration d) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  return std::to_string(us / 1000) + "." + std::to_string(us % 1000 / 100);
}

}  // namespace

std::string principal_of(const server_config& config, const request& req) {
  if (config.tokens.empty() && config.principals.empty()) return "anonymous";
  const auto field = req[bhttp::field::authorization];
  const std::string_view auth{field.data(), field.size()};
  if (auth.size() < 7 || !boost::beast::iequals(auth.substr(0, 7), "Bearer ")) return "none";  // as identify()
  const auto token = auth.substr(7);
  std::size_t found = 0;
  for (std::size_t i = 0; i < config.tokens.size(); ++i) {
    // The same comparison for every token: the timing tells nothing.
    const auto& t = config.tokens[i];
    unsigned char diff = t.size() == token.size() ? 0 : 1;
    for (std::size_t j = 0; j < token.size(); ++j)
      diff |= static_cast<unsigned char>(token[j] ^ t[j < t.size() ? j : 0]);
    if (diff == 0 && found == 0) found = i + 1;
  }
  return found ? "token:" + std::to_string(found) : "none";
}

access_probe::access_probe(api_context& ctx, const request& req, const std::string& peer)
  : ctx_(ctx), method_(req.method_string()), peer_(peer) {
  const auto target = req.target();
  path_.assign(target.data(), std::min<std::size_t>(target.size(), target.find('?')));
  if (ctx_.ops && ctx_.ops->log) {
    principal_ = principal_of(ctx_.config, req);
    // A request that carries a W3C trace is logged under its trace id, so a
    // trace can be followed from the web front into the daemon's log.
    if (auto h = req.find("traceparent"); h != req.end())
      if (auto reading = tools::parse_traceparent(h->value()); reading.trace_id) trace_id_ = *reading.trace_id;
  }
}

void access_probe::done(const response& res) { done(res.result_int(), res.body().size()); }

void access_probe::done(unsigned status, std::uint64_t bytes) {
  if (!ctx_.ops) return;
  const auto took = std::chrono::steady_clock::now() - started_;
  ctx_.ops->http.request_done(route, status, took);
  if (!ctx_.ops->log) return;
  std::string template_text = "unmatched";
  if (route)
    for (const auto& r : routes())
      if (r.id == *route) template_text = r.pattern;
  std::vector<std::pair<std::string_view, std::string>> fields{{"method", method_},
                                                               {"route", std::move(template_text)},
                                                               {"path", path_},
                                                               {"status", std::to_string(status)},
                                                               {"bytes", std::to_string(bytes)},
                                                               {"duration_ms", millis(took)},
                                                               {"peer", peer_},
                                                               {"principal", principal_}};
  if (!trace_id_.empty()) fields.emplace_back("trace_id", trace_id_);
  report(ctx_.ops->log, log_level::info, "http", "request", std::move(fields));
}

void stream_tally::opened(const request& upgrade, std::string peer) {
  opened_ = true;
  started_ = std::chrono::steady_clock::now();
  peer_ = std::move(peer);
  if (!ctx_.ops) return;
  ctx_.ops->http.ws_sessions.add();
  if (ctx_.ops->log) principal_ = principal_of(ctx_.config, upgrade);
}

void stream_tally::frames_sent(std::uint64_t n) {
  if (n == 0) return;
  frames_ += n;
  if (ctx_.ops) ctx_.ops->http.ws_frames_sent.add(n);
}

void stream_tally::coalesced() {
  if (ctx_.ops) ctx_.ops->http.ws_coalesced.add();
}

void stream_tally::laggard() {
  if (ctx_.ops) ctx_.ops->http.ws_laggards.add();
}

stream_tally::~stream_tally() {
  if (!opened_ || !ctx_.ops || !ctx_.ops->log) return;
  // The principal of a browser's ?access_token= is not looked up: "query".
  report(ctx_.ops->log, log_level::info, "http", "websocket session",
         {{"method", "GET"},
          {"route", "/v1/stream"},
          {"status", "101"},
          {"frames", std::to_string(frames_)},
          {"close_code", std::to_string(close_code_)},
          {"duration_ms", millis(std::chrono::steady_clock::now() - started_)},
          {"peer", peer_},
          {"principal", !named_.empty() ? named_ : principal_ == "none" ? "query" : principal_}});
}

}  // namespace overseer::http
