#include "http/file_transfer.hpp"

#include <limits>
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

namespace overseer::http {

upload_body::value_type& upload_body::value_type::operator=(value_type&& o) noexcept {
  if (this != &o) {
    discard();
    fd_ = std::exchange(o.fd_, -1);
    path_ = std::move(o.path_);
    o.path_.clear();
    size_ = o.size_;
    keep_free_ = o.keep_free_;
    room_ = o.room_;
    hash_ = std::move(o.hash_);
    o.hash_.reset();
    error_ = std::move(o.error_);
  }
  return *this;
}

namespace {

/// Bytes written between two readings of the free space.
constexpr std::uint64_t space_check_every = 4u << 20;

}  // namespace

void upload_body::value_type::open(const std::filesystem::path& data_dir, std::uint64_t keep_free) {
  discard();
  std::filesystem::path p;
  fd_ = persistence::files::open_temp(data_dir, p);
  path_ = p.string();
  size_ = 0;
  keep_free_ = keep_free;
  room_ = 0;
  hash_.emplace();
}

bool upload_body::value_type::append(const void* data, std::size_t n) {
  if (keep_free_ > 0 && n > room_) {
    // Read again every few MiB: an upload stops before it takes the room
    // the store needs, whatever else shares the file system meanwhile.
    const auto free = persistence::free_bytes(fd_, path_);
    if (!free) {
      error_ = std::string{"cannot read the free space: "} + std::strerror(errno);
      return false;
    }
    const auto usable = *free > keep_free_ ? *free - keep_free_ : 0;
    if (usable < n) {
      error_ = "the file does not fit: " + persistence::files::space_text(*free, keep_free_);
      return false;
    }
    room_ = std::min(usable, std::max<std::uint64_t>(n, space_check_every));
  }
  if (keep_free_ > 0) room_ -= n;
  hash_->update(data, n);
  const auto* p = static_cast<const char*>(data);
  while (n > 0) {
    const auto w = ::write(fd_, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      error_ = std::strerror(errno);
      return false;
    }
    p += w;
    n -= static_cast<std::size_t>(w);
    size_ += static_cast<std::uint64_t>(w);
  }
  return true;
}

std::string upload_body::value_type::release() {
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  return std::exchange(path_, {});
}

void upload_body::value_type::discard() {
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  if (!path_.empty()) ::unlink(std::exchange(path_, {}).c_str());
}

file_range_body::value_type& file_range_body::value_type::operator=(value_type&& o) noexcept {
  if (this != &o) {
    close();
    fd_ = std::exchange(o.fd_, -1);
    first_ = o.first_;
    length_ = o.length_;
  }
  return *this;
}

bool file_range_body::value_type::open(const std::filesystem::path& path) {
  close();
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  return fd_ >= 0;
}

void file_range_body::value_type::close() {
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
}

boost::optional<std::pair<file_range_body::writer::const_buffers_type, bool>> file_range_body::writer::get(
  boost::beast::error_code& ec) {
  const auto left = body_.length() - sent_;
  if (left == 0) return boost::none;
  const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(left, sizeof buf_));
  ssize_t n;
  do {
    n = ::pread(body_.fd(), buf_, want, static_cast<off_t>(body_.first() + sent_));
  } while (n < 0 && errno == EINTR);
  if (n <= 0) {
    // Shorter than its record says: the connection cannot carry on.
    ec = n == 0 ? boost::beast::http::error::short_read : boost::beast::error_code{errno, boost::system::generic_category()};
    return boost::none;
  }
  sent_ += static_cast<std::uint64_t>(n);
  return {{const_buffers_type{buf_, static_cast<std::size_t>(n)}, sent_ < body_.length()}};
}

namespace {

/// A position of a range: digits, which may say more than 2^64 - 1; such a
/// position is past any file, and counts as the largest there is (a last
/// position is then the file's end, a first one unsatisfiable, a suffix the
/// whole file), as RFC 9110 14.1.1 reads any position past the end.
std::optional<std::uint64_t> number(std::string_view s) {
  if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec == std::errc::result_out_of_range) return std::numeric_limits<std::uint64_t>::max();
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

/// Whether the decimal `x` is below `y`, however many digits either has
/// (both are digits only: number() took them).
bool below(std::string_view x, std::string_view y) {
  const auto strip = [](std::string_view s) {
    while (s.size() > 1 && s.front() == '0') s.remove_prefix(1);
    return s;
  };
  x = strip(x);
  y = strip(y);
  return x.size() != y.size() ? x.size() < y.size() : x < y;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

byte_range parse_range(std::string_view header, std::uint64_t size) {
  byte_range whole;
  header = trim(header);
  if (header.empty()) return whole;
  // "bytes=" exactly: no whitespace around the '=' (RFC 9110 14.1.1).
  constexpr std::string_view unit = "bytes=";
  if (header.size() < unit.size()) return whole;
  for (std::size_t i = 0; i < unit.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(header[i])) != unit[i]) return whole;
  const auto spec = trim(header.substr(unit.size()));
  if (spec.find(',') != std::string_view::npos) return whole;  // several ranges: the whole file
  const auto dash = spec.find('-');
  if (dash == std::string_view::npos) return whole;
  const auto a = trim(spec.substr(0, dash)), b = trim(spec.substr(dash + 1));
  byte_range r;
  r.what = byte_range::kind::partial;
  if (a.empty()) {  // bytes=-n: the last n bytes
    auto n = number(b);
    if (!n) return whole;
    if (*n == 0 || size == 0) return {byte_range::kind::unsatisfiable, 0, 0};
    r.first = *n >= size ? 0 : size - *n;
    r.last = size - 1;
    return r;
  }
  auto first = number(a);
  if (!first) return whole;
  std::optional<std::uint64_t> last;
  if (!b.empty()) {
    last = number(b);
    if (!last || below(b, a)) return whole;  // invalid: ignored (RFC 9110 14.1.1)
  }
  if (*first >= size) return {byte_range::kind::unsatisfiable, 0, 0};
  r.first = *first;
  r.last = last ? std::min(*last, size - 1) : size - 1;
  return r;
}

std::string content_disposition(std::string_view name) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string fallback, encoded;
  for (std::size_t i = 0; i < name.size(); ++i) {
    auto c = static_cast<unsigned char>(name[i]);
    if (c == '/') c = '_';
    // RFC 5987 attr-char: ALPHA DIGIT ! # $ & + - . ^ _ ` | ~
    const bool attr = std::isalnum(c) || std::strchr("!#$&+-.^_`|~", c) != nullptr;
    if (attr && c != 0) encoded += static_cast<char>(c);
    else {
      encoded += '%';
      encoded += hex[c >> 4];
      encoded += hex[c & 15];
    }
    // A UTF-8 sequence is one '_' in the fallback.
    if (c >= 0x80) {
      if ((c & 0xC0) != 0x80) fallback += '_';
    } else if (c < 0x20 || c == 0x7f || c == '"' || c == '\\' || c == '%') {
      fallback += '_';
    } else {
      fallback += static_cast<char>(c);
    }
  }
  if (fallback.empty()) fallback = "file";
  return "attachment; filename=\"" + fallback + "\"; filename*=UTF-8''" + encoded;
}

}  // namespace overseer::http
