#pragma once
// Boost.Fusion adaptation of the AST so that X3 can fill the nodes field by field. The `offset`
// member of ast::Located is deliberately not adapted: the rules' on_success handler sets it.

#include "grammar/ast.hpp"

#include <boost/fusion/include/adapt_struct.hpp>

BOOST_FUSION_ADAPT_STRUCT(gradc::ast::Number, text)
BOOST_FUSION_ADAPT_STRUCT(gradc::ast::Identifier, name)
BOOST_FUSION_ADAPT_STRUCT(gradc::ast::Unary, op, operand)
BOOST_FUSION_ADAPT_STRUCT(gradc::ast::Operation, op, operand)
BOOST_FUSION_ADAPT_STRUCT(gradc::ast::Binary, first, rest)
BOOST_FUSION_ADAPT_STRUCT(gradc::ast::Call, name, args)
BOOST_FUSION_ADAPT_STRUCT(gradc::ast::Range, variable, low, high)
BOOST_FUSION_ADAPT_STRUCT(gradc::ast::Reduction, op, ranges, body)
BOOST_FUSION_ADAPT_STRUCT(gradc::ast::Indexed, base, indices)
BOOST_FUSION_ADAPT_STRUCT(gradc::ast::Conditional, condition, then_branch, else_branch)
BOOST_FUSION_ADAPT_STRUCT(gradc::ast::ListLiteral, elements)
BOOST_FUSION_ADAPT_STRUCT(gradc::ast::Param, name, dims)
BOOST_FUSION_ADAPT_STRUCT(gradc::ast::Let, name, ranges, value)
BOOST_FUSION_ADAPT_STRUCT(gradc::ast::Return, value)
BOOST_FUSION_ADAPT_STRUCT(gradc::ast::Function, name, params, body)
BOOST_FUSION_ADAPT_STRUCT(gradc::ast::Const, name, value)
BOOST_FUSION_ADAPT_STRUCT(gradc::ast::Program, items)
