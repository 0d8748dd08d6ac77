// The scheduler node's view of a cluster's nodes, without actors: who offers
// which tools, how much room each has, and where the next attempt goes.
//
// An attempt of a tool goes to a node that offers the tool (same name and
// version as the scheduler node's definition) and has a free slot; among
// those, the one with the most free slots (spread by free capacity), this
// node first on a tie, then by name. A job's node_selector narrows the nodes
// to those whose labels hold every one of its pairs. Tools that read or write the scheduler
// node's stored files (a param of type "file", declared outputs) and
// immediate tools run on this node only. Not thread-safe: the scheduler
// actor owns it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor.hpp>

#include "overseer/engine.hpp"

namespace overseer::actors {

class node_table {
public:
  struct node {
    node_view view;
    caf::actor worker;  ///< empty for this node
    std::uint64_t session = 0;
  };

  /// Adds a node, or replaces the one of the same name (a rejoin).
  void add(node n);
  /// Removes `name` if its session is `session` (0: any); returns it.
  std::optional<node> remove(const std::string& name, std::uint64_t session = 0);
  [[nodiscard]] const node* find(const std::string& name) const;
  node* find(const std::string& name);

  /// Where the next attempt of `tool` (at `version`) goes; none while no
  /// node has room for it. `local_only`: only this node may run it.
  [[nodiscard]] const node* pick(const std::string& tool, const std::string& version, bool local_only,
                                 const std::map<std::string, std::string>& selector = {}) const;
  /// Slot accounting of the node `name` in membership `session` (a slot of
  /// a membership that has ended is not the rejoined node's).
  void started(const std::string& name, std::uint64_t session);
  void finished(const std::string& name, std::uint64_t session);

  /// Every node's capacity together: the cluster's global limit.
  [[nodiscard]] int capacity() const;
  [[nodiscard]] std::size_t size() const { return nodes_.size(); }
  /// This node first, then by name.
  [[nodiscard]] std::vector<node_view> views() const;

private:
  std::map<std::string, node> nodes_;
};

}  // namespace overseer::actors
