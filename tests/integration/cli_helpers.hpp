// Running the real `overseer` binary against a daemon, as a script would.
#pragma once

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "support/program.hpp"

namespace overseer::test {

/// `overseer ARGS...` with OVERSEER_URL pointing at `port`, plus `env`.
inline program_result overseer_cli(unsigned short port, std::vector<std::string> args,
                                   std::vector<std::string> env = {}, const std::string& stdin_text = {}) {
  args.insert(args.begin(), OVERSEER_CLI_PATH);
  env.push_back("OVERSEER_URL=http://127.0.0.1:" + std::to_string(port));
  return run_program(std::move(args), std::move(env), stdin_text);
}

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

inline std::size_t count_lines_with(const std::string& text, const std::string& needle) {
  const auto lines = lines_of(text);
  return static_cast<std::size_t>(
      std::count_if(lines.begin(), lines.end(), [&](const std::string& l) { return l.find(needle) != std::string::npos; }));
}

inline std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace overseer::test
