// Sign folding (compiler/fold_signs): kernels as the AD passes build them, folded, against the same
// kernels unfolded: fewer negations where the samples have them to spare (logistic, TD1), never
// more negations or statements, and exactly the same values, on the samples and on random
// expressions.

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "compiler/dce.hpp"
#include "compiler/fold_signs.hpp"
#include "compiler/forward_ad.hpp"
#include "compiler/reverse_ad.hpp"
#include "compiler/schedule.hpp"
#include "random_expr.hpp"
#include "support.hpp"

namespace gradc::test {
namespace {

// A kernel as the AD passes build it, before folding: the gradient of a scalar function (the value
// and x_bar), or the derivative along tangents (out and out_dot), over the flat inputs x.
Kernel unfolded(const Function& f, bool reverse) {
    Kernel k;
    k.name = f.name;
    k.function = &f;
    k.graph = f.graph;
    k.graph.set_node_limit(std::numeric_limits<std::size_t>::max());
    const std::size_t n = f.input_count, m = f.outputs.size();
    k.params.push_back({"x", n, false, false});
    for (std::uint32_t i = 0; i < n; ++i)
        k.slots.push_back({0, i});
    if (reverse) {
        k.params.push_back({"x_bar", n, false, true});
        const std::vector<NodeId> adjoints =
            reverse_ad(k.graph, f.outputs, {k.graph.constant(1.0)}, std::vector<bool>(n, true));
        for (std::uint32_t i = 0; i < n; ++i)
            k.stores.push_back({{1, i}, adjoints[i], false});
        k.returned = f.outputs[0];
        k.returns_value = true;
        return k;
    }
    k.params.push_back({"x_dot", n, false, false});
    std::vector<NodeId> tangents;
    for (std::uint32_t i = 0; i < n; ++i) {
        tangents.push_back(k.graph.input(static_cast<std::uint32_t>(n + i)));
        k.slots.push_back({1, i});
    }
    const std::vector<NodeId> out_dot = forward_ad(k.graph, f.outputs, tangents);
    k.params.push_back({"out", m, false, true});
    k.params.push_back({"out_dot", m, false, true});
    for (std::uint32_t j = 0; j < m; ++j) {
        k.stores.push_back({{2, j}, f.outputs[j], false});
        k.stores.push_back({{3, j}, out_dot[j], false});
    }
    return k;
}

Kernel folded(const Kernel& kernel) {
    Kernel k = kernel;
    fold_signs(k);
    return k;
}

struct Cost {
    std::size_t negations = 0, statements = 0;
};

Cost cost(const Kernel& k) {
    const std::vector<bool> live = live_nodes(k.graph, kernel_roots(k));
    Cost c;
    for (NodeId n = 0; n < live.size(); ++n) {
        if (!live[n]) continue;
        c.negations += k.graph[n].op == Op::Neg;
        c.statements += is_statement(k.graph[n].op);
    }
    return c;
}

const Function& only(const std::vector<Function>& functions) {
    REQUIRE(functions.size() == 1);
    return functions[0];
}

// Values equal but for the sign of a zero (== says so), or both NaN.
bool same(double a, double b) {
    return a == b || (std::isnan(a) && std::isnan(b));
}

// Whether the two kernels compute the same values at `x` (tangent `dir` for forward ones).
bool same_values(const Kernel& a, const Kernel& b, const std::vector<double>& x,
                 const std::vector<double>& dir) {
    std::vector<std::vector<double>> inputs(a.params.size());
    inputs[0] = x;
    if (!a.returns_value) inputs[1] = dir;
    const KernelResult ra = run_kernel(a, inputs), rb = run_kernel(b, inputs);
    bool equal = !a.returns_value || same(ra.value, rb.value);
    for (std::size_t p = 0; p < ra.outputs.size(); ++p)
        for (std::size_t i = 0; i < ra.outputs[p].size(); ++i)
            equal = equal && same(ra.outputs[p][i], rb.outputs[p][i]);
    return equal;
}

// A point with coordinates in [-1.5, 1.5], where the random functions are finite.
std::vector<double> point(std::mt19937_64& rng, std::size_t n) {
    std::vector<double> x(n);
    for (double& v : x)
        v = -1.5 + 3.0 * static_cast<double>(rng() >> 11) * 0x1.0p-53;
    return x;
}

const Kernel& find(const std::vector<Kernel>& kernels, const std::string& name) {
    for (const Kernel& k : kernels)
        if (k.name == name) return k;
    FAIL("no kernel " << name);
    return kernels.front();
}

TEST_CASE("fold_signs: the logistic gradient keeps one negation, inside exp") {
    const SourceFile source("logistic.expr", "fn logistic(x, a) = 1 / (1 + exp(-a * x))\n");
    const std::vector<Function> functions = compile_functions(source);
    const Function& f = only(functions);
    const Kernel before = unfolded(f, true);
    const Kernel after = folded(before);
    CHECK(cost(before).negations == 3); // -a, -(y * y), -(w3_bar)
    CHECK(cost(after).negations == 1);
    CHECK(cost(after).statements == cost(before).statements - 2);
    for (const Kernel::Store& s : after.stores) // x_bar = t * a, a_bar = t * x
        CHECK(after.graph[s.value].op == Op::Mul);
    CHECK(same_values(before, after, {1.0, 2.0}, {}));

    // The kernels gradc builds are folded: the gradient, and the tangent too.
    const std::vector<Kernel> kernels = build_kernels(f, {});
    CHECK(cost(find(kernels, "logistic_grad")).negations == 1);
    CHECK(cost(find(kernels, "logistic_jvp")).negations == 1);
}

TEST_CASE("fold_signs: TD1's gradient negates nothing: -(y - o) is o - y") {
    const std::string path = source_dir() + "/samples/td1_loss.expr";
    const std::vector<Function> functions = compile_functions(SourceFile(path, read_file(path)));
    const Function& f = only(functions);
    const Kernel before = unfolded(f, true);
    const Kernel after = folded(before);
    CHECK(cost(before).negations == 1);
    CHECK(cost(after).negations == 0);
    CHECK(cost(after).statements <= cost(before).statements);
    std::vector<double> x(f.input_count, 0.25);
    x[0] = -0.5, x[9] = 1.0, x[10] = -1.0, x[11] = 0.5; // w[0], x, y
    CHECK(same_values(before, after, x, {}));

    KernelOptions w_only; // as the benchmark compiles it
    w_only.wrt = {"w"};
    for (const Kernel& k : build_kernels(f, w_only))
        CHECK_MESSAGE(cost(k).negations == 0, k.name);
}

TEST_CASE("fold_signs: a kernel without negations is left as it is") {
    const std::string path = source_dir() + "/samples/rosenbrock.expr";
    const std::vector<Function> functions = compile_functions(SourceFile(path, read_file(path)));
    const Kernel before = unfolded(only(functions), true);
    REQUIRE(cost(before).negations == 0);
    const Kernel after = folded(before);
    CHECK(after.graph.size() == before.graph.size());
    for (std::size_t i = 0; i < before.stores.size(); ++i)
        CHECK(after.stores[i].value == before.stores[i].value);
}

// `n` terms (i+1) * t * x[i % 4] with t = -x[0] * x[1]: folding t's sign into the constants saves
// one Neg, and rebuilds every term and the whole sum.
const std::vector<Function> terms(int n) {
    const std::string text = "fn f(x[4]) {\n    let t = -x[0] * x[1]\n    return sum(i in 0.." +
                             std::to_string(n) + ": (i + 1) * t * x[i % 4])\n}\n";
    return compile_functions(SourceFile("terms.expr", text));
}

TEST_CASE("fold_signs: a large graph is not rebuilt for a few negations") {
    KernelOptions primal_only;
    primal_only.forward = primal_only.reverse = false;
    const std::vector<Function> small = terms(100), large = terms(20000);
    const Kernel folded_small = build_kernels(only(small), primal_only).front();
    CHECK(cost(folded_small).negations == 0);
    CHECK(folded_small.graph.size() > small[0].graph.size());
    const Kernel folded_large = build_kernels(only(large), primal_only).front();
    CHECK(cost(folded_large).negations == 1);
    CHECK(folded_large.graph.size() == large[0].graph.size());
}

// A sum of `n` terms without negations, plus (-x[0]) * x[1] * (-x[2]): folding would save two Negs
// and rebuild only the last few nodes.
const std::vector<Function> sparse_negations(int n) {
    const std::string text = "fn f(x[4]) = sum(i in 0.." + std::to_string(n) +
                             ": (i + 1) * x[i % 4] * x[(i + 1) % 4]) + (-x[0]) * x[1] * (-x[2])\n";
    return compile_functions(SourceFile("sparse.expr", text));
}

TEST_CASE("fold_signs: a large graph with fewer than one Neg in 64 statements is left alone") {
    KernelOptions primal_only;
    primal_only.forward = primal_only.reverse = false;
    const std::vector<Function> small = sparse_negations(100), large = sparse_negations(20000);
    CHECK(cost(build_kernels(only(small), primal_only).front()).negations == 0);
    const Kernel folded_large = build_kernels(only(large), primal_only).front();
    CHECK(cost(folded_large).negations == 2);
    CHECK(folded_large.graph.size() == large[0].graph.size());
}

TEST_CASE("fold_signs: random expressions: the same values, never more negations or statements") {
    std::mt19937_64 rng(4242);
    int kernels = 0, fewer_negations = 0;
    for (std::uint64_t seed = 0; seed < 60; ++seed) {
        const SourceFile source("random.expr", ExprGenerator(90000 + seed).file(4));
        const std::vector<Function> functions = compile_functions(source);
        for (const Function& f : functions) {
            for (bool reverse : {false, true}) {
                if (reverse && f.vector_valued) continue;
                const Kernel before = unfolded(f, reverse);
                const Kernel after = folded(before);
                const Cost b = cost(before), a = cost(after);
                CAPTURE(source.text());
                CAPTURE(f.name);
                CHECK(a.negations <= b.negations);
                CHECK(a.statements <= b.statements);
                for (int p = 0; p < 2; ++p)
                    CHECK(same_values(before, after, point(rng, f.input_count),
                                      point(rng, f.input_count)));
                ++kernels;
                fewer_negations += a.negations < b.negations;
            }
        }
    }
    MESSAGE(fewer_negations << " of " << kernels << " kernels with fewer negations");
    CHECK(fewer_negations > kernels / 10);
}

} // namespace
} // namespace gradc::test
