// ForwardSweeps and ReverseSweeps (the columns and rows of Jacobians and Hessians) visit only the
// nodes a sweep reaches, yet must build exactly what forward_ad and reverse_ad build for the same
// seed: the same nodes, in the same order, so the same ids. Checked on random functions, for
// sweeps over the function's outputs and over its gradient (forward over reverse, and reverse
// over reverse), each run side by side on two copies of one graph.

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "compiler/forward_ad.hpp"
#include "compiler/reverse_ad.hpp"
#include "random_expr.hpp"

namespace gradc::test {
namespace {

// The nodes of two graphs are the same, one by one.
bool same_nodes(const Graph& a, const Graph& b) {
    if (a.size() != b.size()) return false;
    for (NodeId n = 0; n < a.size(); ++n)
        if (a[n].op != b[n].op || a[n].args != b[n].args) return false;
    return true;
}

// The gradient of a scalar function's graph, built into it, as a list over the input slots.
std::vector<NodeId> gradient(Graph& g, const Function& f) {
    const std::vector<bool> all(f.input_count, true);
    return reverse_ad(g, f.outputs, {g.constant(1.0)}, all);
}

// Every forward sweep of `outputs`, one per input slot: by forward_ad in `dense`, by ForwardSweeps
// in `sparse`.
void check_forward(Graph& dense, Graph& sparse, const std::vector<NodeId>& outputs,
                   std::size_t slots) {
    ForwardSweeps sweeps(sparse, outputs);
    for (std::uint32_t slot = 0; slot < slots; ++slot) {
        CAPTURE(slot);
        std::vector<NodeId> tangents(slots, no_node);
        tangents[slot] = dense.constant(1.0);
        const std::vector<NodeId> expected = forward_ad(dense, outputs, tangents);
        CHECK(sweeps.sweep(sparse, slot, sparse.constant(1.0)) == expected);
    }
    CHECK(same_nodes(dense, sparse));
}

// Every reverse sweep of `outputs`, one per output: by reverse_ad in `dense`, by ReverseSweeps in
// `sparse`.
void check_reverse(Graph& dense, Graph& sparse, const std::vector<NodeId>& outputs,
                   std::size_t slots) {
    const std::vector<bool> all(slots, true);
    ReverseSweeps sweeps(sparse, outputs, all);
    for (std::size_t k = 0; k < outputs.size(); ++k) {
        CAPTURE(k);
        std::vector<NodeId> seeds(outputs.size(), no_node);
        seeds[k] = dense.constant(1.0);
        const std::vector<NodeId> expected = reverse_ad(dense, outputs, seeds, all);
        CHECK(sweeps.sweep(sparse, k, sparse.constant(1.0)) == expected);
    }
    CHECK(same_nodes(dense, sparse));
}

} // namespace

TEST_CASE("sweeps: one slot or output at a time, the same nodes as forward_ad and reverse_ad") {
    int functions = 0, vector_valued = 0;
    for (std::uint64_t seed = 7000; seed < 7040; ++seed) {
        ExprGenerator gen(seed);
        const SourceFile source("sweeps.expr", gen.file(3));
        for (const Function& f : compile_functions(source)) {
            CAPTURE(seed);
            CAPTURE(f.name);
            ++functions;
            {
                Graph dense = f.graph, sparse = f.graph;
                check_forward(dense, sparse, f.outputs, f.input_count);
            }
            {
                Graph dense = f.graph, sparse = f.graph;
                check_reverse(dense, sparse, f.outputs, f.input_count);
            }
            if (f.vector_valued) {
                ++vector_valued;
                continue;
            }
            Graph dense = f.graph;
            const std::vector<NodeId> grad = gradient(dense, f);
            Graph sparse = dense, dense_reverse = dense, sparse_reverse = dense;
            check_forward(dense, sparse, grad, f.input_count); // a Hessian's columns
            check_reverse(dense_reverse, sparse_reverse, grad, f.input_count); // and its rows
        }
    }
    CHECK(functions == 120);
    CHECK(vector_valued > 5);
}

} // namespace gradc::test
