#include "compiler/print.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include <fmt/format.h>

#include "compiler/dce.hpp"
#include "compiler/dot.hpp"

namespace gradc {

namespace {

// Precedences, loosest first.
enum : int { P_IF, P_OR, P_AND, P_NOT, P_CMP, P_ADD, P_MUL, P_NEG, P_ATOM };

// How a line refers to a value: its name or number, or the expression of a value written inline.
struct Text {
    std::string text;
    int precedence = P_ATOM;
};

struct Infix {
    Op op;
    const char* symbol;
    int precedence;
};
constexpr Infix infix_ops[] = {
    {Op::Add, "+", P_ADD}, {Op::Sub, "-", P_ADD}, {Op::Mul, "*", P_MUL},   {Op::Div, "/", P_MUL},
    {Op::Lt, "<", P_CMP},  {Op::Le, "<=", P_CMP}, {Op::Gt, ">", P_CMP},    {Op::Ge, ">=", P_CMP},
    {Op::Eq, "==", P_CMP}, {Op::Ne, "!=", P_CMP}, {Op::And, "and", P_AND}, {Op::Or, "or", P_OR}};

// `op` over its operands, parenthesised so that it reads in the order it is computed: operators
// group to the left, so a right operand of the same precedence keeps its parentheses (in floating
// point, a + (b + c) is not (a + b) + c).
Text render(Op op, const std::vector<Text>& a) {
    auto wrap = [&](std::size_t k, bool parens) {
        return parens ? "(" + a[k].text + ")" : a[k].text;
    };
    for (const Infix& i : infix_ops) {
        if (i.op != op) continue;
        const bool left =
            a[0].precedence < i.precedence || (i.precedence == P_CMP && a[0].precedence == P_CMP);
        const bool right = a[1].precedence <= i.precedence || a[1].text[0] == '-';
        return {fmt::format("{} {} {}", wrap(0, left), i.symbol, wrap(1, right)), i.precedence};
    }
    switch (op) {
    case Op::Neg:
        return {"-" + wrap(0, a[0].precedence < P_NEG || a[0].text[0] == '-'), P_NEG};
    case Op::Not:
        return {"not " + wrap(0, a[0].precedence < P_NOT), P_NOT};
    case Op::Select:
        return {fmt::format("if {} then {} else {}", a[0].text, wrap(1, a[1].precedence == P_IF),
                            a[2].text),
                P_IF};
    default:
        break;
    }
    std::string function = info(op).source;
    if (function.empty()) {
        function = info(op).name;
        for (char& c : function)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    std::vector<std::string> operands;
    for (const Text& t : a)
        operands.push_back(t.text);
    return {fmt::format("{}({})", function, fmt::join(operands, ", "))};
}

} // namespace

Function with_course_names(const Function& fn) {
    const CourseGraph view(fn);
    Function named = fn;
    for (NodeId id : view.nodes())
        if (fn.graph[id].op != Op::Input && !fn.graph.label(id))
            named.graph.set_label(id, view.name(id));
    return named;
}

std::string print_kernel(const SourceFile& source, const Kernel& k) {
    const Graph& g = k.graph;
    const CourseGraph view(*k.function);
    // The function's live intermediates: the nodes the view names w_i.
    auto intermediate = [&](NodeId id) {
        return id < k.function->graph.size() && g[id].op != Op::Input &&
               !view.course_name(id).empty();
    };
    auto element = [&](const Kernel::Element& e) {
        const KernelParam& p = k.params[e.param];
        return p.scalar ? p.name : fmt::format("{}[{}]", p.name, e.index);
    };
    const std::vector<NodeId> roots = kernel_roots(k);
    const std::vector<bool> live = live_nodes(g, roots);
    std::vector<std::size_t> reads(g.size(), 0);
    std::set<std::string> taken; // the parameters' and the intermediates' names
    for (NodeId i = 0; i < g.size(); ++i) {
        if (!live[i]) continue;
        for (int a = 0; a < info(g[i].op).arity; ++a)
            ++reads[g[i].args[static_cast<std::size_t>(a)]];
        if (g[i].op == Op::Input) taken.insert(element(k.slots[g[i].args[0]]));
        if (intermediate(i)) taken.insert(view.name(i));
    }
    for (NodeId root : roots)
        if (root != no_node) ++reads[root];
    auto claim = [&](const std::string& base) {
        std::string name = base;
        for (int i = 2; !taken.insert(name).second; ++i)
            name = fmt::format("{}_{}", base, i);
        return name;
    };
    std::size_t temporaries = 0;
    auto temporary = [&] {
        std::string name;
        do
            name = fmt::format("t{}", ++temporaries);
        while (!taken.insert(name).second);
        return name;
    };
    auto position = [&](NodeId id) {
        const LineColumn at = source.locate(g[id].origin);
        return fmt::format("{}:{}", at.line, at.column);
    };

    struct Line {
        std::string target, op, expression, at;
    };
    std::vector<Line> lines;
    std::vector<Text> text(g.size());
    std::vector<bool> inlined(g.size(), false);
    for (NodeId i = 0; i < g.size(); ++i) {
        if (!live[i]) continue;
        const Node& n = g[i];
        if (n.op == Op::Const) {
            text[i] = {fmt::format("{}", n.value()), n.value() < 0 ? P_NEG : P_ATOM};
            continue;
        }
        if (n.op == Op::Input) {
            text[i] = {element(k.slots[n.args[0]])};
            continue;
        }
        std::vector<Text> operands;
        for (int a = 0; a < info(n.op).arity; ++a)
            operands.push_back(text[n.args[static_cast<std::size_t>(a)]]);
        const Text expression = render(n.op, operands);
        std::string target;
        if (intermediate(i)) {
            text[i] = {view.name(i)};
            target =
                view.has_own_name(i) ? view.course_name(i) + ": " + view.name(i) : view.name(i);
        } else if (const std::string* label = g.label(i)) {
            text[i] = {claim(*label)};
        } else if (reads[i] == 1) { // an unnamed value used once: written where it is used
            text[i] = expression;
            inlined[i] = true;
            continue;
        } else {
            text[i] = {temporary()};
        }
        lines.push_back(
            {target.empty() ? text[i].text : target, "=", expression.text, position(i)});
    }
    for (const Kernel::Store& s : k.stores) {
        const bool written_here = s.value != no_node && inlined[s.value];
        lines.push_back({element(s.target), s.add ? "+=" : "=",
                         s.value == no_node ? "0" : text[s.value].text,
                         written_here ? position(s.value) : ""});
    }

    // Aligned columns; a long expression pushes only its own position to the right.
    std::size_t target_width = 0, op_width = 0, expression_width = 0;
    for (const Line& l : lines) {
        target_width = std::max(target_width, l.target.size());
        op_width = std::max(op_width, l.op.size());
        if (!l.at.empty()) expression_width = std::max(expression_width, l.expression.size());
    }
    expression_width = std::min<std::size_t>(expression_width, 48);
    std::string out = fmt::format("{}  # {}\n", k.name, k.summary);
    for (const Line& l : lines) {
        std::string line =
            fmt::format("  {:<{}} {:>{}} {}", l.target, target_width, l.op, op_width, l.expression);
        if (!l.at.empty())
            line += std::string(expression_width - std::min(expression_width, l.expression.size()),
                                ' ') +
                    "  # " + l.at;
        out += line + "\n";
    }
    if (k.returns_value) out += fmt::format("  return {}\n", text[k.returned].text);
    return out;
}

} // namespace gradc
