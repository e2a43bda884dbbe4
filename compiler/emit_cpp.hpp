#pragma once
// The C++ emitter: kernels -> one self-contained header (generated-api.md). Every live node becomes
// one `const` line, named after its `let` (NAME, NAME_dot, NAME_bar) or `tN`, with a comment
// quoting the .expr line each block comes from. Deterministic: the output depends only on the
// kernels and options.

#include <string>
#include <vector>

#include "compiler/kernels.hpp"
#include "compiler/source.hpp"

namespace gradc {

struct EmitOptions {
    std::string name_space;            // the file stem made an identifier when empty
    std::string scalar_type = "double"; // or "float"
    std::string command_line;          // the options, for the header comment
};

std::string emit_header(const SourceFile& source, const std::vector<Kernel>& kernels,
                        const EmitOptions& options);

// `name` made a valid C++ identifier that is no keyword.
std::string cpp_identifier(const std::string& name);

// A literal of the scalar type that reads back as exactly `value` (in that type).
std::string cpp_literal(double value, const std::string& scalar_type);

} // namespace gradc
