// docs/openapi.yaml and the router's table (http/router.cpp) describe the
// same API: every (method, path) of one is in the other (the dashboard's
// routes, not `api`, are in neither check). Adding a route
// without documenting it, or documenting one that does not exist, fails here.
//
// The YAML is read with a small line-based parser, enough for the layout
// docs/openapi.yaml keeps: path keys at two spaces under a top-level
// `paths:`, operation keys (get, post, ...) at four spaces under a path.
#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "http/router.hpp"

#ifndef OVERSEER_SOURCE_DIR
#error "OVERSEER_SOURCE_DIR must name the source tree (tests/CMakeLists.txt defines it)"
#endif

namespace {

using operation = std::pair<std::string, std::string>;  // {"GET", "/v1/jobs/{id}"}

std::string read_file(const std::string& path) {
  std::ifstream in{path};
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::size_t indent_of(const std::string& line) {
  std::size_t n = 0;
  while (n < line.size() && line[n] == ' ') ++n;
  return n;
}

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  std::size_t start = 0;
  while (start < s.size() && std::isspace(static_cast<unsigned char>(s[start]))) ++start;
  return s.substr(start);
}

/// The key of a "key:" or "key: value" line (quotes removed), or "" when the
/// line is not a mapping key.
std::string key_of(const std::string& line) {
  std::string s = trim(line);
  if (s.empty() || s.front() == '#' || s.front() == '-') return {};
  if (s.front() == '\'' || s.front() == '"') {
    const char q = s.front();
    const auto end = s.find(q, 1);
    if (end == std::string::npos || end + 1 >= s.size() || s[end + 1] != ':') return {};
    return s.substr(1, end - 1);
  }
  // "key:" at the end of the line, or "key: value".
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == ':' && (i + 1 == s.size() || s[i + 1] == ' ')) return s.substr(0, i);
  }
  return {};
}

struct parsed_paths {
  std::vector<operation> operations;  ///< in document order, duplicates kept
  std::vector<std::string> paths;     ///< path keys, duplicates kept
};

parsed_paths parse_paths(const std::string& yaml) {
  static const std::set<std::string> methods = {"get", "put", "post", "delete", "patch", "head", "options", "trace"};
  parsed_paths out;
  std::istringstream in{yaml};
  bool in_paths = false;
  std::string current;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::string t = trim(line);
    if (t.empty() || t.front() == '#') continue;
    const auto indent = indent_of(line);
    if (indent == 0) {
      in_paths = key_of(line) == "paths";
      current.clear();
      continue;
    }
    if (!in_paths) continue;
    const auto key = key_of(line);
    if (indent == 2 && !key.empty()) {
      current = key;
      out.paths.push_back(key);
    } else if (indent == 4 && !current.empty() && methods.contains(key)) {
      std::string upper = key;
      std::transform(upper.begin(), upper.end(), upper.begin(),
                     [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
      out.operations.emplace_back(upper, current);
    }
  }
  return out;
}

/// Keys at four spaces under `components:` / `  schemas:`.
std::set<std::string> schema_names(const std::string& yaml) {
  std::set<std::string> names;
  std::istringstream in{yaml};
  bool in_components = false, in_schemas = false;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::string t = trim(line);
    if (t.empty() || t.front() == '#') continue;
    const auto indent = indent_of(line);
    const auto key = key_of(line);
    if (indent == 0) {
      in_components = key == "components";
      in_schemas = false;
    } else if (in_components && indent == 2) {
      in_schemas = key == "schemas";
    } else if (in_schemas && indent == 4 && !key.empty()) {
      names.insert(key);
    }
  }
  return names;
}

std::string describe(const std::set<operation>& ops) {
  std::string s;
  for (const auto& [m, p] : ops) s += "  " + m + " " + p + "\n";
  return s.empty() ? "  (none)\n" : s;
}

const std::string openapi_path = OVERSEER_SOURCE_DIR "/docs/openapi.yaml";

}  // namespace

TEST_CASE("the line parser finds operations, and only operations, under paths", "[openapi]") {
  const std::string yaml =
    "openapi: 3.1.0\n"
    "# a comment\n"
    "paths:\n"
    "  /v1/a:\n"
    "    summary: not an operation\n"
    "    get:\n"
    "      responses:\n"
    "        '200':\n"
    "          description: ok\n"
    "    post:\n"
    "      summary: x\n"
    "\n"
    "  '/v1/a/{id}':\n"
    "    parameters:\n"
    "      - name: id\n"
    "    delete:\n"
    "      summary: y\n"
    "components:\n"
    "  schemas:\n"
    "    Thing:\n"
    "      type: object\n"
    "      properties:\n"
    "        get:\n"
    "          type: string\n";
  const auto parsed = parse_paths(yaml);
  const std::vector<operation> expected = {{"GET", "/v1/a"}, {"POST", "/v1/a"}, {"DELETE", "/v1/a/{id}"}};
  CHECK(parsed.operations == expected);
  CHECK(schema_names(yaml) == std::set<std::string>{"Thing"});
}

TEST_CASE("docs/openapi.yaml documents exactly the router's routes", "[openapi]") {
  const std::string yaml = read_file(openapi_path);
  INFO("read " << openapi_path);
  REQUIRE_FALSE(yaml.empty());
  CHECK(yaml.rfind("openapi: 3.1", 0) == 0);

  const auto parsed = parse_paths(yaml);
  const std::set<operation> documented(parsed.operations.begin(), parsed.operations.end());
  // A repeated key is invalid YAML (and would hide an operation).
  CHECK(documented.size() == parsed.operations.size());
  CHECK(std::set<std::string>(parsed.paths.begin(), parsed.paths.end()).size() == parsed.paths.size());

  std::set<operation> routed;
  std::size_t api_routes = 0;
  for (const auto& r : overseer::http::routes()) {
    if (!r.api) continue;  // the dashboard's page and files: docs/dashboard.md
    routed.emplace(r.method, r.pattern);
    ++api_routes;
  }
  REQUIRE(routed.size() == api_routes);

  std::set<operation> undocumented, unrouted;
  std::set_difference(routed.begin(), routed.end(), documented.begin(), documented.end(),
                      std::inserter(undocumented, undocumented.end()));
  std::set_difference(documented.begin(), documented.end(), routed.begin(), routed.end(),
                      std::inserter(unrouted, unrouted.end()));
  INFO("routes missing from docs/openapi.yaml:\n" << describe(undocumented)
       << "operations in docs/openapi.yaml that no route serves:\n" << describe(unrouted));
  CHECK(undocumented.empty());
  CHECK(unrouted.empty());
}

TEST_CASE("docs/openapi.yaml defines the documents the API exchanges", "[openapi]") {
  const auto names = schema_names(read_file(openapi_path));
  for (const char* name : {"JobSpec", "JobView", "Progress", "Transition", "LogLine", "Problem", "FieldError",
                           "JobList", "Tool", "Health"}) {
    INFO("components/schemas/" << name);
    CHECK(names.contains(name));
  }
}
