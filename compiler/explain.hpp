#pragma once
// `gradc explain`: the table the course exercises ask for, at one point. Every intermediate w_i of
// the computation graph (dot.hpp's CourseGraph) with its defining operation and value, its forward
// tangent w_i dot for each input (forward mode seeded with e_j: one sweep per input), and its
// adjoint w_i bar (reverse mode: one sweep per output), then the tangent and adjoint traces as
// formulas over the local partial derivatives, and the gradient by both modes. Assumes a lowered
// Function and one value per input slot; evaluates everything on the interpreter.

#include <string>
#include <vector>

#include "compiler/lower.hpp"
#include "compiler/source.hpp"

namespace gradc {

std::string explain(const SourceFile& source, const Function& fn,
                    const std::vector<double>& slot_values);

} // namespace gradc
