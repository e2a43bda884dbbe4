#include "compiler/reverse_ad.hpp"

#include <algorithm>
#include <functional>

#include "compiler/dce.hpp"
#include "compiler/partials.hpp"

namespace gradc {

namespace {

// active[n]: n is live and depends on an input slot we differentiate with respect to.
std::vector<bool> active_nodes(const Graph& g, const std::vector<bool>& live,
                               const std::vector<bool>& active_slots) {
    std::vector<bool> active(live.size(), false);
    for (NodeId n = 0; n < live.size(); ++n) {
        if (!live[n]) continue;
        const Node& node = g[n];
        if (node.op == Op::Input) {
            active[n] = node.args[0] < active_slots.size() && active_slots[node.args[0]];
            continue;
        }
        for (int k = 0; k < info(node.op).arity; ++k)
            active[n] = active[n] || active[node.args[static_cast<std::size_t>(k)]];
    }
    return active;
}

// Passes node n's adjoint (it has one, and n is no input) on to its active operands.
void propagate(Graph& g, NodeId n, std::vector<NodeId>& adjoint, const std::vector<bool>& active) {
    const Node node = g[n]; // a copy: building adjoints appends to the graph
    if (const std::string* name = g.label(n)) g.set_label(adjoint[n], *name + "_bar");
    g.set_origin(node.origin);
    for (int k = 0; k < info(node.op).arity; ++k) {
        const NodeId operand = node.args[static_cast<std::size_t>(k)];
        if (!active[operand] || first_position(node, k) != k) continue;
        adjoint[operand] =
            accumulate(g, adjoint[operand], scale(g, adjoint[n], total_partial(g, n, k)));
    }
}

} // namespace

std::vector<NodeId> reverse_ad(Graph& g, const std::vector<NodeId>& outputs,
                               const std::vector<NodeId>& seeds,
                               const std::vector<bool>& active_slots) {
    const std::vector<bool> active = active_nodes(g, live_nodes(g, outputs), active_slots);
    const std::size_t count = active.size();
    std::vector<NodeId> adjoint(count, no_node);
    for (std::size_t k = 0; k < outputs.size(); ++k)
        if (outputs[k] != no_node && active[outputs[k]])
            adjoint[outputs[k]] = accumulate(g, adjoint[outputs[k]], seeds[k]);

    std::vector<NodeId> slot_adjoints(active_slots.size(), no_node);
    for (std::size_t i = count; i-- > 0;) {
        const NodeId n = static_cast<NodeId>(i);
        if (!active[n] || adjoint[n] == no_node) continue;
        if (g[n].op == Op::Input)
            slot_adjoints[g[n].args[0]] = adjoint[n];
        else
            propagate(g, n, adjoint, active);
    }
    return slot_adjoints;
}

ReverseSweeps::ReverseSweeps(const Graph& g, std::vector<NodeId> outputs,
                             const std::vector<bool>& active_slots)
    : outputs_(std::move(outputs)), slot_count_(active_slots.size()),
      active_(active_nodes(g, live_nodes(g, outputs_), active_slots)), adjoint_(g.size(), no_node),
      reached_(g.size(), false) {}

std::vector<NodeId> ReverseSweeps::sweep(Graph& g, std::size_t k, NodeId seed) {
    std::vector<NodeId> slot_adjoints(slot_count_, no_node);
    const NodeId output = outputs_[k];
    if (output == no_node || !active_[output] || seed == no_node) return slot_adjoints;
    std::vector<NodeId> reached{output}; // the active nodes the output depends on
    reached_[output] = true;
    for (std::size_t i = 0; i < reached.size(); ++i) {
        const Node& node = g[reached[i]];
        if (node.op == Op::Input) continue;
        for (int a = 0; a < info(node.op).arity; ++a) {
            const NodeId operand = node.args[static_cast<std::size_t>(a)];
            if (active_[operand] && !reached_[operand]) {
                reached_[operand] = true;
                reached.push_back(operand);
            }
        }
    }
    std::sort(reached.begin(), reached.end(), std::greater<>());
    adjoint_[output] = accumulate(g, no_node, seed);
    for (NodeId n : reached) {
        if (adjoint_[n] == no_node) continue;
        if (g[n].op == Op::Input)
            slot_adjoints[g[n].args[0]] = adjoint_[n];
        else
            propagate(g, n, adjoint_, active_);
    }
    for (NodeId n : reached) {
        adjoint_[n] = no_node;
        reached_[n] = false;
    }
    return slot_adjoints;
}

} // namespace gradc
