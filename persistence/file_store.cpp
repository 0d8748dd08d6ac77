#include "persistence/file_store.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <random>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <openssl/evp.h>
#include <rocksdb/db.h>

#include "actors/job_id.hpp"
#include "persistence/bounded_iterator.hpp"

namespace overseer::persistence::files {

namespace fs = std::filesystem;

struct sha256::ctx {
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  ~ctx() { EVP_MD_CTX_free(md); }
};

sha256::sha256() : ctx_(std::make_unique<ctx>()) {
  if (!ctx_->md || EVP_DigestInit_ex(ctx_->md, EVP_sha256(), nullptr) != 1) throw std::runtime_error("SHA-256 is unavailable");
}
sha256::~sha256() = default;
sha256::sha256(sha256&&) noexcept = default;
sha256& sha256::operator=(sha256&&) noexcept = default;

void sha256::update(const void* data, std::size_t size) {
  if (size > 0) EVP_DigestUpdate(ctx_->md, data, size);
}

std::string sha256::hex() {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx_->md, digest.data(), &n);
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (unsigned i = 0; i < n; ++i) {
    out += digits[digest[i] >> 4];
    out += digits[digest[i] & 15];
  }
  return out;
}

std::string new_file_id() { return "file_" + actors::new_job_id().substr(4); }

bool looks_like_file_id(std::string_view id) noexcept {
  return id.size() == 31 && id.starts_with("file_") && actors::looks_like_job_id("job_" + std::string{id.substr(5)});
}

fs::path files_dir(const fs::path& data_dir) { return data_dir / "files"; }
fs::path temp_dir(const fs::path& data_dir) { return data_dir / "files" / "tmp"; }
fs::path stored_path(const fs::path& data_dir, std::string_view id) { return files_dir(data_dir) / std::string{id}; }

void prepare_dirs(const fs::path& data_dir) {
  fs::create_directories(temp_dir(data_dir));
  for (const auto& e : fs::directory_iterator(temp_dir(data_dir))) fs::remove_all(e.path());
}

namespace {

[[noreturn]] void fail(const std::string& what) { throw std::system_error(errno, std::generic_category(), what); }

void fsync_dir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail("cannot open " + dir.string());
  const int rc = ::fsync(fd);
  const int saved = errno;
  ::close(fd);
  errno = saved;
  if (rc != 0) fail("cannot fsync " + dir.string());
}

std::string random_name() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char digits[] = "0123456789abcdef";
  std::string s = "upload-";
  auto v = rng();
  for (int i = 0; i < 16; ++i, v >>= 4) s += digits[v & 15];
  return s;
}

}  // namespace

int open_temp(const fs::path& data_dir, fs::path& path) {
  for (int tries = 0; tries < 8; ++tries) {
    path = temp_dir(data_dir) / random_name();
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) return fd;
    if (errno != EEXIST) fail("cannot create " + path.string());
  }
  fail("cannot create a temporary file in " + temp_dir(data_dir).string());
}

void install(const fs::path& data_dir, const fs::path& temp, std::string_view id) {
  try {
    const int fd = ::open(temp.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail("cannot open " + temp.string());
    const int rc = ::fsync(fd);
    const int saved = errno;
    ::close(fd);
    errno = saved;
    if (rc != 0) fail("cannot fsync " + temp.string());
    if (::chmod(temp.c_str(), 0444) != 0) fail("cannot chmod " + temp.string());
    const auto target = stored_path(data_dir, id);
    if (::rename(temp.c_str(), target.c_str()) != 0) fail("cannot rename into " + target.string());
    fsync_dir(files_dir(data_dir));
  } catch (...) {
    std::error_code ignored;
    fs::remove(temp, ignored);
    throw;
  }
}

std::string space_text(std::uint64_t free, std::uint64_t keep_free) {
  return "the data directory's file system has " + format_bytes(free) + " free, and a stored file must leave " +
         format_bytes(keep_free) + " (twice the store's reserve, --min-free-space)";
}

std::optional<std::string> space_error(const fs::path& data_dir, std::uint64_t length, std::uint64_t keep_free) {
  if (keep_free == 0) return std::nullopt;
  const auto free = free_bytes(-1, data_dir);
  if (!free) return "cannot read the free space of " + data_dir.string() + ": " + std::strerror(errno);
  if (*free >= keep_free && *free - keep_free >= length) return std::nullopt;
  return "a file of " + format_bytes(length) + " does not fit: " + space_text(*free, keep_free);
}

copied copy_in(const fs::path& data_dir, const fs::path& source, std::uint64_t keep_free) {
  copied out;
  const int in = ::open(source.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) fail("cannot open " + source.string());
  struct stat st {};
  if (::fstat(in, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(in);
    errno = EINVAL;
    fail(source.string() + " is not a regular file");
  }
  if (auto why = space_error(data_dir, static_cast<std::uint64_t>(st.st_size), keep_free)) {
    ::close(in);
    throw std::runtime_error(source.filename().string() + ": " + *why);
  }
  int fd = -1;
  try {
    fd = open_temp(data_dir, out.temp);
    sha256 hash;
    std::vector<char> buf(1 << 20);
    for (;;) {
      const auto n = ::read(in, buf.data(), buf.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        fail("cannot read " + source.string());
      }
      if (n == 0) break;
      hash.update(buf.data(), static_cast<std::size_t>(n));
      for (std::size_t done = 0; done < static_cast<std::size_t>(n);) {
        const auto w = ::write(fd, buf.data() + done, static_cast<std::size_t>(n) - done);
        if (w < 0) {
          if (errno == EINTR) continue;
          fail("cannot write " + out.temp.string());
        }
        done += static_cast<std::size_t>(w);
      }
      out.size += static_cast<std::uint64_t>(n);
    }
    out.sha256 = hash.hex();
    ::close(fd);
    ::close(in);
  } catch (...) {
    if (fd >= 0) ::close(fd);
    ::close(in);
    std::error_code ignored;
    if (!out.temp.empty()) fs::remove(out.temp, ignored);
    throw;
  }
  return out;
}

std::string key(std::string_view id) { return std::string{key_prefix} + std::string{id}; }

std::string encode(const file_info& f) {
  boost::json::object o{{"id", f.id},
                        {"name", f.name},
                        {"size", f.size},
                        {"sha256", f.sha256},
                        {"created_at_ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                                            f.created_at.time_since_epoch()).count()}};
  if (!f.owner.empty()) o["owner"] = f.owner;
  if (!f.job_id.empty()) o["job_id"] = f.job_id;
  return boost::json::serialize(o);
}

std::optional<file_info> decode(std::string_view value) {
  boost::system::error_code ec;
  auto v = boost::json::parse(value, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto& o = v.get_object();
  auto str = [&](std::string_view k) -> std::string {
    const auto* x = o.if_contains(k);
    return x && x->is_string() ? std::string{x->get_string()} : std::string{};
  };
  const auto* size = o.if_contains("size");
  const auto* at = o.if_contains("created_at_ms");
  if (!size || !at || !(size->is_uint64() || size->is_int64()) || !at->is_int64()) return std::nullopt;
  file_info f;
  f.id = str("id");
  f.name = str("name");
  f.size = size->is_uint64() ? size->get_uint64() : static_cast<std::uint64_t>(size->get_int64());
  f.sha256 = str("sha256");
  f.created_at = time_point{std::chrono::milliseconds{at->get_int64()}};
  f.owner = str("owner");
  f.job_id = str("job_id");
  if (!looks_like_file_id(f.id)) return std::nullopt;
  return f;
}

job_write put_row(const file_info& f) {
  job_write w;
  w.ops.push_back(kv_op{kv_op::kind::put, family::index, key(f.id), encode(f)});
  return w;
}

job_write erase_row(std::string_view id) {
  job_write w;
  w.ops.push_back(kv_op{kv_op::kind::erase, family::index, key(id), {}});
  return w;
}

std::optional<file_info> get(const store& db, std::string_view id) {
  if (!looks_like_file_id(id)) return std::nullopt;
  auto v = db.index_value(key(id));
  if (!v) return std::nullopt;
  return decode(*v);
}

void scan_newest_first(const store& db, std::string_view cursor, const std::function<bool(file_info&&)>& fn) {
  auto& rdb = const_cast<store&>(db).db();
  // Ids are time-ordered: the newest file id below the cursor, stepped back;
  // the bounds end the walk at the files' prefix (bounded_iterator.hpp).
  bounded_iterator it{rdb, db.handle(family::index), std::string{key_prefix},
                      cursor.empty() ? keys::prefix_end(key_prefix) : key(cursor)};
  for (it->SeekToLast(); it->Valid(); it->Prev()) {
    auto f = decode(it->value().ToStringView());
    if (!f) continue;  // unreadable: skipped, like a corrupt record
    if (!fn(std::move(*f))) return;
  }
  if (!it->status().ok()) throw error{errc::store_failure, "cannot scan the files: " + it->status().ToString()};
}

namespace {
bool uses(const boost::json::value& v, std::string_view id) {
  if (v.is_string()) return v.get_string() == id;
  if (v.is_array()) {
    for (const auto& e : v.get_array())
      if (uses(e, id)) return true;
  }
  if (v.is_object()) {
    for (const auto& kv : v.get_object())
      if (uses(kv.value(), id)) return true;
  }
  return false;
}
}  // namespace

bool params_use(std::string_view params_json, std::string_view id) {
  if (params_json.find(id) == std::string_view::npos) return false;
  boost::system::error_code ec;
  auto v = boost::json::parse(params_json, ec);
  return !ec && uses(v, id);
}

}  // namespace overseer::persistence::files
