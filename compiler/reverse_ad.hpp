#pragma once
// Reverse mode: appends to the graph the adjoint sweep of `outputs` (NAME_bar), visiting the live
// nodes from last to first and accumulating seed * local partial into each operand's adjoint, as
// micrograd's backward() does, but building nodes instead of numbers. Only nodes that depend on an
// active input slot get adjoints. The result shares every primal value it needs with the primal.

#include <cstddef>
#include <vector>

#include "compiler/graph.hpp"

namespace gradc {

// The adjoint of each input slot (no_node where it is zero), given each output's seed.
std::vector<NodeId> reverse_ad(Graph& graph, const std::vector<NodeId>& outputs,
                               const std::vector<NodeId>& seeds,
                               const std::vector<bool>& active_slots);

// Many reverse sweeps of the same outputs, each seeding one output (the rows of a Jacobian). A
// sweep builds what reverse_ad builds for that seed alone, node for node, but visits only the
// nodes its output depends on: m sweeps cost the nodes they reach, not m times the graph.
class ReverseSweeps {
  public:
    ReverseSweeps(const Graph& graph, std::vector<NodeId> outputs,
                  const std::vector<bool>& active_slots);
    // The adjoint of each input slot when output `k` has seed `seed` and the others none.
    std::vector<NodeId> sweep(Graph& graph, std::size_t k, NodeId seed);

  private:
    std::vector<NodeId> outputs_;
    std::size_t slot_count_;
    std::vector<bool> active_;    // per node: depends on an active input slot
    std::vector<NodeId> adjoint_; // per node, during a sweep
    std::vector<bool> reached_;   // per node, during a sweep
};

} // namespace gradc
