#include "actors/node_table.hpp"

namespace overseer::actors {

void node_table::add(node n) {
  auto name = n.view.name;
  nodes_.insert_or_assign(std::move(name), std::move(n));
}

std::optional<node_table::node> node_table::remove(const std::string& name, std::uint64_t session) {
  auto it = nodes_.find(name);
  if (it == nodes_.end() || (session != 0 && it->second.session != session)) return std::nullopt;
  auto n = std::move(it->second);
  nodes_.erase(it);
  return n;
}

const node_table::node* node_table::find(const std::string& name) const {
  auto it = nodes_.find(name);
  return it == nodes_.end() ? nullptr : &it->second;
}

node_table::node* node_table::find(const std::string& name) {
  auto it = nodes_.find(name);
  return it == nodes_.end() ? nullptr : &it->second;
}

namespace {
bool matches(const std::map<std::string, std::string>& labels, const std::map<std::string, std::string>& selector) {
  for (const auto& [k, v] : selector)
    if (auto it = labels.find(k); it == labels.end() || it->second != v) return false;
  return true;
}
}  // namespace

const node_table::node* node_table::pick(const std::string& tool, const std::string& version, bool local_only,
                                         const std::map<std::string, std::string>& selector) const {
  const node* best = nullptr;
  int best_free = 0;
  for (const auto& [name, n] : nodes_) {
    const auto& v = n.view;
    const int free = v.capacity - v.running;
    if (free <= 0) continue;
    if (local_only && !v.local) continue;
    if (!matches(v.labels, selector)) continue;
    if (!v.local) {
      auto t = v.tools.find(tool);
      if (t == v.tools.end() || t->second != version) continue;
    }
    // Most free slots; this node wins a tie, then the first name.
    if (!best || free > best_free || (free == best_free && v.local && !best->view.local)) {
      best = &n;
      best_free = free;
    }
  }
  return best;
}

void node_table::started(const std::string& name, std::uint64_t session) {
  if (auto* n = find(name); n && n->session == session) ++n->view.running;
}

void node_table::finished(const std::string& name, std::uint64_t session) {
  if (auto* n = find(name); n && n->session == session && n->view.running > 0) --n->view.running;
}

int node_table::capacity() const {
  int sum = 0;
  for (const auto& [name, n] : nodes_) sum += n.view.capacity;
  return sum;
}

std::vector<node_view> node_table::views() const {
  std::vector<node_view> out;
  for (const auto& [name, n] : nodes_)
    if (n.view.local) out.push_back(n.view);
  for (const auto& [name, n] : nodes_)
    if (!n.view.local) out.push_back(n.view);
  return out;
}

}  // namespace overseer::actors
