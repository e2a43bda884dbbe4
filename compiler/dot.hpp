#pragma once
// The computation graph as the course material draws it, shared by `gradc inspect --dot` and
// `gradc explain`. Assumes a lowered Function; the view works on a copy of its graph (local
// partials are appended to the copy, never to the function's graph). Guarantees: every live
// intermediate gets a course name w_i (inputs are w_1 .. w_n in parameter order, intermediates
// follow in graph order) and a display name (its `let` name or parameter element where it has one),
// and every edge its local partial derivative as a node of the copy, so that interpreting the copy
// gives values and partials at once.

#include <array>
#include <string>
#include <vector>

#include "compiler/lower.hpp"
#include "compiler/source.hpp"

namespace gradc {

class CourseGraph {
  public:
    explicit CourseGraph(const Function& fn);

    const Function& function() const { return *fn_; }
    const Graph& graph() const { return graph_; } // the copy, with the partials appended

    // The live non-constant nodes of the function: its inputs in slot order, then the intermediates
    // in graph (topological) order. Unused parameters have no node and are absent.
    const std::vector<NodeId>& nodes() const { return order_; }
    // The node of input slot s, or no_node when the function does not read it.
    NodeId input_node(std::uint32_t slot) const { return slot_node_[slot]; }
    std::string slot_name(std::uint32_t slot) const; // `x`, `w[3]`, `A[1,0]`

    const std::string& course_name(NodeId id) const { return course_[id]; } // `w3`
    const std::string& name(NodeId id) const { return name_[id]; } // the let name, else w_i
    bool has_own_name(NodeId id) const { return name_[id] != course_[id]; }
    bool is_output(NodeId id) const;

    // `w1 * w2`, `exp(w4)`: the node's operation over its operands' names.
    std::string definition(NodeId id) const;
    // d node / d operand `which`, as a node of the copy (no_node: structurally zero).
    NodeId partial(NodeId id, int which) const {
        return partials_[id][static_cast<std::size_t>(which)];
    }
    // Any node of the copy as a formula over the names of the function's nodes.
    std::string formula(NodeId id) const;
    // A node of another extension of the function's graph (a copy the AD passes appended to).
    std::string formula_in(const Graph& extended, NodeId id) const;
    // The same as formula, with how tightly it binds: below multiplication it needs parentheses as
    // a factor.
    std::string formula(NodeId id, bool* needs_parentheses_as_factor) const;

    // The value of every node of the copy (partials included) at the given input slots.
    std::vector<double> evaluate(const std::vector<double>& slot_values) const;

  private:
    // `expand`: spell out the node's operation even where it has a name.
    std::string render(const Graph& graph, NodeId id, int* precedence, bool expand = false) const;

    const Function* fn_;
    Graph graph_;
    std::size_t primal_size_;
    std::vector<NodeId> order_;
    std::vector<NodeId> slot_node_;
    std::vector<std::string> course_, name_;
    std::vector<std::array<NodeId, 3>> partials_;
};

// A number as the course tables print it: up to 6 significant digits.
std::string short_number(double value);

// Graphviz DOT of the computation graph of each function: one node per operation (inputs as named
// leaves, constants folded into their user's label), each edge from operand to user labelled with
// its local partial derivative. With `values` (one per function, the input slots; null for none)
// every node also shows its value and every edge the value of its partial.
std::string print_dot(const SourceFile& source, const std::vector<const Function*>& functions,
                      const std::vector<const std::vector<double>*>& values);

} // namespace gradc
