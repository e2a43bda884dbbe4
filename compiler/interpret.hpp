#pragma once
// The interpreter: the oracle that `gradc eval` and the tests compare everything else against.
// Evaluates every node in graph order with the VALUE column of ops.def (truth values are 0 and 1).

#include <vector>

#include "compiler/graph.hpp"

namespace gradc {

// The value of every node, given the value of every input slot.
std::vector<double> interpret(const Graph& graph, const std::vector<double>& inputs);

} // namespace gradc

#include "compiler/kernels.hpp"

namespace gradc {

struct KernelResult {
    double value = 0; // the returned value, if the kernel returns one
    std::vector<std::vector<double>>
        outputs; // per kernel parameter: what was stored (outputs only)
};

// Runs a kernel on the interpreter. `inputs[p]` holds the elements of input parameter p; outputs
// start at zero, so `+=` stores give seed * gradient. An f_hessian built as a loop of f_hvp sweeps
// (Kernel::column_sweep) runs that f_hvp once per column.
KernelResult run_kernel(const Kernel& kernel, const std::vector<std::vector<double>>& inputs);

} // namespace gradc
