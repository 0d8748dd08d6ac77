#include "persistence/codec.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <concepts>
#include <cstring>
#include <memory>
#include <type_traits>
#include <utility>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace overseer::persistence {

namespace {

// Tags are distinct printable bytes so a value stored under the wrong key is
// refused, and so a hex dump of the store is readable.
enum class tag : std::uint8_t {
  job = 'J', transition = 'T', log = 'L', event = 'E', batch = 'B', cache = 'C', event_block = 'K'
};

// Bump when a field is added; a record written by a newer build is refused
// rather than misread, and a decoder reads an older record's fields only.
// 2: an event carries the component of its log line.
// 3: a job, a batch and an event carry their owner (the principal).
// 4: a job and an event carry the job's trace id.
// 5: a job carries its transitions after the creation (its history) and, when
//    small, its result; event blocks (several events in one value) appear.
constexpr std::uint8_t format_version = 6;
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

// Which value is the last of an enumeration a record stores (as one byte),
// and what a decoder calls it when a stored byte is past it.
template <class E>
struct enum_range;
template <>
struct enum_range<job_status> {
  static constexpr auto last = job_status::timed_out;
  static constexpr const char* name = "job status";
};
template <>
struct enum_range<log_level> {
  static constexpr auto last = log_level::critical;
  static constexpr const char* name = "log level";
};
template <>
struct enum_range<event_kind> {
  static constexpr auto last = event_kind::log;
  static constexpr const char* name = "event kind";
};

// Each stored type's fields, in their order on disk, once: encode visits
// them with a writer, decode with a reader (the inspect idiom). R is the type
// or its const form. Adding a field means adding it here, at the end, and
// bumping format_version with a `since` check.
template <class R, class T>
concept record_of = std::same_as<std::remove_const_t<R>, T>;

// Visits the fields in the order given (a fold over the comma operator runs
// left to right).
template <class V, class... F>
void in_order(V& v, F&... f) {
  (v(f), ...);
}

template <class V, record_of<overseer::progress> R>
void fields(V& v, R& p) {
  in_order(v, p.percent, p.current_step, p.total_steps, p.step_name, p.estimated_completion);
}

template <class V, record_of<retry_policy> R>
void fields(V& v, R& p) {
  in_order(v, p.max_attempts, p.initial_backoff, p.max_backoff, p.multiplier, p.retry_on_timeout);
}

template <class V, record_of<job_record> R>
void fields(V& v, R& j) {
  in_order(v, j.id, j.tool, j.tool_version, j.name, j.params_json, j.priority, j.labels, j.timeout_ms, j.retry,
           j.ttl_hours, j.idempotency_key, j.status, j.attempt, j.retry_base, j.progress, j.error, j.created_at,
           j.started_at, j.completed_at, j.next_attempt_at, j.checkpoint, j.process_group, j.process_start,
           j.batch_id, j.depends_on, j.run_at, j.use_cache, j.cache_key, j.cached_at, j.cache_source,
           j.spec_hash);
  if (v.since(3)) v(j.owner);
  if (v.since(4)) v(j.trace_id);
  if (v.since(5)) in_order(v, j.history, j.result);
  if (v.since(6)) in_order(v, j.node, j.node_selector);
}

template <class V, record_of<transition> R>
void fields(V& v, R& t) {
  in_order(v, t.from, t.to, t.at, t.attempt, t.reason);
  if (v.since(6)) v(t.node);
}

template <class V, record_of<log_line> R>
void fields(V& v, R& l) {
  in_order(v, l.at, l.level, l.message, l.component);
}

// Every field is written whatever the kind: a few spare bytes buy a decoder
// with no branches, and an event reads back exactly as it was written.
template <class V, record_of<event> R>
void fields(V& v, R& e) {
  in_order(v, e.seq, e.job_id, e.kind, e.at, e.from, e.to, e.attempt, e.reason, e.progress, e.level, e.message,
           e.tool, e.batch_id);
  if (v.since(2)) v(e.component);
  if (v.since(3)) v(e.owner);
  if (v.since(4)) v(e.trace_id);
}

template <class V, record_of<batch_record> R>
void fields(V& v, R& b) {
  in_order(v, b.id, b.name, b.job_ids, b.parallel_limit, b.fail_fast, b.created_at, b.cancelled);
  if (v.since(3)) v(b.owner);
}

template <class V, record_of<cache_entry> R>
void fields(V& v, R& c) {
  in_order(v, c.source_job_id, c.tool, c.stored_at, c.expires_at, c.result_bytes);
}

// A thread's scratch space for encoding: records are built here and copied
// out once, at their exact size. It grows to the largest record the thread
// has encoded and stays, so a record costs one allocation (its result)
// rather than the string's doublings and their copies.
class scratch_bytes {
public:
  void clear() noexcept { size_ = 0; }
  /// `n` more bytes at the end, to be written by the caller.
  char* extend(std::size_t n) {
    if (n > capacity_ - size_) grow(n);
    char* p = data_.get() + size_;
    size_ += n;
    return p;
  }
  [[nodiscard]] std::string_view view() const noexcept { return {data_.get(), size_}; }

private:
  void grow(std::size_t n) {
    const auto capacity = std::max({capacity_ * 2, size_ + n, std::size_t{1024}});
    auto data = std::make_unique_for_overwrite<char[]>(capacity);
    if (size_ > 0) std::memcpy(data.get(), data_.get(), size_);
    data_ = std::move(data);
    capacity_ = capacity;
  }

  std::unique_ptr<char[]> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

class writer {
public:
  // Encoding does not nest (a record's fields are plain values), so one
  // scratch buffer per thread serves every writer on it.
  explicit writer(tag t) : out_(scratch()) {
    out_.clear();
    u8(static_cast<std::uint8_t>(t));
    u8(format_version);
  }

  /// Fields added in format `version` are written: this build writes the newest.
  [[nodiscard]] static constexpr bool since(std::uint8_t) noexcept { return true; }

  void operator()(int v) { u32(static_cast<std::uint32_t>(v)); }
  void operator()(std::int64_t v) { u64(static_cast<std::uint64_t>(v)); }
  void operator()(std::uint64_t v) { u64(v); }
  void operator()(bool v) { u8(v ? 1 : 0); }
  void operator()(double v) {
    std::uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    u64(bits);
  }
  void operator()(std::string_view s) {
    u32(static_cast<std::uint32_t>(s.size()));
    if (!s.empty()) std::memcpy(out_.extend(s.size()), s.data(), s.size());
  }
  void operator()(const std::string& s) { (*this)(std::string_view{s}); }
  void operator()(time_point t) {
    (*this)(std::int64_t{std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count()});
  }
  void operator()(milliseconds d) { (*this)(std::int64_t{d.count()}); }
  template <class E>
    requires std::is_enum_v<E>
  void operator()(E e) {
    u8(static_cast<std::uint8_t>(e));
  }
  template <class T>
  void operator()(const std::optional<T>& v) {
    (*this)(v.has_value());
    if (v) (*this)(*v);
  }
  void operator()(const std::vector<std::string>& v) {
    u32(static_cast<std::uint32_t>(v.size()));
    for (const auto& s : v) (*this)(s);
  }
  void operator()(const std::map<std::string, std::string>& m) {
    u32(static_cast<std::uint32_t>(m.size()));
    for (const auto& [k, v] : m) {
      (*this)(k);
      (*this)(v);
    }
  }
  template <class T>
    requires requires(writer& w, const T& t) { fields(w, t); }
  void operator()(const T& nested) {
    fields(*this, nested);
  }
  template <class T>
    requires requires(writer& w, const T& t) { fields(w, t); }
  void operator()(const std::vector<T>& v) {
    u32(static_cast<std::uint32_t>(v.size()));
    for (const auto& x : v) fields(*this, x);
  }

  std::string finish() && {
    u32(crc32(out_.view()));
    return std::string{out_.view()};
  }

private:
  static scratch_bytes& scratch() {
    thread_local scratch_bytes bytes;
    return bytes;
  }
  void u8(std::uint8_t v) { *out_.extend(1) = static_cast<char>(v); }
  void u32(std::uint32_t v) { put<4>(v); }
  void u64(std::uint64_t v) { put<8>(v); }
  // Explicit byte order, so the stored form does not depend on the host.
  template <std::size_t width>
  void put(std::uint64_t v) {
    char* p = out_.extend(width);
    for (std::size_t i = 0; i < width; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
  }

  scratch_bytes& out_;
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

  /// Fields added in format `version` are in the record being read.
  [[nodiscard]] bool since(std::uint8_t version) const noexcept { return version_ >= version; }

  void operator()(int& v) { v = static_cast<std::int32_t>(u32()); }
  void operator()(std::int64_t& v) { v = static_cast<std::int64_t>(u64()); }
  void operator()(std::uint64_t& v) { v = u64(); }
  void operator()(bool& v) {
    const auto at = pos_;
    const auto b = u8();
    if (b > 1) fail("flag " + std::to_string(b) + " at offset " + std::to_string(at) + " is not 0 or 1");
    v = b == 1;
  }
  void operator()(double& v) {
    const auto bits = u64();
    std::memcpy(&v, &bits, sizeof v);
  }
  void operator()(std::string& s) {
    const auto at = pos_;
    const auto n = u32();
    if (!ok()) return s.clear();
    if (n > end_ - pos_) {
      fail("string of " + std::to_string(n) + " bytes at offset " + std::to_string(at) + " overruns the record (" +
           std::to_string(end_ - pos_) + " bytes remain)");
      return s.clear();
    }
    s.assign(record_.substr(pos_, n));
    pos_ += n;
  }
  void operator()(time_point& t) {
    std::int64_t ms = 0;
    (*this)(ms);
    // Out-of-range milliseconds would overflow the conversion to clock ticks.
    if (ms < min_ms || ms > max_ms) {
      fail("timestamp " + std::to_string(ms) + " ms is outside the clock's range");
      t = {};
      return;
    }
    t = time_point(std::chrono::duration_cast<clock::duration>(milliseconds(ms)));
  }
  void operator()(milliseconds& d) {
    std::int64_t ms = 0;
    (*this)(ms);
    d = milliseconds(ms);
  }
  template <class E>
    requires std::is_enum_v<E>
  void operator()(E& e) {
    constexpr auto last = enum_range<E>::last;
    const auto v = u8();
    if (v > static_cast<std::uint8_t>(last)) {
      fail(std::string(enum_range<E>::name) + " " + std::to_string(v) + " is outside 0-" +
           std::to_string(static_cast<int>(last)));
      e = E{};
      return;
    }
    e = static_cast<E>(v);
  }
  template <class T>
  void operator()(std::optional<T>& o) {
    bool present = false;
    (*this)(present);
    if (!present) return o.reset();
    T v{};
    (*this)(v);
    if (ok()) o = std::move(v);
    else o.reset();
  }
  void operator()(std::map<std::string, std::string>& m) {
    const auto at = pos_;
    const auto n = u32();
    // Each pair takes at least two length prefixes; checking up front stops
    // a corrupted count from driving a long loop.
    if (ok() && n > (end_ - pos_) / 8) {
      fail("label count " + std::to_string(n) + " at offset " + std::to_string(at) + " overruns the record");
    }
    m.clear();
    for (std::uint32_t i = 0; i < n && ok(); ++i) {
      std::string k, v;
      (*this)(k);
      (*this)(v);
      m.emplace(std::move(k), std::move(v));
    }
  }
  void operator()(std::vector<std::string>& v) {
    const auto at = pos_;
    const auto n = u32();
    if (ok() && n > (end_ - pos_) / 4) {
      fail("string count " + std::to_string(n) + " at offset " + std::to_string(at) + " overruns the record");
    }
    v.clear();
    for (std::uint32_t i = 0; i < n && ok(); ++i) (*this)(v.emplace_back());
  }
  template <class T>
    requires requires(reader& r, T& t) { fields(r, t); }
  void operator()(T& nested) {
    fields(*this, nested);
  }
  template <class T>
    requires requires(reader& r, T& t) { fields(r, t); }
  void operator()(std::vector<T>& v) {
    const auto at = pos_;
    const auto n = u32();
    // Every nested value takes at least 4 bytes: a count past that is corrupt.
    if (ok() && n > (end_ - pos_) / 4) {
      fail("element count " + std::to_string(n) + " at offset " + std::to_string(at) + " overruns the record");
    }
    v.clear();
    for (std::uint32_t i = 0; i < n && ok(); ++i) fields(*this, v.emplace_back());
  }

  template <class T>
  decoded<T> finish(T value) {
    auto error = finish();
    if (!error.empty()) return {std::nullopt, std::move(error)};
    return {std::move(value), {}};
  }
  /// Why the record was refused, or empty: every field read and nothing left.
  std::string finish() {
    if (ok() && pos_ != end_) fail(std::to_string(end_ - pos_) + " unexpected bytes after the last field");
    return std::move(error_);
  }

private:
  std::uint8_t u8() { return static_cast<std::uint8_t>(get<1>()); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(get<4>()); }
  std::uint64_t u64() { return get<8>(); }
  bool ok() const noexcept { return error_.empty(); }
  void fail(std::string message) {
    if (ok()) error_ = std::move(message);
  }
  [[gnu::cold]] void truncated(std::size_t width) {
    fail("record truncated: " + std::to_string(width) + " bytes needed at offset " + std::to_string(pos_) + ", " +
         std::to_string(end_ - pos_) + " remain");
  }
  // The width is fixed at each call, so the loop below becomes one load.
  template <std::size_t width>
  std::uint64_t get() {
    if (!ok()) return 0;
    if (width > end_ - pos_) {
      truncated(width);
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

#if defined(__x86_64__)
// CRC-32 by carry-less multiplication (PCLMULQDQ), after Gopal, Ozturk et
// al., "Fast CRC Computation for Generic Polynomials Using PCLMULQDQ
// Instruction" (Intel, 2009): 64 bytes at a time are folded into four
// 128-bit lanes, the lanes into one, then reduced to 32 bits (Barrett). For
// `n` >= 64 and a multiple of 16; `crc` and the result are the running
// (inverted) value, as in the table loop. The constants are powers of x
// modulo the reflected polynomial; unit tests compare every length and
// alignment with a bitwise CRC.
using v128 = __m128i;
#define OVERSEER_CLMUL __attribute__((target("pclmul,sse4.1")))

OVERSEER_CLMUL inline v128 load16(const unsigned char* p) noexcept {
  return _mm_loadu_si128(reinterpret_cast<const v128*>(p));
}
/// `x` carried 128 bits further (by the constants `k`), plus `next`.
OVERSEER_CLMUL inline v128 fold16(v128 x, v128 k, v128 next) noexcept {
  return _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_clmulepi64_si128(x, k, 0x11)), next);
}

OVERSEER_CLMUL std::uint32_t crc32_clmul(const unsigned char* p, std::size_t n, std::uint32_t crc) noexcept {
  const v128 k1k2 = _mm_set_epi64x(0x01c6e41596, 0x0154442bd4);  // x^(4*128+-32) mod P: across 512 bits
  const v128 k3k4 = _mm_set_epi64x(0x00ccaa009e, 0x01751997d0);  // x^(128+-32) mod P: across 128 bits
  const v128 k5 = _mm_set_epi64x(0, 0x0163cd6124);                // x^64 mod P
  const v128 barrett = _mm_set_epi64x(0x01f7011641, 0x01db710641);  // floor(x^64 / P), and P
  v128 x1 = _mm_xor_si128(load16(p), _mm_cvtsi32_si128(static_cast<int>(crc)));
  v128 x2 = load16(p + 16);
  v128 x3 = load16(p + 32);
  v128 x4 = load16(p + 48);
  for (p += 64, n -= 64; n >= 64; p += 64, n -= 64) {
    x1 = fold16(x1, k1k2, load16(p));
    x2 = fold16(x2, k1k2, load16(p + 16));
    x3 = fold16(x3, k1k2, load16(p + 32));
    x4 = fold16(x4, k1k2, load16(p + 48));
  }
  x1 = fold16(fold16(fold16(x1, k3k4, x2), k3k4, x3), k3k4, x4);
  for (; n >= 16; p += 16, n -= 16) x1 = fold16(x1, k3k4, load16(p));
  const v128 low32 = _mm_setr_epi32(-1, 0, -1, 0);
  // 128 bits to 64.
  x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), _mm_clmulepi64_si128(x1, k3k4, 0x10));
  // 64 bits to 32.
  x1 = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(x1, low32), k5, 0x00), _mm_srli_si128(x1, 4));
  // Barrett reduction to the remainder.
  v128 q = _mm_and_si128(_mm_clmulepi64_si128(_mm_and_si128(x1, low32), barrett, 0x10), low32);
  x1 = _mm_xor_si128(x1, _mm_clmulepi64_si128(q, barrett, 0x00));
  return static_cast<std::uint32_t>(_mm_extract_epi32(x1, 1));
}
#undef OVERSEER_CLMUL

bool clmul_available() noexcept {
  static const bool available = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("pclmul") != 0 && __builtin_cpu_supports("sse4.1") != 0;
  }();
  return available;
}
#endif

}  // namespace

std::uint32_t crc32(std::string_view bytes) noexcept {
  const auto& t = crc_tables;
  std::uint32_t c = 0xFFFFFFFFu;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  std::size_t n = bytes.size();
#if defined(__x86_64__)
  // A record's few hundred bytes take about a quarter of the table loop's
  // instructions this way; the last 0-15 bytes go through the tables.
  if (n >= 64 && clmul_available()) {
    const std::size_t folded = n & ~std::size_t{15};
    c = crc32_clmul(p, folded, c);
    p += folded;
    n -= folded;
  }
#endif
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

namespace {

template <class T>
std::string encode_record(tag t, const T& value) {
  writer w(t);
  fields(w, value);
  return std::move(w).finish();
}

/// Decodes into `value`, a default T (the fields an older version lacks
/// keep their defaults); the error, or empty.
template <class T>
std::string decode_record_into(std::string_view bytes, tag t, const char* what, T& value) {
  reader r(bytes, t, what);
  fields(r, value);
  if constexpr (std::is_same_v<T, event>) {
    // Version 1 had no component and stored only tools' log lines.
    if (!r.since(2) && value.kind == event_kind::log) value.component = "tool";
  }
  return r.finish();
}

// Decoded in place: a job record is large enough that each move of it shows.
template <class T>
decoded<T> decode_record(std::string_view bytes, tag t, const char* what) {
  decoded<T> out;
  out.error = decode_record_into(bytes, t, what, out.value.emplace());
  if (!out.error.empty()) out.value.reset();
  return out;
}

}  // namespace

std::string encode(const job_record& r) { return encode_record(tag::job, r); }
decoded<job_record> decode_job(std::string_view bytes) { return decode_record<job_record>(bytes, tag::job, "job"); }
std::string decode_job_into(std::string_view bytes, job_record& out) {
  return decode_record_into(bytes, tag::job, "job", out);
}

std::string encode(const transition& t) { return encode_record(tag::transition, t); }
decoded<transition> decode_transition(std::string_view bytes) {
  return decode_record<transition>(bytes, tag::transition, "transition");
}

std::string encode(const log_line& l) { return encode_record(tag::log, l); }
decoded<log_line> decode_log(std::string_view bytes) { return decode_record<log_line>(bytes, tag::log, "log"); }

std::string encode(const event& e) { return encode_record(tag::event, e); }
decoded<event> decode_event(std::string_view bytes) { return decode_record<event>(bytes, tag::event, "event"); }

std::string encode_event_block(const std::vector<event>& events, std::size_t first, std::size_t count) {
  writer w(tag::event_block);
  w(static_cast<int>(count));
  for (std::size_t i = first; i < first + count; ++i) fields(w, events[i]);
  return std::move(w).finish();
}

decoded<std::vector<event>> decode_events(std::string_view bytes) {
  if (!bytes.empty() && bytes.front() == static_cast<char>(tag::event)) {
    auto one = decode_event(bytes);
    if (!one) return {std::nullopt, std::move(one.error)};
    return {std::vector<event>{std::move(*one.value)}, {}};
  }
  reader r(bytes, tag::event_block, "event block");
  int n = 0;
  r(n);
  std::vector<event> out;
  // Each event takes more than 64 bytes (its fixed-width fields and empty
  // strings alone): a count past that is corrupt, and is refused before
  // anything is allocated for it.
  if (n < 0 || static_cast<std::size_t>(n) > bytes.size() / 64)
    return {std::nullopt, "event count " + std::to_string(n) + " overruns the block"};
  out.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) fields(r, out.emplace_back());
  return r.finish(std::move(out));
}

std::string encode(const batch_record& b) { return encode_record(tag::batch, b); }
decoded<batch_record> decode_batch(std::string_view bytes) {
  return decode_record<batch_record>(bytes, tag::batch, "batch");
}

std::string encode(const cache_entry& c) { return encode_record(tag::cache, c); }
decoded<cache_entry> decode_cache_entry(std::string_view bytes) {
  return decode_record<cache_entry>(bytes, tag::cache, "cache");
}

}  // namespace overseer::persistence

namespace overseer::persistence {

transition creation_transition(const job_record& r) {
  const bool hit = r.cached_at.has_value();
  return {std::nullopt, hit ? job_status::completed : job_status::pending, r.created_at, 0,
          hit ? "cache hit" : "submitted"};
}

std::vector<transition> full_history(const job_record& r) {
  // A record migrated from schema 1 kept its creation entry as it was stored.
  if (!r.history.empty() && !r.history.front().from) return r.history;
  std::vector<transition> out;
  out.reserve(r.history.size() + 1);
  out.push_back(creation_transition(r));
  out.insert(out.end(), r.history.begin(), r.history.end());
  return out;
}

}  // namespace overseer::persistence
