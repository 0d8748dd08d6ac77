#include "cli/commands.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>

#include <boost/json/parse.hpp>

#include "cli/json_read.hpp"
#include "cli/json_text.hpp"
#include "cli/problem.hpp"
#include "cli/text.hpp"

namespace overseer::cli {

void complain(const std::string& message) { std::fprintf(stderr, "overseer: %s\n", message.c_str()); }

std::string read_input(const std::string& path, const std::string& what) {
  if (path == "-") return {std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
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
