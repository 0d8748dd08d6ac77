#include "persistence/codec.hpp"

#include <array>
#include <chrono>
#include <cstring>
#include <utility>

namespace overseer::persistence {

namespace {

// Tags are distinct printable bytes so a value stored under the wrong key is
// refused, and so a hex dump of the store is readable.
enum class tag : std::uint8_t { job = 'J', transition = 'T', log = 'L', event = 'E', batch = 'B', cache = 'C' };

// Bump when a field is added; a record written by a newer build is refused
// rather than misread, and a decoder reads an older record's fields only.
// 2: an event carries the component of its log line.
constexpr std::uint8_t format_version = 2;
constexpr std::size_t header_size = 2;
constexpr std::size_t crc_size = 4;

// Slicing-by-8 tables: crc_tables[0] is the classic byte table, and
// crc_tables[k][b] is the CRC of byte b followed by k zero bytes, so eight
// bytes fold in with eight look-ups and no serial dependency between them.
// Every record is checksummed on the commit path: this is ~5x the byte loop.
constexpr std::array<std::array<std::uint32_t, 256>, 8> crc_tables = [] {
  std::array<std::array<std::uint32_t, 256>, 8> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[0][i] = c;
  }
  for (std::size_t k = 1; k < 8; ++k)
    for (std::size_t i = 0; i < 256; ++i) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xFF];
  return t;
}();

// Time points are kept as milliseconds: the clock's own tick is
// platform-specific, and a record must read the same on any build.
using std::chrono::milliseconds;
constexpr std::int64_t min_ms = std::chrono::duration_cast<milliseconds>(clock::duration::min()).count();
constexpr std::int64_t max_ms = std::chrono::duration_cast<milliseconds>(clock::duration::max()).count();

class writer {
public:
  explicit writer(tag t) {
    u8(static_cast<std::uint8_t>(t));
    u8(format_version);
  }

  void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u32(std::uint32_t v) { put(v, 4); }
  void u64(std::uint64_t v) { put(v, 8); }
  void i32(int v) { u32(static_cast<std::uint32_t>(v)); }
  void i64(std::int64_t v) { u64(static_cast<std::uint64_t>(v)); }
  void boolean(bool v) { u8(v ? 1 : 0); }
  void f64(double v) {
    std::uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    u64(bits);
  }
  void str(std::string_view s) {
    u32(static_cast<std::uint32_t>(s.size()));
    out_.append(s);
  }
  void time(time_point t) {
    i64(std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count());
  }
  template <class T, class F>
  void opt(const std::optional<T>& v, F&& write) {
    boolean(v.has_value());
    if (v) (this->*write)(*v);
  }
  template <class E>
  void enumerator(E e) { u8(static_cast<std::uint8_t>(e)); }
  void strings(const std::vector<std::string>& v) {
    u32(static_cast<std::uint32_t>(v.size()));
    for (const auto& s : v) str(s);
  }
  void progress(const overseer::progress& p) {
    f64(p.percent);
    i32(p.current_step);
    i32(p.total_steps);
    str(p.step_name);
    opt(p.estimated_completion, &writer::time);
  }

  std::string finish() && {
    u32(crc32(out_));
    return std::move(out_);
  }

private:
  // Explicit byte order, so the stored form does not depend on the host.
  void put(std::uint64_t v, int width) {
    for (int i = 0; i < width; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  }

  std::string out_;
};

// Reads the fields between header and checksum. The first failure sticks:
// later reads return zero values and leave the message alone, so a decoder
// reads its fields straight through and looks at the outcome once.
class reader {
public:
  reader(std::string_view record, tag expected, const char* what) : record_(record) {
    if (record.size() < header_size + crc_size) {
      fail("record of " + std::to_string(record.size()) + " bytes is shorter than the minimum of " +
           std::to_string(header_size + crc_size));
      return;
    }
    const auto body = record.substr(0, record.size() - crc_size);
    pos_ = body.size();  // read the stored checksum first
    end_ = record.size();
    if (u32() != crc32(body)) {
      fail("checksum mismatch");
      return;
    }
    end_ = body.size();
    pos_ = 0;
    if (u8() != static_cast<std::uint8_t>(expected)) {
      fail(std::string("not a ") + what + " record");
      return;
    }
    const auto version = version_ = u8();
    if (version > format_version) {
      fail("record format version " + std::to_string(version) +
           " is newer than this build supports (" + std::to_string(format_version) + ")");
    } else if (version == 0) {
      fail("record format version 0 is not valid");
    }
  }

  /// The record's format version (valid once the header is read).
  [[nodiscard]] std::uint8_t version() const noexcept { return version_; }
  std::uint8_t u8() { return static_cast<std::uint8_t>(get(1)); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(get(4)); }
  std::uint64_t u64() { return get(8); }
  int i32() { return static_cast<std::int32_t>(u32()); }
  std::int64_t i64() { return static_cast<std::int64_t>(u64()); }
  bool boolean() {
    const auto at = pos_;
    const auto v = u8();
    if (v > 1) fail("flag " + std::to_string(v) + " at offset " + std::to_string(at) + " is not 0 or 1");
    return v == 1;
  }
  double f64() {
    const auto bits = u64();
    double v;
    std::memcpy(&v, &bits, sizeof v);
    return v;
  }
  std::string str() {
    const auto at = pos_;
    const auto n = u32();
    if (!ok()) return {};
    if (n > end_ - pos_) {
      fail("string of " + std::to_string(n) + " bytes at offset " + std::to_string(at) + " overruns the record (" +
           std::to_string(end_ - pos_) + " bytes remain)");
      return {};
    }
    std::string s(record_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  time_point time() {
    const auto ms = i64();
    // Out-of-range milliseconds would overflow the conversion to clock ticks.
    if (ms < min_ms || ms > max_ms) {
      fail("timestamp " + std::to_string(ms) + " ms is outside the clock's range");
      return {};
    }
    return time_point(std::chrono::duration_cast<clock::duration>(milliseconds(ms)));
  }
  template <class T>
  std::optional<T> opt(T (reader::*read)()) {
    if (!boolean()) return std::nullopt;
    auto v = (this->*read)();
    return ok() ? std::optional<T>(std::move(v)) : std::nullopt;
  }
  template <class E>
  E enumerator(E last, const char* what) {
    const auto v = u8();
    if (v > static_cast<std::uint8_t>(last)) {
      fail(std::string(what) + " " + std::to_string(v) + " is outside 0-" +
           std::to_string(static_cast<int>(last)));
      return E{};
    }
    return static_cast<E>(v);
  }
  job_status status() { return enumerator(job_status::timed_out, "job status"); }
  std::map<std::string, std::string> labels() {
    const auto at = pos_;
    const auto n = u32();
    // Each pair takes at least two length prefixes; checking up front stops
    // a corrupted count from driving a long loop.
    if (ok() && n > (end_ - pos_) / 8) {
      fail("label count " + std::to_string(n) + " at offset " + std::to_string(at) + " overruns the record");
    }
    std::map<std::string, std::string> m;
    for (std::uint32_t i = 0; i < n && ok(); ++i) {
      auto k = str();
      auto v = str();
      m.emplace(std::move(k), std::move(v));
    }
    return m;
  }
  std::vector<std::string> strings() {
    const auto at = pos_;
    const auto n = u32();
    if (ok() && n > (end_ - pos_) / 4) {
      fail("string count " + std::to_string(n) + " at offset " + std::to_string(at) + " overruns the record");
    }
    std::vector<std::string> v;
    for (std::uint32_t i = 0; i < n && ok(); ++i) v.push_back(str());
    return v;
  }
  overseer::progress progress() {
    overseer::progress p;
    p.percent = f64();
    p.current_step = i32();
    p.total_steps = i32();
    p.step_name = str();
    p.estimated_completion = opt(&reader::time);
    return p;
  }

  template <class T>
  decoded<T> finish(T value) {
    if (ok() && pos_ != end_) fail(std::to_string(end_ - pos_) + " unexpected bytes after the last field");
    if (!ok()) return {std::nullopt, std::move(error_)};
    return {std::move(value), {}};
  }

private:
  bool ok() const noexcept { return error_.empty(); }
  void fail(std::string message) {
    if (ok()) error_ = std::move(message);
  }
  std::uint64_t get(std::size_t width) {
    if (!ok()) return 0;
    if (width > end_ - pos_) {
      fail("record truncated: " + std::to_string(width) + " bytes needed at offset " + std::to_string(pos_) +
           ", " + std::to_string(end_ - pos_) + " remain");
      return 0;
    }
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < width; ++i)
      v |= std::uint64_t{static_cast<unsigned char>(record_[pos_ + i])} << (8 * i);
    pos_ += width;
    return v;
  }

  std::string_view record_;
  std::size_t pos_ = 0;
  std::size_t end_ = 0;
  std::uint8_t version_ = 0;
  std::string error_;
};

}  // namespace

std::uint32_t crc32(std::string_view bytes) noexcept {
  const auto& t = crc_tables;
  std::uint32_t c = 0xFFFFFFFFu;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  std::size_t n = bytes.size();
  for (; n >= 8; p += 8, n -= 8) {
    // Little-endian by construction (bytes assembled explicitly), so the
    // result does not depend on the host's byte order.
    const std::uint32_t lo = c ^ (std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 |
                                  std::uint32_t{p[3]} << 24);
    c = t[7][lo & 0xFF] ^ t[6][(lo >> 8) & 0xFF] ^ t[5][(lo >> 16) & 0xFF] ^ t[4][lo >> 24] ^ t[3][p[4]] ^
        t[2][p[5]] ^ t[1][p[6]] ^ t[0][p[7]];
  }
  for (; n > 0; ++p, --n) c = t[0][(c ^ *p) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

std::string encode(const job_record& r) {
  writer w(tag::job);
  w.str(r.id);
  w.str(r.tool);
  w.str(r.tool_version);
  w.str(r.name);
  w.str(r.params_json);
  w.i32(r.priority);
  w.u32(static_cast<std::uint32_t>(r.labels.size()));
  for (const auto& [k, v] : r.labels) {
    w.str(k);
    w.str(v);
  }
  w.i64(r.timeout_ms);
  w.i32(r.retry.max_attempts);
  w.i64(r.retry.initial_backoff.count());
  w.i64(r.retry.max_backoff.count());
  w.f64(r.retry.multiplier);
  w.boolean(r.retry.retry_on_timeout);
  w.i32(r.ttl_hours);
  w.str(r.idempotency_key);
  w.enumerator(r.status);
  w.i32(r.attempt);
  w.i32(r.retry_base);
  w.progress(r.progress);
  w.str(r.error);
  w.time(r.created_at);
  w.opt(r.started_at, &writer::time);
  w.opt(r.completed_at, &writer::time);
  w.opt(r.next_attempt_at, &writer::time);
  w.opt(r.checkpoint, &writer::str);
  w.i32(r.process_group);
  w.u64(r.process_start);
  w.str(r.batch_id);
  w.strings(r.depends_on);
  w.opt(r.run_at, &writer::time);
  w.boolean(r.use_cache);
  w.str(r.cache_key);
  w.opt(r.cached_at, &writer::time);
  w.str(r.cache_source);
  w.u64(r.spec_hash);
  return std::move(w).finish();
}

decoded<job_record> decode_job(std::string_view bytes) {
  reader r(bytes, tag::job, "job");
  job_record j;
  j.id = r.str();
  j.tool = r.str();
  j.tool_version = r.str();
  j.name = r.str();
  j.params_json = r.str();
  j.priority = r.i32();
  j.labels = r.labels();
  j.timeout_ms = r.i64();
  j.retry.max_attempts = r.i32();
  j.retry.initial_backoff = milliseconds(r.i64());
  j.retry.max_backoff = milliseconds(r.i64());
  j.retry.multiplier = r.f64();
  j.retry.retry_on_timeout = r.boolean();
  j.ttl_hours = r.i32();
  j.idempotency_key = r.str();
  j.status = r.status();
  j.attempt = r.i32();
  j.retry_base = r.i32();
  j.progress = r.progress();
  j.error = r.str();
  j.created_at = r.time();
  j.started_at = r.opt(&reader::time);
  j.completed_at = r.opt(&reader::time);
  j.next_attempt_at = r.opt(&reader::time);
  j.checkpoint = r.opt(&reader::str);
  j.process_group = r.i32();
  j.process_start = r.u64();
  j.batch_id = r.str();
  j.depends_on = r.strings();
  j.run_at = r.opt(&reader::time);
  j.use_cache = r.boolean();
  j.cache_key = r.str();
  j.cached_at = r.opt(&reader::time);
  j.cache_source = r.str();
  j.spec_hash = r.u64();
  return r.finish(std::move(j));
}

std::string encode(const transition& t) {
  writer w(tag::transition);
  w.opt(t.from, &writer::enumerator<job_status>);
  w.enumerator(t.to);
  w.time(t.at);
  w.i32(t.attempt);
  w.str(t.reason);
  return std::move(w).finish();
}

decoded<transition> decode_transition(std::string_view bytes) {
  reader r(bytes, tag::transition, "transition");
  transition t;
  t.from = r.opt(&reader::status);
  t.to = r.status();
  t.at = r.time();
  t.attempt = r.i32();
  t.reason = r.str();
  return r.finish(std::move(t));
}

std::string encode(const log_line& l) {
  writer w(tag::log);
  w.time(l.at);
  w.enumerator(l.level);
  w.str(l.message);
  w.str(l.component);
  return std::move(w).finish();
}

decoded<log_line> decode_log(std::string_view bytes) {
  reader r(bytes, tag::log, "log");
  log_line l;
  l.at = r.time();
  l.level = r.enumerator(log_level::critical, "log level");
  l.message = r.str();
  l.component = r.str();
  return r.finish(std::move(l));
}

// Every field is written whatever the kind: a few spare bytes buy a decoder
// with no branches, and an event reads back exactly as it was written.
std::string encode(const event& e) {
  writer w(tag::event);
  w.u64(e.seq);
  w.str(e.job_id);
  w.enumerator(e.kind);
  w.time(e.at);
  w.opt(e.from, &writer::enumerator<job_status>);
  w.enumerator(e.to);
  w.i32(e.attempt);
  w.str(e.reason);
  w.progress(e.progress);
  w.enumerator(e.level);
  w.str(e.message);
  w.str(e.tool);
  w.str(e.batch_id);
  w.str(e.component);
  return std::move(w).finish();
}

decoded<event> decode_event(std::string_view bytes) {
  reader r(bytes, tag::event, "event");
  event e;
  e.seq = r.u64();
  e.job_id = r.str();
  e.kind = r.enumerator(event_kind::log, "event kind");
  e.at = r.time();
  e.from = r.opt(&reader::status);
  e.to = r.status();
  e.attempt = r.i32();
  e.reason = r.str();
  e.progress = r.progress();
  e.level = r.enumerator(log_level::critical, "log level");
  e.message = r.str();
  e.tool = r.str();
  e.batch_id = r.str();
  if (r.version() >= 2) e.component = r.str();
  else if (e.kind == event_kind::log) e.component = "tool";  // version 1 stored only tools' lines
  return r.finish(std::move(e));
}

std::string encode(const batch_record& b) {
  writer w(tag::batch);
  w.str(b.id);
  w.str(b.name);
  w.strings(b.job_ids);
  w.i32(b.parallel_limit);
  w.boolean(b.fail_fast);
  w.time(b.created_at);
  w.boolean(b.cancelled);
  return std::move(w).finish();
}

decoded<batch_record> decode_batch(std::string_view bytes) {
  reader r(bytes, tag::batch, "batch");
  batch_record b;
  b.id = r.str();
  b.name = r.str();
  b.job_ids = r.strings();
  b.parallel_limit = r.i32();
  b.fail_fast = r.boolean();
  b.created_at = r.time();
  b.cancelled = r.boolean();
  return r.finish(std::move(b));
}

std::string encode(const cache_entry& c) {
  writer w(tag::cache);
  w.str(c.source_job_id);
  w.str(c.tool);
  w.time(c.stored_at);
  w.time(c.expires_at);
  w.u64(c.result_bytes);
  return std::move(w).finish();
}

decoded<cache_entry> decode_cache_entry(std::string_view bytes) {
  reader r(bytes, tag::cache, "cache");
  cache_entry c;
  c.source_job_id = r.str();
  c.tool = r.str();
  c.stored_at = r.time();
  c.expires_at = r.time();
  c.result_bytes = r.u64();
  return r.finish(std::move(c));
}

}  // namespace overseer::persistence
