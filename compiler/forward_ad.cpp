#include "compiler/forward_ad.hpp"

#include "compiler/dce.hpp"
#include "compiler/partials.hpp"

namespace gradc {

std::vector<NodeId> forward_ad(Graph& g, const std::vector<NodeId>& outputs,
                               const std::vector<NodeId>& slot_tangents) {
    const std::vector<bool> live = live_nodes(g, outputs);
    const std::size_t count = live.size();
    std::vector<NodeId> tangent(count, no_node);
    for (NodeId n = 0; n < count; ++n) {
        if (!live[n]) continue;
        const Node node = g[n]; // a copy: building tangents appends to the graph
        if (node.op == Op::Input) {
            if (node.args[0] < slot_tangents.size()) tangent[n] = slot_tangents[node.args[0]];
            continue;
        }
        g.set_origin(node.origin);
        NodeId sum = no_node;
        for (int k = 0; k < info(node.op).arity; ++k) {
            const NodeId operand_tangent = tangent[node.args[static_cast<std::size_t>(k)]];
            if (operand_tangent == no_node || first_position(node, k) != k) continue;
            sum = accumulate(g, sum, scale(g, operand_tangent, total_partial(g, n, k)));
        }
        tangent[n] = sum;
        if (const std::string* name = g.label(n); name && sum != no_node)
            g.set_label(sum, *name + "_dot");
    }
    std::vector<NodeId> result;
    for (NodeId out : outputs)
        result.push_back(out == no_node ? no_node : tangent[out]);
    return result;
}

} // namespace gradc
