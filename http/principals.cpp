// The tokens file reader and SHA-256 (include/overseer/http/server.hpp).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>

#include "http/strict_json.hpp"
#include "overseer/http/server.hpp"

namespace overseer::http {

std::string_view to_string(role r) noexcept {
  switch (r) {
    case role::admin: return "admin";
    case role::user: return "user";
    case role::reader: return "reader";
  }
  return "user";
}

namespace {

constexpr std::array<std::uint32_t, 64> round_constants = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

constexpr std::uint32_t rotr(std::uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

void compress(std::array<std::uint32_t, 8>& h, const unsigned char* block) {
  std::array<std::uint32_t, 64> w{};
  for (int i = 0; i < 16; ++i)
    w[i] = (std::uint32_t{block[4 * i]} << 24) | (std::uint32_t{block[4 * i + 1]} << 16) |
           (std::uint32_t{block[4 * i + 2]} << 8) | std::uint32_t{block[4 * i + 3]};
  for (int i = 16; i < 64; ++i) {
    const auto s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
    const auto s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  auto [a, b, c, d, e, f, g, k] = h;
  for (int i = 0; i < 64; ++i) {
    const auto t1 = k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + round_constants[i] + w[i];
    const auto t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    k = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += k;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool valid_name(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  });
}

}  // namespace

std::array<unsigned char, 32> sha256(std::string_view data) noexcept {
  std::array<std::uint32_t, 8> h = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  std::size_t n = data.size();
  while (n >= 64) {
    compress(h, p);
    p += 64;
    n -= 64;
  }
  std::array<unsigned char, 128> tail{};
  std::memcpy(tail.data(), p, n);
  tail[n] = 0x80;
  const std::size_t blocks = n + 9 > 64 ? 2 : 1;
  const std::uint64_t bits = static_cast<std::uint64_t>(data.size()) * 8;
  for (int i = 0; i < 8; ++i) tail[blocks * 64 - 1 - i] = static_cast<unsigned char>(bits >> (8 * i));
  for (std::size_t b = 0; b < blocks; ++b) compress(h, tail.data() + 64 * b);
  std::array<unsigned char, 32> out{};
  for (int i = 0; i < 8; ++i)
    for (int j = 0; j < 4; ++j) out[4 * i + j] = static_cast<unsigned char>(h[i] >> (24 - 8 * j));
  return out;
}

tokens_file parse_tokens_file(std::string_view text) {
  namespace json = boost::json;
  tokens_file out;
  auto& errors = out.errors;
  auto parsed = parse_strict_json(text);
  if (!parsed.syntax_error.empty()) {
    errors.push_back({"tokens file", "not valid JSON: " + parsed.syntax_error});
    return out;
  }
  if (!parsed.duplicates.empty()) {
    for (auto& d : parsed.duplicates) errors.push_back({d.field, "is given more than once"});
    return out;
  }
  const auto* root = parsed.value.if_object();
  if (!root) {
    errors.push_back({"tokens file", "must be a JSON object with \"principals\""});
    return out;
  }
  for (const auto& [k, v] : *root)
    if (k != "principals") errors.push_back({std::string{k}, "unknown key; the file has \"principals\" only"});
  const auto* list = root->if_contains("principals");
  if (!list || !list->is_array()) {
    errors.push_back({"principals", "must be an array of principals"});
    return out;
  }
  std::set<std::string> names;
  std::set<std::array<unsigned char, 32>> hashes;
  std::size_t i = 0;
  for (const auto& item : list->as_array()) {
    const std::string at = "principals[" + std::to_string(i++) + "]";
    const auto* o = item.if_object();
    if (!o) {
      errors.push_back({at, "must be an object"});
      continue;
    }
    principal p;
    bool has_name = false, has_role = false, has_hash = false;
    auto whole = [&](const json::value& v, const std::string& field, std::int64_t min, std::int64_t max,
                     std::int64_t& into) {
      std::int64_t n = 0;
      if (v.is_int64()) n = v.as_int64();
      else if (v.is_uint64() && v.as_uint64() <= static_cast<std::uint64_t>(max)) n = static_cast<std::int64_t>(v.as_uint64());
      else if (v.is_double() && std::floor(v.as_double()) == v.as_double() && std::abs(v.as_double()) < 1e15)
        n = static_cast<std::int64_t>(v.as_double());
      else {
        errors.push_back({field, "must be an integer " + std::to_string(min) + "-" + std::to_string(max)});
        return;
      }
      if (n < min || n > max)
        errors.push_back({field, std::to_string(n) + " is outside " + std::to_string(min) + "-" + std::to_string(max)});
      else into = n;
    };
    for (const auto& [key, v] : *o) {
      const std::string field = at + "." + std::string{key};
      if (key == "name") {
        has_name = true;
        if (!v.is_string() || !valid_name(v.as_string()))
          errors.push_back({field, "must be 1-64 letters, digits, '.', '_' or '-'"});
        else if (!names.insert(std::string{v.as_string()}).second)
          errors.push_back({field, std::string{"\""}.append(v.as_string()).append("\" is named twice")});
        else p.name = std::string{v.as_string()};
      } else if (key == "role") {
        has_role = true;
        const std::string_view r = v.is_string() ? std::string_view{v.as_string()} : std::string_view{};
        if (r == "admin") p.role = role::admin;
        else if (r == "user") p.role = role::user;
        else if (r == "reader") p.role = role::reader;
        else errors.push_back({field, "must be \"admin\", \"user\" or \"reader\""});
      } else if (key == "token_sha256") {
        has_hash = true;
        const std::string_view hex = v.is_string() ? std::string_view{v.as_string()} : std::string_view{};
        bool ok = hex.size() == 64;
        for (std::size_t b = 0; ok && b < 32; ++b) {
          const int hi = hex_digit(hex[2 * b]), lo = hex_digit(hex[2 * b + 1]);
          ok = hi >= 0 && lo >= 0;
          if (ok) p.token_sha256[b] = static_cast<unsigned char>(hi * 16 + lo);
        }
        // Never echo the value: it may be a token pasted by mistake.
        if (!ok) errors.push_back({field, "must be the SHA-256 of the token: 64 hex digits"});
        else if (!hashes.insert(p.token_sha256).second)
          errors.push_back({field, "is the hash of another principal's token too"});
      } else if (key == "weight") {
        std::int64_t w = 1;
        whole(v, field, 1, 1000, w);
        p.weight = static_cast<int>(w);
      } else if (key == "quotas") {
        const auto* q = v.if_object();
        if (!q) {
          errors.push_back({field, "must be an object"});
          continue;
        }
        for (const auto& [qk, qv] : *q) {
          const std::string qf = field + "." + std::string{qk};
          if (qk == "max_running") {
            std::int64_t n = 0;
            whole(qv, qf, 1, 1'000'000, n);
            p.quotas.max_running = static_cast<int>(n);
          } else if (qk == "max_queued") {
            std::int64_t n = 0;
            whole(qv, qf, 1, 1'000'000'000, n);
            p.quotas.max_queued = static_cast<std::size_t>(n);
          } else if (qk == "submits_per_second") {
            if (!qv.is_number() || qv.to_number<double>() <= 0 || qv.to_number<double>() > 1e6)
              errors.push_back({qf, "must be a number above 0, at most 1000000"});
            else p.quotas.submits_per_second = qv.to_number<double>();
          } else {
            errors.push_back({qf, "unknown quota; expected max_running, max_queued or submits_per_second"});
          }
        }
      } else {
        errors.push_back({field, "unknown key; expected name, role, token_sha256, weight or quotas"});
      }
    }
    if (!has_name) errors.push_back({at + ".name", "is required"});
    if (!has_role) errors.push_back({at + ".role", "is required"});
    if (!has_hash) errors.push_back({at + ".token_sha256", "is required"});
    out.principals.push_back(std::move(p));
  }
  if (!errors.empty()) out.principals.clear();
  return out;
}

}  // namespace overseer::http
