#pragma once
// The X3 grammar of `.expr` files, declared here and instantiated once in expression.cpp for
// parser::context_type. Use gradc::parse_program (parse.hpp) rather than this rule directly: the
// rule expects the normalised text and ParseState that the facade prepares.

#include "grammar/ast.hpp"
#include "grammar/config.hpp"

namespace gradc::parser {

struct program_class;
using program_type = x3::rule<program_class, ast::Program>;
BOOST_SPIRIT_DECLARE(program_type)

const program_type& program();

} // namespace gradc::parser
