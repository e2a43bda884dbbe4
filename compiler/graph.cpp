#include "compiler/graph.hpp"

#include <cstring>

#include "compiler/simplify.hpp"
#include "compiler/source.hpp"

namespace gradc {

Graph::Graph(std::size_t node_limit) : table_(1024, no_node), node_limit_(node_limit) {}

NodeId Graph::constant(double value) {
    if (value == 0.0) value = 0.0; // one zero: -0.0 and +0.0 intern as the same constant
    return intern(Node{Op::Const, origin_, {no_node, no_node, no_node}, value});
}

NodeId Graph::input(std::uint32_t slot) {
    return intern(Node{Op::Input, origin_, {slot, no_node, no_node}, 0.0});
}

NodeId Graph::apply(Op op, NodeId a, NodeId b, NodeId c) {
    const int arity = info(op).arity;
    const NodeId operands[3] = {a, b, c};
    bool all_constant = true;
    for (int i = 0; i < arity; ++i)
        all_constant = all_constant && is_constant(operands[i]);
    if (all_constant && op != Op::Detach) {
        auto value_of = [&](int i) { return i < arity ? nodes_[operands[i]].value : 0.0; };
        return constant(evaluate(op, value_of(0), value_of(1), value_of(2)));
    }
    if (NodeId simpler = simplify(*this, op, a, b, c); simpler != no_node) return simpler;
    return intern(Node{op, origin_, {a, b, c}, 0.0});
}

bool Graph::is_constant(NodeId id, double value) const {
    return nodes_[id].op == Op::Const && nodes_[id].value == value;
}

void Graph::set_label(NodeId id, const std::string& label) {
    if (nodes_[id].op == Op::Const || nodes_[id].op == Op::Input) return;
    labels_.emplace(id, label);
}

const std::string* Graph::label(NodeId id) const {
    auto found = labels_.find(id);
    return found == labels_.end() ? nullptr : &found->second;
}

namespace {
bool commutative(Op op) {
    return op == Op::Add || op == Op::Mul;
}

// The operands in a canonical order: `a + b` and `b + a` are one node, kept in the order first
// built.
std::array<NodeId, 3> canonical_args(const Node& node) {
    std::array<NodeId, 3> args = node.args;
    if (commutative(node.op) && args[1] < args[0]) std::swap(args[0], args[1]);
    return args;
}
} // namespace

std::size_t Graph::hash(const Node& node) const {
    std::uint64_t bits;
    std::memcpy(&bits, &node.value, sizeof bits);
    std::uint64_t h = static_cast<std::uint64_t>(node.op) * 0x9E3779B97F4A7C15ull;
    for (NodeId arg : canonical_args(node))
        h = (h ^ arg) * 0x100000001B3ull + (h >> 29);
    h = (h ^ bits) * 0x9E3779B97F4A7C15ull;
    return static_cast<std::size_t>(h ^ (h >> 32));
}

NodeId Graph::intern(const Node& node) {
    const std::size_t mask = table_.size() - 1;
    for (std::size_t i = hash(node) & mask;; i = (i + 1) & mask) {
        NodeId id = table_[i];
        if (id == no_node) break;
        const Node& other = nodes_[id];
        if (other.op == node.op && canonical_args(other) == canonical_args(node) &&
            std::memcmp(&other.value, &node.value, sizeof node.value) == 0)
            return id;
    }
    if (nodes_.size() >= node_limit_)
        throw CompileError(origin_, "the expression unrolls past the node limit of " +
                                        std::to_string(node_limit_) + " SSA nodes");
    const NodeId id = static_cast<NodeId>(nodes_.size());
    nodes_.push_back(node);
    if (2 * nodes_.size() > table_.size())
        grow_table();
    else {
        for (std::size_t i = hash(node) & mask;; i = (i + 1) & mask)
            if (table_[i] == no_node) {
                table_[i] = id;
                break;
            }
    }
    return id;
}

void Graph::grow_table() {
    table_.assign(table_.size() * 2, no_node);
    const std::size_t mask = table_.size() - 1;
    for (NodeId id = 0; id < nodes_.size(); ++id)
        for (std::size_t i = hash(nodes_[id]) & mask;; i = (i + 1) & mask)
            if (table_[i] == no_node) {
                table_[i] = id;
                break;
            }
}

} // namespace gradc
