#include "compiler/schedule.hpp"

#include <algorithm>

#include "compiler/dce.hpp"

namespace gradc {

namespace {

class Scheduler {
  public:
    explicit Scheduler(const Kernel& kernel) : k_(kernel), g_(kernel.graph) {}

    Schedule run() {
        const std::vector<bool> live = live_nodes(g_, kernel_roots(k_));
        missing_.assign(g_.size(), 0);
        schedule_.position.assign(g_.size(), no_step);
        // Users and stores of each statement, as offset lists (CSR), in node and store order.
        std::vector<std::uint32_t> user_count(g_.size() + 1, 0), store_count(g_.size() + 1, 0);
        std::size_t statements = 0;
        for (NodeId n = 0; n < g_.size(); ++n) {
            if (!live[n] || !is_statement(g_[n].op)) continue;
            ++statements;
            for_each_statement_operand(n, [&](NodeId a) {
                ++user_count[a];
                ++missing_[n];
            });
        }
        for (const Kernel::Store& s : k_.stores)
            if (NodeId v = value_of(s); v != no_node) ++store_count[v];
        user_begin_ = prefix_sums(user_count);
        store_begin_ = prefix_sums(store_count);
        users_.resize(user_begin_.back());
        stores_.resize(store_begin_.back());
        for (NodeId n = 0; n < g_.size(); ++n)
            if (live[n] && is_statement(g_[n].op))
                for_each_statement_operand(n, [&](NodeId a) { users_[user_count[a]++] = n; });
        for (std::uint32_t s = 0; s < k_.stores.size(); ++s)
            if (NodeId v = value_of(k_.stores[s]); v != no_node) stores_[store_count[v]++] = s;

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

    static std::vector<std::uint32_t> prefix_sums(std::vector<std::uint32_t>& counts) {
        std::vector<std::uint32_t> begin(counts.size(), 0);
        std::uint32_t total = 0;
        for (std::size_t i = 0; i < counts.size(); ++i) {
            begin[i] = total;
            total += counts[i];
            counts[i] = begin[i]; // reused as the fill cursor
        }
        begin.back() = total;
        return begin;
    }

    // Emits `root` after its operands, depth first (with an explicit stack: chains can be
    // millions of nodes long).
    void demand(NodeId root) {
        std::vector<std::pair<NodeId, int>> stack{{root, 0}};
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

    std::vector<std::uint32_t> missing_; // per statement: operands not yet emitted
    std::vector<std::uint32_t> user_begin_, users_, store_begin_, stores_;
    std::vector<NodeId> ready_;
    Schedule schedule_;
};

} // namespace

Schedule schedule_kernel(const Kernel& kernel) {
    return Scheduler(kernel).run();
}

} // namespace gradc
