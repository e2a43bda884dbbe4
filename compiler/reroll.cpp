#include "compiler/reroll.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace gradc {

namespace {

constexpr std::size_t max_length = 2048; // the longest loop body tried
constexpr int max_candidates = 8;        // body lengths tried at one start
constexpr std::size_t lookahead = 16;    // later starts tried for a loop found
constexpr std::uint32_t none = no_step;

std::uint64_t mix(std::uint64_t h, std::uint64_t x) {
    h = (h ^ x) * 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 29);
}

class Reroller {
  public:
    Reroller(const Kernel& kernel, const Schedule& schedule, const RerollOptions& options)
        : k_(kernel), g_(kernel.graph), steps_(schedule.steps), position_(schedule.position),
          options_(options) {}

    std::vector<Loop> run() {
        loop_of_.assign(steps_.size(), none);
        hash_steps();
        for (std::size_t p = 0; p < steps_.size();) {
            Loop loop = best_loop_at(p);
            if (loop.count == 0) {
                ++p;
                continue;
            }
            // A loop found at p may be better started a few steps later: a rotation that lines up
            // with the terms may need a shorter body.
            for (std::size_t q = p + 1; q < p + std::min<std::size_t>(loop.length, lookahead); ++q)
                if (Loop later = best_loop_at(q, loop.length - 1);
                    later.count > 0 && saving(later) > saving(loop))
                    loop = std::move(later);
            for (std::size_t s = loop.begin; s < loop.end(); ++s)
                loop_of_[s] = static_cast<std::uint32_t>(loops_.size());
            p = loop.end();
            loops_.push_back(std::move(loop));
        }
        mark_keeps();
        return std::move(loops_);
    }

  private:
    bool is_store(std::size_t s) const { return steps_[s].kind == Step::Kind::Store; }
    const Kernel::Store& store(std::size_t s) const { return k_.stores[steps_[s].index]; }

    int operand_count(std::size_t s) const { return step_arity(k_, steps_[s]); }
    NodeId operand(std::size_t s, int k) const { return step_operand(k_, steps_[s], k); }

    const Kernel::Element& element(NodeId input) const { return k_.slots[g_[input].args[0]]; }

    // Steps with equal signatures have the same operation and operands of the same kinds (equal
    // constants, whole numbers, elements of the same parameter, or values).
    std::uint64_t signature(std::size_t s) const {
        std::uint64_t h = is_store(s)
                              ? mix(1000, store(s).target.param * 2 + (store(s).add ? 1 : 0))
                              : mix(0, static_cast<std::uint64_t>(g_[steps_[s].index].op));
        std::uint64_t kinds[3] = {0, 0, 0};
        for (int k = 0; k < operand_count(s); ++k)
            kinds[k] = operand_kind(operand(s, k));
        if (swappable(s) && kinds[1] < kinds[0]) std::swap(kinds[0], kinds[1]);
        for (int k = 0; k < operand_count(s); ++k)
            h = mix(h, kinds[k]);
        return h;
    }

    std::uint64_t operand_kind(NodeId a) const {
        if (a == no_node) return 1;
        if (whole(a)) return 5; // any whole number: it may count with the iterations
        if (g_[a].op == Op::Const) {
            const double value = g_[a].value();
            std::uint64_t bits;
            std::memcpy(&bits, &value, sizeof bits);
            return mix(2, bits);
        }
        if (g_[a].op == Op::Input) return mix(3, element(a).param);
        return 4;
    }

    // A constant that is a whole number of at most 31 bits (base + stride * i of them is exact).
    bool whole(NodeId a) const {
        if (a == no_node || g_[a].op != Op::Const) return false;
        const double v = g_[a].value();
        return v == std::floor(v) && std::fabs(v) <= 2147483647.0;
    }

    // IEEE addition and multiplication are commutative, so a body may read `a + b` where one
    // iteration has `b + a`.
    bool swappable(std::size_t s) const {
        return !is_store(s) &&
               (g_[steps_[s].index].op == Op::Add || g_[steps_[s].index].op == Op::Mul);
    }

    // Signatures, their prefix hashes (so two runs of steps compare in O(1)), and for each step the
    // next one with the same signature.
    void hash_steps() {
        const std::size_t n = steps_.size();
        prefix_.assign(n + 1, 0);
        power_.assign(std::min(n, max_length) + 1, 1);
        for (std::size_t s = 0; s < n; ++s)
            prefix_[s + 1] = prefix_[s] * radix + signature(s);
        for (std::size_t l = 1; l < power_.size(); ++l)
            power_[l] = power_[l - 1] * radix;
        // From the last step back, the latest step of each signature so far, in an open-addressing
        // table (std::unordered_map allocated a node per signature: 8% of the time of a gradient
        // whose constants make most signatures distinct, sumterms_200000).
        next_same_.assign(n, none);
        struct Latest {
            std::uint64_t signature;
            std::uint32_t step; // none: empty
        };
        auto slot = [](const std::vector<Latest>& table, std::uint64_t sig) { // sig's, or empty
            std::size_t i = mix(sig, 0) & (table.size() - 1);
            while (table[i].step != none && table[i].signature != sig)
                i = (i + 1) & (table.size() - 1);
            return i;
        };
        std::vector<Latest> latest(1024, {0, none});
        std::size_t signatures = 0;
        for (std::size_t s = n; s-- > 0;) {
            const std::uint64_t sig = run_hash(s, 1);
            std::size_t i = slot(latest, sig);
            if (latest[i].step != none) {
                next_same_[s] = latest[i].step;
            } else if (2 * ++signatures > latest.size()) {
                std::vector<Latest> grown(2 * latest.size(), {0, none});
                for (const Latest& e : latest)
                    if (e.step != none) grown[slot(grown, e.signature)] = e;
                latest.swap(grown);
                i = slot(latest, sig);
            }
            latest[i] = {sig, static_cast<std::uint32_t>(s)};
        }
    }

    std::uint64_t run_hash(std::size_t begin, std::size_t length) const {
        return prefix_[begin + length] - prefix_[begin] * power_[length];
    }

    // How many statements a loop saves: the steps it covers less its body.
    static std::size_t saving(const Loop& loop) { return (loop.count - 1) * loop.length; }

    // The loop starting at p with a body of at most `longest` steps that saves the most; count 0
    // when there is none.
    Loop best_loop_at(std::size_t p, std::size_t longest = max_length) {
        Loop best;
        std::size_t best_saving = 0;
        int tries = 0;
        for (std::size_t q = next_same_[p]; q != none && q - p <= longest && tries < max_candidates;
             q = next_same_[q], ++tries) {
            const std::size_t length = q - p;
            if (q + length > steps_.size() || run_hash(p, length) != run_hash(q, length)) continue;
            // The iterations whose signatures repeat bound the count: a candidate whose signatures
            // do not repeat as often as the fewest iterations that pass the thresholds and beat
            // the best is neither derived nor matched step by step.
            const std::size_t fewest =
                std::max({options_.min_iterations, std::size_t{2},
                          (options_.min_steps + length - 1) / length, best_saving / length + 2});
            if (repeats(p, length, fewest) < fewest) continue;
            Loop loop;
            loop.begin = p;
            loop.length = length;
            if (!derive(loop)) continue;
            // Each further iteration repeats the signatures and follows the patterns (counted no
            // further: a long run of whole-number constants repeats its signatures to its end).
            std::size_t count = 2;
            while (p + (count + 1) * length <= steps_.size() &&
                   run_hash(p + count * length, length) == run_hash(p, length) &&
                   matches(loop, count))
                ++count;
            if (!enough(count, length) || (count - 1) * length <= best_saving) continue;
            loop.count = count;
            best_saving = (count - 1) * length;
            best = std::move(loop);
        }
        return best;
    }

    // How many times the signatures of the `length` steps at p repeat from there, counted up to
    // `most`; at least 2 (p + length has them).
    std::size_t repeats(std::size_t p, std::size_t length, std::size_t most) const {
        std::size_t r = 2;
        while (r < most && p + (r + 1) * length <= steps_.size() &&
               run_hash(p + r * length, length) == run_hash(p, length))
            ++r;
        return r;
    }

    // Whether `count` iterations of `length` steps pass the thresholds for a loop.
    bool enough(std::size_t count, std::size_t length) const {
        return count >= std::max<std::size_t>(options_.min_iterations, 2) &&
               count * length >= options_.min_steps;
    }

    bool same_shape(std::size_t a, std::size_t b) const {
        if (steps_[a].kind != steps_[b].kind) return false;
        if (is_store(a))
            return store(a).target.param == store(b).target.param && store(a).add == store(b).add;
        return g_[steps_[a].index].op == g_[steps_[b].index].op;
    }

    // The patterns of a body of `length` steps at `begin`, read off its first two iterations.
    bool derive(Loop& loop) const {
        const std::size_t length = loop.length;
        loop.operands.assign(length, {});
        loop.targets.assign(length, {});
        loop.initial.assign(length, no_node);
        for (std::size_t j = 0; j < length; ++j) {
            const std::size_t s0 = loop.begin + j, s1 = s0 + length;
            if (!same_shape(s0, s1)) return false;
            auto& patterns = loop.operands[j];
            auto derive_all = [&](bool swap) {
                for (int k = 0; k < operand_count(s0); ++k)
                    if (!derive_operand(loop, operand(s0, k), operand(s1, swap ? 1 - k : k),
                                        patterns[static_cast<std::size_t>(k)]))
                        return false;
                return true;
            };
            if (!derive_all(false) && !(swappable(s0) && derive_all(true))) return false;
            for (int k = 0; k < operand_count(s0); ++k) {
                const Pattern& pattern = patterns[static_cast<std::size_t>(k)];
                if (pattern.kind != Pattern::Kind::Previous) continue;
                NodeId& first = loop.initial[pattern.step]; // one value before the first iteration
                if (first != no_node && first != pattern.node) return false;
                first = pattern.node;
            }
            if (is_store(s0)) {
                const std::size_t i0 = store(s0).target.index, i1 = store(s1).target.index;
                loop.targets[j] = element_pattern(store(s0).target.param, i0, i1);
            }
        }
        return true;
    }

    static Pattern element_pattern(std::size_t param, std::size_t i0, std::size_t i1) {
        Pattern p;
        p.kind = Pattern::Kind::Element;
        p.param = static_cast<std::uint32_t>(param);
        p.base = static_cast<std::int64_t>(i0);
        p.stride = static_cast<std::int64_t>(i1) - static_cast<std::int64_t>(i0);
        return p;
    }

    // The pattern of operands a0 (first iteration) and a1 (second).
    bool derive_operand(const Loop& loop, NodeId a0, NodeId a1, Pattern& out) const {
        out = Pattern{};
        out.node = a0;
        if (a0 == no_node || a1 == no_node || !is_statement(g_[a0].op) ||
            !is_statement(g_[a1].op)) {
            if (a0 == a1) return true; // Fixed
            if (whole(a0) && whole(a1)) {
                // A stride of at most 2^20 keeps stride * counter (below 2^32) exact in a double.
                out.kind = Pattern::Kind::Integer;
                out.base = static_cast<std::int64_t>(g_[a0].value());
                out.stride = static_cast<std::int64_t>(g_[a1].value()) - out.base;
                return std::abs(out.stride) <= (std::int64_t{1} << 20);
            }
            if (a0 == no_node || a1 == no_node || g_[a0].op != Op::Input ||
                g_[a1].op != Op::Input || element(a0).param != element(a1).param)
                return false;
            out = element_pattern(element(a0).param, element(a0).index, element(a1).index);
            return true;
        }
        const std::size_t d0 = position_[a0], d1 = position_[a1];
        const std::size_t b0 = loop.begin, b1 = b0 + loop.length;
        if (d1 >= b1) { // made earlier in the same iteration
            out.kind = Pattern::Kind::Local;
            out.step = static_cast<std::uint32_t>(d1 - b1);
            return d0 == b0 + out.step;
        }
        if (d1 >= b0) { // made in the previous iteration; a0 comes from before the loop
            out.kind = Pattern::Kind::Previous;
            out.step = static_cast<std::uint32_t>(d1 - b0);
            return d0 < b0;
        }
        if (a0 == a1) return true; // Fixed
        // Both from before the loop: the same step of one earlier loop, at a regular stride.
        const std::uint32_t l = loop_of_[d0];
        if (l == none || l != loop_of_[d1]) return false;
        const Loop& earlier = loops_[l];
        const std::size_t j0 = (d0 - earlier.begin) % earlier.length;
        if (j0 != (d1 - earlier.begin) % earlier.length) return false;
        out.kind = Pattern::Kind::Gather;
        out.loop = l;
        out.step = static_cast<std::uint32_t>(j0);
        out.base = static_cast<std::int64_t>((d0 - earlier.begin) / earlier.length);
        out.stride = static_cast<std::int64_t>((d1 - earlier.begin) / earlier.length) - out.base;
        return true;
    }

    // Whether iteration r (>= 2) follows the patterns.
    bool matches(const Loop& loop, std::size_t r) const {
        const std::size_t base = loop.begin + r * loop.length;
        const auto ir = static_cast<std::int64_t>(r);
        for (std::size_t j = 0; j < loop.length; ++j) {
            const std::size_t s = base + j;
            if (!same_shape(loop.begin + j, s)) return false;
            const auto& patterns = loop.operands[j];
            auto follow_all = [&](bool swap) {
                for (int k = 0; k < operand_count(s); ++k)
                    if (!follows(loop, r, operand(s, swap ? 1 - k : k),
                                 patterns[static_cast<std::size_t>(k)]))
                        return false;
                return true;
            };
            if (!follow_all(false) && !(swappable(s) && follow_all(true))) return false;
            if (is_store(s) && static_cast<std::int64_t>(store(s).target.index) !=
                                   loop.targets[j].base + loop.targets[j].stride * ir)
                return false;
        }
        return true;
    }

    bool follows(const Loop& loop, std::size_t r, NodeId a, const Pattern& p) const {
        const auto ir = static_cast<std::int64_t>(r);
        if (p.kind == Pattern::Kind::Fixed) return a == p.node;
        if (a == no_node) return false;
        if (p.kind == Pattern::Kind::Integer)
            return whole(a) && static_cast<std::int64_t>(g_[a].value()) == p.base + p.stride * ir;
        if (p.kind == Pattern::Kind::Element)
            return g_[a].op == Op::Input && element(a).param == p.param &&
                   static_cast<std::int64_t>(element(a).index) == p.base + p.stride * ir;
        const std::size_t d = position_[a];
        if (d == none) return false;
        const std::size_t base = loop.begin + r * loop.length;
        if (p.kind == Pattern::Kind::Local) return d == base + p.step;
        if (p.kind == Pattern::Kind::Previous) return d == base - loop.length + p.step;
        if (loop_of_[d] != p.loop) return false; // Gather
        const Loop& earlier = loops_[p.loop];
        return (d - earlier.begin) % earlier.length == p.step &&
               static_cast<std::int64_t>((d - earlier.begin) / earlier.length) ==
                   p.base + p.stride * ir;
    }

    // Decides how each body value is kept, from who reads it outside its own iteration.
    void mark_keeps() {
        for (Loop& loop : loops_)
            loop.keep.assign(loop.length, 0);
        last_read_.resize(loops_.size());
        for (std::size_t l = 0; l < loops_.size(); ++l)
            last_read_[l].assign(loops_[l].length, false);
        for (std::size_t s = 0; s < steps_.size(); ++s)
            if (loop_of_[s] == none)
                for (int k = 0; k < operand_count(s); ++k)
                    read_from_outside(operand(s, k));
        for (Loop& loop : loops_)
            for (std::size_t j = 0; j < loop.length; ++j)
                for (int k = 0; k < operand_count(loop.begin + j); ++k) {
                    const Pattern& p = loop.operands[j][static_cast<std::size_t>(k)];
                    if (p.kind == Pattern::Kind::Fixed || p.kind == Pattern::Kind::Previous)
                        read_from_outside(p.node);
                    if (p.kind == Pattern::Kind::Previous)
                        loop.keep[p.step] |=
                            j > p.step ? Loop::KeepState | Loop::KeepPrevious : Loop::KeepState;
                    if (p.kind == Pattern::Kind::Gather)
                        loops_[p.loop].keep[p.step] |= Loop::KeepArray;
                }
        if (k_.returns_value) read_from_outside(resolve_detach(g_, k_.returned));
        // A last value read after the loop needs a variable only where there is no array to read.
        for (std::size_t l = 0; l < loops_.size(); ++l)
            for (std::size_t j = 0; j < loops_[l].length; ++j)
                if (last_read_[l][j] && !(loops_[l].keep[j] & Loop::KeepArray))
                    loops_[l].keep[j] |= Loop::KeepState;
    }

    void read_from_outside(NodeId a) {
        if (a == no_node || position_[a] == none) return;
        const std::size_t d = position_[a];
        if (loop_of_[d] == none) return;
        const Loop& loop = loops_[loop_of_[d]];
        const std::size_t j = (d - loop.begin) % loop.length;
        if ((d - loop.begin) / loop.length == loop.count - 1)
            last_read_[loop_of_[d]][j] = true;
        else
            loops_[loop_of_[d]].keep[j] |= Loop::KeepArray;
    }

    static constexpr std::uint64_t radix = 0x100000001B3ull;

    const Kernel& k_;
    const Graph& g_;
    const std::vector<Step>& steps_;
    const std::vector<std::uint32_t>& position_; // per node: its Value step, or none
    const RerollOptions& options_;
    std::vector<std::uint32_t> loop_of_; // per step: the loop it belongs to, or none
    std::vector<std::uint64_t> prefix_, power_;
    std::vector<std::uint32_t> next_same_; // per step: the next step with its signature, or none
    std::vector<Loop> loops_;
    std::vector<std::vector<bool>> last_read_; // per loop and body step: last value read after it
};

} // namespace

std::vector<Loop> reroll(const Kernel& kernel, const Schedule& schedule,
                         const RerollOptions& options) {
    return Reroller(kernel, schedule, options).run();
}

} // namespace gradc
