#include "persistence/rollups.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <utility>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "metrics/instruments.hpp"
#include "overseer/errc.hpp"
#include "persistence/key_layout.hpp"
#include "persistence/store.hpp"

namespace overseer::persistence {

namespace {

constexpr std::string_view minute_prefix = "rollup/m/";
constexpr std::string_view hour_prefix = "rollup/h/";
/// Minute rows are kept 25 h, hour rows 8 days: a day or a week back from
/// any moment, with room for a clock that runs late.
constexpr std::int64_t minute_horizon_s = 25 * 3600;
constexpr std::int64_t hour_horizon_s = 8 * 24 * 3600;
/// Format of a cell's value; a value of another version is skipped.
constexpr std::uint8_t cell_version = 1;
constexpr std::size_t cell_fields = 7 + rollup_cell::buckets;

std::int64_t unix_seconds(time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::string row_key(std::string_view prefix, std::int64_t bucket_start, std::string_view tool) {
  std::string k{prefix};
  keys::append_be64(k, static_cast<std::uint64_t>(std::max<std::int64_t>(bucket_start, 0)));
  k.append(tool);
  return k;
}

std::string bound_key(std::string_view prefix, std::int64_t bucket_start) {
  std::string k{prefix};
  keys::append_be64(k, static_cast<std::uint64_t>(std::max<std::int64_t>(bucket_start, 0)));
  return k;
}

std::size_t bucket_of(double seconds) {
  const auto b = metrics::duration_buckets();
  static_assert(rollup_cell::buckets == 20);
  return static_cast<std::size_t>(std::lower_bound(b.begin(), b.end(), seconds) - b.begin());
}

std::mutex registry_mutex;
std::map<std::filesystem::path, store*>& registry() {
  static std::map<std::filesystem::path, store*> stores;
  return stores;
}

std::filesystem::path key_of(const std::filesystem::path& dir) {
  std::error_code ec;
  auto p = std::filesystem::weakly_canonical(dir, ec);
  return ec ? std::filesystem::absolute(dir) : p;
}

}  // namespace

// ---- a cell ----------------------------------------------------------------

void rollup_cell::add(const rollup_cell& o) noexcept {
  completed += o.completed;
  failed += o.failed;
  cancelled += o.cancelled;
  timed_out += o.timed_out;
  cache_hits += o.cache_hits;
  timed += o.timed;
  duration_micros += o.duration_micros;
  for (std::size_t i = 0; i < buckets; ++i) histogram[i] += o.histogram[i];
}

std::optional<double> rollup_cell::quantile(double q) const {
  if (timed == 0) return std::nullopt;
  const auto bounds = metrics::duration_buckets();
  const double rank = q * static_cast<double>(timed);
  double seen = 0;
  for (std::size_t i = 0; i < buckets; ++i) {
    const double here = static_cast<double>(histogram[i]);
    if (here > 0 && seen + here >= rank) {
      const double lower = i == 0 ? 0 : bounds[i - 1];
      // Past the last bound: its lower edge is all we know.
      if (i >= bounds.size()) return lower;
      const double upper = bounds[i];
      return lower + (upper - lower) * std::clamp((rank - seen) / here, 0.0, 1.0);
    }
    seen += here;
  }
  return bounds.back();
}

std::string rollup_cell::encode() const {
  std::string out;
  out.reserve(1 + 8 * cell_fields);
  out += static_cast<char>(cell_version);
  for (const std::uint64_t v : {completed, failed, cancelled, timed_out, cache_hits, timed, duration_micros})
    keys::append_be64(out, v);
  for (const auto v : histogram) keys::append_be64(out, v);
  return out;
}

std::optional<rollup_cell> rollup_cell::decode(std::string_view bytes) {
  if (bytes.size() != 1 + 8 * cell_fields || static_cast<std::uint8_t>(bytes[0]) != cell_version) return std::nullopt;
  rollup_cell c;
  std::size_t at = 1;
  auto next = [&] {
    const auto v = keys::read_be64(bytes.substr(at, 8));
    at += 8;
    return v;
  };
  for (std::uint64_t* f : {&c.completed, &c.failed, &c.cancelled, &c.timed_out, &c.cache_hits, &c.timed,
                           &c.duration_micros})
    *f = next();
  for (auto& v : c.histogram) v = next();
  return c;
}

// ---- the writer ------------------------------------------------------------

rollup_writer::cells::iterator rollup_writer::cell(const std::string& key) {
  if (auto it = cells_.find(key); it != cells_.end()) return it;
  std::string value;
  const auto s = db_.db().Get({}, db_.handle(family::meta), key, &value);
  rollup_cell c;
  if (s.ok()) {
    // An unreadable row starts again from zero rather than block the commit.
    if (auto decoded = rollup_cell::decode(value)) c = *decoded;
  } else if (!s.IsNotFound()) {
    return cells_.end();  // a failed read: leave the row alone rather than overwrite it with less
  }
  return cells_.emplace(key, slot{c, false}).first;
}

void rollup_writer::write_changed(rocksdb::WriteBatch& wb) {
  for (auto it : changed_) {
    wb.Put(db_.handle(family::meta), it->first, it->second.cell.encode()).PermitUncheckedError();
    it->second.changed = false;
  }
  changed_.clear();
}

void rollup_writer::expire(std::int64_t minute, rocksdb::WriteBatch& wb) {
  if (minute <= minute_) return;
  const bool new_hour = minute / 60 != minute_ / 60;
  minute_ = minute;
  const std::int64_t now_s = minute * 60;
  write_changed(wb);  // cells about to leave memory are written first
  // What left the current minute (or hour) is complete in the store.
  std::erase_if(cells_, [&](const auto& kv) {
    const auto& k = kv.first;
    const bool is_minute = k.starts_with(minute_prefix);
    const auto start = static_cast<std::int64_t>(keys::read_be64(std::string_view{k}.substr(minute_prefix.size(), 8)));
    return is_minute ? start < now_s : start < now_s / 3600 * 3600;
  });
  wb.DeleteRange(db_.handle(family::meta), bound_key(minute_prefix, 0), bound_key(minute_prefix, now_s - minute_horizon_s))
    .PermitUncheckedError();
  if (new_hour)
    wb.DeleteRange(db_.handle(family::meta), bound_key(hour_prefix, 0), bound_key(hour_prefix, now_s - hour_horizon_s))
      .PermitUncheckedError();
}

void rollup_writer::count(const event& e, std::optional<time_point> started_at, rocksdb::WriteBatch& wb) {
  if (e.kind != event_kind::transition || !is_terminal(e.to)) return;
  const auto at = unix_seconds(e.at);
  expire(at / 60, wb);
  for (const auto& key : {row_key(minute_prefix, at / 60 * 60, e.tool), row_key(hour_prefix, at / 3600 * 3600, e.tool)}) {
    auto it = cell(key);
    if (it == cells_.end()) continue;
    if (!std::exchange(it->second.changed, true)) changed_.push_back(it);
    auto* c = &it->second.cell;
    switch (e.to) {
      case job_status::completed: ++c->completed; break;
      case job_status::failed: ++c->failed; break;
      case job_status::cancelled: ++c->cancelled; break;
      case job_status::timed_out: ++c->timed_out; break;
      default: break;
    }
    if (!e.from && e.to == job_status::completed) ++c->cache_hits;  // created completed: a cache hit
    if (started_at && e.from == job_status::running) {
      const double s = std::max(0.0, std::chrono::duration<double>(e.at - *started_at).count());
      ++c->timed;
      c->duration_micros += static_cast<std::uint64_t>(std::llround(s * 1e6));
      ++c->histogram[std::min(bucket_of(s), rollup_cell::buckets - 1)];
    }
  }
}

// ---- reading ---------------------------------------------------------------

rollup_window read_rollups(store& db, time_point now, std::chrono::hours range) {
  const bool minutes = range <= std::chrono::hours(24);
  const auto prefix = minutes ? minute_prefix : hour_prefix;
  const std::int64_t step = minutes ? 60 : 3600;
  const auto now_s = unix_seconds(now);
  // Buckets that started after now - range; the current one included.
  const std::int64_t first = (now_s - std::chrono::duration_cast<std::chrono::seconds>(range).count()) / step * step + step;
  rollup_window w;
  rocksdb::ReadOptions ro;
  const std::string upper = bound_key(prefix, now_s / step * step + step);
  rocksdb::Slice upper_slice{upper};
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it{db.db().NewIterator(ro, db.handle(family::meta))};
  for (it->Seek(bound_key(prefix, first)); it->Valid(); it->Next()) {
    const auto key = it->key().ToStringView();
    if (!key.starts_with(prefix) || key.size() < prefix.size() + 8) break;
    auto cell = rollup_cell::decode(it->value().ToStringView());
    if (!cell) continue;
    w.all.add(*cell);
    w.by_tool[std::string{key.substr(prefix.size() + 8)}].add(*cell);
  }
  if (!it->status().ok()) throw error{errc::store_failure, "cannot read the metrics rollups: " + it->status().ToString()};
  return w;
}

// ---- the registry ----------------------------------------------------------

bool with_rollup_store(const std::filesystem::path& data_dir, const std::function<void(store&)>& fn) {
  std::lock_guard lock{registry_mutex};
  auto it = registry().find(key_of(data_dir));
  if (it == registry().end()) return false;
  fn(*it->second);
  return true;
}

void register_rollup_store(store& db) {
  std::lock_guard lock{registry_mutex};
  registry()[key_of(db.dir())] = &db;
}

void unregister_rollup_store(store& db) {
  std::lock_guard lock{registry_mutex};
  auto it = registry().find(key_of(db.dir()));
  if (it != registry().end() && it->second == &db) registry().erase(it);
}

}  // namespace overseer::persistence
