#pragma once
// Re-rolling: finds runs of scheduled steps that repeat with the same shape iteration after
// iteration and describes each run as a loop, so that a `sum(i in 0..n: ...)` that lowering
// unrolled is emitted as the loop it was written as (and its derivative as the loop a person would
// write), which is what keeps large gradients fast to run and to compile.
//
// Assumes: steps from schedule_kernel. Guarantees: a loop stands for exactly the steps it
// replaces, in the same order, with the same operations on the same operands (those of + and *
// possibly swapped, which IEEE arithmetic allows; whole-number constants that count with the
// iterations computed exactly from the loop counter), so it computes bit for bit what the
// straight-line code would. Every operand of a body step is described by one
// pattern that holds in every iteration. Loops shorter than the thresholds are left unrolled.

#include <array>
#include <cstdint>
#include <vector>

#include "compiler/kernels.hpp"
#include "compiler/schedule.hpp"

namespace gradc {

// Where an operand of a loop body step comes from, in iteration i.
struct Pattern {
    enum class Kind : std::uint8_t {
        Fixed,    // `node` in every iteration: a constant, an input, a value made before the loop
        Element,  // element base + stride * i of the input parameter `param`
        Local,    // the value of body step `step`, this iteration
        Previous, // the value of body step `step` in the previous iteration; `node` in the first
        Gather,  // the value of body step `step` of loop `loop`, in its iteration base + stride * i
        Integer, // the constant base + stride * i: a whole number, so exact in floating point
    };
    Kind kind = Kind::Fixed;
    NodeId node = no_node;
    std::uint32_t param = 0, step = 0, loop = 0;
    std::int64_t base = 0, stride = 0;
};

struct Loop {
    std::size_t begin = 0, length = 0, count = 0; // steps [begin, begin + length * count)
    // Per body step: its operands (a store's value is operand 0) and a store's target index.
    std::vector<std::array<Pattern, 3>> operands;
    std::vector<Pattern> targets;
    // Per body step: the value that a Previous operand reads in the first iteration, or no_node.
    std::vector<NodeId> initial;
    // Per body step: how its value is kept for readers outside its iteration (bits of Keep).
    enum Keep : std::uint8_t {
        KeepArray = 1,    // an array of all iterations' values: read by a later statement or loop
        KeepState = 2,    // a variable declared before the loop: read by the next iteration or
                          // (the last iteration's value) after the loop
        KeepPrevious = 4, // a copy of the previous iteration's value, read after the step
    };
    std::vector<std::uint8_t> keep;

    std::size_t end() const { return begin + length * count; }
};

struct RerollOptions {
    std::size_t min_iterations = 4; // fewer iterations stay straight-line code
    std::size_t min_steps = 32;     // as do loops that would replace fewer steps
};

std::vector<Loop> reroll(const Kernel& kernel, const Schedule& schedule,
                         const RerollOptions& options);

} // namespace gradc
