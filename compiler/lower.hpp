#pragma once
// Lowering: AST -> one SSA graph per `fn`. Names are resolved, `const`s evaluated, calls inlined,
// ranges unrolled, indices checked, and vector builtins expanded into scalar ops (log-sum-exp and
// softmax in their max-shifted stable forms). Every semantic error of the language is reported
// here as a CompileError at the offending node. Assumes the AST came from parse_program.

#include <cstddef>
#include <string>
#include <vector>

#include "compiler/graph.hpp"
#include "grammar/ast.hpp"

namespace gradc {

struct Parameter {
    std::string name;
    std::vector<std::size_t> dims; // empty: scalar
    std::uint32_t first_slot;      // its scalars are input slots first_slot .. first_slot+size()-1
    std::size_t size() const;
};

struct Function {
    std::string name;
    std::size_t offset;    // of the function's name in the source
    std::string signature; // `fn name(x, v[3])`, for comments
    std::vector<Parameter> params;
    Graph graph;
    std::vector<NodeId> outputs; // one for a scalar function, m for a vector-valued one
    bool vector_valued = false;
    std::uint32_t input_count = 0; // the scalar inputs, all parameters flattened in order
};

struct LowerOptions {
    std::size_t node_limit = 10'000'000;
};

// Takes the AST over: the statements of the last function are freed as soon as they are lowered.
std::vector<Function> lower(ast::Program program, const LowerOptions& options = {});

} // namespace gradc
