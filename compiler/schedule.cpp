#include "compiler/schedule.hpp"

#include <algorithm>

namespace gradc {

namespace {

class Scheduler {
  public:
    explicit Scheduler(const Kernel& kernel) : k_(kernel), g_(kernel.graph) {}

    Schedule run() {
        const std::size_t size = g_.size();
        missing_.assign(size, 0);
        schedule_.position.assign(size, no_step);
        // Users and stores of each statement, as offset lists (CSR) in node and store order:
        // node n's users are users_[user_begin_[n], user_begin_[n + 1]). From the last node back,
        // a node is live once a live user or a root has been seen, so one pass finds the live
        // statements and counts their operands' users; a second, filling each list from its end,
        // leaves user_begin_ at the starts.
        std::vector<bool> live(size, false);
        for (NodeId root : kernel_roots(k_))
            if (root != no_node) live[root] = true;
        user_begin_.assign(size + 1, 0);
        std::size_t statements = 0;
        for (NodeId n = static_cast<NodeId>(size); n-- > 0;) {
            if (!live[n]) continue;
            const Node& node = g_[n];
            for (int k = 0; k < info(node.op).arity; ++k)
                live[node.args[static_cast<std::size_t>(k)]] = true;
            if (!is_statement(node.op)) continue;
            ++statements;
            for_each_statement_operand(n, [&](NodeId a) {
                ++user_begin_[a];
                ++missing_[n];
            });
        }
        store_begin_.assign(size + 1, 0);
        for (const Kernel::Store& s : k_.stores)
            if (NodeId v = value_of(s); v != no_node) ++store_begin_[v];
        users_.resize(ends_from_counts(user_begin_));
        stores_.resize(ends_from_counts(store_begin_));
        for (NodeId n = static_cast<NodeId>(size); n-- > 0;)
            if (live[n] && is_statement(g_[n].op))
                for_each_statement_operand(n, [&](NodeId a) { users_[--user_begin_[a]] = n; });
        for (std::uint32_t s = static_cast<std::uint32_t>(k_.stores.size()); s-- > 0;)
            if (NodeId v = value_of(k_.stores[s]); v != no_node) stores_[--store_begin_[v]] = s;

        schedule_.steps.reserve(statements + k_.stores.size());
        for (std::uint32_t s = 0; s < k_.stores.size(); ++s) {
            const NodeId v = value_of(k_.stores[s]);
            if (v == no_node)
                schedule_.steps.push_back({Step::Kind::Store, s});
            else
                demand(v);
        }
        if (k_.returns_value) {
            const NodeId v = resolve_detach(g_, k_.returned);
            if (is_statement(g_[v].op)) demand(v);
        }
        return std::move(schedule_);
    }

  private:
    // The statement a store writes, or no_node for a constant, an input or zero.
    NodeId value_of(const Kernel::Store& s) const {
        if (s.value == no_node) return no_node;
        const NodeId v = resolve_detach(g_, s.value);
        return is_statement(g_[v].op) ? v : no_node;
    }

    // Calls f once per distinct statement operand of n.
    template <class F> void for_each_statement_operand(NodeId n, F f) const {
        NodeId seen[3];
        int count = 0;
        for (int k = 0; k < info(g_[n].op).arity; ++k) {
            const NodeId a = resolve_detach(g_, g_[n].args[static_cast<std::size_t>(k)]);
            if (!is_statement(g_[a].op) || std::find(seen, seen + count, a) != seen + count)
                continue;
            seen[count++] = a;
            f(a);
        }
    }

    // Counts per node -> where each node's list ends (the running sums); returns the total.
    static std::uint32_t ends_from_counts(std::vector<std::uint32_t>& offsets) {
        std::uint32_t total = 0;
        for (std::uint32_t& offset : offsets)
            offset = total += offset;
        return total;
    }

    // Emits `root` after its operands, depth first (with an explicit stack: chains can be
    // millions of nodes long).
    void demand(NodeId root) {
        std::vector<std::pair<NodeId, int>>& stack = demanded_;
        stack.push_back({root, 0});
        while (!stack.empty()) {
            auto& [n, next] = stack.back();
            if (done(n)) {
                stack.pop_back();
                continue;
            }
            if (next < info(g_[n].op).arity) {
                const NodeId a = resolve_detach(g_, g_[n].args[static_cast<std::size_t>(next++)]);
                if (is_statement(g_[a].op) && !done(a)) stack.push_back({a, 0});
                continue;
            }
            const NodeId ready = n;
            stack.pop_back();
            emit(ready);
        }
    }

    // Emits n, its stores, and then every user whose operands are now all known, depth first.
    void emit(NodeId first) {
        ready_.push_back(first);
        while (!ready_.empty()) {
            const NodeId n = ready_.back();
            ready_.pop_back();
            if (done(n)) continue;
            std::vector<Step>& steps = schedule_.steps;
            schedule_.position[n] = static_cast<std::uint32_t>(steps.size());
            steps.push_back({Step::Kind::Value, n});
            for (std::uint32_t i = store_begin_[n]; i < store_begin_[n + 1]; ++i)
                steps.push_back({Step::Kind::Store, stores_[i]});
            for (std::uint32_t i = user_begin_[n + 1]; i-- > user_begin_[n];)
                if (--missing_[users_[i]] == 0) ready_.push_back(users_[i]);
        }
    }

    const Kernel& k_;
    const Graph& g_;
    bool done(NodeId n) const { return schedule_.position[n] != no_step; }

    std::vector<std::uint8_t> missing_; // per statement: operands not yet emitted
    std::vector<std::uint32_t> user_begin_, users_, store_begin_, stores_;
    std::vector<NodeId> ready_;
    std::vector<std::pair<NodeId, int>> demanded_; // demand's stack: node, next operand
    Schedule schedule_;
};

} // namespace

Schedule schedule_kernel(const Kernel& kernel) {
    return Scheduler(kernel).run();
}

} // namespace gradc
