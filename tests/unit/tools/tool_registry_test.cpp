#include "overseer/tool.hpp"

#include <catch2/catch.hpp>

#include "tools/builtin_tools.hpp"
#include "tools/tool_registry.hpp"

namespace {

using overseer::tool_definition;

overseer::tool_result ok(overseer::job_context&) { return boost::json::object{}; }

// A definition named `name`, changed by `edit`. (Designated initializers that
// leave fields out trip GCC 12's -Wmissing-field-initializers.)
tool_definition def(std::string name, const std::function<void(tool_definition&)>& edit = {}) {
  tool_definition d;
  d.name = std::move(name);
  if (edit) edit(d);
  return d;
}

tool_definition described(std::string name, std::string description) {
  return def(std::move(name), [&](tool_definition& d) { d.description = description; });
}

// The field names of the invalid_spec error thrown by add().
std::vector<std::string> refused_fields(tool_definition d, overseer::tool_function body = ok) {
  overseer::tool_registry registry;
  try {
    registry.add(std::move(d), std::move(body));
  } catch (const overseer::error& e) {
    CHECK(e.code() == overseer::errc::invalid_spec);
    std::vector<std::string> fields;
    for (const auto& f : e.fields()) fields.push_back(f.field);
    return fields;
  }
  FAIL("add() accepted the definition");
  return {};
}

}  // namespace

TEST_CASE("a registered tool is found by name", "[tools]") {
  overseer::tool_registry registry;
  registry.add(described("align", "aligns"), ok);
  auto entry = registry.find("align");
  REQUIRE(entry);
  CHECK(entry->definition.description == "aligns");
  CHECK(entry->body);
  CHECK_FALSE(registry.find("unknown"));
}

TEST_CASE("list returns the tools sorted by name", "[tools]") {
  overseer::tool_registry registry;
  for (const char* name : {"zeta", "alpha", "mid"}) registry.add(def(name), ok);
  auto tools = registry.list();
  REQUIRE(tools.size() == 3);
  CHECK(tools[0].name == "alpha");
  CHECK(tools[1].name == "mid");
  CHECK(tools[2].name == "zeta");
}

TEST_CASE("a duplicate name is refused and the first tool kept", "[tools]") {
  overseer::tool_registry registry;
  registry.add(described("align", "first"), ok);
  CHECK_THROWS_AS(registry.add(described("align", "second"), ok), overseer::error);
  CHECK(registry.find("align")->definition.description == "first");
}

TEST_CASE("invalid definitions are refused naming the field", "[tools]") {
  using V = std::vector<std::string>;
  CHECK(refused_fields(def("")) == V{"name"});
  CHECK(refused_fields(def("has space")) == V{"name"});
  CHECK(refused_fields(def("a/b")) == V{"name"});
  CHECK(refused_fields(def(std::string(65, 'a'))) == V{"name"});
  CHECK(refused_fields(def("t", [](auto& d) { d.params = {{"x", {{"type", "float"}}}}; })) == V{"params.x.type"});
  CHECK(refused_fields(def("t", [](auto& d) { d.max_concurrent = -1; })) == V{"max_concurrent"});
  CHECK(refused_fields(def("t", [](auto& d) { d.retry.max_attempts = 0; })) == V{"retry.max_attempts"});
  CHECK(refused_fields(def("t", [](auto& d) { d.retry.multiplier = 0.5; })) == V{"retry.multiplier"});
  // An initial backoff above the max: the max is what must be at least the initial (check_retry_policy).
  CHECK(refused_fields(def("t", [](auto& d) { d.retry.initial_backoff = std::chrono::seconds(120); })) ==
        V{"retry.max_backoff_ms"});
  CHECK(refused_fields(def("t", [](auto& d) { d.retry.max_attempts = 101; })) == V{"retry.max_attempts"});
  CHECK(refused_fields(def("t", [](auto& d) { d.timeout = std::chrono::seconds(0); })) == V{"timeout_s"});
  CHECK(refused_fields(def("t"), nullptr) == V{"body"});
}

TEST_CASE("names may use letters, digits, dot, dash and underscore", "[tools]") {
  overseer::tool_registry registry;
  CHECK_NOTHROW(registry.add(def("Tool_1.2-x"), ok));
  CHECK_NOTHROW(registry.add(def(std::string(64, 'a')), ok));
}

TEST_CASE("an unknown tool is named, with a registered name only when it is a plausible typo", "[tools]") {
  overseer::tool_registry registry;
  overseer::tools::register_builtin_tools(registry);
  auto e = overseer::tools::unknown_tool(registry, "slep");
  CHECK(e.field == "tool");
  CHECK(e.message == R"(unknown tool "slep"; did you mean "sleep"?)");
  CHECK(overseer::tools::unknown_tool(registry, "fasta-stats").message ==
        R"(unknown tool "fasta-stats"; did you mean "fasta_stats"?)");
  CHECK(overseer::tools::unknown_tool(registry, "tool").message == R"(unknown tool "tool")");
  CHECK(overseer::tools::unknown_tool(registry, "align").message == R"(unknown tool "align")");
}

TEST_CASE("tool names are 1-64 of A-Z a-z 0-9 _ . -", "[tools]") {
  using overseer::tools::is_tool_name;
  CHECK(is_tool_name("Tool_1.2-x"));
  CHECK(is_tool_name(std::string(64, 'a')));
  CHECK_FALSE(is_tool_name(""));
  CHECK_FALSE(is_tool_name(std::string(65, 'a')));
  CHECK_FALSE(is_tool_name("a b"));
  CHECK_FALSE(is_tool_name("a/b"));
  CHECK_FALSE(is_tool_name(std::string("a\0b", 3)));
  CHECK_FALSE(is_tool_name("caf\xc3\xa9"));
}
