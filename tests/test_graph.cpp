// Hash-consing in Graph: building a node that exists gives the existing node, whatever the table
// has been through (growth, buckets that filled up, rebuilds, copies sharing the data).

#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "compiler/graph.hpp"

using namespace gradc;

namespace {
// A chain of `length` nodes, each new: x, sin(x), x * sin(x), sin(x * sin(x)), ... alternating
// nodes with an operand no node uses yet and nodes whose operands are all used (x * t).
std::vector<NodeId> build_chain(Graph& g, NodeId x, std::size_t length) {
    std::vector<NodeId> chain;
    NodeId t = x;
    for (std::size_t i = 0; i < length; ++i) {
        t = i % 2 == 0 ? g.apply(Op::Sin, t) : g.apply(Op::Mul, x, t);
        chain.push_back(t);
    }
    return chain;
}
} // namespace

TEST_CASE("graph: building a node again gives the node, in either operand order") {
    Graph g;
    const NodeId x = g.input(0), y = g.input(1);
    const NodeId sum = g.apply(Op::Add, x, y);
    CHECK(g.apply(Op::Add, x, y) == sum);
    CHECK(g.apply(Op::Add, y, x) == sum);
    CHECK(g.apply(Op::Sub, y, x) != g.apply(Op::Sub, x, y));
    CHECK(g.constant(-0.0) == g.constant(0.0));
    CHECK(g.input(0) == x);
}

TEST_CASE("graph: 300 000 nodes, built again, are all found (table growth)") {
    Graph g;
    const NodeId x = g.input(0);
    const std::vector<NodeId> chain = build_chain(g, x, 300000);
    const std::size_t size = g.size();
    CHECK(build_chain(g, x, chain.size()) == chain);
    CHECK(g.size() == size);
    // Every node again, now in the reverse order, each found by a search.
    for (std::size_t i = chain.size(); i-- > 1;) {
        const NodeId expected =
            i % 2 == 0 ? g.apply(Op::Sin, chain[i - 1]) : g.apply(Op::Mul, chain[i - 1], x);
        REQUIRE(expected == chain[i]);
    }
    CHECK(g.size() == size);
}

TEST_CASE("graph: copies share nodes until one changes, and both keep finding them") {
    Graph g;
    const NodeId x = g.input(0);
    const std::vector<NodeId> chain = build_chain(g, x, 1001);
    Graph copy = g;
    const NodeId extra = copy.apply(Op::Cos, chain.back());
    CHECK(copy.size() == g.size() + 1);
    CHECK(build_chain(g, x, chain.size()) == chain);
    CHECK(build_chain(copy, x, chain.size()) == chain);
    CHECK(copy.apply(Op::Cos, chain.back()) == extra);
    CHECK(g.apply(Op::Cos, chain.back()) == extra); // the same id, built in g on its own
}

TEST_CASE("graph: after release_table, nodes are still found (the table is rebuilt)") {
    Graph g;
    const NodeId x = g.input(0);
    const std::vector<NodeId> chain = build_chain(g, x, 5001);
    g.release_table();
    const std::size_t size = g.size();
    CHECK(build_chain(g, x, chain.size()) == chain);
    CHECK(g.size() == size);
    Graph copy = g;
    copy.release_table(); // shared: kept
    g.release_table();    // shared: kept
    CHECK(build_chain(copy, x, chain.size()) == chain);
    CHECK(copy.size() == size);
}

TEST_CASE("graph: an input is built once per slot, in any order, and survives copies") {
    Graph g;
    const NodeId x5 = g.input(5), x2 = g.input(2);
    CHECK(x5 != x2);
    CHECK(g.input(5) == x5);
    CHECK(g.input(2) == x2);
    CHECK(g[x5].op == Op::Input);
    CHECK(g[x5].args[0] == 5);
    const NodeId sum = g.apply(Op::Add, x5, x2);
    Graph copy = g;
    CHECK(copy.input(2) == x2);
    const NodeId x7 = copy.input(7);
    CHECK(copy.size() == g.size() + 1);
    CHECK(g.input(7) == x7); // built in g on its own: the same id
    g.release_table();
    CHECK(g.input(5) == x5);
    CHECK(g.apply(Op::Add, x2, x5) == sum);
}

TEST_CASE("graph: many inputs added after the table is built leave every node findable") {
    Graph g;
    const NodeId one = g.constant(1.0); // the table exists from here, at its smallest
    for (std::uint32_t slot = 0; slot < 5000; ++slot)
        g.input(slot);
    // Each node is new, then searched for at once: the table must place and find ids past the
    // number of slots it had when the inputs came.
    for (std::uint32_t slot = 0; slot < 5000; ++slot) {
        const NodeId sine = g.apply(Op::Sin, g.input(slot));
        REQUIRE(g.apply(Op::Sin, g.input(slot)) == sine);
        const NodeId sum = g.apply(Op::Add, sine, one);
        REQUIRE(g.apply(Op::Add, one, sine) == sum);
    }
    CHECK(g.size() == 1 + 5000 + 2 * 5000);
}

TEST_CASE("graph: the users of a node with many users are all found, before and after a rebuild") {
    Graph g;
    std::vector<NodeId> xs;
    for (std::uint32_t slot = 0; slot < 40000; ++slot)
        xs.push_back(g.input(slot));
    const NodeId one = g.constant(1.0);           // a constant: left out of choosing the bucket
    const NodeId heavy = g.apply(Op::Sin, xs[0]); // the newest operand of every product below
    std::vector<NodeId> products, sums;
    for (NodeId x : xs) {
        products.push_back(g.apply(Op::Mul, heavy, x));
        sums.push_back(g.apply(Op::Add, one, x));
    }
    const std::size_t size = g.size();
    for (std::size_t i = xs.size(); i-- > 0;) {
        REQUIRE(g.apply(Op::Mul, xs[i], heavy) == products[i]);
        REQUIRE(g.apply(Op::Add, xs[i], one) == sums[i]);
    }
    g.release_table();
    for (std::size_t i = 0; i < xs.size(); ++i) {
        REQUIRE(g.apply(Op::Mul, heavy, xs[i]) == products[i]);
        REQUIRE(g.apply(Op::Add, one, xs[i]) == sums[i]);
    }
    CHECK(g.size() == size);
}

TEST_CASE("graph: buckets that take the slots others left when they grew find every node") {
    Graph g;
    std::vector<NodeId> xs, sines, cosines, exps;
    for (std::uint32_t slot = 0; slot < 3 * 4096; ++slot)
        xs.push_back(g.input(slot));
    // Two users per input: each input block's bucket outgrows its first slots and leaves them
    // spare; the buckets of the blocks of sines and cosines take them when their users come.
    for (NodeId x : xs) {
        sines.push_back(g.apply(Op::Sin, x));
        cosines.push_back(g.apply(Op::Cos, x));
    }
    for (std::size_t i = 0; i < xs.size(); ++i)
        exps.push_back(g.apply(Op::Exp, sines[i]));
    const std::size_t size = g.size();
    for (std::size_t i = 0; i < xs.size(); ++i) {
        REQUIRE(g.apply(Op::Sin, xs[i]) == sines[i]);
        REQUIRE(g.apply(Op::Cos, xs[i]) == cosines[i]);
        REQUIRE(g.apply(Op::Exp, sines[i]) == exps[i]);
    }
    CHECK(g.size() == size);
}

TEST_CASE(
    "graph: a large block starts on a huge page boundary and keeps its contents as it grows") {
    // Blocks of 2 MB and more are mappings of their own. A mapping that moves to an address off a
    // 2 MB boundary has its huge pages split into 4 KB ones, and the graph's passes then run up
    // to twice as slow (a copied graph growing, in `--mode all`).
    constexpr std::size_t mb = std::size_t{1} << 20;
    auto* block = static_cast<std::uint32_t*>(resize_block(nullptr, 0, 3 * mb));
    for (std::size_t i = 0; i < 3 * mb / 4; ++i)
        block[i] = static_cast<std::uint32_t>(i * 2654435761u);
    for (std::size_t bytes : {7 * mb, 40 * mb}) {
        const std::size_t old = bytes == 7 * mb ? 3 * mb : 7 * mb;
        block = static_cast<std::uint32_t*>(resize_block(block, old, bytes));
        CHECK(reinterpret_cast<std::uintptr_t>(block) % (2 * mb) == 0);
        bool same = true;
        for (std::size_t i = 0; i < 3 * mb / 4; ++i)
            same = same && block[i] == static_cast<std::uint32_t>(i * 2654435761u);
        CHECK(same);
        block[bytes / 4 - 1] = 1; // the new end is writable
    }
    resize_block(block, 40 * mb, 0);
}
