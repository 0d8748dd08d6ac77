#include "logging/line_logger.hpp"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <utility>

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "tools/thread_name.hpp"
#include "tools/utf8.hpp"

namespace overseer::logging {

namespace {

/// 2026-12-01T14:50:53.123Z. The date and time are formatted once a second
/// per thread; only the milliseconds are written for each line.
void timestamp(std::string& out) {
  struct cached {
    std::time_t second = -1;
    char text[96] = {};  ///< "2026-12-01T14:50:53."
    int size = 0;
  };
  thread_local cached c;
  const auto now = std::chrono::system_clock::now();
  const auto ms_since_epoch = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const auto t = static_cast<std::time_t>(ms_since_epoch / 1000);
  if (t != c.second) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    c.size = std::snprintf(c.text, sizeof c.text, "%04d-%02d-%02dT%02d:%02d:%02d.", tm.tm_year + 1900,
                           tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (c.size < 0 || c.size >= static_cast<int>(sizeof c.text)) c.size = 0;
    c.second = t;
  }
  const auto ms = static_cast<int>(ms_since_epoch % 1000);
  out.append(c.text, static_cast<std::size_t>(c.size));
  out += static_cast<char>('0' + ms / 100);
  out += static_cast<char>('0' + ms / 10 % 10);
  out += static_cast<char>('0' + ms % 10);
  out += 'Z';
}

/// Valid UTF-8, escaped as a JSON string's contents; runs that need no
/// escape are copied whole.
void escape_valid(std::string& out, std::string_view v) {
  static constexpr char hex[] = "0123456789abcdef";
  std::size_t plain = 0;  // start of the run not yet copied
  for (std::size_t i = 0; i < v.size(); ++i) {
    const auto u = static_cast<unsigned char>(v[i]);
    if (u >= 0x20 && u != '"' && u != '\\' && u != 0x7F) continue;
    out.append(v.data() + plain, i - plain);
    plain = i + 1;
    if (u == '"') out += "\\\"";
    else if (u == '\\') out += "\\\\";
    else if (u == '\n') out += "\\n";
    else if (u == '\r') out += "\\r";
    else if (u == '\t') out += "\\t";
    else {
      out += "\\u00";
      out += hex[u >> 4];
      out += hex[u & 15];
    }
  }
  out.append(v.data() + plain, v.size() - plain);
}

/// A JSON string's contents: quote, backslash and every control character
/// escaped, invalid UTF-8 replaced by U+FFFD (copied only then).
void json_escaped(std::string& out, std::string_view v) {
  if (tools::valid_utf8(v)) escape_valid(out, v);
  else escape_valid(out, tools::sanitize_utf8(v));
}

/// A text value: bare when it is one plain word, else quoted and escaped
/// like a JSON string.
void text_value(std::string& out, std::string_view v) {
  bool bare = !v.empty();
  for (const char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F || c == '"' || c == '\\' || c == '=') bare = false;
  }
  if (bare) {
    out.append(v);
    return;
  }
  out += '"';
  json_escaped(out, v);
  out += '"';
}

}  // namespace

std::optional<log_level> line_logger::parse_level(std::string_view s) {
  for (auto l : {log_level::debug, log_level::info, log_level::warning, log_level::error, log_level::critical})
    if (to_string(l) == s) return l;
  return std::nullopt;
}

std::optional<line_logger::format> line_logger::parse_format(std::string_view s) {
  if (s == "text") return format::text;
  if (s == "json") return format::json;
  return std::nullopt;
}

std::string line_logger::format_line(const log_record& r) const {
  std::string line;
  format_into(line, r);
  return line;
}

void line_logger::format_into(std::string& line, const log_record& r) const {
  if (format_ == format::json) {
    line += "{\"ts\":\"";
    timestamp(line);
    line += "\",\"level\":\"";
    line += to_string(r.level);
    line += "\",\"component\":\"";
    json_escaped(line, r.component);
    line += "\",\"msg\":\"";
    json_escaped(line, r.message);
    line += '"';
    for (const auto& [k, v] : r.fields) {
      line += ",\"";
      json_escaped(line, k);
      line += "\":\"";
      json_escaped(line, v);
      line += '"';
    }
    line += "}\n";
    return;
  }
  timestamp(line);
  line += ' ';
  line += to_string(r.level);
  line += ' ';
  text_value(line, r.component);
  line += ": ";
  // The message is prose: escaped, never quoted.
  json_escaped(line, r.message);
  for (const auto& [k, v] : r.fields) {
    line += ' ';
    text_value(line, k);
    line += '=';
    text_value(line, v);
  }
  line += '\n';
}

line_logger::line_logger(int fd, log_level min, format f, limits l)
  : fd_(fd), min_(min), format_(f), limits_(l), thread_([this] { run(); }) {}

line_logger::~line_logger() {
  {
    std::lock_guard lock{mutex_};
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
  flush();
}

void line_logger::write(const log_record& r) {
  if (!enabled(r.level)) return;
  // Formatted outside the lock, in a buffer each thread keeps.
  thread_local std::string line;
  if (line.capacity() > 64 * 1024) std::string{}.swap(line);  // one long line does not stay
  line.clear();
  format_into(line, r);
  if (r.level >= log_level::warning) {
    // Behind everything logged before it, and out before this returns.
    std::lock_guard fd_lock{fd_mutex_};
    {
      std::lock_guard lock{mutex_};
      pending_ += line;
    }
    write_pending();
    return;
  }
  bool wake = false;
  {
    std::lock_guard lock{mutex_};
    if (pending_.size() + line.size() > limits_.max_pending) {
      ++dropped_;
      ++unreported_;
      return;
    }
    wake = pending_.empty() || (pending_.size() < limits_.batch && pending_.size() + line.size() >= limits_.batch);
    pending_ += line;
  }
  if (wake) wake_.notify_one();
}

void line_logger::flush() {
  std::lock_guard fd_lock{fd_mutex_};
  write_pending();
}

std::uint64_t line_logger::dropped() const {
  std::lock_guard lock{mutex_};
  return dropped_;
}

void line_logger::run() {
  // Signals are for the threads that wait for them (overseerd's sigwait),
  // whatever was blocked when the logger was made.
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  tools::name_this_thread("ovs.log");
  std::unique_lock lock{mutex_};
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
    if (stopping_) return;  // the destructor writes the rest
    // Let more lines join, unless a batch is already waiting.
    wake_.wait_for(lock, limits_.linger, [this] { return stopping_ || pending_.size() >= limits_.batch; });
    lock.unlock();
    {
      std::lock_guard fd_lock{fd_mutex_};
      write_pending();
    }
    lock.lock();
  }
}

void line_logger::write_pending() {
  std::string text;
  std::uint64_t lost = 0;
  {
    std::lock_guard lock{mutex_};
    text.swap(pending_);
    lost = std::exchange(unreported_, 0);
  }
  if (lost > 0)
    text.insert(0, format_line({log_level::warning, "log", "lines dropped: the log's reader did not keep up",
                                {{"count", std::to_string(lost)}}}));
  if (!text.empty()) write_all(text);
}

void line_logger::write_all(const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const auto n = ::write(fd_, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere to log to: the lines are lost, the daemon goes on
    done += static_cast<std::size_t>(n);
  }
}

log_sink line_logger::sink() {
  return [this](const log_record& r) { write(r); };
}

}  // namespace overseer::logging
