#pragma once
// The SSA graph: a flat, append-only list of nodes in which every operand precedes its user, so the
// list order is a topological order (CasADi's instruction list). Nodes are hash-consed: building an
// op that already exists returns the existing node, which makes common-subexpression elimination
// free (`a + b` and `b + a` included: the first order built is kept, so code reads like its
// source). Every node is built through `apply`, which also folds constants and applies the peephole
// rules of simplify.hpp, so no pass ever sees `x * 1` or `2 + 3`.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "compiler/ops.hpp"

namespace gradc {

using NodeId = std::uint32_t;
inline constexpr NodeId no_node = std::numeric_limits<NodeId>::max();

// 20 bytes: a constant keeps its value in its (unused) operands.
struct Node {
    Op op;
    bool labelled;        // has a label (Graph::label): the others need no lookup
    std::uint8_t users;   // a bit per kind of node using it, by hash (see Graph::intern)
    std::uint32_t origin; // byte offset in the source of the expression that made it
    // Operands; for Input, args[0] is the input slot; for Const, args[0] and args[1] hold the
    // value's bits and args[2] is no_node.
    std::array<NodeId, 3> args;

    double value() const { // of a Const
        double v;
        std::memcpy(&v, args.data(), sizeof v);
        return v;
    }
};
static_assert(sizeof(Node) == 20);

// Memory for the large arrays of the graph (BlockArray).
// Resizes a block from resize_block: from `old_bytes` (0: no block yet) to `new_bytes` (0: frees
// it), keeping the contents. Blocks of 2 MB and more are memory mappings of their own that start on
// a 2 MB boundary, ask for transparent huge pages and grow with mremap to another such boundary,
// which moves page table entries, huge pages whole, instead of bytes: a graph of a million nodes
// then neither copies itself as it grows nor faults in or walks its memory 4 KB at a time.
void* resize_block(void* old, std::size_t old_bytes, std::size_t new_bytes);

// A growable array of trivially copyable elements in a block from resize_block.
template <class T> class BlockArray {
    static_assert(std::is_trivially_copyable_v<T>);

  public:
    BlockArray() = default;
    BlockArray(const BlockArray& other) {
        reserve(other.size_);
        if (other.size_ != 0) std::memcpy(data_, other.data_, other.size_ * sizeof(T));
        size_ = other.size_;
    }
    BlockArray& operator=(const BlockArray&) = delete;
    BlockArray(BlockArray&& other) noexcept { swap(other); }
    BlockArray& operator=(BlockArray&& other) noexcept {
        swap(other);
        return *this;
    }
    ~BlockArray() { resize_block(data_, capacity_ * sizeof(T), 0); }

    std::size_t size() const { return size_; }
    T& operator[](std::size_t i) { return data_[i]; }
    const T& operator[](std::size_t i) const { return data_[i]; }

    void push_back(const T& value) {
        if (size_ == capacity_) reserve(capacity_ == 0 ? 1024 : 2 * capacity_);
        data_[size_++] = value;
    }
    T pop_back() { return data_[--size_]; }
    void swap(BlockArray& other) {
        std::swap(data_, other.data_);
        std::swap(size_, other.size_);
        std::swap(capacity_, other.capacity_);
    }
    // Grows to `n` elements, the new ones copies of `value`.
    void resize(std::size_t n, const T& value) {
        if (n > capacity_) reserve(std::max(n, 2 * capacity_));
        for (; size_ < n; ++size_)
            data_[size_] = value;
    }

  private:
    void reserve(std::size_t n) {
        if (n <= capacity_) return;
        data_ = static_cast<T*>(resize_block(data_, capacity_ * sizeof(T), n * sizeof(T)));
        capacity_ = n;
    }

    T* data_ = nullptr;
    std::size_t size_ = 0, capacity_ = 0;
};

// A graph is a value, but copies share their nodes until one of them changes (copy-on-write): every
// kernel starts as a copy of its function's graph, and the primal kernel never changes it.
class Graph {
  public:
    explicit Graph(std::size_t node_limit = 10'000'000);

    NodeId constant(double value);
    NodeId input(std::uint32_t slot);
    NodeId apply(Op op, NodeId a, NodeId b = no_node, NodeId c = no_node);

    const Node& operator[](NodeId id) const { return data_->nodes[id]; }
    std::size_t size() const { return data_->nodes.size(); }
    bool is_constant(NodeId id, double value) const {
        return data_->nodes[id].op == Op::Const && data_->nodes[id].value() == value;
    }
    bool is_constant(NodeId id) const { return data_->nodes[id].op == Op::Const; }

    // The limit applies to what lowering unrolls; derivative programs lift it.
    void set_node_limit(std::size_t limit) { node_limit_ = limit; }

    // The source offset recorded on nodes built from now on.
    void set_origin(std::size_t offset) { origin_ = static_cast<std::uint32_t>(offset); }
    std::size_t origin() const { return origin_; }

    // Frees the hash-consing table, unless another graph shares this one's nodes: a finished
    // kernel adds no nodes, and the memory serves its emission. A node built afterwards has the
    // table rebuilt first.
    void release_table();

    // Names for the emitted code: the first label given to a node sticks.
    void set_label(NodeId id, const std::string& label);
    const std::string* label(NodeId id) const;

  private:
    // The hash-consing table is split by the newest operand (the one with the largest id) other
    // than a constant: block b of 4096 ids keeps the users of its nodes in bucket b + 1 (graph.cpp:
    // `block_bits`), and bucket 0 has the nodes without such operands, constants mostly. New nodes
    // mostly use recent ones, so the slots they search and fill stay in cache however large the
    // graph grows. Constants are left out because a few of them have most nodes as users, and a
    // bucket that grew large passes new nodes on to the block of their next newest operand.
    struct Bucket {
        std::size_t first = 0, size = 0, count = 0; // its slots: a power of two from `first`
    };
    struct Table {
        BlockArray<NodeId> slots; // id + 1, 0 when empty; a bucket grows at three quarters full
        BlockArray<std::uint8_t> tags; // the top byte of each node's hash: most slots of other
                                       // nodes are passed without reading the node
        BlockArray<Bucket> buckets;    // for every block of the ids so far; none when dropped
        // The slots buckets left when they grew, by log2 of their size: the next bucket to need
        // that many takes them.
        std::array<BlockArray<std::size_t>, 64> spare;
        bool built() const { return buckets.size() != 0; } // bucket 0 is always there
    };
    struct Data {
        BlockArray<Node> nodes;
        Table table;               // of the nodes other than inputs
        BlockArray<NodeId> inputs; // input slot -> its Input node, or no_node
        std::unordered_map<NodeId, std::string> labels;
    };

    Data& own(); // the data, first copied if another graph shares it
    struct Homes {
        std::size_t first, second; // the buckets of the newest and the next newest operand
    };
    NodeId intern(const Node& node, std::uint32_t hash, Homes homes); // the node, hash-consed
    void check_room() const; // throws when no node may be added
    static std::uint32_t hash(const Node& node);
    static NodeId append(Data& data, const Node& node); // its id; buckets cover every block
    static Homes homes(const BlockArray<Node>& nodes, const Node& node);
    // The node's id in the table, or no_node.
    static NodeId find(const Data& data, const Node& node, std::uint32_t hash, Homes homes);
    static void insert(Data& data, NodeId id, std::uint32_t hash, Homes homes);
    // Puts the node in the bucket's first empty slot from the hash's.
    static void place(Table& table, const Bucket& bucket, NodeId id, std::uint32_t hash);
    static void grow(Data& data, Bucket& bucket); // to twice its slots, the nodes hashed again
    // Of all nodes but inputs, after a release_table. The graph the table holds is the same
    // either way, so data shared with other graphs may be built too.
    static void build_table(Data& data);

    std::shared_ptr<Data> data_;
    std::uint32_t origin_ = 0;
    std::size_t node_limit_;
};

} // namespace gradc
