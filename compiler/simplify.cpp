#include "compiler/simplify.hpp"

#include <cmath>
#include <utility>

namespace gradc {

namespace {
bool power_of_two(double v) {
    int exponent;
    return std::isfinite(v) && v != 0.0 && std::fabs(std::frexp(v, &exponent)) == 0.5;
}
} // namespace

NodeId simplify(Graph& g, Op op, NodeId a, NodeId b, NodeId c) {
    auto is = [&](NodeId id, Op what) { return id != no_node && g[id].op == what; };
    auto arg = [&](NodeId id, int i) { return g[id].args[static_cast<std::size_t>(i)]; };
    switch (op) {
    case Op::Add:
        if (g.is_constant(b, 0.0)) return a;
        if (g.is_constant(a, 0.0)) return b;
        if (a == b) return g.apply(Op::Mul, g.constant(2.0), a); // exact: x + x == 2 * x
        if (is(b, Op::Neg)) return g.apply(Op::Sub, a, arg(b, 0));
        if (is(a, Op::Neg)) return g.apply(Op::Sub, b, arg(a, 0));
        // Adjoints guarded by the same condition add under that condition.
        if (is(a, Op::Select) && is(b, Op::Select) && arg(a, 0) == arg(b, 0)) {
            if (g.is_constant(arg(a, 2), 0.0) && g.is_constant(arg(b, 2), 0.0))
                return g.apply(Op::Select, arg(a, 0), g.apply(Op::Add, arg(a, 1), arg(b, 1)),
                               arg(a, 2));
            if (g.is_constant(arg(a, 1), 0.0) && g.is_constant(arg(b, 1), 0.0))
                return g.apply(Op::Select, arg(a, 0), arg(a, 1),
                               g.apply(Op::Add, arg(a, 2), arg(b, 2)));
        }
        break;
    case Op::Sub:
        if (g.is_constant(b, 0.0)) return a;
        if (g.is_constant(a, 0.0)) return g.apply(Op::Neg, b);
        if (is(b, Op::Neg)) return g.apply(Op::Add, a, arg(b, 0));
        break;
    case Op::Mul:
        if (g.is_constant(b, 1.0)) return a;
        if (g.is_constant(a, 1.0)) return b;
        if (g.is_constant(b, -1.0)) return g.apply(Op::Neg, a);
        if (g.is_constant(a, -1.0)) return g.apply(Op::Neg, b);
        if (is(a, Op::Neg) && is(b, Op::Neg)) return g.apply(Op::Mul, arg(a, 0), arg(b, 0));
        for (auto [c, x] : {std::pair{a, b}, std::pair{b, a}}) {
            if (!g.is_constant(c)) continue;
            const double k = g[c].value();
            if (is(x, Op::Neg)) return g.apply(Op::Mul, g.constant(-k), arg(x, 0)); // exact
            // k * (m * y) == (k * m) * y when either is a power of two (scaling is exact).
            for (int i : {0, 1}) {
                if (!is(x, Op::Mul) || !g.is_constant(arg(x, i))) continue;
                const double m = g[arg(x, i)].value();
                if (power_of_two(k) || power_of_two(m))
                    return g.apply(Op::Mul, g.constant(k * m), arg(x, 1 - i));
            }
        }
        break;
    case Op::Div:
        if (g.is_constant(b, 1.0)) return a;
        if (g.is_constant(b, -1.0)) return g.apply(Op::Neg, a);
        if (is(a, Op::Neg) && is(b, Op::Neg)) return g.apply(Op::Div, arg(a, 0), arg(b, 0));
        break;
    case Op::Neg:
        if (is(a, Op::Neg)) return arg(a, 0);
        if (is(a, Op::Mul) && g.is_constant(arg(a, 0))) // -(k * y) == (-k) * y
            return g.apply(Op::Mul, g.constant(-g[arg(a, 0)].value()), arg(a, 1));
        if (is(a, Op::Mul) && g.is_constant(arg(a, 1)))
            return g.apply(Op::Mul, arg(a, 0), g.constant(-g[arg(a, 1)].value()));
        break;
    case Op::Pow:
        if (g.is_constant(b, 1.0)) return a;
        if (g.is_constant(b, 2.0)) return g.apply(Op::Mul, a, a);
        if (g.is_constant(b, -1.0)) return g.apply(Op::Div, g.constant(1.0), a);
        break;
    case Op::Log:
        if (is(a, Op::Exp)) return arg(a, 0);
        if (is(a, Op::Sigmoid)) return g.apply(Op::LogSigmoid, arg(a, 0));
        if (is(a, Op::Div) && is(arg(a, 0), Op::Exp))
            return g.apply(Op::Sub, arg(arg(a, 0), 0), g.apply(Op::Log, arg(a, 1)));
        break;
    case Op::Select:
        if (g.is_constant(a)) return g[a].value() != 0.0 ? b : c;
        if (b == c) return b;
        if (is(a, Op::Not)) return g.apply(Op::Select, arg(a, 0), c, b);
        break;
    case Op::Not:
        if (is(a, Op::Not)) return arg(a, 0);
        break;
    default:
        break;
    }
    return no_node;
}

} // namespace gradc
