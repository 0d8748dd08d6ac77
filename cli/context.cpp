#include "cli/commands.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "cli/json_read.hpp"
#include "cli/json_text.hpp"
#include "cli/problem.hpp"
#include "cli/text.hpp"
#include "tools/utf8.hpp"

namespace overseer::cli {

void complain(const std::string& message) { std::fprintf(stderr, "overseer: %s\n", message.c_str()); }

std::string read_input(const std::string& path, const std::string& what) {
  if (path == "-") return {std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
  if (std::error_code ec; std::filesystem::is_directory(path, ec)) {
    complain(what + " " + terminal_safe(path) + ": is a directory, not a file");
    throw command_failed{exit_status::usage};
  }
  std::ifstream in(path, std::ios::binary);
  std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (!in && !in.eof()) {
    complain(what + " " + terminal_safe(path) + ": cannot be read");
    throw command_failed{exit_status::usage};
  }
  if (!in.is_open()) {
    complain(what + " " + terminal_safe(path) + ": cannot be opened");
    throw command_failed{exit_status::usage};
  }
  return text;
}

namespace {

/// Adds to `bad` each field under `v` (named from `at`) that JSON text
/// cannot carry.
void unsendable(const boost::json::value& v, const std::string& at, std::vector<std::string>& bad) {
  const auto name = [&] { return at.empty() ? std::string{"the body"} : terminal_safe(at); };
  switch (v.kind()) {
    case boost::json::kind::string:
      if (!tools::valid_utf8(v.get_string())) bad.push_back(name() + " is not valid UTF-8");
      break;
    case boost::json::kind::double_:
      if (!std::isfinite(v.get_double())) bad.push_back(name() + " is not a finite number");
      break;
    case boost::json::kind::array: {
      std::size_t i = 0;
      for (const auto& e : v.get_array()) unsendable(e, at + "[" + std::to_string(i++) + "]", bad);
      break;
    }
    case boost::json::kind::object:
      for (const auto& kv : v.get_object()) {
        const std::string key{kv.key()};
        const auto field = at.empty() ? key : at + "." + key;
        if (!tools::valid_utf8(key)) bad.push_back("a key of " + name() + " (" + terminal_safe(key) + ") is not valid UTF-8");
        unsendable(kv.value(), field, bad);
      }
      break;
    default:
      break;
  }
}

}  // namespace

std::string context::json_body(const boost::json::value& body) {
  std::vector<std::string> bad;
  unsendable(body, "", bad);
  if (!bad.empty()) {
    std::string all;
    for (const auto& b : bad) all += (all.empty() ? "" : "; ") + b;
    complain(all + " (refused before anything was sent)");
    throw command_failed{exit_status::usage};
  }
  return boost::json::serialize(body);
}

boost::json::value context::call(const std::string& method, const std::string& target, const std::string& body,
                                 std::vector<unsigned> ok, const std::string& what) {
  http_answer answer;
  try {
    answer = api.request(method, target, body);
  } catch (const unreachable& e) {
    complain(std::string{e.what()} + " (is overseerd running? the address comes from --url or OVERSEER_URL)");
    throw command_failed{exit_status::unreachable};
  }
  const std::string prefix = what.empty() ? std::string{} : what + ": ";
  if (std::find(ok.begin(), ok.end(), answer.status) == ok.end()) {
    complain(prefix + problem_line(answer.status, answer.body));
    throw command_failed{exit_status_for_http(answer.status)};
  }
  boost::system::error_code ec;
  auto doc = boost::json::parse(answer.body, ec);
  if (ec) {
    complain(prefix + "the server's answer is not JSON (" + ec.message() + "): " +
             problem_line(answer.status, answer.body));
    throw command_failed{exit_status::server_error};
  }
  return doc;
}

void context::print_json(const boost::json::value& doc) const {
  std::printf("%s\n", compact_json(doc).c_str());
}

bool context::print_data(const boost::json::value& doc) const {
  if (output == output_format::json) print_json(doc);
  else if (output == output_format::ids) std::printf("%s\n", safe(doc, "job_id").c_str());
  return output != output_format::table;
}

}  // namespace overseer::cli
