#pragma once
// Text of a `.net` file → its AST. Assumes nothing about the text; guarantees either a complete AST
// with every node's offset set, or a CompileError at the byte where the text stops making sense.

#include "compiler/source.hpp"
#include "grammar/network_ast.hpp"

namespace gradc {

net_ast::Network parse_network(const SourceFile& source);

} // namespace gradc
