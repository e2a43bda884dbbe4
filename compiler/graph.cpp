#include "compiler/graph.hpp"

#include <algorithm>
#include <cstring>

#include "compiler/simplify.hpp"
#include "compiler/source.hpp"

namespace gradc {

Graph::Graph(std::size_t node_limit) : data_(std::make_shared<Data>()), node_limit_(node_limit) {}

Graph::Data& Graph::own() {
    if (data_.use_count() > 1) data_ = std::make_shared<Data>(*data_);
    return *data_;
}

NodeId Graph::constant(double value) {
    if (value == 0.0) value = 0.0; // one zero: -0.0 and +0.0 intern as the same constant
    Node node{Op::Const, false, 0, origin_, {no_node, no_node, no_node}};
    std::memcpy(node.args.data(), &value, sizeof value);
    return intern(node, hash(node));
}

// Inputs are found by their slot, not through the table: a gradient has millions of them, each
// built once, and a search for each would be a miss to memory.
NodeId Graph::input(std::uint32_t slot) {
    if (slot < data_->inputs.size() && data_->inputs[slot] != no_node) return data_->inputs[slot];
    check_room();
    Data& data = own();
    const NodeId id = static_cast<NodeId>(data.nodes.size());
    data.nodes.push_back({Op::Input, false, 0, origin_, {slot, no_node, no_node}});
    while (data.inputs.size() <= slot)
        data.inputs.push_back(no_node);
    data.inputs[slot] = id;
    if (2 * data.nodes.size() > data.table.size()) // ids must fit under the table's mask
        drop_table(data);
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
    // The table slot is fetched while the simplifier looks at the operands: searching for the node
    // is otherwise a cache miss it waits for.
    const Node node{op, false, 0, origin_, {a, b, c}};
    const std::uint32_t h = hash(node);
    __builtin_prefetch(&table()[h & (table().size() - 1)]);
    if (NodeId simpler = simplify(*this, op, a, b, c); simpler != no_node) return simpler;
    return intern(node, h);
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

namespace {
// The table's slots hold id + 1 below its index mask, and it has at most 2^32 slots.
constexpr std::size_t max_nodes = (std::size_t{1} << 31) - 1;

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
} // namespace

std::uint32_t Graph::hash(const Node& node) {
    std::uint64_t h = static_cast<std::uint64_t>(node.op) * 0x9E3779B97F4A7C15ull;
    for (NodeId arg : canonical_args(node))
        h = (h ^ arg) * 0x100000001B3ull + (h >> 29);
    h *= 0x9E3779B97F4A7C15ull;
    return static_cast<std::uint32_t>(h ^ (h >> 32));
}

// Each node marks its operands with one of eight bits, chosen by its hash (a Bloom filter of their
// users). A node with an operand that lacks its bit is new: it is added without a search, and its
// table slot, fetched meanwhile, is filled later, with those of the nodes added like it since (at
// the next search of a node with operands, or when 32 are pending). Otherwise each new node would
// wait for a miss to memory on graphs larger than the caches.
NodeId Graph::intern(const Node& node, std::uint32_t h) {
    const int arity = info(node.op).arity;
    const std::uint8_t bit = static_cast<std::uint8_t>(1u << (h >> 29));
    bool fresh = false;
    for (int k = 0; k < arity; ++k)
        fresh = fresh || !((*this)[node.args[static_cast<std::size_t>(k)]].users & bit);
    const BlockArray<Slot>& slots = table();
    if (arity > 0 && !fresh) insert_pending(*data_); // no pending node has no operands
    const Data& shared = *data_;
    const Slot mask = static_cast<Slot>(slots.size() - 1), tag = h & ~mask;
    std::size_t i = h & mask;
    for (; !fresh; i = (i + 1) & mask) {
        const Slot slot = slots[i];
        if (slot == 0) break;
        if ((slot & ~mask) != tag) continue;
        const NodeId id = (slot & mask) - 1;
        const Node& other = shared.nodes[id];
        if (other.op == node.op && canonical_args(other) == canonical_args(node))
            return id; // for constants: the same bits
    }
    check_room();
    Data& data = own();
    const NodeId id = static_cast<NodeId>(data.nodes.size());
    data.nodes.push_back(node);
    for (int k = 0; k < arity; ++k)
        data.nodes[node.args[static_cast<std::size_t>(k)]].users |= bit;
    if (fresh) {
        __builtin_prefetch(&data.table[h & mask], 1);
        data.pending[data.pending_count++] = {id, h};
        if (data.pending_count == data.pending.size()) insert_pending(data);
    } else {
        data.table[i] = (id + 1) | tag; // the empty slot the search ended at
    }
    if (2 * data.nodes.size() > data.table.size()) build_table(data, 2 * data.table.size());
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

void Graph::place(BlockArray<Slot>& table, NodeId id, std::uint32_t h) {
    const Slot mask = static_cast<Slot>(table.size() - 1);
    std::size_t i = h & mask;
    while (table[i] != 0)
        i = (i + 1) & mask;
    table[i] = (id + 1) | (h & ~mask);
}

void Graph::insert_pending(Data& data) {
    for (std::size_t k = 0; k < data.pending_count; ++k)
        place(data.table, data.pending[k].first, data.pending[k].second);
    data.pending_count = 0;
}

void Graph::release_table() {
    if (data_.use_count() == 1) drop_table(*data_);
}

void Graph::drop_table(Data& data) {
    BlockArray<Slot>().swap(data.table);
    data.pending_count = 0; // build_table puts every node in
}

BlockArray<Graph::Slot>& Graph::table() {
    Data& data = *data_;
    if (data.table.size() == 0) {
        std::size_t slots = 1024;
        while (slots < 2 * (data.nodes.size() + 1))
            slots *= 2;
        build_table(data, slots);
    }
    return data.table;
}

// The slots hold no hashes: they are computed again, reading the nodes in order, each a few nodes
// ahead of its insertion so that its slot is fetched by then.
void Graph::build_table(Data& data, std::size_t slots) {
    BlockArray<Slot> table;
    table.assign(slots, 0);
    const Slot mask = static_cast<Slot>(table.size() - 1);
    constexpr NodeId ahead = 16;
    std::uint32_t hashes[ahead];
    const NodeId size = static_cast<NodeId>(data.nodes.size());
    for (NodeId id = 0; id < std::min(ahead, size); ++id)
        hashes[id] = hash(data.nodes[id]);
    for (NodeId id = 0; id < size; ++id) {
        const std::uint32_t h = hashes[id % ahead];
        if (id + ahead < size) {
            hashes[id % ahead] = hash(data.nodes[id + ahead]);
            __builtin_prefetch(&table[hashes[id % ahead] & mask], 1);
        }
        if (data.nodes[id].op != Op::Input) place(table, id, h);
    }
    data.table.swap(table);
    data.pending_count = 0; // all nodes are in the new table
}

} // namespace gradc
