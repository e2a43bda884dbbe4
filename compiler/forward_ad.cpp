#include "compiler/forward_ad.hpp"

#include <algorithm>

#include "compiler/dce.hpp"
#include "compiler/partials.hpp"

namespace gradc {

namespace {

// The tangent of node n (not an input), built from its operands' tangents.
NodeId tangent_of(Graph& g, NodeId n, const std::vector<NodeId>& tangent) {
    const Node node = g[n]; // a copy: building tangents appends to the graph
    g.set_origin(node.origin);
    NodeId sum = no_node;
    for (int k = 0; k < info(node.op).arity; ++k) {
        const NodeId operand_tangent = tangent[node.args[static_cast<std::size_t>(k)]];
        if (operand_tangent == no_node || first_position(node, k) != k) continue;
        sum = accumulate(g, sum, scale(g, operand_tangent, total_partial(g, n, k)));
    }
    if (const std::string* name = g.label(n); name && sum != no_node)
        g.set_label(sum, *name + "_dot");
    return sum;
}

} // namespace

std::vector<NodeId> forward_ad(Graph& g, const std::vector<NodeId>& outputs,
                               const std::vector<NodeId>& slot_tangents) {
    const std::vector<bool> live = live_nodes(g, outputs);
    const std::size_t count = live.size();
    std::vector<NodeId> tangent(count, no_node);
    for (NodeId n = 0; n < count; ++n) {
        if (!live[n]) continue;
        if (g[n].op == Op::Input) {
            const std::uint32_t slot = g[n].args[0];
            if (slot < slot_tangents.size()) tangent[n] = slot_tangents[slot];
            continue;
        }
        tangent[n] = tangent_of(g, n, tangent);
    }
    std::vector<NodeId> result;
    for (NodeId out : outputs)
        result.push_back(out == no_node ? no_node : tangent[out]);
    return result;
}

ForwardSweeps::ForwardSweeps(const Graph& g, std::vector<NodeId> outputs)
    : outputs_(std::move(outputs)), tangent_(g.size(), no_node), reached_(g.size(), false) {
    const std::vector<bool> live = live_nodes(g, outputs_);
    // The users of each live node, as offset lists: n's users are users_[user_begin_[n],
    // user_begin_[n + 1]), each once per operand it takes.
    user_begin_.assign(g.size() + 1, 0);
    for (NodeId n = 0; n < g.size(); ++n) {
        if (!live[n]) continue;
        if (g[n].op == Op::Input) {
            const std::uint32_t slot = g[n].args[0];
            if (input_of_slot_.size() <= slot) input_of_slot_.resize(slot + 1, no_node);
            input_of_slot_[slot] = n;
            continue;
        }
        for (int k = 0; k < info(g[n].op).arity; ++k)
            ++user_begin_[g[n].args[static_cast<std::size_t>(k)]];
    }
    std::uint32_t total = 0;
    for (std::uint32_t& begin : user_begin_)
        begin = total += begin;
    users_.resize(total);
    for (NodeId n = static_cast<NodeId>(g.size()); n-- > 0;)
        if (live[n] && g[n].op != Op::Input)
            for (int k = 0; k < info(g[n].op).arity; ++k)
                users_[--user_begin_[g[n].args[static_cast<std::size_t>(k)]]] = n;
}

std::vector<NodeId> ForwardSweeps::sweep(Graph& g, std::uint32_t slot, NodeId seed) {
    std::vector<NodeId> reached; // the nodes that depend on the slot, then in graph order
    if (slot < input_of_slot_.size() && input_of_slot_[slot] != no_node && seed != no_node) {
        const NodeId input = input_of_slot_[slot];
        reached_[input] = true;
        std::vector<NodeId> stack{input};
        while (!stack.empty()) {
            const NodeId n = stack.back();
            stack.pop_back();
            reached.push_back(n);
            for (std::uint32_t u = user_begin_[n]; u < user_begin_[n + 1]; ++u)
                if (!reached_[users_[u]]) {
                    reached_[users_[u]] = true;
                    stack.push_back(users_[u]);
                }
        }
        std::sort(reached.begin(), reached.end());
        tangent_[input] = seed;
        for (NodeId n : reached)
            if (n != input) tangent_[n] = tangent_of(g, n, tangent_);
    }
    std::vector<NodeId> result;
    for (NodeId out : outputs_)
        result.push_back(out == no_node ? no_node : tangent_[out]);
    for (NodeId n : reached) {
        tangent_[n] = no_node;
        reached_[n] = false;
    }
    return result;
}

} // namespace gradc
