#pragma once
// Peephole simplification, applied by Graph::apply to every node before it is interned.
// Assumes: the operands are already simplified. Guarantees: a rewrite changes no result in IEEE
// arithmetic, except (a) the sign of a zero (`x + 0 -> x`), and (b) the documented stability
// rewrites `log(exp(u)) -> u`, `log(exp(u) / s) -> u - log(s)` and `log(sigmoid(x)) ->
// log_sigmoid(x)`, which give the true finite result where the naive form overflows.
// Never rewritten: `0 * x -> 0` and `x - x -> 0` (wrong for Inf and NaN).

#include "compiler/graph.hpp"

namespace gradc {

// The id of an existing or newly built node equal to `op(a, b, c)`, or no_node when no rule
// applies.
NodeId simplify(Graph& graph, Op op, NodeId a, NodeId b, NodeId c);

} // namespace gradc
