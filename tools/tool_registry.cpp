#include "tools/tool_registry.hpp"
#include "tools/utf8.hpp"

#include <map>
#include <mutex>
#include <shared_mutex>

#include "tools/did_you_mean.hpp"
#include "tools/output_files.hpp"
#include "tools/param_schema.hpp"

namespace overseer {

struct tool_registry::impl {
  mutable std::shared_mutex mutex;
  // Entries are immutable once added, so a running job keeps its shared_ptr
  // without holding the lock.
  std::map<std::string, std::shared_ptr<const entry>, std::less<>> tools;
};

tool_registry::tool_registry() : impl_(std::make_unique<impl>()) {}
tool_registry::~tool_registry() = default;


void tool_registry::add(tool_definition definition, tool_function body) {
  auto errors = tools::check_definition(definition);
  if (!body) errors.push_back({"body", "is empty"});
  if (!errors.empty()) {
    std::string message = "tool \"" + definition.name + "\": ";
    for (std::size_t i = 0; i < errors.size(); ++i)
      message += (i ? "; " : "") + errors[i].field + " " + errors[i].message;
    throw error(errc::invalid_spec, std::move(message), std::move(errors));
  }
  auto name = definition.name;
  auto e = std::make_shared<const entry>(entry{std::move(definition), std::move(body)});
  std::unique_lock lock(impl_->mutex);
  if (!impl_->tools.emplace(name, std::move(e)).second) {
    throw error(errc::invalid_spec, "tool \"" + name + "\" is already registered",
                {{"name", "\"" + name + "\" is already registered"}});
  }
}

std::shared_ptr<const tool_registry::entry> tool_registry::find(std::string_view name) const {
  std::shared_lock lock(impl_->mutex);
  auto it = impl_->tools.find(name);
  return it == impl_->tools.end() ? nullptr : it->second;
}

std::vector<tool_definition> tool_registry::list() const {
  std::shared_lock lock(impl_->mutex);
  std::vector<tool_definition> out;
  out.reserve(impl_->tools.size());
  for (const auto& [name, e] : impl_->tools) out.push_back(e->definition);  // map is sorted
  return out;
}

namespace tools {

std::vector<field_error> check_definition(const tool_definition& d) {
  std::vector<field_error> errors;
  if (d.name.empty()) {
    errors.push_back({"name", "is required"});
  } else if (!is_tool_name(d.name)) {
    errors.push_back({"name", "\"" + d.name + "\" must be 1-64 of A-Z a-z 0-9 _ . -"});
  }
  for (auto& e : check_schema(d.params)) errors.push_back(std::move(e));
  if (d.timeout && d.timeout->count() <= 0) {
    errors.push_back({"timeout_s", std::to_string(d.timeout->count()) + " is not positive"});
  }
  if (d.max_concurrent < 0) {
    errors.push_back({"max_concurrent", std::to_string(d.max_concurrent) + " is negative"});
  }
  for (auto& e : check_retry_policy(d.retry)) errors.push_back(std::move(e));
  for (std::size_t i = 0; i < d.outputs.size(); ++i)
    if (auto bad = check_output_pattern(d.outputs[i])) {
      std::string message{"\""};  // appended, not "\"" + string: GCC 12 -O3 warns on that (-Wstringop-overflow)
      message += sanitize_utf8(d.outputs[i]);
      message += "\" ";
      message += *bad;
      errors.push_back({"outputs[" + std::to_string(i) + "]", std::move(message)});
    }
  if (d.supervision) {
    if (d.supervision->max_failures < 0)
      errors.push_back({"supervision.max_failures", std::to_string(d.supervision->max_failures) + " is negative"});
    if (d.supervision->window.count() <= 0)
      errors.push_back({"supervision.window_s", "must be above 0"});
    const auto& c = d.supervision->counts;
    if (!c.crashes && !c.timeouts && !c.failures)
      errors.push_back({"supervision.count", "must name at least one of crashes, timeouts, failures"});
  }
  return errors;
}

bool is_tool_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 64) return false;
  for (const char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

field_error unknown_tool(const tool_registry& registry, std::string_view name) {
  std::vector<std::string> names;
  for (const auto& d : registry.list()) names.push_back(d.name);
  const auto best = nearest_name(name, names);
  return {"tool", "unknown tool \"" + sanitize_utf8(name) + "\"" +
                      (best.empty() ? std::string{} : "; did you mean \"" + best + "\"?")};
}

}  // namespace tools
}  // namespace overseer
