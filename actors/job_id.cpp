#include "actors/job_id.hpp"

#include <algorithm>
#include <array>
#include <mutex>
#include <random>

namespace overseer::actors {

namespace {
constexpr char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
}

std::string new_job_id(time_point now) {
  static std::mutex mutex;
  static std::mt19937_64 rng{std::random_device{}()};
  static std::uint64_t last_ms = 0;
  static std::array<std::uint8_t, 10> randomness{};

  auto ms = static_cast<std::uint64_t>(
    std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count());
  std::array<std::uint8_t, 16> bytes{};
  {
    std::lock_guard lock{mutex};
    if (ms <= last_ms) {
      // Same (or an earlier, if the clock stepped back) millisecond: keep the
      // time and increment the random part so ids stay strictly ordered.
      ms = last_ms;
      for (int i = 9; i >= 0 && ++randomness[static_cast<std::size_t>(i)] == 0; --i) {}
    } else {
      last_ms = ms;
      for (auto& b : randomness) b = static_cast<std::uint8_t>(rng());
      randomness[0] &= 0x7f;  // headroom so increments never wrap within a millisecond
    }
    for (int i = 0; i < 6; ++i) bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(ms >> (40 - 8 * i));
    std::copy(randomness.begin(), randomness.end(), bytes.begin() + 6);
  }
  // 128 bits as 26 base32 digits, most significant first (2 leading pad bits).
  std::string id = "job_";
  id.resize(4 + 26);
  unsigned __int128 v = 0;
  for (auto b : bytes) v = (v << 8) | b;
  for (int i = 25; i >= 0; --i) {
    id[4 + static_cast<std::size_t>(i)] = crockford[static_cast<unsigned>(v & 31)];
    v >>= 5;
  }
  return id;
}

std::string first_job_id_at(std::int64_t ms) {
  // The first 10 digits of an id's 26 are its 2 pad bits and 48 time bits.
  constexpr std::int64_t last = (std::int64_t{1} << 48) - 1;
  const auto t = static_cast<std::uint64_t>(std::clamp<std::int64_t>(ms, 0, last));
  std::string id = "job_";
  for (int i = 0; i < 10; ++i) id += crockford[(t >> (45 - 5 * i)) & 31];
  id.append(16, '0');
  return id;
}

bool looks_like_job_id(std::string_view id) noexcept {
  if (id.size() != 30 || !id.starts_with("job_")) return false;
  for (char c : id.substr(4))
    if (std::string_view{crockford}.find(c) == std::string_view::npos) return false;
  return true;
}

}  // namespace overseer::actors
