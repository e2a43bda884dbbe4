#pragma once
// Kernels: the functions of generated-api.md, each as one graph with its parameter list, built from
// a lowered Function by the AD passes. `f` and `f_jvp`, `f_grad`, `f_vjp`, `f_hessian`, `f_hvp`
// for a scalar function; `g`, `g_jvp`, `g_vjp`, `g_jacobian` for a vector-valued one. The emitter
// prints kernels as C++; `gradc eval` interprets the very same kernels, so both agree by
// construction on what is computed.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "compiler/lower.hpp"

namespace gradc {

struct KernelParam {
    std::string name;
    std::size_t size; // scalars it holds
    bool scalar;      // a `double` (input) or `double*` to one value (output), not an array
    bool output;
    // An output set to zero before the stores, which then write only its nonzero elements.
    bool zeroed = false;
};

struct Kernel {
    std::string name;    // `f_grad`
    std::string summary; // one line for the comment above it
    const Function* function;
    Graph graph;
    std::vector<KernelParam> params;
    struct Element { // 32 bits each: a kernel has fewer than 2^32 input slots and stores
        std::uint32_t param, index;
    };
    std::vector<Element> slots; // input slot -> the parameter element it reads
    struct Store {
        Element target;
        NodeId value; // no_node: zero
        bool add;     // `+=` rather than `=`
    };
    std::vector<Store> stores;
    NodeId returned = no_node; // for kernels that return the value
    bool returns_value = false;
    // Set on a scalar function's f_vjp: the name of the f_grad whose graph and stores it shares.
    // Each store adds the seed (the parameter after the function's, no graph input) times its
    // value; the emitter writes a call of f_grad followed by those products.
    std::string gradient_kernel;
    // Set on a scalar function's f_hessian built as a loop of f_hvp sweeps (where the unrolled
    // sweeps would be too large, see kernels.cpp): that f_hvp. Sweep i, along dir = e_i, gives
    // column i of the Hessian; f_hessian keeps hv[j] for j >= i and mirrors it (hess[i * n + j]
    // and hess[j * n + i]), so the result is exactly symmetric, as the unrolled form's is. Both
    // kernels list the function's parameters first, then f_hessian grad and hess, f_hvp dir, grad
    // and hv. The graph holds only the returned value, and there are no stores: the emitter writes
    // the loop and the interpreter runs it (run_kernel).
    std::shared_ptr<const Kernel> column_sweep;
};

struct KernelOptions {
    bool primal = true, forward = true, reverse = true, hessian = false;
    std::vector<std::string> wrt; // empty: every parameter
};

// Thrown for options that do not fit the function (`--wrt` naming no parameter): a usage error.
class UsageError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// The nodes a kernel's stores and return read: what it computes.
std::vector<NodeId> kernel_roots(const Kernel& kernel);

std::vector<Kernel> build_kernels(const Function& function, const KernelOptions& options);

// The same kernels handed to `sink` one at a time, so only one is held in memory.
void for_each_kernel(const Function& function, const KernelOptions& options,
                     const std::function<void(Kernel&&)>& sink);
// The same, taking the function's graph (the function keeps the rest): the last kernel built from
// it extends it instead of copying it.
void for_each_kernel(Function&& function, const KernelOptions& options,
                     const std::function<void(Kernel&&)>& sink);

} // namespace gradc
