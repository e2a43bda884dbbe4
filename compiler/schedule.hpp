#pragma once
// Scheduling: the order in which the emitter writes a kernel's statements and stores.
//
// Assumes: a kernel whose graph lists every operand before its user. Guarantees: every live node
// but constants, inputs and Detach appears once as a Value step after the values it reads; every
// store appears once, right after its value. The order is demand-driven: the stores are taken in
// their order and each pulls in what it needs, depth first; and once a value is known, every value
// that now has all its operands follows at once. So a reduction comes out term by term (the
// term, its derivative, the store it completes), the shape the re-roller turns into loops and the
// shape a careful human writes: each value is used soon after it is made.

#include <cstdint>
#include <vector>

#include "compiler/kernels.hpp"

namespace gradc {

// 32 bits: node ids and store indices are below 2^31 (graph.cpp, kernels.cpp).
struct Step {
    enum class Kind : std::uint32_t { Value, Store };
    Step(Kind k, std::uint32_t i) : kind(k), index(i & 0x7FFFFFFFu) {}
    Kind kind : 1;
    std::uint32_t index : 31; // the node (Value) or the index into Kernel::stores (Store)
};
static_assert(sizeof(Step) == 4);

inline constexpr std::uint32_t no_step = 0xFFFFFFFFu;

struct Schedule {
    std::vector<Step> steps;
    std::vector<std::uint32_t> position; // per node: its Value step, or no_step
};

Schedule schedule_kernel(const Kernel& kernel);

// The node whose value `id` is: Detach passes its operand through.
inline NodeId resolve_detach(const Graph& graph, NodeId id) {
    while (graph[id].op == Op::Detach)
        id = graph[id].args[0];
    return id;
}

// True for the nodes that are statements: not constants, inputs or Detach.
inline bool is_statement(Op op) {
    return op != Op::Const && op != Op::Input && op != Op::Detach;
}

// A step's operands: a value's arguments, a store's value (one operand).
inline int step_arity(const Kernel& kernel, const Step& step) {
    return step.kind == Step::Kind::Store ? 1 : info(kernel.graph[step.index].op).arity;
}
// Operand k of a step, through Detach; no_node for a store of zero.
inline NodeId step_operand(const Kernel& kernel, const Step& step, int k) {
    const NodeId a = step.kind == Step::Kind::Store
                         ? kernel.stores[step.index].value
                         : kernel.graph[step.index].args[static_cast<std::size_t>(k)];
    return a == no_node ? no_node : resolve_detach(kernel.graph, a);
}

} // namespace gradc
