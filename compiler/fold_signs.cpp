#include "compiler/fold_signs.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "compiler/dce.hpp"
#include "compiler/schedule.hpp"

namespace gradc {

namespace {

// Per-node flags. A node has two forms: its value (positive) and minus its value (negative).
enum Flag : std::uint8_t {
    live = 1,       // in the kernel as it is
    wants = 2,      // wants << s: its form of sign s (0 positive, 1 negative) is needed
    way_neg = 8,    // way_neg << s: its form of sign s is a Neg of its other form
    kept = 32,      // its positive form is the node itself
    negation = 64,  // a Neg, known without reading the node
    constant = 128, // a constant, likewise
};

// Costs, in half statements: a statement costs 2, a Neg 3, so that a Neg is the last resort.
constexpr int statement_cost = 2, neg_cost = 3;

struct Counts {
    std::size_t negations = 0, statements = 0;
};

// Fewer negations or statements, and no more of the other.
bool better(const Counts& a, const Counts& b) {
    return (a.negations < b.negations && a.statements <= b.statements) ||
           (a.statements < b.statements && a.negations <= b.negations);
}

// The ways of making op(args) with sign `minus` from forms of its operands, as bit masks (bit k:
// operand k's negative form), the node as it is first. Calls way(bits) for each. A negation is
// not a way: its forms are its operand's (resolve below).
template <class F> void for_each_way(const Node& node, bool minus, F way) {
    switch (node.op) {
    case Op::Const: // a constant's negative form is the negated constant
        way(0u);
        break;
    case Op::Mul: // x * y == (-x) * (-y), x * (-y) == -(x * y)
    case Op::Div:
        way(minus ? 1u : 0u);
        way(minus ? 2u : 3u);
        break;
    case Op::Add: // terms of opposite signs make a difference, either way round
    case Op::Sub:
        for (unsigned bits = 0; bits < 4; ++bits) {
            // term k is negative: operand k's negative form, or the subtrahend's positive one
            const bool tx = bits & 1u, ty = ((bits >> 1) & 1u) != (node.op == Op::Sub);
            if (tx == ty && tx != minus) continue; // x + y and -(x + y) have their terms' sign
            way(bits);
        }
        break;
    case Op::Select: // c ? -x : -y == -(c ? x : y)
        way(minus ? 6u : 0u);
        break;
    case Op::Abs: // |-x| == |x|
        if (!minus) {
            way(0u);
            way(1u);
        }
        break;
    default: // any other op reads its operands' values, and only its value is made
        if (!minus) way(0u);
        break;
    }
}

class SignFolder {
  public:
    explicit SignFolder(Kernel& kernel) : k_(kernel), g_(kernel.graph) {}

    void run() {
        flags_.assign(g_.size(), 0);
        const Counts before = mark_live();
        // Without a Neg every statement stays, in one form at least. A Neg folded away changes
        // its users, and theirs: with many, the changes would outgrow the budget. In a large
        // graph with a few Negs, what folding could save is not worth its passes.
        if (before.negations == 0 || 4 * before.negations > budget(before)) return;
        if (before.statements > min_budget && 64 * before.negations < before.statements) return;
        estimate_costs();
        if (!better(choose_forms(), before) || count_changed() > budget(before)) return;
        const std::vector<NodeId> old_roots = kernel_roots(k_);
        build();
        // The count is exact but for what hash-consing shares and the simplifier rewrites: the
        // kernel keeps the new graph only if it is better.
        if (better(count_live(), before)) return;
        for (std::size_t i = 0; i < k_.stores.size(); ++i)
            k_.stores[i].value = old_roots[i];
        if (k_.returns_value) k_.returned = old_roots.back();
    }

  private:
    bool has(NodeId id, unsigned flag) const { return (flags_[id] & flag) != 0; }
    bool wanted(NodeId id, bool minus) const { return has(id, wants << minus); }
    bool via_neg(NodeId id, bool minus) const { return has(id, way_neg << minus); }

    // The node and sign whose form a form of `id` is: a negation's are its operand's, swapped.
    std::pair<NodeId, bool> resolve(NodeId id, bool minus) const {
        if (has(id, negation)) return {g_[id].args[0], !minus};
        return {id, minus};
    }
    void want(NodeId id, bool minus) {
        const auto [n, m] = resolve(id, minus);
        flags_[n] |= wants << m;
    }

    Counts mark_live() {
        for (NodeId root : kernel_roots(k_))
            if (root != no_node) flags_[root] |= live;
        Counts counts;
        for (std::size_t i = g_.size(); i-- > 0;) {
            const NodeId n = static_cast<NodeId>(i);
            if (!has(n, live)) continue;
            const Node& node = g_[n];
            for (int k = 0; k < info(node.op).arity; ++k)
                flags_[node.args[static_cast<std::size_t>(k)]] |= live;
            counts.statements += is_statement(node.op);
            counts.negations += node.op == Op::Neg;
            if (node.op == Op::Neg) flags_[n] |= negation;
            if (node.op == Op::Const) flags_[n] |= constant;
        }
        return counts;
    }

    // delta[n]: what n's negative form costs more than its positive one, counting each operand's
    // forms as if n were their only user, between -neg_cost and neg_cost (a Neg of the other).
    void estimate_costs() {
        delta_.assign(g_.size(), 0);
        for (NodeId n = 0; n < g_.size(); ++n) {
            if (!has(n, live)) continue;
            const Node& node = g_[n];
            if (node.op == Op::Neg) {
                delta_[n] = static_cast<std::int8_t>(-delta_[node.args[0]]);
                continue;
            }
            int cost[2];
            for (bool minus : {false, true}) {
                cost[minus] = 4 * neg_cost; // no way: a Neg
                for_each_way(node, minus, [&](unsigned bits) {
                    int c = 0;
                    for (int k = 0; k < info(node.op).arity; ++k)
                        if (bits >> k & 1u) c += delta_[node.args[static_cast<std::size_t>(k)]];
                    cost[minus] = std::min(cost[minus], c);
                });
            }
            delta_[n] =
                static_cast<std::int8_t>(std::clamp(cost[1] - cost[0], -neg_cost, neg_cost));
        }
    }

    // What operand a's form of sign `minus` adds: nothing when it is needed already (or a
    // constant); a flip or a Neg when its other form is; else the estimate.
    int added_cost(NodeId a, bool minus) const {
        const auto [n, m] = resolve(a, minus);
        if (has(n, constant) || wanted(n, m)) return 0;
        if (wanted(n, !m)) return delta_[n] == 0 ? statement_cost : neg_cost;
        return m ? delta_[n] : 0;
    }

    struct Choice {
        bool exists = false;
        int cost = 0;
        unsigned bits = 0;
    };

    // The cheapest way to make n's form of sign `minus`, the first of equals.
    Choice choose_way(NodeId n, bool minus) const {
        const Node& node = g_[n];
        Choice best;
        for_each_way(node, minus, [&](unsigned bits) {
            int cost = 0;
            for (int k = 0; k < info(node.op).arity; ++k)
                cost += added_cost(node.args[static_cast<std::size_t>(k)], bits >> k & 1u);
            if (!best.exists || cost < best.cost) best = {true, cost, bits};
        });
        return best;
    }

    // Backwards from the roots, which need their values: chooses how each needed form is made, and
    // so which forms of its operands are needed. Returns what the result costs.
    Counts choose_forms() {
        ways_.assign(g_.size(), 0);
        for (NodeId root : kernel_roots(k_))
            if (root != no_node) want(root, false);
        counts_ = Counts{};
        for (std::size_t i = g_.size(); i-- > 0;) {
            const NodeId n = static_cast<NodeId>(i);
            const bool plus = wanted(n, false), minus = wanted(n, true);
            if (!plus && !minus) continue;
            const Choice way[2] = {choose_way(n, false), choose_way(n, true)};
            if (plus && minus) { // the cheaper made first, the other made or negated
                const bool first = !way[0].exists || (way[1].exists && way[1].cost < way[0].cost);
                make_way(n, first, way[first]);
                const Choice second = choose_way(n, !first);
                if (second.exists && statement_cost + second.cost <= neg_cost)
                    make_way(n, !first, second);
                else
                    negate(n, !first);
            } else if (way[minus].exists &&
                       (!way[!minus].exists || way[minus].cost <= way[!minus].cost + neg_cost)) {
                make_way(n, minus, way[minus]);
            } else { // the other form, negated
                make_way(n, !minus, way[!minus]);
                negate(n, minus);
            }
        }
        return counts_;
    }

    // Forwards: how many new nodes building would append. Marks the nodes that stay as they are.
    std::size_t count_changed() {
        std::size_t changed = 0;
        for (NodeId n = 0; n < g_.size(); ++n) {
            const bool plus = wanted(n, false), minus = wanted(n, true);
            if (!plus && !minus) continue;
            const Node& node = g_[n];
            bool same = plus && !via_neg(n, false) && (ways_[n] & 7u) == 0;
            for (int k = 0; k < info(node.op).arity && same; ++k) {
                const NodeId a = node.args[static_cast<std::size_t>(k)];
                // a negation stays when its operand does and is negated by a Neg
                const auto [x, m] = resolve(a, false);
                same = m ? has(x, kept) && via_neg(x, true) : has(x, kept);
            }
            if (same) flags_[n] |= kept;
            changed += (plus && !same) + minus;
        }
        return changed;
    }

    // What folding may rebuild: on a large graph with negations throughout (a long random
    // expression), moving them would rebuild most of it, which costs more than it saves.
    static constexpr std::size_t min_budget = 1 << 14;
    static std::size_t budget(const Counts& before) {
        return std::max<std::size_t>(min_budget, before.statements / 8);
    }

    void make_way(NodeId n, bool minus, const Choice& way) {
        const Node& node = g_[n];
        flags_[n] |= wants << minus;
        ways_[n] |= static_cast<std::uint8_t>(way.bits << (minus ? 3 : 0));
        for (int k = 0; k < info(node.op).arity; ++k)
            want(node.args[static_cast<std::size_t>(k)], way.bits >> k & 1u);
        counts_.statements += is_statement(node.op);
    }

    void negate(NodeId n, bool minus) {
        flags_[n] |= (wants | way_neg) << minus;
        ++counts_.statements;
        ++counts_.negations;
    }

    // Forwards: builds every needed form (the node itself where nothing changed) and points the
    // roots at the values.
    void build() {
        const std::size_t origin = g_.origin();
        const NodeId size = static_cast<NodeId>(g_.size());
        forms_.assign(size, {no_node, no_node});
        for (NodeId n = 0; n < size; ++n) {
            const Node node = g_[n]; // a copy: building appends to the graph
            if (wanted(n, false) || wanted(n, true)) {
                g_.set_origin(node.origin);
                for (bool minus : {false, true})
                    if (wanted(n, minus) && !via_neg(n, minus))
                        forms_[n][minus] =
                            make_form(n, node, minus, ways_[n] >> (minus ? 3 : 0) & 7u);
                for (bool minus : {false, true})
                    if (via_neg(n, minus)) forms_[n][minus] = g_.apply(Op::Neg, forms_[n][!minus]);
            }
            // The value keeps its name (a negation's value is its operand's negative form).
            const NodeId value = node.op == Op::Neg ? form(n, false) : forms_[n][0];
            if (node.labelled && value != no_node && value != n) {
                const std::string label = *g_.label(n);
                g_.set_label(value, label);
            }
        }
        g_.set_origin(origin);
        for (Kernel::Store& s : k_.stores)
            if (s.value != no_node) s.value = form(s.value, false);
        if (k_.returns_value && k_.returned != no_node) k_.returned = form(k_.returned, false);
    }

    NodeId form(NodeId id, bool minus) const {
        const auto [n, m] = resolve(id, minus);
        return forms_[n][m];
    }

    NodeId make_form(NodeId n, const Node& node, bool minus, unsigned bits) {
        std::array<NodeId, 3> args = node.args;
        for (int k = 0; k < info(node.op).arity; ++k)
            args[k] = form(node.args[static_cast<std::size_t>(k)], bits >> k & 1u);
        switch (node.op) {
        case Op::Const:
            return minus ? g_.constant(-node.value()) : n;
        case Op::Add:
        case Op::Sub: {
            // The terms' signs decide: x + y, -(x + y) as (-x) + (-y), x - y or y - x.
            const bool tx = bits & 1u, ty = ((bits >> 1) & 1u) != (node.op == Op::Sub);
            if (tx == ty) return make(n, node, Op::Add, {args[0], args[1], no_node});
            const NodeId positive = tx ? args[1] : args[0], negative = tx ? args[0] : args[1];
            return minus ? make(n, node, Op::Sub, {negative, positive, no_node})
                         : make(n, node, Op::Sub, {positive, negative, no_node});
        }
        default:
            return make(n, node, node.op, args);
        }
    }

    // op(args): node n itself when nothing changed.
    NodeId make(NodeId n, const Node& node, Op op, const std::array<NodeId, 3>& args) {
        if (op == node.op && args == node.args) return n;
        return g_.apply(op, args[0], args[1], args[2]);
    }

    Counts count_live() const {
        const std::vector<bool> is_live = live_nodes(g_, kernel_roots(k_));
        Counts counts;
        for (NodeId n = 0; n < is_live.size(); ++n) {
            if (!is_live[n]) continue;
            counts.statements += is_statement(g_[n].op);
            counts.negations += g_[n].op == Op::Neg;
        }
        return counts;
    }

    Kernel& k_;
    Graph& g_;
    std::vector<std::uint8_t> flags_;
    std::vector<std::int8_t> delta_;
    std::vector<std::uint8_t> ways_; // the bits of the positive form's way, and << 3 the negative's
    std::vector<std::array<NodeId, 2>> forms_; // the positive and negative forms, when building
    Counts counts_;
};

} // namespace

void fold_signs(Kernel& kernel) {
    SignFolder(kernel).run();
}

} // namespace gradc
