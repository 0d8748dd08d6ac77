#include "cli/text.hpp"

#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "tools/utf8.hpp"

namespace overseer::cli {

namespace {
constexpr std::string_view replacement = "\xEF\xBF\xBD";
}

std::string terminal_safe(std::string_view s, bool keep_newlines) {
  const std::string valid = tools::sanitize_utf8(s);
  std::string out;
  out.reserve(valid.size());
  for (std::size_t i = 0; i < valid.size(); ++i) {
    const auto c = static_cast<unsigned char>(valid[i]);
    if (c == '\t' || (c == '\n' && keep_newlines)) {
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7F) {
      out += replacement;
    } else if (c == 0xC2 && i + 1 < valid.size() && static_cast<unsigned char>(valid[i + 1]) < 0xA0) {
      out += replacement;  // C1 controls U+0080-U+009F: CSI is U+009B on some terminals
      ++i;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::size_t width(std::string_view s) noexcept { return tools::utf8_length(s); }

std::string cut_to_width(std::string_view s, std::size_t columns) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;  // continuation byte
    if (count == columns) return std::string{s.substr(0, i)};
    ++count;
  }
  return std::string{s};
}

std::string pad(std::string_view s, std::size_t columns) {
  std::string out{s};
  for (std::size_t w = width(s); w < columns; ++w) out += ' ';
  return out;
}

std::string format_duration(std::chrono::milliseconds d) {
  const long long ms = d.count() < 0 ? 0 : d.count();
  char buf[32];
  if (ms < 10'000) {
    std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(ms) / 1000.0);
  } else if (ms < 60'000) {
    std::snprintf(buf, sizeof buf, "%llds", ms / 1000);
  } else if (ms < 3'600'000) {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", ms / 60'000, ms / 1000 % 60);
  } else if (ms < 86'400'000) {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", ms / 3'600'000, ms / 60'000 % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%lldd%02lldh", ms / 86'400'000, ms / 3'600'000 % 24);
  }
  return buf;
}

std::optional<wall_clock::time_point> parse_rfc3339(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)
  if (s.size() < 20) return std::nullopt;
  const auto digits = [&](std::size_t at, std::size_t n, int& out) {
    out = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      out = out * 10 + (s[i] - '0');
    }
    return true;
  };
  int year, month, day, hour, minute, second;
  if (!digits(0, 4, year) || s[4] != '-' || !digits(5, 2, month) || s[7] != '-' || !digits(8, 2, day) ||
      (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(11, 2, hour) || s[13] != ':' ||
      !digits(14, 2, minute) || s[16] != ':' || !digits(17, 2, second))
    return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
    return std::nullopt;
  std::size_t i = 19;
  long long millis = 0;
  if (i < s.size() && s[i] == '.') {
    int scale = 100;
    for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
      millis += (s[i] - '0') * scale;
      scale /= 10;
    }
  }
  long long offset_s = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
    int oh, om;
    if (!digits(i + 1, 2, oh) || !digits(i + 4, 2, om)) return std::nullopt;
    offset_s = (s[i] == '+' ? 1 : -1) * (oh * 3600LL + om * 60LL);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const std::time_t t = ::timegm(&tm);
  return wall_clock::time_point{std::chrono::seconds(t - offset_s) + std::chrono::milliseconds(millis)};
}

std::string format_rfc3339(wall_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

std::string short_time(std::string_view rfc3339) {
  const auto t = parse_rfc3339(rfc3339);
  if (!t) return terminal_safe(rfc3339);
  std::string s = format_rfc3339(*t);
  s[10] = ' ';
  return s.substr(0, 19);
}

std::string palette::paint(std::string_view s, std::string_view code) const {
  if (!on) return std::string{s};
  return "\x1b[" + std::string{code} + "m" + std::string{s} + "\x1b[0m";
}

std::string palette::status(std::string_view st) const {
  if (st == "completed") return paint(st, "32");
  if (st == "failed" || st == "timed_out") return paint(st, "31");
  if (st == "cancelled" || st == "retrying") return paint(st, "33");
  if (st == "running") return paint(st, "36");
  return std::string{st};
}

bool colour_wanted(bool stdout_is_tty, bool no_colour_flag) {
  if (!stdout_is_tty || no_colour_flag) return false;
  if (const char* nc = std::getenv("NO_COLOR"); nc && *nc) return false;
  if (const char* term = std::getenv("TERM"); term && std::string_view{term} == "dumb") return false;
  return true;
}

}  // namespace overseer::cli
