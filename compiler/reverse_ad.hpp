#pragma once
// Reverse mode: appends to the graph the adjoint sweep of `outputs` (NAME_bar), visiting the live
// nodes from last to first and accumulating seed * local partial into each operand's adjoint, as
// micrograd's backward() does, but building nodes instead of numbers. Only nodes that depend on an
// active input slot get adjoints. The result shares every primal value it needs with the primal.

#include <vector>

#include "compiler/graph.hpp"

namespace gradc {

// The adjoint of each input slot (no_node where it is zero), given each output's seed.
std::vector<NodeId> reverse_ad(Graph& graph, const std::vector<NodeId>& outputs,
                               const std::vector<NodeId>& seeds,
                               const std::vector<bool>& active_slots);

} // namespace gradc
