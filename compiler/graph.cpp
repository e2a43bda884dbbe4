#include "compiler/graph.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "compiler/simplify.hpp"
#include "compiler/source.hpp"

namespace gradc {

namespace {
constexpr std::size_t max_nodes = (std::size_t{1} << 31) - 1; // a Step holds a node id in 31 bits

// Blocks of 4096 ids, each with a bucket of the table (see Graph::Table).
constexpr std::size_t block_bits = 12, block_ids = std::size_t{1} << block_bits;
constexpr std::size_t first_bucket_slots = 2 * block_ids, full_bucket = 4 * block_ids;

std::size_t log2(std::size_t power_of_two) {
    return static_cast<std::size_t>(__builtin_ctzll(power_of_two));
}

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

// Linear probing in slots[first, first + size), `size` a power of two: the index of the first slot
// from the hash's that is empty or holds a node `match` accepts.
template <class Match>
std::size_t probe(const BlockArray<NodeId>& slots, const BlockArray<std::uint8_t>& tags,
                  std::size_t first, std::size_t size, std::uint32_t h, Match match) {
    const auto tag = static_cast<std::uint8_t>(h >> 24);
    std::size_t i = h & (size - 1);
    while (slots[first + i] != 0 && !(tags[first + i] == tag && match(slots[first + i] - 1)))
        i = (i + 1) & (size - 1);
    return first + i;
}

#if defined(__linux__)
constexpr std::size_t huge_page = std::size_t{2} << 20;

std::size_t pages(std::size_t bytes) {
    constexpr std::size_t page = 4096;
    return (bytes + page - 1) / page * page;
}

// A mapping of `bytes` that starts on a huge page boundary and asks for huge pages.
void* map_aligned(std::size_t bytes) {
    bytes = pages(bytes);
    void* span = mmap(nullptr, bytes + huge_page, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (span == MAP_FAILED) throw std::bad_alloc();
    const auto start = reinterpret_cast<std::uintptr_t>(span);
    const std::uintptr_t aligned = (start + huge_page - 1) & ~(huge_page - 1);
    if (aligned != start) munmap(span, aligned - start);
    munmap(reinterpret_cast<void*>(aligned + bytes), start + huge_page - aligned);
    void* block = reinterpret_cast<void*>(aligned);
    madvise(block, bytes, MADV_HUGEPAGE); // only a hint: fine if it fails
    return block;
}
#endif
} // namespace

void* resize_block(void* old, std::size_t old_bytes, std::size_t new_bytes) {
#if defined(__linux__)
    if (new_bytes >= huge_page || old_bytes >= huge_page) {
        if (new_bytes == 0) {
            munmap(old, old_bytes);
            return nullptr;
        }
        void* block = map_aligned(new_bytes);
        if (old_bytes >= huge_page) {
            // The old pages move to the start of the new block: huge pages stay whole, as both
            // blocks start on a huge page boundary (a move to any other address would split them).
            if (mremap(old, old_bytes, pages(old_bytes), MREMAP_MAYMOVE | MREMAP_FIXED, block) ==
                MAP_FAILED)
                throw std::bad_alloc();
        } else if (old_bytes != 0) {
            std::memcpy(block, old, old_bytes);
            std::free(old);
        }
        return block;
    }
#endif
    if (new_bytes == 0) {
        std::free(old);
        return nullptr;
    }
    void* block = std::realloc(old, new_bytes);
    if (!block) throw std::bad_alloc();
    return block;
}

Graph::Graph(std::size_t node_limit) : data_(std::make_shared<Data>()), node_limit_(node_limit) {}

Graph::Data& Graph::own() {
    if (data_.use_count() > 1) data_ = std::make_shared<Data>(*data_);
    return *data_;
}

NodeId Graph::constant(double value) {
    if (value == 0.0) value = 0.0; // one zero: -0.0 and +0.0 intern as the same constant
    Node node{Op::Const, false, 0, origin_, {no_node, no_node, no_node}};
    std::memcpy(node.args.data(), &value, sizeof value);
    return intern(node, hash(node), {0, 0});
}

// Inputs are found by their slot, not through the table: a gradient has millions of them, each
// built once, and a search for each would be a miss to memory.
NodeId Graph::input(std::uint32_t slot) {
    if (slot < data_->inputs.size() && data_->inputs[slot] != no_node) return data_->inputs[slot];
    check_room();
    Data& data = own();
    const NodeId id = append(data, {Op::Input, false, 0, origin_, {slot, no_node, no_node}});
    while (data.inputs.size() <= slot)
        data.inputs.push_back(no_node);
    data.inputs[slot] = id;
    return id;
}

NodeId Graph::apply(Op op, NodeId a, NodeId b, NodeId c) {
    const int arity = info(op).arity;
    const NodeId operands[3] = {a, b, c};
    bool all_constant = true;
    for (int i = 0; i < arity; ++i)
        all_constant = all_constant && is_constant(operands[i]);
    if (all_constant && op != Op::Detach) {
        auto value_of = [&](int i) { return i < arity ? (*this)[operands[i]].value() : 0.0; };
        return constant(evaluate(op, value_of(0), value_of(1), value_of(2)));
    }
    // The node's first slot is fetched while the simplifier looks at the operands: when they are
    // old, searching for the node is otherwise a cache miss it waits for.
    const Node node{op, false, 0, origin_, {a, b, c}};
    const std::uint32_t h = hash(node);
    const Homes homes = Graph::homes(data_->nodes, node);
    if (data_->table.built()) {
        const Bucket& bucket = data_->table.buckets[homes.first];
        if (bucket.size != 0)
            __builtin_prefetch(&data_->table.slots[bucket.first + (h & (bucket.size - 1))]);
    }
    if (NodeId simpler = simplify(*this, op, a, b, c); simpler != no_node) return simpler;
    return intern(node, h, homes);
}

void Graph::set_label(NodeId id, const std::string& label) {
    const Node& node = (*this)[id];
    if (node.op == Op::Const || node.op == Op::Input || node.labelled) return;
    Data& data = own();
    data.nodes[id].labelled = true;
    data.labels.emplace(id, label);
}

const std::string* Graph::label(NodeId id) const {
    if (!(*this)[id].labelled) return nullptr;
    auto found = data_->labels.find(id);
    return found == data_->labels.end() ? nullptr : &found->second;
}

std::uint32_t Graph::hash(const Node& node) {
    std::uint64_t h = static_cast<std::uint64_t>(node.op) * 0x9E3779B97F4A7C15ull;
    for (NodeId arg : canonical_args(node))
        h = (h ^ arg) * 0x100000001B3ull + (h >> 29);
    h *= 0x9E3779B97F4A7C15ull;
    return static_cast<std::uint32_t>(h ^ (h >> 32));
}

// Each node marks its operands with one of eight bits, chosen by its hash (a Bloom filter of their
// users). A node with an operand that lacks its bit is new, and is added without a search.
NodeId Graph::intern(const Node& node, std::uint32_t h, Homes homes) {
    const int arity = info(node.op).arity;
    const std::uint8_t bit = static_cast<std::uint8_t>(1u << (h >> 29));
    bool fresh = false;
    for (int k = 0; k < arity; ++k)
        fresh = fresh || !((*this)[node.args[static_cast<std::size_t>(k)]].users & bit);
    if (!data_->table.built()) build_table(*data_);
    if (!fresh)
        if (const NodeId found = find(*data_, node, h, homes); found != no_node) return found;
    check_room();
    Data& data = own();
    const NodeId id = append(data, node);
    for (int k = 0; k < arity; ++k)
        data.nodes[node.args[static_cast<std::size_t>(k)]].users |= bit;
    insert(data, id, h, homes);
    return id;
}

void Graph::check_room() const {
    if (size() >= node_limit_)
        throw CompileError(origin_, "the expression unrolls past the node limit of " +
                                        std::to_string(node_limit_) + " SSA nodes");
    if (size() >= max_nodes)
        throw CompileError(origin_, "a graph of gradc holds at most " + std::to_string(max_nodes) +
                                        " SSA nodes");
}

NodeId Graph::append(Data& data, const Node& node) {
    const NodeId id = static_cast<NodeId>(data.nodes.size());
    data.nodes.push_back(node);
    if (data.table.built() && id % block_ids == 0) data.table.buckets.push_back({});
    return id;
}

// A node is kept in its first home, or in its second when the first was full as it came.
Graph::Homes Graph::homes(const BlockArray<Node>& nodes, const Node& node) {
    Homes homes{0, 0};
    for (int k = 0; k < info(node.op).arity; ++k) {
        const NodeId arg = node.args[static_cast<std::size_t>(k)];
        if (nodes[arg].op == Op::Const) continue;
        const std::size_t bucket = (std::size_t{arg} >> block_bits) + 1;
        if (bucket > homes.first)
            homes = {bucket, homes.first};
        else if (bucket > homes.second && bucket != homes.first)
            homes.second = bucket;
    }
    if (homes.second == 0) homes.second = homes.first;
    return homes;
}

NodeId Graph::find(const Data& data, const Node& node, std::uint32_t h, Homes homes) {
    const Table& t = data.table;
    const auto same = [&](NodeId id) {
        const Node& other = data.nodes[id];
        return other.op == node.op && canonical_args(other) == canonical_args(node);
    };
    const auto find_in = [&](std::size_t home) {
        const Bucket& bucket = t.buckets[home];
        if (bucket.count == 0) return no_node;
        return t.slots[probe(t.slots, t.tags, bucket.first, bucket.size, h, same)] - 1;
    };
    const NodeId id = find_in(homes.first);
    if (id != no_node || t.buckets[homes.first].count < full_bucket) return id;
    return homes.second == homes.first ? no_node : find_in(homes.second);
}

void Graph::insert(Data& data, NodeId id, std::uint32_t h, Homes homes) {
    Table& t = data.table;
    Bucket& first = t.buckets[homes.first];
    Bucket& bucket = first.count < full_bucket ? first : t.buckets[homes.second];
    if (4 * (bucket.count + 1) > 3 * bucket.size) grow(data, bucket);
    place(t, bucket, id, h);
    ++bucket.count;
}

void Graph::place(Table& t, const Bucket& bucket, NodeId id, std::uint32_t h) {
    const std::size_t i =
        probe(t.slots, t.tags, bucket.first, bucket.size, h, [](NodeId) { return false; });
    t.slots[i] = id + 1;
    t.tags[i] = static_cast<std::uint8_t>(h >> 24);
}

// The bucket moves to spare slots of its new size, or else to new slots at the end, and leaves its
// old ones spare.
void Graph::grow(Data& data, Bucket& bucket) {
    Table& t = data.table;
    const Bucket old = bucket;
    bucket.size = std::max(first_bucket_slots, 2 * old.size);
    BlockArray<std::size_t>& spare = t.spare[log2(bucket.size)];
    if (spare.size() != 0) {
        bucket.first = spare.pop_back();
        std::fill_n(&t.slots[bucket.first], bucket.size, 0);
    } else {
        bucket.first = t.slots.size();
        t.slots.resize(bucket.first + bucket.size, 0);
        t.tags.resize(bucket.first + bucket.size, 0);
    }
    constexpr std::size_t ahead = 8; // nodes are fetched this many slots before they are hashed
    for (std::size_t i = old.first; i < old.first + old.size; ++i) {
        if (i + ahead < old.first + old.size && t.slots[i + ahead] != 0)
            __builtin_prefetch(&data.nodes[t.slots[i + ahead] - 1]);
        if (const NodeId slot = t.slots[i]; slot != 0)
            place(t, bucket, slot - 1, hash(data.nodes[slot - 1]));
    }
    if (old.size != 0) t.spare[log2(old.size)].push_back(old.first);
}

void Graph::release_table() {
    if (data_.use_count() == 1) data_->table = Table{};
}

void Graph::build_table(Data& data) {
    Table& t = data.table = Table{};
    t.buckets.resize(1 + (data.nodes.size() + block_ids - 1) / block_ids, {});
    for (NodeId id = 0; id < data.nodes.size(); ++id)
        if (data.nodes[id].op != Op::Input)
            insert(data, id, hash(data.nodes[id]), homes(data.nodes, data.nodes[id]));
}

} // namespace gradc
