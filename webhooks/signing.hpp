// The Overseer-Signature header and the retry schedule of deliveries.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace overseer::webhooks {

/// HMAC-SHA256 of `data` under `key` (OpenSSL's libcrypto), lower-case hex.
[[nodiscard]] std::string hmac_sha256_hex(std::string_view key, std::string_view data);

/// "sha256=<hex>": the Overseer-Signature header of `body`.
[[nodiscard]] std::string signature_header(std::string_view secret, std::string_view body);

/// The wait after failed attempt number `attempts` (1 = the first): the
/// cap is initial * 2^(attempts-1), at most `max`, and the wait is between
/// half the cap and the cap, placed by `unit` in [0, 1) (the jitter).
[[nodiscard]] std::chrono::milliseconds backoff(int attempts, std::chrono::milliseconds initial,
                                                std::chrono::milliseconds max, double unit);

}  // namespace overseer::webhooks
