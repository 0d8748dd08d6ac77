// overseerd: the Overseer daemon. An engine on a data directory, the
// built-in tools plus any from a tools file, and the HTTP/WebSocket API.
//
// Settings come from, lowest first: defaults, --config FILE (JSON, with //
// and /* */ comments), the
// OVERSEER_* environment, command-line flags. Prints
// "overseerd listening on http://HOST:PORT" once it accepts connections;
// SIGTERM or SIGINT stop it cleanly (exit 0), interrupting running jobs,
// which resume at the next start. When the store fails (a write, a RocksDB
// background job, or free space below --min-free-space) it keeps answering
// 503 for a short drain, then stops and exits 3, for a supervisor to restart
// it; recovery takes over.
#include <algorithm>
#include <chrono>
#include <array>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <variant>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cstddef>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/json/parse.hpp>

#include "logging/line_logger.hpp"
#include "metrics/process_metrics.hpp"
#include "persistence/crc32c.hpp"
#include "overseer/engine.hpp"
#include "http/json_mapping.hpp"
#include "overseer/http/server.hpp"
#include "tools/did_you_mean.hpp"
#include "tools/builtin_tools.hpp"
#include "tools/exec_tool.hpp"
#include "actors/cluster.hpp"
#include "actors/worker_node.hpp"

namespace {

struct settings {
  overseer::engine_config engine;
  overseer::http::server_config http;
  std::string tools_file;
  /// The principals (--tokens FILE), read at start and again on SIGHUP.
  std::string tokens_file;
  overseer::log_level log_level = overseer::log_level::info;
  overseer::logging::line_logger::format log_format = overseer::logging::line_logger::format::text;
  /// How long a SIGTERM waits for running attempts before interrupting them.
  int drain_timeout_s = 30;
  /// The webhook signing secret's file (--webhook-secret-file), read at start.
  std::string webhook_secret_file;
  /// --worker: a worker node of the cluster at `join` (docs/cluster.md).
  bool worker = false;
  std::string join;
  /// --capacity: attempts this node runs at once (worker or scheduler node).
  std::optional<int> capacity;
  /// --work-dir: where a worker's attempts work (its scratch root's parent).
  std::string work_dir;
};

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr, "overseerd: %s\nrun 'overseerd --help' for the options\n", message.c_str());
  std::exit(2);
}

constexpr const char* help = R"(usage: overseerd [options]
  --data-dir DIR          where jobs are stored          (OVERSEER_DATA_DIR, default ./overseer-data)
  --listen HOST:PORT      address to serve on; port 0 picks a free one
                                                         (OVERSEER_LISTEN, default 127.0.0.1:8080)
  --tools FILE            external tools (JSON)          (OVERSEER_TOOLS, default none)
  --max-concurrent N      jobs running at once           (OVERSEER_MAX_CONCURRENT, default: cores)
  --immediate-concurrent N  jobs of immediate tools running at once, beside max-concurrent
                                                         (OVERSEER_IMMEDIATE_CONCURRENT, default: cores)
  --max-wait S            longest ?wait= a request may ask for, seconds
                                                         (OVERSEER_MAX_WAIT, default 300)
  --immediate-wait S      how long a submit of an immediate tool waits by default, seconds
                                                         (OVERSEER_IMMEDIATE_WAIT, default 30)
  --config FILE           JSON file, // and /* */ comments allowed, with any of: data_dir,
                          listen, tools, max_concurrent, tokens, tokens_file, allow_insecure, body_limit, max_file_size,
                          stream_queue_limit, stream_write_delay_ms, min_free_space, stream_message_limit,
                          header_timeout, body_timeout, idle_timeout, max_connections,
                          max_streams, log_level, log_format, drain_timeout, metrics,
                          immediate_concurrent, max_wait, immediate_wait, idle_spin_us, finished_cache
  --token TOKEN           require this bearer token, an admin's (repeatable)
                                                         (OVERSEER_TOKENS, comma-separated)
  --tokens FILE           principals (JSON): name, role admin|user|reader, token_sha256, weight,
                          quotas; reloaded on SIGHUP     (OVERSEER_TOKENS_FILE, default none)
  --allow-insecure        allow a non-loopback address without tokens  (OVERSEER_ALLOW_INSECURE=1)
  --body-limit BYTES      largest request body           (OVERSEER_BODY_LIMIT, default 1048576)
  --max-file-size SIZE    largest file POST /v1/files takes (body-limit does not apply to it);
                          SIZE as for --min-free-space   (OVERSEER_MAX_FILE_SIZE, default 10G)
  --stream-queue-limit N  messages a WebSocket client may fall behind before it is closed
                                                         (OVERSEER_STREAM_QUEUE_LIMIT, default 10000)
  --min-free-space SIZE   free space the data directory's file system must keep; below it the
                          daemon does not start, or stops taking work and exits 3. SIZE is bytes
                          or a number with K, M, G or T (binary: 64M = 64 MiB); 0 turns it off
                                                         (OVERSEER_MIN_FREE_SPACE, default 64M)
  --finished-cache SIZE   finished jobs' answers to GET /v1/jobs/{id} kept rendered until the job
                          changes; SIZE as for --min-free-space, 0 off (OVERSEER_FINISHED_CACHE, default 32M)
  --stream-write-delay-ms MS  how long a WebSocket client's live events wait, so that the events
                          of the next MS leave in the same write: less CPU per event on both ends
                          with thousands of clients, MS more latency; 0 writes at once, at most 1000
                                                         (OVERSEER_STREAM_WRITE_DELAY_MS, default 0)
  --stream-message-limit BYTES  largest message a WebSocket client may send
                                                         (OVERSEER_STREAM_MESSAGE_LIMIT, default 65536)
  --header-timeout S      seconds from a request's first byte to the end of its headers
                                                         (OVERSEER_HEADER_TIMEOUT, default 30)
  --body-timeout S        seconds from the end of the headers to the end of the body
                                                         (OVERSEER_BODY_TIMEOUT, default 60)
  --idle-timeout S        seconds an idle keep-alive connection stays open, and a response
                          may take to be accepted    (OVERSEER_IDLE_TIMEOUT, default 60)
  --max-connections N     connections open at once (HTTP and WebSocket)
                                                         (OVERSEER_MAX_CONNECTIONS, default 1024)
  --max-streams N         WebSocket sessions open at once (OVERSEER_MAX_STREAMS, default 1024)
  --log-level LEVEL       debug, info, warning, error or critical; debug adds every job transition
                                                         (OVERSEER_LOG_LEVEL, default info)
  --log-format FORMAT     text or json: one line per record on stderr
                                                         (OVERSEER_LOG_FORMAT, default text)
  --drain-timeout S       on SIGTERM/SIGINT, seconds to wait for running jobs before
                          interrupting them (they resume at the next start)
                                                         (OVERSEER_DRAIN_TIMEOUT, default 30)
  --idle-spin-us US       microseconds an idle engine or I/O thread polls for work, yielding the CPU,
                          before it sleeps, while fewer jobs wait than there are slots: less
                          latency one request at a time, more CPU at light load; 0: sleep at once
                                                         (OVERSEER_IDLE_SPIN_US, default 50)
  --metrics true|false    count jobs for GET /metrics (false: only HTTP and process figures)
                                                         (OVERSEER_METRICS, default true)
  --webhook URL           POST every job's events to URL too (http or https)
                                                         (OVERSEER_WEBHOOK, default none)
  --webhook-events LIST   what --webhook receives: transition,progress,log
                                                         (OVERSEER_WEBHOOK_EVENTS, default transition)
  --webhook-secret-file FILE  key of the Overseer-Signature header (HMAC-SHA256 of the body)
                                                         (OVERSEER_WEBHOOK_SECRET_FILE, default none)
  --webhook-allow HOSTS   hosts a job's notify.url may name, comma-separated
                                                         (OVERSEER_WEBHOOK_ALLOW, default none)
  --webhook-max-attempts N  attempts of one delivery before it is given up
                                                         (OVERSEER_WEBHOOK_MAX_ATTEMPTS, default 10)
  --webhook-timeout S     seconds one delivery attempt may take (OVERSEER_WEBHOOK_TIMEOUT, default 10)
  --webhook-backoff-ms MS wait before a delivery's second attempt, doubled per attempt with jitter
                                                         (OVERSEER_WEBHOOK_BACKOFF_MS, default 1000)
  --webhook-max-backoff-ms MS  longest wait between two attempts
                                                         (OVERSEER_WEBHOOK_MAX_BACKOFF_MS, default 600000)
  --webhook-concurrency N deliveries in flight at once (OVERSEER_WEBHOOK_CONCURRENCY, default 8)
cluster (docs/cluster.md):
  --cluster-listen HOST:PORT  accept worker nodes here; port 0 picks a free one; a non-loopback
                          address needs the three --cluster-* TLS files (OVERSEER_CLUSTER_LISTEN)
  --worker                run as a worker node: no data dir, no HTTP; needs --join
  --join HOST:PORT        the scheduler node's cluster address (OVERSEER_JOIN)
  --capacity N            attempts this node runs at once; 0: none here
                          (OVERSEER_CAPACITY, default: max-concurrent on the scheduler node, 1 on a worker)
  --node-name NAME        this node's name            (OVERSEER_NODE_NAME, default: the host name)
  --node-label K=V        a label of this node (repeatable; OVERSEER_NODE_LABEL: comma-separated)
  --cluster-cert FILE     this node's certificate chain (PEM) for mutual TLS (OVERSEER_CLUSTER_CERT)
  --cluster-key FILE      its private key (PEM)       (OVERSEER_CLUSTER_KEY)
  --cluster-ca FILE       the CA every node's certificate must chain to (OVERSEER_CLUSTER_CA)
  --heartbeat-timeout MS  a node silent this long is lost (OVERSEER_HEARTBEAT_TIMEOUT, default 5000)
  --work-dir DIR          a worker's scratch: its attempts work in DIR/overseer-worker-PID/JOB_ID/ATTEMPT,
                          DIR made if missing (OVERSEER_WORK_DIR, default $TMPDIR, else /tmp)
repair (docs/operations.md):
  --salvage-store         open a store whose write-ahead log is damaged in its middle by replaying
                          it up to the damage and dropping the rest; without it such a store is
                          refused. For one start after a disk fault, never a standing setting
  --version               the version, then exit
  --help                  this text
)";

/// Exit status after a fail-stop of the store.
constexpr int exit_store_failed = 3;
/// How long a failed daemon keeps answering (503, unhealthy) before it
/// stops: long enough for answers in flight to go out.
constexpr std::time_t fail_stop_drain_s = 2;

int to_int(const std::string& what, const std::string& v, long min, long max) {
  try {
    std::size_t used = 0;
    const long n = std::stol(v, &used);
    if (used == v.size() && n >= min && n <= max) return static_cast<int>(n);
  } catch (const std::exception&) {
  }
  usage_error(what + " must be a whole number from " + std::to_string(min) + " to " + std::to_string(max) +
              ", not \"" + v + "\"");
}

/// "64M", "64m", "64MiB", "1G", "65536": bytes, binary units.
std::uint64_t to_bytes(const std::string& what, const std::string& v) {
  std::size_t used = 0;
  unsigned long long n = 0;
  try {
    if (!v.empty() && v[0] >= '0' && v[0] <= '9') n = std::stoull(v, &used);
  } catch (const std::exception&) {
    used = 0;  // out of range
  }
  std::string unit = v.substr(used);
  if (unit.size() == 3 && unit.ends_with("iB")) unit.resize(1);
  if (unit.size() == 1) unit[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(unit[0])));
  const int shift = unit.empty() ? 0 : unit == "K" ? 10 : unit == "M" ? 20 : unit == "G" ? 30 : unit == "T" ? 40 : -1;
  if (used == 0 || shift < 0 || n > (~0ull >> shift))
    usage_error(what + " must be bytes or a number with K, M, G or T (e.g. 64M), not \"" + v + "\"");
  return static_cast<std::uint64_t>(n) << shift;
}

void add_token(settings& s, const std::string& token, const std::string& source) {
  if (token.empty()) usage_error(source + ": a bearer token must not be empty");
  s.http.tokens.push_back(token);
}

// Every setting, by its config-file key. Its flag is "--" + the key with
// '-' for '_', its environment variable "OVERSEER_" + the key in capitals.
constexpr std::array setting_keys{"data_dir",      "listen",         "tools",          "max_concurrent",
                                  "tokens",        "allow_insecure", "body_limit",     "stream_queue_limit",
                                  "min_free_space", "stream_message_limit", "header_timeout", "body_timeout",
                                  "idle_timeout",  "max_connections", "max_streams", "log_level",
                                  "log_format",    "drain_timeout", "metrics", "tokens_file",
                                  "immediate_concurrent", "max_wait", "immediate_wait",
                                  "webhook", "webhook_events", "webhook_secret_file", "webhook_allow",
                                  "webhook_max_attempts", "webhook_timeout", "webhook_backoff_ms",
                                  "webhook_max_backoff_ms", "webhook_concurrency", "max_file_size",
                                  "cluster_listen", "join", "capacity", "node_name", "node_label",
                                  "cluster_cert", "cluster_key", "cluster_ca", "heartbeat_timeout",
                                  "idle_spin_us", "finished_cache", "stream_write_delay_ms", "work_dir"};

std::string flag_of(std::string_view key) {
  std::string f = "--" + std::string(key);
  std::replace(f.begin(), f.end(), '_', '-');
  return f;
}

std::string env_of(std::string_view key) {
  std::string e = "OVERSEER_" + std::string(key);
  for (auto& c : e) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return e;
}

/// " (did you mean X?)" when X is a plausible typo of `name`, else "".
template <class Names>
std::string suggestion(std::string_view name, const Names& names) {
  const auto near = overseer::tools::nearest_name(name, names);
  return near.empty() ? "" : " (did you mean " + near + "?)";
}

/// The webhook_* settings (docs/operations.md, "Webhooks").
void set_webhook(settings& s, const std::string& key, const std::string& value) {
  auto& w = s.engine.webhooks;
  auto list = [](const std::string& v) {
    std::vector<std::string> out;
    std::stringstream in{v};
    for (std::string item; std::getline(in, item, ',');)
      if (!item.empty()) out.push_back(item);
    return out;
  };
  if (key == "webhook") {
    if (auto bad = overseer::check_webhook_url(value)) usage_error("webhook \"" + value + "\" " + *bad);
    w.url = value;
  } else if (key == "webhook_events") {
    w.events = {false, false, false};
    for (const auto& e : list(value)) {
      const auto kind = overseer::parse_event_kind(e);
      if (!kind) usage_error("webhook_events: \"" + e + "\" is not transition, progress or log");
      if (*kind == overseer::event_kind::transition) w.events.transition = true;
      else if (*kind == overseer::event_kind::progress) w.events.progress = true;
      else w.events.log = true;
    }
    if (!w.events.transition && !w.events.progress && !w.events.log)
      usage_error("webhook_events must name transition, progress or log");
  } else if (key == "webhook_secret_file") s.webhook_secret_file = value;
  else if (key == "webhook_allow") w.allow = list(value);
  else if (key == "webhook_max_attempts") w.max_attempts = to_int("webhook_max_attempts", value, 1, 1000);
  else if (key == "webhook_timeout") w.timeout = std::chrono::seconds(to_int("webhook_timeout", value, 1, 600));
  else if (key == "webhook_backoff_ms")
    w.initial_backoff = std::chrono::milliseconds(to_int("webhook_backoff_ms", value, 1, 86'400'000));
  else if (key == "webhook_max_backoff_ms")
    w.max_backoff = std::chrono::milliseconds(to_int("webhook_max_backoff_ms", value, 1, 86'400'000));
  else if (key == "webhook_concurrency") w.concurrency = to_int("webhook_concurrency", value, 1, 256);
  else usage_error("unknown setting \"" + key + "\"" + suggestion(key, setting_keys));
}

void set(settings& s, const std::string& key, const std::string& value) {
  if (key == "data_dir") s.engine.data_dir = value;
  else if (key == "listen") s.http.listen = value;
  else if (key == "tools") s.tools_file = value;
  else if (key == "tokens_file") s.tokens_file = value;
  else if (key == "max_concurrent") s.engine.max_concurrent = to_int("max_concurrent", value, 1, 100000);
  else if (key == "immediate_concurrent")
    s.engine.immediate_concurrent = to_int("immediate_concurrent", value, 1, 100000);
  else if (key == "max_wait") s.http.max_wait = std::chrono::seconds(to_int("max_wait", value, 0, 3600));
  else if (key == "idle_spin_us")  // the engine's workers and the I/O threads alike
    s.engine.idle_spin = s.http.idle_spin = std::chrono::microseconds(to_int("idle_spin_us", value, 0, 100000));
  else if (key == "immediate_wait")
    s.http.immediate_wait = std::chrono::seconds(to_int("immediate_wait", value, 0, 3600));
  else if (key == "body_limit") s.http.body_limit = static_cast<std::size_t>(to_int("body_limit", value, 1024, 1 << 30));
  else if (key == "stream_queue_limit")
    s.http.stream_queue_limit = static_cast<std::size_t>(to_int("stream_queue_limit", value, 16, 10'000'000));
  else if (key == "min_free_space") s.engine.min_free_bytes = to_bytes("min_free_space", value);
  else if (key == "finished_cache") s.http.finished_cache_bytes = to_bytes("finished_cache", value);
  else if (key == "max_file_size") {
    s.http.max_file_size = to_bytes("max_file_size", value);
    if (s.http.max_file_size == 0) usage_error("max_file_size must be above 0");
  }
  else if (key == "stream_write_delay_ms")
    s.http.stream_write_delay = std::chrono::milliseconds(to_int("stream_write_delay_ms", value, 0, 1000));
  else if (key == "stream_message_limit")
    s.http.stream_message_limit = static_cast<std::size_t>(to_int("stream_message_limit", value, 1024, 1 << 26));
  else if (key == "header_timeout") s.http.header_timeout = std::chrono::seconds(to_int("header_timeout", value, 1, 3600));
  else if (key == "body_timeout") s.http.body_timeout = std::chrono::seconds(to_int("body_timeout", value, 1, 3600));
  else if (key == "idle_timeout") s.http.idle_timeout = std::chrono::seconds(to_int("idle_timeout", value, 1, 86400));
  else if (key == "max_connections")
    s.http.max_connections = static_cast<std::size_t>(to_int("max_connections", value, 1, 1'000'000));
  else if (key == "max_streams") s.http.max_streams = static_cast<std::size_t>(to_int("max_streams", value, 1, 1'000'000));
  else if (key == "metrics") {
    if (value != "true" && value != "false") usage_error("metrics must be true or false, not \"" + value + "\"");
    s.http.metrics = value == "true";
  } else if (key == "drain_timeout") s.drain_timeout_s = to_int("drain_timeout", value, 0, 86400);
  else if (key == "log_level") {
    const auto l = overseer::logging::line_logger::parse_level(value);
    if (!l)
      usage_error("log_level must be debug, info, warning, error or critical, not \"" + value + "\"" +
                  suggestion(value, std::array{"debug", "info", "warning", "error", "critical"}));
    s.log_level = *l;
  } else if (key == "log_format") {
    const auto f = overseer::logging::line_logger::parse_format(value);
    if (!f) usage_error("log_format must be text or json, not \"" + value + "\"");
    s.log_format = *f;
  } else if (key == "allow_insecure") s.http.allow_insecure = value == "1" || value == "true";
  else if (key == "tokens") {
    // An empty token would let anyone in ("Bearer "): refused, not skipped.
    std::stringstream in{value};
    for (std::string t; std::getline(in, t, ',');) add_token(s, t, "tokens");
    if (!value.empty() && value.back() == ',') add_token(s, "", "tokens");
  } else if (key == "cluster_listen") s.engine.cluster.listen = value;
  else if (key == "join") s.join = value;
  else if (key == "capacity") s.capacity = to_int("capacity", value, 0, 100000);
  else if (key == "work_dir") {
    if (value.empty()) usage_error("work_dir must not be empty");
    s.work_dir = value;
  }
  else if (key == "node_name") {
    if (value.empty() || value.size() > 200) usage_error("node_name must be 1 to 200 bytes");
    s.engine.cluster.node_name = value;
  } else if (key == "node_label") {
    std::stringstream in{value};
    for (std::string l; std::getline(in, l, ',');) {
      const auto eq = l.find('=');
      if (eq == std::string::npos || eq == 0) usage_error("node_label must be KEY=VALUE, not \"" + l + "\"");
      s.engine.cluster.labels[l.substr(0, eq)] = l.substr(eq + 1);
    }
  } else if (key == "cluster_cert") s.engine.cluster.cert_file = value;
  else if (key == "cluster_key") s.engine.cluster.key_file = value;
  else if (key == "cluster_ca") s.engine.cluster.ca_file = value;
  else if (key == "heartbeat_timeout")
    s.engine.cluster.heartbeat_timeout = std::chrono::milliseconds(to_int("heartbeat_timeout", value, 500, 3'600'000));
  else if (key.starts_with("webhook")) set_webhook(s, key, value);
  else usage_error("unknown setting \"" + key + "\"" + suggestion(key, setting_keys));
}

void load_config_file(settings& s, const std::string& path) {
  std::ifstream in{path};
  if (!in) usage_error("cannot read config file " + path);
  std::stringstream text;
  text << in.rdbuf();
  boost::system::error_code ec;
  // JSON with // and /* */ comments, so a config file can say why.
  boost::json::parse_options options;
  options.allow_comments = true;
  auto v = boost::json::parse(text.str(), ec, {}, options);
  if (ec) usage_error("config file " + path + " is not valid JSON: " + ec.message());
  if (!v.is_object()) usage_error("config file " + path + " is not a JSON object");
  for (const auto& [key, value] : v.as_object()) {
    if (value.is_string()) set(s, key, std::string{value.as_string()});
    else if (value.is_bool()) set(s, key, value.as_bool() ? "true" : "false");
    else if (value.is_int64()) set(s, key, std::to_string(value.as_int64()));
    else if (value.is_array() && key == "tokens")
      for (const auto& t : value.as_array()) {
        if (!t.is_string()) usage_error("config file " + path + ": tokens must be strings");
        add_token(s, std::string{t.as_string()}, "config file " + path);
      }
    else usage_error("config file " + path + ": \"" + std::string{key} + "\" has the wrong type");
  }
}

settings parse(int argc, char** argv) {
  settings s;
  s.http.listen = "127.0.0.1:8080";
  // --config first, whatever its position: flags must still win over it.
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string{argv[i]} == "--config") load_config_file(s, argv[i + 1]);
  for (const std::string_view key : setting_keys)
    if (const char* v = std::getenv(env_of(key).c_str()); v && *v) set(s, std::string(key), v);
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage_error(flag + " needs a value");
      return argv[++i];
    };
    if (flag == "--help" || flag == "-h") {
      std::fputs(help, stdout);
      std::exit(0);
    } else if (flag == "--version") {
      std::printf("overseerd %.*s\n", static_cast<int>(overseer::metrics::version().size()),
                  overseer::metrics::version().data());
      std::exit(0);
    } else if (flag == "--config") value();
    else if (flag == "--token") add_token(s, value(), "--token");
    else if (flag == "--tokens") s.tokens_file = value();
    else if (flag == "--allow-insecure") s.http.allow_insecure = true;
    else if (flag == "--worker") s.worker = true;
    else if (flag == "--salvage-store") s.engine.salvage_store = true;
    else if (const auto* key = std::find_if(setting_keys.begin(), setting_keys.end(),
                                            [&](std::string_view k) { return flag_of(k) == flag; });
             key != setting_keys.end() && flag != "--tokens" && flag != "--allow-insecure")
      set(s, *key, value());
    else {
      std::vector<std::string> flags{"--help",   "--version", "--config",       "--token",
                                     "--tokens", "--worker",  "--salvage-store"};
      for (const std::string_view k : setting_keys)
        if (k != "tokens") flags.push_back(flag_of(k));
      usage_error("unknown option " + flag + suggestion(flag, flags));
    }
  }
  return s;
}

/// The principals of a tokens file, or why it cannot be used: every bad
/// field in one message. The message never holds a token or a hash.
std::variant<std::vector<overseer::http::principal>, std::string> read_tokens_file(const std::string& path) {
  std::ifstream in{path};
  if (!in) return "cannot read tokens file " + path;
  std::stringstream text;
  text << in.rdbuf();
  auto file = overseer::http::parse_tokens_file(text.str());
  if (file.errors.empty()) return std::move(file.principals);
  std::string why = "tokens file " + path + ": ";
  for (std::size_t i = 0; i < file.errors.size(); ++i)
    why += (i ? "; " : "") + file.errors[i].field + ": " + file.errors[i].message;
  return why;
}

/// The store's error once it has failed. The engine reports it on its writer
/// thread; main, woken by SIGUSR1, reads it.
struct store_failure {
  std::mutex mutex;
  std::string error;
};

/// systemd's readiness protocol (sd_notify(3)), without libsystemd: one
/// datagram such as "READY=1" to the socket in $NOTIFY_SOCKET (a path, or
/// "@name" for an abstract socket). Nothing when the variable is unset.
void notify_systemd(std::string_view state) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (!path || (path[0] != '/' && path[0] != '@')) return;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::size_t len = std::strlen(path);
  if (len >= sizeof addr.sun_path) return;
  std::memcpy(addr.sun_path, path, len);
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  const auto size = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
  (void)::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&addr), size);
  ::close(fd);
}

/// The graceful stop of a SIGTERM or SIGINT (docs/operations.md, "Stopping"):
/// no new connections, jobs or streams; WebSockets closed with 1001 and the
/// seq to resume from; the answers owed go out; running attempts get up to
/// `timeout_s` to finish while no new one starts. A second signal ends the
/// wait at once. What still runs afterwards is interrupted by engine.stop()
/// and resumes at the next start.
template <class Say>
void drain(overseer::engine& engine, overseer::http::server& http, int timeout_s, const sigset_t& stop_signals,
           Say& say, const char* signal_name) {
  using clock = std::chrono::steady_clock;
  const auto started = clock::now();
  say(overseer::log_level::info, "draining",
      {{"signal", signal_name}, {"drain_timeout_s", std::to_string(timeout_s)}});
  notify_systemd("STOPPING=1");
  http.drain();
  // No attempt starts from now on (in memory only: the next start runs the
  // queue as before; pausing every tool would be stored and outlive it).
  engine.hold_attempts();
  const auto deadline = started + std::chrono::seconds(timeout_s);
  // WebSocket clients get a moment to answer the close frame.
  const auto streams_deadline = started + std::chrono::seconds(2);
  std::size_t running = 0;
  for (;;) {
    const auto stats = engine.stats();
    running = stats.running;
    const auto now = clock::now();
    const bool answered = http.unanswered() == 0;
    const bool streams_closed = http.open_streams() == 0 || now >= streams_deadline;
    if ((answered && streams_closed && running == 0) || now >= deadline) break;
    const timespec poll{0, 50'000'000};
    if (sigtimedwait(&stop_signals, nullptr, &poll) > 0) {
      say(overseer::log_level::warning, "second signal: stopping at once");
      break;
    }
  }
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - started).count();
  say(overseer::log_level::info, "drained",
      {{"duration_ms", std::to_string(took)}, {"interrupted_attempts", std::to_string(running)}});
}

/// The scratch directories (TMP/overseer-worker-PID) of workers that died
/// without removing them (kill -9, a crash, a power cut): a lost attempt
/// resumes from the checkpoint stored on the scheduler node, so what it left
/// here is of no use. Only this user's directories of processes that are gone.
std::vector<std::string> remove_dead_workers_scratch(const std::filesystem::path& tmp) {
  std::vector<std::string> removed;
  std::error_code ec;
  for (std::filesystem::directory_iterator it{tmp, ec}, end; !ec && it != end; it.increment(ec)) {
    const auto name = it->path().filename().string();
    constexpr std::string_view prefix = "overseer-worker-";
    if (!name.starts_with(prefix) || name.size() == prefix.size() || name.size() > prefix.size() + 10) continue;
    const auto digits = std::string_view{name}.substr(prefix.size());
    if (!std::all_of(digits.begin(), digits.end(), [](unsigned char c) { return std::isdigit(c); })) continue;
    const auto pid = std::stol(std::string{digits});
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::geteuid()) continue;
    if (pid <= 0 || pid == ::getpid() || ::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    std::error_code rm;
    std::filesystem::remove_all(it->path(), rm);
    if (!rm) removed.push_back(it->path().string());
  }
  return removed;
}

}  // namespace

/// `overseerd --worker`: a worker node until SIGTERM or SIGINT (docs/cluster.md).
int run_worker(settings& s) {
  if (s.join.empty()) usage_error("--worker needs --join HOST:PORT");
  overseer::logging::line_logger log{STDERR_FILENO, s.log_level, s.log_format};
  overseer::actors::worker_node_config c;
  c.join = s.join;
  c.capacity = s.capacity.value_or(1);
  c.name = s.engine.cluster.node_name;
  c.labels = s.engine.cluster.labels;
  c.cert_file = s.engine.cluster.cert_file;
  c.key_file = s.engine.cluster.key_file;
  c.ca_file = s.engine.cluster.ca_file;
  c.heartbeat_timeout = s.engine.cluster.heartbeat_timeout;
  std::error_code ec;
  const std::filesystem::path parent =
    s.work_dir.empty() ? std::filesystem::temp_directory_path(ec) : std::filesystem::absolute(s.work_dir, ec);
  c.work_dir = parent / ("overseer-worker-" + std::to_string(::getpid()));
  c.log = log.sink();
  // Made now, so that a directory it cannot write is refused at start, not
  // by every attempt's failure.
  if (!ec) std::filesystem::create_directories(c.work_dir, ec);
  if (ec) {
    std::fprintf(stderr, "overseerd: cannot make the worker's scratch %s: %s\n", c.work_dir.c_str(),
                 ec.message().c_str());
    return 1;
  }
  for (const auto& dir : remove_dead_workers_scratch(parent))
    overseer::report(c.log, overseer::log_level::info, "overseerd", "removed the scratch of a worker that is gone",
                     {{"path", dir}});
  bool first = true;
  c.on_joined = [&first, &s](std::uint64_t session) {
    // A line for scripts and tests, like the scheduler node's listening line.
    std::printf("overseerd worker %s %s %s (session %llu)\n", s.engine.cluster.node_name.c_str(),
                first ? "joined" : "rejoined", s.join.c_str(), static_cast<unsigned long long>(session));
    std::fflush(stdout);
    first = false;
  };
  if (c.name.empty()) c.name = s.engine.cluster.node_name = overseer::actors::host_name();
  overseer::tool_registry tools;
  overseer::tools::register_builtin_tools(tools);
  if (!s.tools_file.empty()) overseer::tools::register_tools_file(tools, s.tools_file);
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::atomic<bool> stop{false};
  std::thread waiter{[&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    stop = true;
  }};
  try {
    overseer::actors::run_worker_node(c, tools, stop);
  } catch (const overseer::error& e) {
    log.flush();  // its lines first, then this one
    std::fprintf(stderr, "overseerd: %s\n", e.what());
    ::kill(::getpid(), SIGTERM);  // ends the waiter
    waiter.join();
    return 1;
  }
  waiter.join();
  std::filesystem::remove_all(c.work_dir, ec);
  overseer::report(log.sink(), overseer::log_level::info, "overseerd", "worker stopped");
  return 0;
}

int main(int argc, char** argv) {
  auto s = parse(argc, argv);
  if (s.worker) {
    try {
      return run_worker(s);
    } catch (const overseer::error& e) {
      std::fprintf(stderr, "overseerd: %s\n", e.what());
      return 1;
    }
  }
  if (!s.join.empty()) usage_error("--join is for a worker node: add --worker");
  if (!s.work_dir.empty())
    usage_error("--work-dir is for a worker node: a scheduler node's attempts work in DATA_DIR/work");
  if (s.capacity) s.engine.cluster.local_capacity = *s.capacity;
  if (!s.tokens_file.empty()) {
    auto read = read_tokens_file(s.tokens_file);
    if (auto* why = std::get_if<std::string>(&read)) usage_error(*why);
    s.http.principals = std::get<0>(std::move(read));
  }
  if (!s.webhook_secret_file.empty()) {
    std::ifstream in{s.webhook_secret_file, std::ios::binary};
    if (!in) usage_error("cannot read webhook secret file " + s.webhook_secret_file);
    std::stringstream text;
    text << in.rdbuf();
    auto secret = text.str();
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
    if (secret.empty()) usage_error("webhook secret file " + s.webhook_secret_file + " is empty");
    s.engine.webhooks.secret = std::move(secret);
  }
  if (s.engine.webhooks.max_backoff < s.engine.webhooks.initial_backoff)
    usage_error("webhook_max_backoff_ms must not be below webhook_backoff_ms");
  // A delivery's body is the event as the WebSocket stream sends it.
  s.engine.webhooks.render = [](const overseer::event& e) {
    return overseer::http::to_json_text(overseer::http::render_event(e));
  };
  // The principals' weights and running limits reach the scheduler here.
  s.engine.shares = std::make_shared<overseer::principal_shares>();
  // Every thread started from here on inherits the blocked signals; main
  // alone takes them, with sigwait. SIGUSR1 is the engine's fail-stop notice.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigset_t wake_signals = stop_signals;
  sigaddset(&wake_signals, SIGUSR1);
  sigaddset(&wake_signals, SIGHUP);  // reload the tokens file
  pthread_sigmask(SIG_BLOCK, &wake_signals, nullptr);
  store_failure failure;
  s.engine.on_store_failure = [&failure](const std::string& error) {
    {
      std::lock_guard lock{failure.mutex};
      failure.error = error;
    }
    ::kill(::getpid(), SIGUSR1);
  };
  // The engine's diagnostics and the access log, one line each on stderr
  // (journald keeps them), as text or JSON.
  overseer::logging::line_logger log{STDERR_FILENO, s.log_level, s.log_format};
  s.engine.log = log.sink();
  s.http.log = log.sink();
  s.http.log_lines_dropped = [&log] { return log.dropped(); };
  auto say = [&log](overseer::log_level level, std::string_view message,
                    std::vector<std::pair<std::string_view, std::string>> fields = {}) {
    overseer::report(log.sink(), level, "overseerd", message, std::move(fields));
  };
  try {
    overseer::engine engine{s.engine};
    if (!s.tools_file.empty()) overseer::tools::register_tools_file(engine.tools(), s.tools_file);
    engine.start();
    // Every job transition at debug level; no subscriber at all otherwise.
    overseer::subscription transitions;
    if (log.enabled(overseer::log_level::debug)) {
      overseer::filter f = overseer::filter::all();
      f.include_logs = false;
      transitions = engine.subscribe(f, [&log](const overseer::event& e) {
        if (e.kind != overseer::event_kind::transition) return;
        overseer::log_record r{overseer::log_level::debug, "job", "transition",
                               {{"job_id", e.job_id},
                                {"tool", e.tool},
                                {"from", e.from ? std::string{overseer::to_string(*e.from)} : "none"},
                                {"to", std::string{overseer::to_string(e.to)}},
                                {"attempt", std::to_string(e.attempt)},
                                {"reason", e.reason},
                                {"seq", std::to_string(e.seq)}}};
        if (!e.trace_id.empty()) r.fields.emplace_back("trace_id", e.trace_id);
        log.write(r);
      });
    }
    overseer::http::server http{engine, s.http};
    if (!s.engine.cluster.listen.empty()) {
      const auto& l = s.engine.cluster.listen;
      std::printf("overseerd cluster listening on %s:%u\n", l.substr(0, l.rfind(':')).c_str(),
                  static_cast<unsigned>(engine.cluster_port()));
    }
    std::printf("overseerd listening on %s\n", http.url().c_str());
    std::fflush(stdout);
    notify_systemd("READY=1");
    say(overseer::log_level::info, "listening",
        {{"url", http.url()}, {"version", std::string{overseer::metrics::version()}},
         {"allocator", std::string{overseer::metrics::allocator()}},
         {"crc32c", std::string{overseer::persistence::crc32c_implementation()}},
         {"data_dir", s.engine.data_dir.string()}});
    int sig = 0;
    std::string failed;
    while (failed.empty()) {
      sigwait(&wake_signals, &sig);
      if (sig == SIGHUP) {
        // A bad file keeps the principals in use; connections stay open.
        if (s.tokens_file.empty()) {
          say(overseer::log_level::info, "SIGHUP: no tokens file to reload (--tokens)");
          continue;
        }
        auto read = read_tokens_file(s.tokens_file);
        if (auto* why = std::get_if<std::string>(&read)) {
          say(overseer::log_level::error, "tokens file not reloaded; the principals in use stay",
              {{"error", *why}});
          continue;
        }
        const auto n = std::get<0>(read).size();
        http.set_principals(std::get<0>(std::move(read)));
        say(overseer::log_level::info, "tokens file reloaded",
            {{"file", s.tokens_file}, {"principals", std::to_string(n)}});
        continue;
      }
      if (sig != SIGUSR1) break;
      std::lock_guard lock{failure.mutex};
      failed = failure.error;  // empty: a SIGUSR1 from outside, ignored
    }
    if (!failed.empty()) {
      // Keep answering (503, health unhealthy) for a moment so the answers in
      // flight go out; SIGTERM or SIGINT cut the drain short.
      say(overseer::log_level::critical, "the store failed, stopping",
          {{"in_s", std::to_string(fail_stop_drain_s)}, {"exit", std::to_string(exit_store_failed)}, {"error", failed}});
      // Streams close now, with 1011 and where to resume, not with the
      // connection at stop().
      http.close_streams_store_failed();
      const timespec drain{fail_stop_drain_s, 0};
      sigtimedwait(&stop_signals, nullptr, &drain);
    } else {
      drain(engine, http, s.drain_timeout_s, stop_signals, say, sig == SIGTERM ? "SIGTERM" : "SIGINT");
    }
    http.stop();
    transitions.reset();
    engine.stop();
    say(overseer::log_level::info, "stopped");
    if (!failed.empty()) return exit_store_failed;
  } catch (const overseer::error& e) {
    log.flush();  // its lines first, then this one
    std::fprintf(stderr, "overseerd: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    // What no part turned into an engine error: still an exit with the
    // reason, never an abort.
    log.flush();
    std::fprintf(stderr, "overseerd: %s\n", e.what());
    return 1;
  }
  return 0;
}
