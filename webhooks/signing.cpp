#include "webhooks/signing.hpp"

#include <algorithm>
#include <cmath>

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace overseer::webhooks {

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  // An empty key is a valid HMAC key; OpenSSL wants a non-null pointer.
  static const unsigned char empty = 0;
  HMAC(EVP_sha256(), key.empty() ? static_cast<const void*>(&empty) : static_cast<const void*>(key.data()),
       static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned i = 0; i < len; ++i) {
    out.push_back(digits[mac[i] >> 4]);
    out.push_back(digits[mac[i] & 0xf]);
  }
  return out;
}

std::string signature_header(std::string_view secret, std::string_view body) {
  return "sha256=" + hmac_sha256_hex(secret, body);
}

std::chrono::milliseconds backoff(int attempts, std::chrono::milliseconds initial, std::chrono::milliseconds max,
                                  double unit) {
  const double exponent = std::max(0, std::min(attempts - 1, 62));
  const double cap = std::min(static_cast<double>(max.count()), static_cast<double>(initial.count()) * std::pow(2.0, exponent));
  const double u = std::clamp(unit, 0.0, 1.0);
  return std::chrono::milliseconds{static_cast<std::int64_t>(cap / 2 + u * (cap / 2))};
}

}  // namespace overseer::webhooks
