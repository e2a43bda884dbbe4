#include "grammar/network_def.hpp"

namespace gradc::net_grammar {

bool parse(iterator_type begin, iterator_type end, net_ast::Network& result,
           iterator_type& stopped) {
    stopped = begin;
    return x3::phrase_parse(stopped, end, x3::with<begin_tag>(begin)[network], skipper, result);
}

} // namespace gradc::net_grammar
