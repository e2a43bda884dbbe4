#pragma once
// The canonical text form of a kernel's graph, one instruction a line with its source position:
// what `gradc inspect --ssa / --tangent / --adjoint` prints, and what tests compare.

#include <string>

#include "compiler/kernels.hpp"
#include "compiler/source.hpp"

namespace gradc {

std::string print_kernel(const SourceFile& source, const Kernel& kernel);

} // namespace gradc
