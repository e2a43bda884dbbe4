#pragma once
// Local partial derivatives of single nodes, built as graph nodes from the D_A/D_B/D_C columns of
// ops.def, plus the two products that both AD passes accumulate with.

#include "compiler/graph.hpp"

namespace gradc {

// d node / d operand `which`, or no_node where it is structurally zero.
NodeId build_partial(Graph& graph, NodeId node, int which);

// The first operand position holding the same node as position `which` (x * x holds x twice).
int first_position(const Node& node, int which);

// d node / d (the operand at `which`), summed over every position holding that operand, so that
// `x * x` contributes once, as 2 * x, rather than twice.
NodeId total_partial(Graph& graph, NodeId node, int which);

// `factor * partial` with strong zeros: no_node (zero) when either side is no_node, so a zero
// partial kills a contribution even where the other factor is Inf or NaN. A factor or partial that
// is a select with a zero arm stays a select (`c ? x * p : 0`), so a branch that was not taken
// contributes an exact zero even where its partials are not finite.
NodeId scale(Graph& graph, NodeId factor, NodeId partial);

// `sum + term`, where no_node is zero.
NodeId accumulate(Graph& graph, NodeId sum, NodeId term);

} // namespace gradc
