#include "compiler/explain.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "compiler/dot.hpp"
#include "compiler/forward_ad.hpp"

namespace gradc {

namespace {

// `factor * partial` (or `partial * factor`) as text, dropping a unit partial.
std::string times(const std::string& factor, const CourseGraph& view, NodeId partial,
                  bool partial_first = false) {
    bool parens = false;
    std::string p = view.formula(partial, &parens);
    if (p == "1") return factor;
    if (p == "-1") return "-" + factor;
    if (parens) p = "(" + p + ")";
    return partial_first ? p + " * " + factor : factor + " * " + p;
}

// A left-aligned text table with two spaces between columns.
std::string table(const std::vector<std::vector<std::string>>& rows, const std::string& indent) {
    std::vector<std::size_t> width;
    for (const auto& row : rows)
        for (std::size_t c = 0; c < row.size(); ++c) {
            if (width.size() <= c) width.push_back(0);
            width[c] = std::max(width[c], row[c].size());
        }
    std::string out;
    for (const auto& row : rows) {
        std::string line = indent;
        for (std::size_t c = 0; c < row.size(); ++c)
            line += c + 1 == row.size() ? row[c] : fmt::format("{:<{}}  ", row[c], width[c]);
        while (!line.empty() && line.back() == ' ')
            line.pop_back();
        out += line + "\n";
    }
    return out;
}

} // namespace

std::string explain(const SourceFile& source, const Function& fn,
                    const std::vector<double>& slot_values) {
    const CourseGraph view(fn);
    const Graph& g = view.graph();
    const std::vector<double> value = view.evaluate(slot_values);
    const std::vector<NodeId>& nodes = view.nodes();
    const std::size_t n = fn.input_count, m = fn.outputs.size();

    // The contribution of one edge, with strong zeros: a zero partial kills it even where the
    // other factor is not finite (the convention of the AD passes, partials.hpp).
    auto product = [&](double factor, NodeId partial) {
        if (partial == no_node || value[partial] == 0.0 || factor == 0.0) return 0.0;
        return factor * value[partial];
    };
    // Forward mode, seeded with e_j: tangent[j][w] = d w / d input j.
    std::vector<std::vector<double>> tangent(n, std::vector<double>(g.size(), 0.0));
    for (std::size_t j = 0; j < n; ++j) {
        if (view.input_node(static_cast<std::uint32_t>(j)) != no_node)
            tangent[j][view.input_node(static_cast<std::uint32_t>(j))] = 1.0;
        for (NodeId id : nodes)
            for (int k = 0; k < info(g[id].op).arity; ++k)
                tangent[j][id] += product(tangent[j][g[id].args[static_cast<std::size_t>(k)]],
                                          view.partial(id, k));
    }
    // Reverse mode, seeded with output k's bar = 1: adjoint[k][w] = d output k / d w.
    std::vector<std::vector<double>> adjoint(m, std::vector<double>(g.size(), 0.0));
    for (std::size_t k = 0; k < m; ++k) {
        adjoint[k][fn.outputs[k]] = 1.0;
        for (auto it = nodes.rbegin(); it != nodes.rend(); ++it)
            for (int a = 0; a < info(g[*it].op).arity; ++a)
                adjoint[k][g[*it].args[static_cast<std::size_t>(a)]] +=
                    product(adjoint[k][*it], view.partial(*it, a));
    }

    auto bar_name = [&](NodeId id) { return view.name(id) + "_bar"; };
    auto dot_name = [&](NodeId id) { return view.name(id) + "_dot"; };
    std::vector<std::string> input_names;
    for (std::uint32_t s = 0; s < n; ++s)
        input_names.push_back(view.slot_name(s));
    std::vector<std::string> point;
    for (std::size_t s = 0; s < n; ++s)
        point.push_back(fmt::format("{}={}", input_names[s], slot_values[s]));
    std::string out = fmt::format("{} at {}\n", fn.signature, fmt::join(point, ", "));
    const LineColumn where = source.locate(fn.offset);
    out += fmt::format("  {}:{}: {}\n\n", source.path(), where.line, source.line_text(where.line));

    const std::string result = m == 1 ? view.name(fn.outputs[0]) : "out";
    out += "Every intermediate w_i of the computation graph (inputs first) with its value;\n"
           "w_dot[j]: its tangent by forward mode, one sweep per input j seeded with e_j (d w_i / "
           "d j);\n";
    out += m == 1
               ? fmt::format("w_bar: its adjoint by reverse mode, one sweep seeded with {}_bar = 1 "
                             "(d {} / d w_i).\n\n",
                             result, result)
               : "w_bar[out k]: its adjoint by reverse mode, one sweep per output k seeded with "
                 "e_k.\n\n";

    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> header{"w_i", "name", "definition", "value"};
    for (const std::string& name : input_names)
        header.push_back("w_dot[" + name + "]");
    for (std::size_t k = 0; k < m; ++k)
        header.push_back(m == 1 ? "w_bar" : fmt::format("w_bar[out{}]", k));
    header.push_back("source");
    rows.push_back(header);
    for (NodeId id : nodes) {
        const LineColumn at = source.locate(g[id].origin);
        std::vector<std::string> row{view.course_name(id),
                                     view.has_own_name(id) ? view.name(id) : "",
                                     view.definition(id), short_number(value[id])};
        for (std::size_t j = 0; j < n; ++j)
            row.push_back(short_number(tangent[j][id]));
        for (std::size_t k = 0; k < m; ++k)
            row.push_back(short_number(adjoint[k][id]));
        row.push_back(g[id].op == Op::Input ? "" : fmt::format("{}:{}", at.line, at.column));
        rows.push_back(row);
    }
    out += table(rows, "  ");
    if (m > 1) {
        std::vector<std::string> outputs;
        for (std::size_t k = 0; k < m; ++k)
            outputs.push_back(fmt::format("out{} = {}", k, view.name(fn.outputs[k])));
        out += fmt::format("  outputs: {}\n", fmt::join(outputs, ", "));
    }

    // The traces: the chain rule written out over the local partials of each edge.
    out += "\nTangent trace (forward mode): w_i dot = sum over operands w_k of d w_i / d w_k * w_k "
           "dot\n";
    rows.clear();
    for (NodeId id : nodes) {
        if (g[id].op == Op::Input) continue;
        std::vector<std::string> terms;
        for (int k = 0; k < info(g[id].op).arity; ++k) {
            const NodeId operand = g[id].args[static_cast<std::size_t>(k)];
            const NodeId partial = view.partial(id, k);
            if (partial == no_node || g[operand].op == Op::Const) continue;
            terms.push_back(times(dot_name(operand), view, partial, true));
        }
        std::string sum = terms.empty() ? "0" : fmt::format("{}", fmt::join(terms, " + "));
        rows.push_back({dot_name(id), "=", sum});
    }
    out += table(rows, "  ");

    for (std::size_t k = 0; k < m; ++k) {
        const NodeId output = fn.outputs[k];
        out += m == 1 ? "\nAdjoint trace (reverse mode, one sweep from the result back to the "
                        "inputs):\n  w_k bar = sum over users w_i of w_i bar * d w_i / d w_k\n"
                      : fmt::format("\nAdjoint trace for out{} (reverse mode, seeded with e_{}):\n",
                                    k, k);
        rows.clear();
        rows.push_back({bar_name(output), "=", "1", "", "= 1"});
        for (auto it = nodes.rbegin(); it != nodes.rend(); ++it) {
            if (*it == output) continue;
            std::vector<std::string> terms;
            for (NodeId user : nodes)
                for (int a = 0; a < info(g[user].op).arity; ++a)
                    if (g[user].args[static_cast<std::size_t>(a)] == *it &&
                        view.partial(user, a) != no_node)
                        terms.push_back(times(bar_name(user), view, view.partial(user, a)));
            if (terms.empty()) continue;
            rows.push_back({bar_name(*it), "=", fmt::format("{}", fmt::join(terms, " + ")), "",
                            "= " + short_number(adjoint[k][*it])});
        }
        out += table(rows, "  ");
    }

    // The derivatives as formulas: the tangent program of each seed e_j, over the named values.
    out += "\nThe same derivatives as formulas (forward mode with the seed e_j, as gradc compiles "
           "them):\n";
    rows.clear();
    for (std::size_t j = 0; j < n; ++j) {
        Graph extended = fn.graph;
        std::vector<NodeId> seed(n, no_node);
        seed[j] = extended.constant(1.0);
        const std::vector<NodeId> derivative = forward_ad(extended, fn.outputs, seed);
        for (std::size_t k = 0; k < m; ++k)
            rows.push_back(
                {fmt::format("d{}/d{}", m == 1 ? result : fmt::format("out{}", k), input_names[j]),
                 "=", derivative[k] == no_node ? "0" : view.formula_in(extended, derivative[k])});
    }
    out += table(rows, "  ");

    // The gradient (or Jacobian) by both modes, in full precision.
    out += "\n";
    for (std::size_t k = 0; k < m; ++k) {
        const std::string of = m == 1 ? result : fmt::format("out{}", k);
        std::vector<std::vector<std::string>> lines{
            {"", "reverse mode (input_bar)", fmt::format("forward mode ({}_dot, seed e_j)", of)}};
        for (std::size_t j = 0; j < n; ++j) {
            const NodeId input = view.input_node(static_cast<std::uint32_t>(j));
            const double forward = input == no_node ? 0.0 : tangent[j][fn.outputs[k]];
            const double reverse = input == no_node ? 0.0 : adjoint[k][input];
            lines.push_back({fmt::format("d{}/d{}", of, input_names[j]), fmt::format("{}", reverse),
                             fmt::format("{}", forward)});
        }
        out += fmt::format("{} of {}:\n", m == 1 ? "Gradient" : "Jacobian row", of);
        out += table(lines, "  ");
    }
    if (m == 1 && n > 1)
        out += fmt::format("Reverse mode: all {} partial derivatives from the single sweep above\n"
                           "({} came from the same sweep as {}: no second sweep).\n"
                           "Forward mode: {} sweeps, one per input.\n",
                           n, "d" + result + "/d" + input_names.back(),
                           "d" + result + "/d" + input_names.front(), n);
    else if (m > 1)
        out += fmt::format("Reverse mode: {} sweeps (one per output). Forward mode: {} sweeps (one "
                           "per input).\n",
                           m, n);
    return out;
}

} // namespace gradc
