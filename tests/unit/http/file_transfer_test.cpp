// The header rules of downloads (http/file_transfer.hpp): Range parsing and
// Content-Disposition escaping.
#include <catch2/catch.hpp>

#include "http/file_transfer.hpp"

using overseer::http::byte_range;
using overseer::http::content_disposition;
using overseer::http::parse_range;

namespace {
bool partial(const byte_range& r, std::uint64_t first, std::uint64_t last) {
  return r.what == byte_range::kind::partial && r.first == first && r.last == last;
}
bool whole(const byte_range& r) { return r.what == byte_range::kind::whole; }
bool unsatisfiable(const byte_range& r) { return r.what == byte_range::kind::unsatisfiable; }
}  // namespace

TEST_CASE("Range: the three single-range forms", "[http][files]") {
  CHECK(partial(parse_range("bytes=0-4", 17), 0, 4));
  CHECK(partial(parse_range("bytes=5-", 17), 5, 16));
  CHECK(partial(parse_range("bytes=-6", 17), 11, 16));
  CHECK(partial(parse_range("bytes=16-16", 17), 16, 16));
  CHECK(partial(parse_range(" bytes= 2-3 ", 17), 2, 3));  // whitespace around the range set
  CHECK(whole(parse_range("bytes = 2-3", 17)));            // but not around the '=' (RFC 9110 14.1.1)
  CHECK(partial(parse_range("BYTES=2-3", 17), 2, 3));        // the unit is case-insensitive
}

TEST_CASE("Range: an end past the file is clipped, a suffix longer than it is the whole", "[http][files]") {
  CHECK(partial(parse_range("bytes=12-1000", 17), 12, 16));
  CHECK(partial(parse_range("bytes=-1000", 17), 0, 16));
  CHECK(partial(parse_range("bytes=0-18446744073709551615", 17), 0, 16));
  // Positions past 2^64 - 1 are past any file too: clipped, never wrapped.
  CHECK(partial(parse_range("bytes=0-99999999999999999999999", 17), 0, 16));
  CHECK(partial(parse_range("bytes=-99999999999999999999999", 17), 0, 16));
}

TEST_CASE("Range: a start at or past the end, or an empty suffix, is unsatisfiable", "[http][files]") {
  CHECK(unsatisfiable(parse_range("bytes=17-", 17)));
  CHECK(unsatisfiable(parse_range("bytes=17-20", 17)));
  CHECK(unsatisfiable(parse_range("bytes=-0", 17)));
  CHECK(unsatisfiable(parse_range("bytes=0-", 0)));  // nothing in an empty file
  CHECK(unsatisfiable(parse_range("bytes=-5", 0)));
  CHECK(unsatisfiable(parse_range("bytes=99999999999999999999-", 17)));  // past 2^64 - 1: past the end
}

TEST_CASE("Range: what is not one valid byte range answers the whole file", "[http][files]") {
  CHECK(whole(parse_range("", 17)));
  CHECK(whole(parse_range("bytes=0-1,3-4", 17)));  // several: may answer 200
  CHECK(whole(parse_range("items=0-4", 17)));
  CHECK(whole(parse_range("bytes=4-2", 17)));  // last before first: invalid, ignored
  CHECK(whole(parse_range("bytes=99999999999999999999-18446744073709551615", 17)));  // so past 2^64 - 1 too
  CHECK(whole(parse_range("bytes=100000000000000000000-99999999999999999999", 17)));
  CHECK(whole(parse_range("bytes=a-b", 17)));
  CHECK(whole(parse_range("bytes=-", 17)));
  CHECK(whole(parse_range("bytes=5", 17)));
  CHECK(whole(parse_range("bytes=+1-2", 17)));
}

TEST_CASE("Content-Disposition: ASCII fallback and RFC 5987 filename*", "[http][files]") {
  CHECK(content_disposition("report.csv") == "attachment; filename=\"report.csv\"; filename*=UTF-8''report.csv");
  CHECK(content_disposition("a b.txt") == "attachment; filename=\"a b.txt\"; filename*=UTF-8''a%20b.txt");
  // Quotes, backslashes and percent signs never reach the quoted fallback.
  CHECK(content_disposition("say \"hi\"\\%.txt") ==
        "attachment; filename=\"say _hi___.txt\"; filename*=UTF-8''say%20%22hi%22%5C%25.txt");
  // Any UTF-8: one '_' per character in the fallback, every byte encoded.
  CHECK(content_disposition("h\xc3\xa9llo \xe2\x9c\x93.txt") ==
        "attachment; filename=\"h_llo _.txt\"; filename*=UTF-8''h%C3%A9llo%20%E2%9C%93.txt");
  // Control characters (a header cannot carry CR or LF) and a path's '/'.
  CHECK(content_disposition("a\r\nb\tc") == "attachment; filename=\"a__b_c\"; filename*=UTF-8''a%0D%0Ab%09c");
  CHECK(content_disposition("out/copy.bin") == "attachment; filename=\"out_copy.bin\"; filename*=UTF-8''out_copy.bin");
  CHECK(content_disposition("") == "attachment; filename=\"file\"; filename*=UTF-8''");
}
