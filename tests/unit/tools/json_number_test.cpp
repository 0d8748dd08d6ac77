// format_number: the one spelling of a JSON number, in its three forms.
#include <limits>

#include <catch2/catch.hpp>

#include "tools/json_number.hpp"

using overseer::tools::format_number;
using overseer::tools::number_form;

TEST_CASE("json: the shortest spelling that reads back, null for what JSON cannot hold", "[json_number]") {
  CHECK(format_number(2.0) == "2");
  CHECK(format_number(0.25) == "0.25");
  CHECK(format_number(-1.5) == "-1.5");
  CHECK(format_number(1e300) == "1e+300");
  CHECK(format_number(3.0517578125e-05) == "3.0517578125e-05");
  CHECK(format_number(std::numeric_limits<double>::infinity()) == "null");
  CHECK(format_number(std::numeric_limits<double>::quiet_NaN()) == "null");
}

TEST_CASE("canonical: integral values below 9e15 as integers, the rest as json", "[json_number]") {
  CHECK(format_number(1.0, number_form::canonical) == "1");
  CHECK(format_number(1e15, number_form::canonical) == "1000000000000000");
  CHECK(format_number(-42.0, number_form::canonical) == "-42");
  CHECK(format_number(1e16, number_form::canonical) == "1e+16");
  CHECK(format_number(0.1, number_form::canonical) == "0.1");
  CHECK(format_number(std::numeric_limits<double>::infinity(), number_form::canonical) == "inf");
}

TEST_CASE("plain: integers below 1e15, fixed notation otherwise, never an exponent", "[json_number]") {
  CHECK(format_number(4.0, number_form::plain) == "4");
  CHECK(format_number(0.5, number_form::plain) == "0.5");
  CHECK(format_number(1e-7, number_form::plain) == "0.0000001");
  CHECK(format_number(1e15, number_form::plain) == "1000000000000000");
  CHECK(format_number(1e20, number_form::plain) == "100000000000000000000");
}

TEST_CASE("an integer is what a person calls one, 3.0 included", "[json_number]") {
  using overseer::tools::integral_value;
  using overseer::tools::is_integral;
  CHECK(is_integral(boost::json::value(3)));
  CHECK(is_integral(boost::json::value(3.0)));
  CHECK(is_integral(boost::json::value(18446744073709551615ULL)));
  CHECK_FALSE(is_integral(boost::json::value(2.5)));
  CHECK_FALSE(is_integral(boost::json::value(std::numeric_limits<double>::infinity())));
  CHECK_FALSE(is_integral(boost::json::value("3")));
  CHECK(integral_value(boost::json::value(-7.0)) == -7);
  CHECK(integral_value(boost::json::value(9223372036854775807LL)) == 9223372036854775807LL);
  CHECK_FALSE(integral_value(boost::json::value(18446744073709551615ULL)));
  CHECK_FALSE(integral_value(boost::json::value(1e30)));
  CHECK_FALSE(integral_value(boost::json::value(0.5)));
}
