#include "compiler/reverse_ad.hpp"

#include <algorithm>

#include "compiler/dce.hpp"
#include "compiler/partials.hpp"

namespace gradc {

std::vector<NodeId> reverse_ad(Graph& g, const std::vector<NodeId>& outputs,
                               const std::vector<NodeId>& seeds,
                               const std::vector<bool>& active_slots) {
    const std::vector<bool> live = live_nodes(g, outputs);
    const std::size_t count = live.size();
    // active[n]: n depends on an input slot we differentiate with respect to.
    std::vector<bool> active(count, false);
    for (NodeId n = 0; n < count; ++n) {
        if (!live[n]) continue;
        const Node& node = g[n];
        if (node.op == Op::Input) {
            active[n] = node.args[0] < active_slots.size() && active_slots[node.args[0]];
            continue;
        }
        for (int k = 0; k < info(node.op).arity; ++k)
            active[n] = active[n] || active[node.args[static_cast<std::size_t>(k)]];
    }
    std::vector<NodeId> adjoint(count, no_node);
    for (std::size_t k = 0; k < outputs.size(); ++k)
        if (outputs[k] != no_node && active[outputs[k]])
            adjoint[outputs[k]] = accumulate(g, adjoint[outputs[k]], seeds[k]);

    std::vector<NodeId> slot_adjoints(active_slots.size(), no_node);
    for (std::size_t i = count; i-- > 0;) {
        const NodeId n = static_cast<NodeId>(i);
        if (!active[n] || adjoint[n] == no_node) continue;
        const Node node = g[n]; // a copy: building adjoints appends to the graph
        if (node.op == Op::Input) {
            slot_adjoints[node.args[0]] = adjoint[n];
            continue;
        }
        if (const std::string* name = g.label(n)) g.set_label(adjoint[n], *name + "_bar");
        g.set_origin(node.origin);
        for (int k = 0; k < info(node.op).arity; ++k) {
            const NodeId operand = node.args[static_cast<std::size_t>(k)];
            if (!active[operand] || first_position(node, k) != k) continue;
            adjoint[operand] =
                accumulate(g, adjoint[operand], scale(g, adjoint[n], total_partial(g, n, k)));
        }
    }
    return slot_adjoints;
}

} // namespace gradc
