// Files over HTTP (docs/api.md, "Files"): the body types that stream an
// upload to disk and a download from disk, never whole in memory, and the
// header rules of a download (Range, Content-Disposition).
//
// upload_body is a Beast body whose reader writes each chunk the parser
// hands it to a temporary file under DATA_DIR/files/tmp and hashes it on
// the way (a write of at most one read's bytes on the I/O thread; no
// fsync there). Its value removes the temporary file when destroyed unless
// released: an upload that fails, is refused or is cut off leaves nothing.
// file_range_body serves a byte range of an open file in 64 KiB preads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/optional.hpp>

#include "persistence/file_store.hpp"

namespace overseer::http {

// ---- upload ----------------------------------------------------------------


struct upload_body {
  class value_type {
  public:
    value_type() = default;
    ~value_type() { discard(); }
    value_type(value_type&& o) noexcept { *this = std::move(o); }
    value_type& operator=(value_type&& o) noexcept;
    value_type(const value_type&) = delete;
    value_type& operator=(const value_type&) = delete;

    /// Opens a new temporary file in `data_dir`'s files/tmp. Throws.
    /// `keep_free` bytes of its file system are never written: an append
    /// that would leave less fails (0: no such check).
    void open(const std::filesystem::path& data_dir, std::uint64_t keep_free = 0);
    /// Appends bytes; false (with the reason in error()) if the write failed
    /// or would leave less than `keep_free` free.
    bool append(const void* data, std::size_t n);
    /// Closes the file and hands its path over: the caller removes it.
    [[nodiscard]] std::string release();
    /// Closes and removes the temporary file, if any.
    void discard();

    [[nodiscard]] bool is_open() const noexcept { return fd_ >= 0; }
    [[nodiscard]] std::uint64_t size() const noexcept { return size_; }
    [[nodiscard]] std::string sha256() { return hash_ ? hash_->hex() : std::string{}; }
    [[nodiscard]] const std::string& error() const noexcept { return error_; }

  private:
    int fd_ = -1;
    std::string path_;
    std::uint64_t size_ = 0;
    std::uint64_t keep_free_ = 0;
    std::uint64_t room_ = 0;  ///< bytes that may be written before free space is read again
    std::optional<persistence::files::sha256> hash_;
    std::string error_;
  };

  class reader {
  public:
    template <bool isRequest, class Fields>
    reader(boost::beast::http::header<isRequest, Fields>&, value_type& b) : body_(b) {}
    void init(const boost::optional<std::uint64_t>&, boost::beast::error_code& ec) {
      if (!body_.is_open()) ec = boost::beast::http::error::bad_transfer_encoding;  // never opened: refused
    }
    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, boost::beast::error_code& ec) {
      std::size_t n = 0;
      for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers); ++it) {
        boost::asio::const_buffer b = *it;
        if (!body_.append(b.data(), b.size())) {
          ec = boost::beast::http::error::body_limit;  // reported by its own text (value_type::error)
          return n;
        }
        n += b.size();
      }
      return n;
    }
    void finish(boost::beast::error_code&) {}

  private:
    value_type& body_;
  };
};

// ---- download --------------------------------------------------------------

struct file_range_body {
  class value_type {
  public:
    value_type() = default;
    ~value_type() { close(); }
    value_type(value_type&& o) noexcept { *this = std::move(o); }
    value_type& operator=(value_type&& o) noexcept;
    value_type(const value_type&) = delete;
    value_type& operator=(const value_type&) = delete;

    /// Opens `path` read-only; false if it cannot be opened.
    bool open(const std::filesystem::path& path);
    void range(std::uint64_t first, std::uint64_t length) {
      first_ = first;
      length_ = length;
    }
    void close();
    [[nodiscard]] int fd() const noexcept { return fd_; }
    [[nodiscard]] std::uint64_t first() const noexcept { return first_; }
    [[nodiscard]] std::uint64_t length() const noexcept { return length_; }

  private:
    int fd_ = -1;
    std::uint64_t first_ = 0;
    std::uint64_t length_ = 0;
  };

  static std::uint64_t size(const value_type& v) { return v.length(); }

  class writer {
  public:
    using const_buffers_type = boost::asio::const_buffer;
    template <bool isRequest, class Fields>
    writer(boost::beast::http::header<isRequest, Fields>&, value_type& b) : body_(b) {}
    void init(boost::beast::error_code& ec) { ec = {}; }
    boost::optional<std::pair<const_buffers_type, bool>> get(boost::beast::error_code& ec);

  private:
    value_type& body_;
    std::uint64_t sent_ = 0;
    char buf_[64 * 1024];
  };
};

using file_response = boost::beast::http::response<file_range_body>;

// ---- header rules ----------------------------------------------------------

/// What a Range header asks of a file of `size` bytes (RFC 9110 14.2).
struct byte_range {
  enum class kind : std::uint8_t {
    whole,          ///< no Range, or one we answer with the whole file (200)
    partial,        ///< one satisfiable range: 206 with first..last
    unsatisfiable,  ///< 416 with Content-Range: bytes */size
  } what = kind::whole;
  std::uint64_t first = 0;
  std::uint64_t last = 0;  ///< inclusive
};
/// Single ranges "bytes=a-b", "bytes=a-", "bytes=-n"; several ranges, another
/// unit or a malformed value answer the whole file (a server may ignore
/// Range); a range starting at or beyond the end (or a suffix of 0) is
/// unsatisfiable. `last` is clipped to the end.
[[nodiscard]] byte_range parse_range(std::string_view header, std::uint64_t size);

/// Content-Disposition for a download of a file named `name` (any UTF-8):
/// attachment; filename="<ASCII fallback>"; filename*=UTF-8''<RFC 5987
/// percent-encoding>. The fallback replaces what is not printable ASCII,
/// '"', '\\' and '%' with '_'; a '/' (an output's path) becomes '_' in both.
[[nodiscard]] std::string content_disposition(std::string_view name);

}  // namespace overseer::http
