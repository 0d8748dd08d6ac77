#include <catch2/catch.hpp>

#include "tools/utf8.hpp"

using overseer::tools::sanitize_utf8;
using overseer::tools::sanitize_utf8_in_place;
using overseer::tools::valid_utf8;

TEST_CASE("valid UTF-8 passes unchanged", "[utf8]") {
  const std::string samples[] = {"", "plain ascii", std::string("nul\0inside", 10), "\xC3\xA9t\xC3\xA9",
                                 "\xE2\x82\xAC", "\xF0\x9F\xA7\xAC", "\xEF\xBF\xBF", "\xF4\x8F\xBF\xBF"};
  for (const auto& s : samples) {
    INFO(s);
    CHECK(valid_utf8(s));
    CHECK(sanitize_utf8(s) == s);
  }
}

TEST_CASE("ill-formed sequences are refused and replaced per maximal subpart", "[utf8]") {
  const std::string fffd = "\xEF\xBF\xBD";
  struct sample {
    std::string in, out;
  };
  const sample samples[] = {
    {"\xFF\xFE", fffd + fffd},                    // bytes that never occur
    {"a\x80z", "a" + fffd + "z"},                 // lone continuation byte
    {"\xC0\xAF", fffd + fffd},                    // overlong '/'
    {"\xE0\x80\xAF", fffd + fffd + fffd},         // overlong, second byte out of range
    {"\xED\xA0\x80", fffd + fffd + fffd},         // a surrogate
    {"\xF4\x90\x80\x80", fffd + fffd + fffd + fffd},  // above U+10FFFF
    {"\xE2\x82", fffd},                           // truncated at the end: one subpart
    {"\xE2\x82z", fffd + "z"},                    // truncated before ASCII
    {"\xF0\x9F\x98", fffd},                       // truncated 4-byte sequence
    {"ok\xC3", "ok" + fffd},
  };
  for (const auto& s : samples) {
    INFO(s.in);
    CHECK_FALSE(valid_utf8(s.in));
    const auto fixed = sanitize_utf8(s.in);
    CHECK(fixed == s.out);
    CHECK(valid_utf8(fixed));
  }
}

TEST_CASE("sanitizing in place reports whether anything changed", "[utf8]") {
  std::string good = "caf\xC3\xA9";
  CHECK_FALSE(sanitize_utf8_in_place(good));
  CHECK(good == "caf\xC3\xA9");
  std::string bad = "x\xFFy";
  CHECK(sanitize_utf8_in_place(bad));
  CHECK(bad == "x\xEF\xBF\xBDy");
}

TEST_CASE("every byte string sanitizes to valid UTF-8", "[utf8]") {
  // All two-byte strings, and three-byte strings over the interesting lead bytes.
  for (int a = 0; a < 256; ++a)
    for (int b = 0; b < 256; ++b) {
      const std::string s{static_cast<char>(a), static_cast<char>(b)};
      REQUIRE(valid_utf8(sanitize_utf8(s)));
    }
  for (int a = 0xC0; a < 256; ++a)
    for (int b = 0x70; b < 0xC8; ++b)
      for (int c = 0x70; c < 0xC8; ++c) {
        const std::string s{static_cast<char>(a), static_cast<char>(b), static_cast<char>(c)};
        const auto fixed = sanitize_utf8(s);
        REQUIRE(valid_utf8(fixed));
        if (valid_utf8(s)) REQUIRE(fixed == s);
      }
}

TEST_CASE("length counts characters, not bytes", "[utf8]") {
  CHECK(overseer::tools::utf8_length("") == 0);
  CHECK(overseer::tools::utf8_length("abc") == 3);
  CHECK(overseer::tools::utf8_length("caf\xC3\xA9") == 4);
  CHECK(overseer::tools::utf8_length("\xF0\x9F\xA7\xAC\xE2\x82\xAC") == 2);
}
