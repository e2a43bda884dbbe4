#pragma once
// Boost.Fusion adaptation of the `.net` AST, so that X3 can fill the structs from parser
// attributes. The offsets are not adapted: the grammar's annotation handler sets them.

#include "grammar/network_ast.hpp"

#include <boost/fusion/include/adapt_struct.hpp>

BOOST_FUSION_ADAPT_STRUCT(gradc::net_ast::Number, text)
BOOST_FUSION_ADAPT_STRUCT(gradc::net_ast::String, value)
BOOST_FUSION_ADAPT_STRUCT(gradc::net_ast::Name, name)
BOOST_FUSION_ADAPT_STRUCT(gradc::net_ast::Argument, name, value)
BOOST_FUSION_ADAPT_STRUCT(gradc::net_ast::Call, function, args)
BOOST_FUSION_ADAPT_STRUCT(gradc::net_ast::Operation, op, operand)
BOOST_FUSION_ADAPT_STRUCT(gradc::net_ast::Binary, first, rest)
BOOST_FUSION_ADAPT_STRUCT(gradc::net_ast::Unary, op, operand)
BOOST_FUSION_ADAPT_STRUCT(gradc::net_ast::List, elements)
BOOST_FUSION_ADAPT_STRUCT(gradc::net_ast::Declaration, kind, name, dims, type, init)
BOOST_FUSION_ADAPT_STRUCT(gradc::net_ast::Binding, name, value)
BOOST_FUSION_ADAPT_STRUCT(gradc::net_ast::Setting, keyword, value)
BOOST_FUSION_ADAPT_STRUCT(gradc::net_ast::StopWhen, metric, threshold)
BOOST_FUSION_ADAPT_STRUCT(gradc::net_ast::Network, name, statements)
