#pragma once
// Turns X3 expectation failures into gradc::CompileError. Every expectation point in the grammar
// carries its own complete message (see must() in expression_def.hpp), so nothing here depends on
// Boost's stock error text; a few messages are refined by looking at the offending character.

#include "grammar/config.hpp"

#include <string>

namespace gradc::parser {

// Marker messages, expanded by throw_syntax_error according to the token found there:
// the statement should have ended here;
inline constexpr const char* end_of_statement_message = "@end-of-statement";
// a block's statements are over, so '}' should follow;
inline constexpr const char* end_of_block_message = "@end-of-block";
// nothing here starts an item.
inline constexpr const char* item_message = "@item";

// Throws CompileError at `where` (blanks skipped) with `message`, refined as described above.
[[noreturn]] void throw_syntax_error(const ParseState& state, const char* where,
                                     const std::string& message);

// The on_error handler of the top rule: all expectation failures end up here.
struct error_handler {
    template <typename Iterator, typename Exception, typename Context>
    x3::error_handler_result on_error(Iterator&, const Iterator&, const Exception& failure,
                                      const Context& context) const {
        throw_syntax_error(x3::get<state_tag>(context), failure.where(), failure.which());
    }
};

} // namespace gradc::parser
