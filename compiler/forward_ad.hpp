#pragma once
// Forward mode: appends to the graph the tangent program of `outputs` (dual numbers: every value
// travels with its tangent, NAME_dot), given the tangent of each input slot. Tangents are built
// with strong zeros, so inputs without a tangent cost nothing. Assumes nothing about the graph
// beyond topological order, so it also differentiates derivative programs (forward over reverse).

#include <vector>

#include "compiler/graph.hpp"

namespace gradc {

// The tangent of each output (no_node where it is zero). `slot_tangents[s]` is the tangent of
// input slot s, no_node (or a slot past the end) for zero.
std::vector<NodeId> forward_ad(Graph& graph, const std::vector<NodeId>& outputs,
                               const std::vector<NodeId>& slot_tangents);

} // namespace gradc
