#include "grammar/network_parse.hpp"

#include "grammar/network.hpp"

namespace gradc {

namespace net_ast {
namespace {
const Located& located(const Located& node) {
    return node;
}
template <typename Node> const Located& located(const x3::forward_ast<Node>& node) {
    return node.get();
}
} // namespace

std::size_t offset_of(const Expr& expr) {
    return boost::apply_visitor([](const auto& node) { return located(node).offset; }, expr);
}
} // namespace net_ast

namespace {
// X3 names literal characters as 'x'; rules carry their own names ("an expression").
std::string describe(const std::string& which) {
    if (which.size() == 3 && which.front() == '\'' && which.back() == '\'') {
        if (which == "'\n'") return "a new line";
        return "'" + which.substr(1, 1) + "'";
    }
    if (which == "eoi") return "the end of the file";
    if (which == "eol" || which.find("eol") != std::string::npos) return "a new line";
    return which;
}
} // namespace

net_ast::Network parse_network(const SourceFile& source) {
    const std::string& text = source.text();
    const char* begin = text.data();
    const char* end = begin + text.size();
    const char* stopped = begin;
    net_ast::Network network;
    try {
        if (!net_grammar::parse(begin, end, network, stopped))
            throw CompileError(static_cast<std::size_t>(stopped - begin),
                               "expected `network NAME { ... }`");
    } catch (const net_grammar::expectation_failure& failure) {
        const char* where = failure.where();
        while (where != end && (*where == ' ' || *where == '\t'))
            ++where;
        std::string found = where == end ? "the end of the file"
                            : *where == '\n' || *where == '\r'
                                ? "the end of the line"
                                : "'" + std::string(where, where + 1) + "'";
        throw CompileError(static_cast<std::size_t>(where - begin),
                           "expected " + describe(failure.which()) + ", found " + found);
    }
    return network;
}

} // namespace gradc
