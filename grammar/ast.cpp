#include "grammar/ast.hpp"

#include <boost/variant/apply_visitor.hpp>

#include <algorithm>
#include <new>
#include <vector>

namespace gradc::ast {

namespace {

// Free lists of blocks by size, in steps of 16 bytes, carved from chunks of the heap that grow from
// 64 KB to 16 MB. Once every block is free again (the AST is gone), the chunks go back to the heap,
// where the passes after parsing reuse them. Larger blocks (long lists) come from operator new.
struct NodePool {
    static constexpr std::size_t step = 16, classes = 16, first_chunk = std::size_t{64} << 10,
                                 largest_chunk = std::size_t{16} << 20;
    void* free[classes] = {}; // each free node holds the next one
    char* next = nullptr;     // the unused rest of the current chunk
    char* end = nullptr;
    std::size_t chunk = first_chunk;
    std::vector<void*> chunks;
    std::size_t live = 0; // blocks handed out and not yet freed

    void release() {
        for (void* c : chunks)
            ::operator delete(c);
        *this = NodePool{};
    }
};
thread_local NodePool pool;

} // namespace

void* allocate_node(std::size_t size) {
    const std::size_t k = (size + NodePool::step - 1) / NodePool::step;
    if (k >= NodePool::classes) return ::operator new(size);
    ++pool.live;
    if (void* node = pool.free[k]) {
        pool.free[k] = *static_cast<void**>(node);
        return node;
    }
    const std::size_t bytes = k * NodePool::step;
    if (static_cast<std::size_t>(pool.end - pool.next) < bytes) {
        pool.next = static_cast<char*>(::operator new(pool.chunk));
        pool.chunks.push_back(pool.next);
        pool.end = pool.next + pool.chunk;
        pool.chunk = std::min(2 * pool.chunk, NodePool::largest_chunk);
    }
    void* node = pool.next;
    pool.next += bytes;
    return node;
}

void free_node(void* node, std::size_t size) {
    const std::size_t k = (size + NodePool::step - 1) / NodePool::step;
    if (k >= NodePool::classes) return ::operator delete(node);
    *static_cast<void**>(node) = pool.free[k];
    pool.free[k] = node;
    if (--pool.live == 0) pool.release();
}

namespace {
struct OffsetOf {
    using result_type = std::size_t;
    std::size_t operator()(const Located& node) const { return node.offset; }
    template <typename T> std::size_t operator()(const x3::forward_ast<T>& node) const {
        return node.get().offset;
    }
};
} // namespace

std::size_t offset_of(const Expr& expr) {
    return boost::apply_visitor(OffsetOf{}, expr);
}

} // namespace gradc::ast
