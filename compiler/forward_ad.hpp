#pragma once
// Forward mode: appends to the graph the tangent program of `outputs` (dual numbers: every value
// travels with its tangent, NAME_dot), given the tangent of each input slot. Tangents are built
// with strong zeros, so inputs without a tangent cost nothing. Assumes nothing about the graph
// beyond topological order, so it also differentiates derivative programs (forward over reverse).

#include <cstdint>
#include <vector>

#include "compiler/graph.hpp"

namespace gradc {

// The tangent of each output (no_node where it is zero). `slot_tangents[s]` is the tangent of
// input slot s, no_node (or a slot past the end) for zero.
std::vector<NodeId> forward_ad(Graph& graph, const std::vector<NodeId>& outputs,
                               const std::vector<NodeId>& slot_tangents);

// Many forward sweeps of the same outputs, each along one input slot (the columns of a Jacobian
// or Hessian). A sweep builds what forward_ad builds for that slot alone, node for node, but
// visits only the nodes that depend on the slot, found through a list of users made once: n
// sweeps cost the nodes they reach, not n times the graph.
class ForwardSweeps {
  public:
    ForwardSweeps(const Graph& graph, std::vector<NodeId> outputs);
    // The tangent of each output when input slot `slot` has tangent `seed` and the others none.
    std::vector<NodeId> sweep(Graph& graph, std::uint32_t slot, NodeId seed);

  private:
    std::vector<NodeId> outputs_;
    std::vector<std::uint32_t> user_begin_, users_; // per node of the outputs' cone: its users
    std::vector<NodeId> input_of_slot_;             // the cone's Input node of each slot
    std::vector<NodeId> tangent_;                   // per node, during a sweep
    std::vector<bool> reached_;                     // per node, during a sweep
};

} // namespace gradc
