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

struct Step {
    enum class Kind : std::uint8_t { Value, Store };
    Kind kind;
    std::uint32_t index; // the node (Value) or the index into Kernel::stores (Store)
};

std::vector<Step> schedule_kernel(const Kernel& kernel);

// A step's operands: a value's arguments, a store's value (one operand).
int step_arity(const Kernel& kernel, const Step& step);
// Operand k of a step, through Detach; no_node for a store of zero.
NodeId step_operand(const Kernel& kernel, const Step& step, int k);

// The node whose value `id` is: Detach passes its operand through.
NodeId resolve_detach(const Graph& graph, NodeId id);

// True for the nodes that are statements: not constants, inputs or Detach.
bool is_statement(Op op);

} // namespace gradc
