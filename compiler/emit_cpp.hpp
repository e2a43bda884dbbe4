#pragma once
// The C++ emitter: kernels -> one self-contained header (generated-api.md). Each kernel's steps
// come in the order of schedule_kernel; the runs reroll finds become `for` loops, every other value
// one `const` line named after its `let` (NAME, NAME_dot, NAME_bar) or `tN`, with a comment quoting
// the .expr line each block comes from; a temporary read once, by the statement right after it, is
// written into that statement instead. Deterministic: the output depends only on the kernels and
// options.

#include <ostream>
#include <string>
#include <vector>

#include "compiler/kernels.hpp"
#include "compiler/reroll.hpp"
#include "compiler/source.hpp"

namespace gradc {

struct EmitOptions {
    std::string name_space;             // the file stem made an identifier when empty
    std::string scalar_type = "double"; // or "float"
    std::string command_line;           // the options, for the header comment
    // A kernel longer than five parts is split into parts of this many statements, each its own
    // function: C++ compilers optimise long straight-line code in superlinear time, and small
    // parts compile fastest (a 3000-dim Rosenbrock gradient: g++ -O2 8 s with parts of 400, 13 s
    // with 1500, 100 s+ unsplit) at no cost in speed; shorter kernels run faster whole.
    std::size_t statements_per_part = 400;
    // Emit regular runs of statements (unrolled reductions and their derivatives) as loops.
    bool loops = true;
    RerollOptions reroll;
};

// Streams one header: the opening on construction, each kernel as it comes, the closing on
// finish(), so that large outputs are never held in memory twice.
class HeaderWriter {
  public:
    HeaderWriter(std::ostream& out, const SourceFile& source, const EmitOptions& options);
    void add(const Kernel& kernel);
    void finish();

  private:
    std::ostream& out_;
    const SourceFile& source_;
    EmitOptions options_;
    std::string name_space_;
};

// The whole header as a string.
std::string emit_header(const SourceFile& source, const std::vector<Kernel>& kernels,
                        const EmitOptions& options);

// `name` made a valid C++ identifier that is no keyword.
std::string cpp_identifier(const std::string& name);

// A literal of the scalar type that reads back as exactly `value` (in that type).
std::string cpp_literal(double value, const std::string& scalar_type);

} // namespace gradc
