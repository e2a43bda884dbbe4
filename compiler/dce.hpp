#pragma once
// Dead-code elimination as a query: which nodes the given roots depend on. Passes and the emitter
// visit only those, so nothing else needs deleting from the append-only graph.

#include <vector>

#include "compiler/graph.hpp"

namespace gradc {

// live[i] is true when node i is a root or an operand, transitively, of one. Roots may be no_node.
std::vector<bool> live_nodes(const Graph& graph, const std::vector<NodeId>& roots);

} // namespace gradc
