#pragma once
// The whole front half in one call: text -> AST -> lowered functions. Both the CLI and the tests
// enter here.

#include <string>
#include <vector>

#include "compiler/lower.hpp"
#include "compiler/source.hpp"

namespace gradc {

// Parses and lowers; keeps only the functions named in `only` (all when empty). Throws CompileError
// for errors in the file, UsageError for a name in `only` that the file does not define.
std::vector<Function> compile_functions(const SourceFile& source, const LowerOptions& options = {},
                                        const std::vector<std::string>& only = {});

} // namespace gradc
