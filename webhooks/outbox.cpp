#include "webhooks/outbox.hpp"

#include <boost/json.hpp>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "overseer/errc.hpp"
#include "persistence/bounded_iterator.hpp"
#include "persistence/codec.hpp"
#include "persistence/group_commit.hpp"
#include "persistence/key_layout.hpp"
#include "persistence/store.hpp"

namespace overseer::webhooks {

namespace json = boost::json;

namespace keys {

std::string notify(std::string_view job_id) { return "n:" + std::string{job_id}; }

namespace {
std::string row(char kind, std::string_view job_id, std::uint64_t seq, std::uint8_t target) {
  std::string k;
  k.reserve(2 + job_id.size() + 9);
  k.push_back(kind);
  k.push_back(':');
  k.append(job_id);
  persistence::keys::append_be64(k, seq);
  k.push_back(static_cast<char>(target));
  return k;
}
}  // namespace

std::string pending(std::string_view job_id, std::uint64_t seq, std::uint8_t target) {
  return row('o', job_id, seq, target);
}
std::string finished(std::string_view job_id, std::uint64_t seq, std::uint8_t target) {
  return row('d', job_id, seq, target);
}
std::string job_begin(char kind, std::string_view job_id) { return std::string{kind} + ":" + std::string{job_id}; }
std::string job_end(char kind, std::string_view job_id) {
  // Job ids are fixed-length ASCII: nothing of this job sorts after 0xff.
  return job_begin(kind, job_id) + std::string(9, '\xff');
}

bool split(std::string_view key, std::string& job_id, std::uint64_t& seq, std::uint8_t& target) {
  if (key.size() < 2 + 1 + 9 || (key[0] != 'o' && key[0] != 'd') || key[1] != ':') return false;
  job_id.assign(key.substr(2, key.size() - 2 - 9));
  seq = persistence::keys::read_be64(key.substr(key.size() - 9, 8));
  target = static_cast<std::uint8_t>(key.back());
  return true;
}

}  // namespace keys

std::string delivery_id(std::uint64_t seq, std::uint8_t target) {
  return "dlv_" + std::to_string(seq) + (target == job_target ? "_job" : "_all");
}

namespace {

json::array kinds_json(const event_kinds& k) {
  json::array a;
  if (k.transition) a.emplace_back("transition");
  if (k.progress) a.emplace_back("progress");
  if (k.log) a.emplace_back("log");
  return a;
}

std::int64_t ms(time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
time_point from_ms(std::int64_t v) { return time_point{std::chrono::milliseconds{v}}; }

}  // namespace

bool wanted(const event_kinds& k, event_kind e) noexcept {
  switch (e) {
    case event_kind::transition: return k.transition;
    case event_kind::progress: return k.progress;
    case event_kind::log: return k.log;
  }
  return false;
}

std::string encode_notify(const notify_spec& n) {
  return json::serialize(json::object{{"url", n.url}, {"events", kinds_json(n.events)}});
}

std::optional<notify_spec> decode_notify(std::string_view bytes) {
  json::error_code ec;
  auto v = json::parse(bytes, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto& o = v.get_object();
  const auto* url = o.if_contains("url");
  const auto* events = o.if_contains("events");
  if (!url || !url->is_string() || !events || !events->is_array()) return std::nullopt;
  notify_spec n;
  n.url = url->get_string();
  n.events = {false, false, false};
  for (const auto& e : events->get_array()) {
    if (!e.is_string()) continue;
    if (e.get_string() == "transition") n.events.transition = true;
    else if (e.get_string() == "progress") n.events.progress = true;
    else if (e.get_string() == "log") n.events.log = true;
  }
  return n;
}

std::string encode_state(const delivery_state& s) {
  json::object o{{"url", s.url},
                 {"kind", to_string(s.kind)},
                 {"attempts", s.attempts},
                 {"status", s.status},
                 {"code", s.last_status_code},
                 {"error", s.last_error}};
  if (s.next_attempt_at) o["next_at"] = ms(*s.next_attempt_at);
  if (s.delivered_at) o["delivered_at"] = ms(*s.delivered_at);
  return json::serialize(o);
}

std::optional<delivery_state> decode_state(std::string_view text) {
  json::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto& o = v.get_object();
  delivery_state s;
  try {
    s.url = o.at("url").as_string();
    auto kind = parse_event_kind(o.at("kind").as_string());
    if (!kind) return std::nullopt;
    s.kind = *kind;
    s.attempts = static_cast<int>(o.at("attempts").to_number<std::int64_t>());
    s.status = o.at("status").as_string();
    s.last_status_code = static_cast<int>(o.at("code").to_number<std::int64_t>());
    s.last_error = o.at("error").as_string();
    if (const auto* n = o.if_contains("next_at")) s.next_attempt_at = from_ms(n->to_number<std::int64_t>());
    if (const auto* d = o.if_contains("delivered_at")) s.delivered_at = from_ms(d->to_number<std::int64_t>());
  } catch (const std::exception&) {
    return std::nullopt;
  }
  return s;
}

std::string encode_pending(const delivery_state& s, std::string_view event_bytes) {
  // Boost.JSON escapes control characters: the state has no raw newline.
  auto out = encode_state(s);
  out.push_back('\n');
  out.append(event_bytes);
  return out;
}

bool split_pending(std::string_view value, delivery_state& s, std::string_view& event_bytes) {
  const auto nl = value.find('\n');
  if (nl == std::string_view::npos) return false;
  auto state = decode_state(value.substr(0, nl));
  if (!state) return false;
  s = std::move(*state);
  event_bytes = value.substr(nl + 1);
  return true;
}

outbox_writer::outbox_writer(persistence::store& db) : db_(db) {
  // Any notify row at all? If none, no job is looked up until one is put.
  auto it = persistence::bounded_iterator::over_prefix(db_.db(), db_.handle(persistence::family::webhooks), "n:");
  it->Seek("n:");
  any_notify_ = it->Valid() && it->key().starts_with("n:");
}

void outbox_writer::configure(std::string url, event_kinds kinds) {
  daemon_url_ = std::move(url);
  daemon_kinds_ = kinds;
}

void outbox_writer::on_op(const persistence::kv_op& op) {
  if (op.f != persistence::family::webhooks || !op.key.starts_with("n:")) return;
  const std::string job = op.key.substr(2);
  if (op.what == persistence::kv_op::kind::put) {
    any_notify_ = true;
    known_[job] = decode_notify(op.value);
  } else {
    known_.erase(job);
  }
}

const std::optional<notify_spec>& outbox_writer::notify_of(const std::string& job_id) {
  if (auto it = known_.find(job_id); it != known_.end()) return it->second;
  if (known_.size() > 100'000) known_.clear();  // a cache, not a registry
  std::string value;
  auto s = db_.db().Get({}, db_.handle(persistence::family::webhooks), keys::notify(job_id), &value);
  std::optional<notify_spec> n;
  if (s.ok()) n = decode_notify(value);
  else if (!s.IsNotFound()) throw error{errc::store_failure, "cannot read a job's notify row: " + s.ToString()};
  return known_[job_id] = std::move(n);
}

void outbox_writer::on_event(const event& e, rocksdb::WriteBatch& wb) {
  std::string bytes;
  auto add = [&](const std::string& url, std::uint8_t target) {
    if (bytes.empty()) bytes = persistence::encode(e);
    delivery_state s;
    s.url = url;
    s.kind = e.kind;
    s.next_attempt_at = e.at;
    wb.Put(db_.handle(persistence::family::webhooks), keys::pending(e.job_id, e.seq, target), encode_pending(s, bytes))
      .PermitUncheckedError();
    ++added_;
  };
  if (any_notify_) {
    const auto& n = notify_of(e.job_id);
    if (n && wanted(n->events, e.kind)) add(n->url, job_target);
  }
  if (!daemon_url_.empty() && wanted(daemon_kinds_, e.kind)) add(daemon_url_, daemon_target);
  // A job that ended has no more events, but for a retry (which reads the
  // row again) and its last log lines: keep the cache to live jobs.
  if (e.kind == event_kind::transition && is_terminal(e.to)) known_.erase(e.job_id);
}

std::size_t outbox_writer::take_added() noexcept { return std::exchange(added_, 0); }

}  // namespace overseer::webhooks
