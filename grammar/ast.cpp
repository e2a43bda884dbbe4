#include "grammar/ast.hpp"

#include <boost/variant/apply_visitor.hpp>

namespace gradc::ast {

namespace {
struct OffsetOf {
    using result_type = std::size_t;
    std::size_t operator()(const Located& node) const { return node.offset; }
    template <typename T> std::size_t operator()(const x3::forward_ast<T>& node) const {
        return node.get().offset;
    }
};
} // namespace

std::size_t offset_of(const Expr& expr) {
    return boost::apply_visitor(OffsetOf{}, expr);
}

} // namespace gradc::ast
