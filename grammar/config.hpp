#pragma once
// The one parse context the X3 grammar is instantiated for (see expression.cpp): input is a
// contiguous char buffer, the skipper eats blanks only (newlines separate statements), and a
// ParseState in the context gives the rules the buffer start (for offsets) and a nesting counter.

#include <boost/spirit/home/x3.hpp>

namespace gradc::parser {
namespace x3 = boost::spirit::x3;

using iterator_type = const char*;

// Deeper expressions are rejected with a CompileError instead of risking the stack.
constexpr int max_nesting_depth = 1000;

struct ParseState {
    const char* begin; // start of the (normalised) text: offsets are measured from here
    const char* end;
    int depth = 0; // current expression nesting, see deep() in expression_def.hpp
};

struct state_tag;

inline bool is_blank(char c) {
    return c == ' ' || c == '\t' || c == '\r';
}

// Skips spaces, tabs and carriage returns, never newlines.
struct blank_skipper : x3::parser<blank_skipper> {
    using attribute_type = x3::unused_type;
    static bool const has_attribute = false;

    template <typename Iterator, typename Context, typename RContext, typename Attribute>
    bool parse(Iterator& first, const Iterator& last, const Context&, RContext&, Attribute&) const {
        Iterator start = first;
        while (first != last && is_blank(*first))
            ++first;
        return first != start;
    }
};

using skipper_context_type = x3::context<x3::skipper_tag, const blank_skipper>;
using context_type = x3::context<state_tag, ParseState, skipper_context_type>;

} // namespace gradc::parser
