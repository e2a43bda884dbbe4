#pragma once
// Reverse-mode AD over the tensor program: appends to graph.backward, for every forward step that
// leads from a parameter to the loss (in reverse order), the steps of that op's vector-Jacobian
// product, one rule per step kind. Adjoints are tensors of role Adjoint: the first contribution to
// one assigns (or zeroes it first), later ones accumulate; a parameter's adjoint is its slice of
// the flat gradient, which accumulates over the tiles of a batch. Returns the adjoint of `loss`,
// which the emitter seeds with 1 / (samples in the batch).

#include "runtime/tensor_graph.hpp"

namespace gradc::net {

int reverse_ad(Graph& graph, int loss);

} // namespace gradc::net
