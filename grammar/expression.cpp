// The single translation unit that instantiates the X3 grammar (for parser::context_type only).
#include "grammar/expression_def.hpp"

namespace gradc::parser {

BOOST_SPIRIT_INSTANTIATE(program_type, iterator_type, context_type)

const program_type& program() {
    return program_rule;
}

} // namespace gradc::parser
