#include "compiler/dot.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include <fmt/format.h>

#include "compiler/dce.hpp"
#include "compiler/interpret.hpp"
#include "compiler/partials.hpp"

namespace gradc {

std::string short_number(double value) {
    if (value == 0.0) return "0"; // also -0
    return fmt::format("{:.6g}", value);
}

CourseGraph::CourseGraph(const Function& fn)
    : fn_(&fn), graph_(fn.graph), primal_size_(fn.graph.size()) {
    const Graph& g = fn.graph;
    const std::vector<bool> live = live_nodes(g, fn.outputs);
    course_.resize(primal_size_);
    name_.resize(primal_size_);
    partials_.assign(primal_size_, {no_node, no_node, no_node});
    slot_node_.assign(fn.input_count, no_node);
    for (NodeId i = 0; i < primal_size_; ++i)
        if (live[i] && g[i].op == Op::Input) slot_node_[g[i].args[0]] = i;

    // Inputs are w1 .. wn by slot (numbered even when unused, so w_i means the same for every
    // function of a file with the same parameters); intermediates follow.
    std::set<std::string> taken;
    for (std::uint32_t s = 0; s < fn.input_count; ++s) {
        taken.insert(slot_name(s));
        if (slot_node_[s] == no_node) continue;
        order_.push_back(slot_node_[s]);
        course_[slot_node_[s]] = fmt::format("w{}", s + 1);
        name_[slot_node_[s]] = slot_name(s);
    }
    std::size_t next = fn.input_count + 1;
    for (NodeId i = 0; i < primal_size_; ++i) {
        if (!live[i] || g[i].op == Op::Input || g[i].op == Op::Const) continue;
        order_.push_back(i);
        course_[i] = fmt::format("w{}", next++);
        const std::string* label = g.label(i);
        // A label used twice (a `let` of a function inlined twice) names only its first node.
        name_[i] = label && taken.insert(*label).second ? *label : course_[i];
    }
    // An unnamed result is named after a one-letter function (`e`, `f`: the course's names), else y
    // (or, when y is taken, after the function).
    if (!fn.vector_valued && !fn.outputs.empty()) {
        const NodeId out = fn.outputs[0];
        if (g[out].op != Op::Input && g[out].op != Op::Const && !has_own_name(out)) {
            const bool short_name = fn.name.size() == 1;
            for (const std::string& candidate :
                 {short_name ? fn.name : std::string("y"), short_name ? std::string("y") : fn.name})
                if (!taken.count(candidate)) {
                    name_[out] = candidate;
                    break;
                }
        }
    }
    for (NodeId id : order_) {
        const int arity = info(g[id].op).arity;
        for (int k = 0; k < arity; ++k)
            partials_[id][static_cast<std::size_t>(k)] = build_partial(graph_, id, k);
    }
}

std::string CourseGraph::slot_name(std::uint32_t slot) const {
    for (const Parameter& p : fn_->params) {
        if (slot < p.first_slot || slot >= p.first_slot + p.size()) continue;
        if (p.dims.empty()) return p.name;
        std::size_t index = slot - p.first_slot;
        std::vector<std::size_t> indices(p.dims.size());
        for (std::size_t d = p.dims.size(); d-- > 0;) {
            indices[d] = index % p.dims[d];
            index /= p.dims[d];
        }
        return fmt::format("{}[{}]", p.name, fmt::join(indices, ","));
    }
    return fmt::format("slot{}", slot);
}

bool CourseGraph::is_output(NodeId id) const {
    return std::find(fn_->outputs.begin(), fn_->outputs.end(), id) != fn_->outputs.end();
}

namespace {

// Precedences, loosest first.
enum : int { P_IF, P_OR, P_AND, P_NOT, P_CMP, P_ADD, P_MUL, P_NEG, P_ATOM };

const char* infix(Op op) {
    switch (op) {
    case Op::Add:
        return "+";
    case Op::Sub:
        return "-";
    case Op::Mul:
        return "*";
    case Op::Div:
        return "/";
    case Op::Lt:
        return "<";
    case Op::Le:
        return "<=";
    case Op::Gt:
        return ">";
    case Op::Ge:
        return ">=";
    case Op::Eq:
        return "==";
    case Op::Ne:
        return "!=";
    case Op::And:
        return "and";
    case Op::Or:
        return "or";
    default:
        return nullptr;
    }
}

int precedence_of(Op op) {
    switch (op) {
    case Op::Add:
    case Op::Sub:
        return P_ADD;
    case Op::Mul:
    case Op::Div:
        return P_MUL;
    case Op::And:
        return P_AND;
    case Op::Or:
        return P_OR;
    default:
        return P_CMP;
    }
}

} // namespace

std::string CourseGraph::render(const Graph& graph, NodeId id, int* precedence, bool expand) const {
    const Node& n = graph[id];
    *precedence = P_ATOM;
    if (!expand && id < primal_size_ && !name_[id].empty()) return name_[id];
    if (n.op == Op::Const) {
        if (n.value() < 0) *precedence = P_NEG;
        return fmt::format("{}", n.value() == 0.0 ? 0.0 : n.value());
    }
    const int arity = info(n.op).arity;
    std::vector<std::string> text(static_cast<std::size_t>(arity));
    std::vector<int> inner(static_cast<std::size_t>(arity));
    for (int k = 0; k < arity; ++k) {
        const std::size_t kk = static_cast<std::size_t>(k);
        text[kk] = render(graph, n.args[kk], &inner[kk]);
    }
    auto wrap = [&](std::size_t k, bool parens) { return parens ? "(" + text[k] + ")" : text[k]; };
    if (const char* symbol = infix(n.op)) {
        const int p = precedence_of(n.op);
        *precedence = p;
        // Left-associative: the right operand needs parentheses at equal precedence, except for
        // the associative + and *; a negative on the right always gets them (`a * (-b)`).
        const bool associative = n.op == Op::Add || n.op == Op::Mul;
        const bool left = inner[0] < p || (p == P_CMP && inner[0] == p);
        const bool right = inner[1] < p || (inner[1] == p && !associative) || text[1][0] == '-';
        return fmt::format("{} {} {}", wrap(0, left), symbol, wrap(1, right));
    }
    switch (n.op) {
    case Op::Neg: // -(a / b) reads as -a / b, which is the same number
        *precedence = inner[0] == P_MUL ? P_MUL : P_NEG;
        return "-" + wrap(0, inner[0] < P_MUL || text[0][0] == '-');
    case Op::Not:
        *precedence = P_NOT;
        return "not " + wrap(0, inner[0] < P_NOT);
    case Op::Select:
        *precedence = P_IF;
        return fmt::format("if {} then {} else {}", text[0], wrap(1, inner[1] == P_IF), text[2]);
    default:
        break;
    }
    std::string function = info(n.op).source;
    if (function.empty()) {
        function = info(n.op).name;
        for (char& c : function)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return fmt::format("{}({})", function, fmt::join(text, ", "));
}

std::string CourseGraph::formula(NodeId id) const {
    int precedence = 0;
    return render(graph_, id, &precedence);
}

std::string CourseGraph::formula_in(const Graph& extended, NodeId id) const {
    int precedence = 0;
    return render(extended, id, &precedence);
}

std::string CourseGraph::formula(NodeId id, bool* needs_parentheses_as_factor) const {
    int precedence = 0;
    std::string text = render(graph_, id, &precedence);
    *needs_parentheses_as_factor = precedence < P_MUL || text[0] == '-';
    return text;
}

std::string CourseGraph::definition(NodeId id) const {
    if (graph_[id].op == Op::Input) return "input";
    int precedence = 0;
    return render(graph_, id, &precedence, true);
}

std::vector<double> CourseGraph::evaluate(const std::vector<double>& slot_values) const {
    return interpret(graph_, slot_values);
}

namespace {

std::string escape(const std::string& text) {
    std::string out;
    for (char c : text) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out;
}

std::string dot_function(const SourceFile& source, const Function& fn,
                         const std::vector<double>* at, const std::string& prefix,
                         const std::string& indent) {
    const CourseGraph view(fn);
    std::vector<double> values;
    if (at) values = view.evaluate(*at);
    std::string out;
    for (NodeId id : view.nodes()) {
        const Node& n = view.graph()[id];
        const bool input = n.op == Op::Input;
        std::string label = input ? view.name(id) : view.name(id) + " = " + view.definition(id);
        if (view.has_own_name(id) && !input) label = view.course_name(id) + ": " + label;
        label = escape(label);
        if (at) label += "\\n= " + short_number(values[id]);
        const LineColumn where = source.locate(n.origin);
        std::string attributes = input ? "shape=ellipse, style=filled, fillcolor=\"#e8f0ff\""
                                       : "shape=box, style=rounded";
        if (view.is_output(id)) attributes += ", peripheries=2";
        out += fmt::format("{}{}n{} [{}, label=\"{}\", tooltip=\"line {}:{}\"];\n", indent, prefix,
                           id, attributes, label, where.line, where.column);
    }
    for (NodeId id : view.nodes()) {
        const Node& n = view.graph()[id];
        for (int k = 0; k < info(n.op).arity; ++k) {
            const NodeId operand = n.args[static_cast<std::size_t>(k)];
            if (view.graph()[operand].op == Op::Const) continue;
            const NodeId partial = view.partial(id, k);
            std::string attributes;
            if (partial == no_node) {
                attributes = "style=dashed, label=\"0\"";
            } else {
                std::string label = escape(fmt::format("∂{}/∂{} = {}", view.name(id),
                                                       view.name(operand), view.formula(partial)));
                if (at) label += "\\n= " + short_number(values[partial]);
                attributes = fmt::format("label=\"{}\"", label);
            }
            out += fmt::format("{}{}n{} -> {}n{} [{}];\n", indent, prefix, operand, prefix, id,
                               attributes);
        }
    }
    return out;
}

std::string point_text(const Function& fn, const std::vector<double>& at) {
    std::vector<std::string> parts;
    for (const Parameter& p : fn.params) {
        std::vector<std::string> items;
        for (std::size_t i = 0; i < p.size(); ++i)
            items.push_back(fmt::format("{}", at[p.first_slot + i]));
        parts.push_back(p.dims.empty() ? fmt::format("{}={}", p.name, items[0])
                                       : fmt::format("{}=[{}]", p.name, fmt::join(items, ",")));
    }
    return fmt::format("{}", fmt::join(parts, ", "));
}

std::string graph_title(const Function& fn, const std::vector<double>* at) {
    return at ? fmt::format("{} at {}", fn.signature, point_text(fn, *at)) : fn.signature;
}

} // namespace

std::string print_dot(const SourceFile& source, const std::vector<const Function*>& functions,
                      const std::vector<const std::vector<double>*>& values) {
    auto at = [&](std::size_t i) { return i < values.size() ? values[i] : nullptr; };
    std::string out = fmt::format(
        "// The computation graph of {} (gradc inspect --dot): one node per operation, each edge\n"
        "// labelled with the local partial derivative of its head with respect to its tail.\n"
        "// Render with: dot -Tsvg FILE.dot -o FILE.svg\n",
        source.path());
    const std::string header = "  rankdir=BT;\n  labelloc=t;\n"
                               "  node [fontname=\"Helvetica\", fontsize=11];\n"
                               "  edge [fontname=\"Helvetica\", fontsize=9];\n";
    if (functions.size() == 1) {
        out += fmt::format("digraph \"{}\" {{\n{}  label=\"{}\";\n", escape(functions[0]->name),
                           header, escape(graph_title(*functions[0], at(0))));
        out += dot_function(source, *functions[0], at(0), "", "  ");
        return out + "}\n";
    }
    out += fmt::format("digraph \"{}\" {{\n{}", escape(source.path()), header);
    for (std::size_t i = 0; i < functions.size(); ++i) {
        out += fmt::format("  subgraph cluster_{} {{\n    label=\"{}\";\n", i,
                           escape(graph_title(*functions[i], at(i))));
        out += dot_function(source, *functions[i], at(i), fmt::format("f{}_", i), "    ");
        out += "  }\n";
    }
    return out + "}\n";
}

} // namespace gradc
