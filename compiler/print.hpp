#pragma once
// A kernel's graph as a program in the notation of the course exercises: what `gradc inspect --ssa
// / --tangent / --adjoint` prints, and what tests compare. The function's intermediates are w_i as
// in `gradc explain` and `inspect --dot` (the inputs w_1 .. w_n appear as the parameters
// themselves), shown as `w3: c` where a `let` names them and referred to by that name; their
// tangents and adjoints are `w3_dot` and `w3_bar` (`c_dot`, `c_bar`). One line per value the
// kernel computes, with its source position, in evaluation order; an unnamed derivative value used
// once is written into the line that uses it, other unnamed values are t1, t2, ... The graph is the
// one the compiler emits, not a re-derivation.

#include <string>

#include "compiler/kernels.hpp"
#include "compiler/lower.hpp"
#include "compiler/source.hpp"

namespace gradc {

// A copy of `fn` in which every live intermediate without a `let` name is labelled with its course
// name (w4, or the result's name), so that the AD passes of build_kernels name its tangents and
// adjoints after it. Labels only name nodes: the kernels compute exactly what those of `fn` do.
Function with_course_names(const Function& fn);

// Expects a kernel built from with_course_names; with another, only `let` names reach derivatives.
std::string print_kernel(const SourceFile& source, const Kernel& kernel);

} // namespace gradc
