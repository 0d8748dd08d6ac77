// fuzz_codec: every decoder of persistence/codec.hpp on one stored value.
//
// The checksum would stop almost every mutated input at its first check, so
// each input is decoded twice: as it is, and with its last four bytes
// replaced by the CRC-32 of the rest, which lets the fuzzer reach the
// fields. Whatever decodes must re-encode: encoding is canonical (fixed
// widths, one byte per flag and enumerator, nothing optional left
// unwritten), so re-encoding a decoded value gives back the very bytes read,
// except that a job's labels come back sorted and without repeats, as a map
// holds them; for a job the re-encoded value must decode to itself. A record
// of an older format version is written back in the current one, and that
// must decode to itself. Event blocks (tag K) get the same round trip.
#include "fuzz/fuzz.hpp"

#include <string>
#include <string_view>

#include "persistence/codec.hpp"

namespace overseer::fuzz {
namespace {

namespace p = overseer::persistence;

template <class Decode>
void round_trip(std::string_view bytes, Decode decode, const char* what, bool canonical) {
  auto d = decode(bytes);
  if (!d) {
    if (d.error.empty()) fail(std::string(what) + ": refused without a reason: " + excerpt(bytes));
    return;
  }
  const std::string again = p::encode(*d.value);
  // A record of an older format version decodes and is written back in the
  // current one, so only a current-version record must come back byte for
  // byte (byte 1 of a record is its format version).
  const bool current = bytes.size() > 1 && again.size() > 1 && bytes[1] == again[1];
  if (canonical && current && again != bytes)
    fail(std::string(what) + ": decoded, but re-encodes to other bytes: " + excerpt(bytes) + " -> " +
         excerpt(again));
  auto d2 = decode(again);
  if (!d2) fail(std::string(what) + ": its own encoding is refused: " + d2.error + ": " + excerpt(again));
  if (p::encode(*d2.value) != again)
    fail(std::string(what) + ": re-encoding is not stable: " + excerpt(again));
}

// An event block: what decodes must re-encode to the same bytes (a single
// event of an older build reads as a block of one, and is checked above).
void block_round_trip(std::string_view bytes) {
  if (bytes.empty() || bytes.front() != 'K') return;
  auto d = p::decode_events(bytes);
  if (!d) {
    if (d.error.empty()) fail("event block: refused without a reason: " + excerpt(bytes));
    return;
  }
  const std::string again = p::encode_event_block(*d.value, 0, d.value->size());
  const bool current = bytes.size() > 1 && again.size() > 1 && bytes[1] == again[1];
  if (current && again != bytes)
    fail("event block: decoded, but re-encodes to other bytes: " + excerpt(bytes) + " -> " + excerpt(again));
  auto d2 = p::decode_events(again);
  if (!d2 || d2.value->size() != d.value->size())
    fail("event block: its own encoding is refused or changed: " + excerpt(again));
}

void decode_all(std::string_view bytes) {
  block_round_trip(bytes);
  round_trip(bytes, p::decode_job, "job", false);
  round_trip(bytes, p::decode_transition, "transition", true);
  round_trip(bytes, p::decode_log, "log", true);
  round_trip(bytes, p::decode_event, "event", true);
  round_trip(bytes, p::decode_batch, "batch", true);
  round_trip(bytes, p::decode_cache_entry, "cache entry", true);
}

}  // namespace

int fuzz_codec(const std::uint8_t* data, std::size_t size) {
  const auto bytes = as_text(data, size);
  decode_all(bytes);
  if (bytes.size() >= 4) {
    std::string fixed(bytes.substr(0, bytes.size() - 4));
    const auto crc = p::crc32(fixed);
    for (int i = 0; i < 4; ++i) fixed.push_back(static_cast<char>((crc >> (8 * i)) & 0xFF));
    decode_all(fixed);
  }
  return 0;
}

}  // namespace overseer::fuzz
