#pragma once
// The X3 grammar of `.net` files, compiled in its own translation unit (network.cpp). This header
// only declares the raw entry point; use network_parse.hpp, which turns failures into diagnostics.

#include "grammar/network_ast.hpp"

#include <boost/spirit/home/x3.hpp>

namespace gradc::net_grammar {

using iterator_type = const char*;
using expectation_failure = boost::spirit::x3::expectation_failure<iterator_type>;

// Parses the whole text [begin, end) as one network. Returns false (with `stopped` at the furthest
// point reached) on a plain mismatch; throws expectation_failure where the grammar commits.
bool parse(iterator_type begin, iterator_type end, net_ast::Network& network,
           iterator_type& stopped);

} // namespace gradc::net_grammar
