#pragma once
// The SSA graph: a flat, append-only list of nodes in which every operand precedes its user, so the
// list order is a topological order (CasADi's instruction list). Nodes are hash-consed: building an
// op that already exists returns the existing node, which makes common-subexpression elimination
// free (`a + b` and `b + a` included: the first order built is kept, so code reads like its
// source). Every node is built through `apply`, which also folds constants and applies the peephole
// rules of simplify.hpp, so no pass ever sees `x * 1` or `2 + 3`.

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <unordered_map>
#include <vector>

#include "compiler/ops.hpp"

namespace gradc {

using NodeId = std::uint32_t;
inline constexpr NodeId no_node = std::numeric_limits<NodeId>::max();

struct Node {
    Op op;
    std::uint32_t origin;       // byte offset in the source of the expression that made it
    std::array<NodeId, 3> args; // operands; for Input, args[0] is the input slot
    double value;               // for Const
};

class Graph {
  public:
    explicit Graph(std::size_t node_limit = 10'000'000);

    NodeId constant(double value);
    NodeId input(std::uint32_t slot);
    NodeId apply(Op op, NodeId a, NodeId b = no_node, NodeId c = no_node);

    const Node& operator[](NodeId id) const { return nodes_[id]; }
    std::size_t size() const { return nodes_.size(); }
    bool is_constant(NodeId id, double value) const;
    bool is_constant(NodeId id) const { return nodes_[id].op == Op::Const; }

    // The limit applies to what lowering unrolls; derivative programs lift it.
    void set_node_limit(std::size_t limit) { node_limit_ = limit; }

    // The source offset recorded on nodes built from now on.
    void set_origin(std::size_t offset) { origin_ = static_cast<std::uint32_t>(offset); }
    std::size_t origin() const { return origin_; }

    // Names for the emitted code: the first label given to a node sticks.
    void set_label(NodeId id, const std::string& label);
    const std::string* label(NodeId id) const;

  private:
    NodeId intern(const Node& node); // the node, hash-consed
    std::size_t hash(const Node& node) const;
    void grow_table();

    std::vector<Node> nodes_;
    std::vector<NodeId> table_; // open addressing over nodes_, no_node = empty
    std::unordered_map<NodeId, std::string> labels_;
    std::uint32_t origin_ = 0;
    std::size_t node_limit_;
};

} // namespace gradc
