#include "compiler/dce.hpp"

namespace gradc {

std::vector<bool> live_nodes(const Graph& graph, const std::vector<NodeId>& roots) {
    std::vector<bool> live(graph.size(), false);
    for (NodeId root : roots)
        if (root != no_node) live[root] = true;
    for (std::size_t i = graph.size(); i-- > 0;) {
        if (!live[i]) continue;
        const Node& node = graph[static_cast<NodeId>(i)];
        for (int k = 0; k < info(node.op).arity; ++k)
            live[node.args[static_cast<std::size_t>(k)]] = true;
    }
    return live;
}

} // namespace gradc
