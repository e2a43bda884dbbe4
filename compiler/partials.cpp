#include "compiler/partials.hpp"

#include <cmath>

#include <fmt/format.h>

namespace gradc {

// Not in an anonymous namespace: the op table uses only some of these overloads.
namespace sym {

// A handle on a graph node with arithmetic that builds nodes, so that ops.def can write its
// partial derivatives as ordinary formulas. A default Sym is the structural zero.
struct Sym {
    Graph* graph = nullptr;
    NodeId id = no_node;
};

Sym lift(Graph&, Sym s) {
    return s;
}
Sym lift(Graph& g, double v) {
    return {&g, g.constant(v)};
}
Sym make(Graph& g, Op op, Sym a, Sym b = {}, Sym c = {}) {
    return {&g, g.apply(op, a.id, b.id, c.id)};
}

// Binary operators between Syms and numbers.
#define GRADC_SYM_BINARY(OPERATOR, OP)                                                             \
    Sym operator OPERATOR(Sym a, Sym b) {                                                          \
        return make(*a.graph, Op::OP, a, b);                                                       \
    }                                                                                              \
    Sym operator OPERATOR(Sym a, double b) {                                                       \
        return make(*a.graph, Op::OP, a, lift(*a.graph, b));                                       \
    }                                                                                              \
    Sym operator OPERATOR(double a, Sym b) {                                                       \
        return make(*b.graph, Op::OP, lift(*b.graph, a), b);                                       \
    }
GRADC_SYM_BINARY(+, Add)
GRADC_SYM_BINARY(-, Sub)
GRADC_SYM_BINARY(*, Mul)
GRADC_SYM_BINARY(/, Div)
GRADC_SYM_BINARY(<, Lt)
GRADC_SYM_BINARY(>, Gt)
#undef GRADC_SYM_BINARY

Sym operator-(Sym a) {
    return make(*a.graph, Op::Neg, a);
}
#define GRADC_SYM_UNARY(NAME, OP)                                                                  \
    Sym NAME(Sym a) {                                                                              \
        return make(*a.graph, Op::OP, a);                                                          \
    }
GRADC_SYM_UNARY(exp, Exp)
GRADC_SYM_UNARY(log, Log)
GRADC_SYM_UNARY(sqrt, Sqrt)
GRADC_SYM_UNARY(sin, Sin)
GRADC_SYM_UNARY(cos, Cos)
GRADC_SYM_UNARY(sinh, Sinh)
GRADC_SYM_UNARY(cosh, Cosh)
GRADC_SYM_UNARY(sign, Sign)
GRADC_SYM_UNARY(sigmoid, Sigmoid)
#undef GRADC_SYM_UNARY
Sym pow(Sym a, Sym b) {
    return make(*a.graph, Op::Pow, a, b);
}
// d(a/b)/db = -y/b; for a reciprocal (a = 1) that is -y*y: a product instead of a second division.
Sym quotient_db(Sym a, Sym b, Sym y) {
    return a.graph->is_constant(a.id, 1.0) ? -(y * y) : -y / b;
}
template <class T, class F> Sym select(Sym c, T t, F f) {
    Graph& g = *c.graph;
    return make(g, Op::Select, c, lift(g, t), lift(g, f));
}

} // namespace sym

using sym::lift;
using sym::Sym;

NodeId build_partial(Graph& g, NodeId node, int which) {
    const Node n = g[node];
    const Sym a{&g, n.args[0]}, b{&g, n.args[1]}, c{&g, n.args[2]}, y{&g, node};
    const Sym ZERO{};
    (void)a, (void)b, (void)c, (void)y;
    switch (n.op) {
#define GRADC_OP(NAME, SOURCE, ARITY, KIND, VALUE, CPP, D_A, D_B, D_C)                             \
    case Op::NAME:                                                                                 \
        switch (which) {                                                                           \
        case 0:                                                                                    \
            return lift(g, D_A).id;                                                                \
        case 1:                                                                                    \
            return lift(g, D_B).id;                                                                \
        default:                                                                                   \
            return lift(g, D_C).id;                                                                \
        }
#include "compiler/ops.def"
#undef GRADC_OP
    }
    return no_node;
}

int first_position(const Node& node, int which) {
    for (int k = 0; k < which; ++k)
        if (node.args[static_cast<std::size_t>(k)] == node.args[static_cast<std::size_t>(which)])
            return k;
    return which;
}

NodeId total_partial(Graph& g, NodeId node, int which) {
    const Node n = g[node];
    NodeId total = no_node;
    for (int k = which; k < info(n.op).arity; ++k)
        if (n.args[static_cast<std::size_t>(k)] == n.args[static_cast<std::size_t>(which)])
            total = accumulate(g, total, build_partial(g, node, k));
    return total;
}

NodeId scale(Graph& g, NodeId factor, NodeId partial) {
    if (factor == no_node || partial == no_node) return no_node;
    if (g.is_constant(factor, 0.0) || g.is_constant(partial, 0.0)) return no_node;
    auto zero_or = [&](NodeId id) { return id == no_node ? g.constant(0.0) : id; };
    for (auto [guarded, other] : {std::pair{partial, factor}, std::pair{factor, partial}}) {
        const Node s = g[guarded]; // a copy: scale() below appends to the graph
        if (s.op != Op::Select) continue;
        const bool zero_then = g.is_constant(s.args[1], 0.0);
        const bool zero_else = g.is_constant(s.args[2], 0.0);
        if (!zero_then && !zero_else && guarded == factor) continue;
        const NodeId then_part = scale(g, other, s.args[1]);
        const NodeId else_part = scale(g, other, s.args[2]);
        if (then_part == no_node && else_part == no_node) return no_node;
        return g.apply(Op::Select, s.args[0], zero_or(then_part), zero_or(else_part));
    }
    return g.apply(Op::Mul, factor, partial);
}

NodeId accumulate(Graph& g, NodeId sum, NodeId term) {
    if (sum == no_node) return term;
    if (term == no_node) return sum;
    return g.apply(Op::Add, sum, term);
}

} // namespace gradc

namespace gradc {

namespace {

// C++ text of node `id` of a one-op graph: inputs print as `args`, the op's own node as `result`,
// integral constants as integers and others as `scalar_type(value)`, compound operands in
// parentheses.
std::string print_expression(const Graph& g, NodeId id, NodeId result,
                             const std::vector<std::string>& args, const std::string& result_text,
                             const std::string& scalar_type) {
    const Node& n = g[id];
    if (id == result) return result_text;
    if (n.op == Op::Input) return args.at(n.args[0]);
    if (n.op == Op::Const) {
        if (n.value() == std::floor(n.value()) && std::fabs(n.value()) < 1e15)
            return fmt::format("{}", static_cast<long long>(n.value()));
        return fmt::format("{}({})", scalar_type, n.value());
    }
    std::string operands[3];
    for (int k = 0; k < info(n.op).arity; ++k) {
        const NodeId a = n.args[static_cast<std::size_t>(k)];
        const Op op = g[a].op;
        const bool leaf = a == result || op == Op::Input || (op == Op::Const && g[a].value() >= 0);
        const std::string text = print_expression(g, a, result, args, result_text, scalar_type);
        operands[k] = leaf ? text : "(" + text + ")";
    }
    return fmt::format(fmt::runtime(info(n.op).cpp), operands[0], operands[1], operands[2]);
}

} // namespace

std::string cpp_value(Op op, const std::vector<std::string>& args) {
    return fmt::format(fmt::runtime(info(op).cpp), args.size() > 0 ? args[0] : "",
                       args.size() > 1 ? args[1] : "", args.size() > 2 ? args[2] : "");
}

std::string cpp_partial(Op op, std::size_t which, const std::vector<std::string>& args,
                        const std::string& result, const std::string& scalar_type) {
    Graph g;
    NodeId operands[3] = {no_node, no_node, no_node};
    for (int k = 0; k < info(op).arity; ++k)
        operands[k] = g.input(static_cast<std::uint32_t>(k));
    const NodeId y = g.apply(op, operands[0], operands[1], operands[2]);
    const NodeId partial = build_partial(g, y, static_cast<int>(which));
    if (partial == no_node || g.is_constant(partial, 0.0)) return "";
    return print_expression(g, partial, y, args, result, scalar_type);
}

} // namespace gradc
