#pragma once
// The abstract syntax tree of `.expr` files, exactly as the parser builds it: no names resolved,
// no sizes checked. Every node remembers the byte offset where it starts in the source text, so
// that lowering can point its diagnostics at the right column.

#include <boost/spirit/home/x3/support/ast/variant.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace gradc::ast {
namespace x3 = boost::spirit::x3;

// Storage for AST nodes and the arrays of their lists: per-thread free lists by size (ast.cpp). A
// large file parses into millions of small blocks, which malloc serves slowly from fresh memory
// and frees more slowly still.
void* allocate_node(std::size_t size);
void free_node(void* node, std::size_t size);

// The allocator of the AST's lists.
template <typename T> struct NodeAllocator {
    using value_type = T;
    NodeAllocator() = default;
    template <typename U> NodeAllocator(const NodeAllocator<U>&) {}
    T* allocate(std::size_t n) { return static_cast<T*>(allocate_node(n * sizeof(T))); }
    void deallocate(T* p, std::size_t n) { free_node(p, n * sizeof(T)); }
    template <typename U> bool operator==(const NodeAllocator<U>&) const { return true; }
    template <typename U> bool operator!=(const NodeAllocator<U>&) const { return false; }
};
template <typename T> using List = std::vector<T, NodeAllocator<T>>;

struct Located {
    std::size_t offset = 0; // byte offset of the node's first character, set by the parser

    // The nodes an Expr holds through forward_ast come from the node storage too.
    static void* operator new(std::size_t size) { return allocate_node(size); }
    static void operator delete(void* node, std::size_t size) { free_node(node, size); }
    // Placement new, as containers use it (declaring the above hides the global one).
    static void* operator new(std::size_t, void* where) noexcept { return where; }
    static void operator delete(void*, void*) noexcept {}
};

struct Number : Located {
    std::string text;   // the literal as written: lowering decides whether it is an integer
    double value = 0.0; // the text read as a double (infinite if too large), set by the parser
};

struct Identifier : Located {
    std::string name;
};

struct Unary;
struct Binary;
struct Call;
struct Reduction;
struct Indexed;
struct Conditional;
struct ListLiteral;

struct Expr
    : x3::variant<Number, Identifier, x3::forward_ast<Unary>, x3::forward_ast<Binary>,
                  x3::forward_ast<Call>, x3::forward_ast<Reduction>, x3::forward_ast<Indexed>,
                  x3::forward_ast<Conditional>, x3::forward_ast<ListLiteral>> {
    using base_type::base_type;
    using base_type::operator=;
};

struct Unary : Located {
    std::string op; // "-", "+" or "not"
    Expr operand;
};

struct Operation : Located {
    std::string op; // "or" "and" "<" "<=" ">" ">=" "==" "!=" "+" "-" "*" "/" "%" "^"
    Expr operand;
};

// One precedence level: `first op1 e1 op2 e2 ...`, folded left to right by lowering. For `^`
// (right-associative) the parser nests: `a ^ (b ^ c)` arrives as first = a, rest = {^ Binary(b ^
// c)}. Comparisons arrive as a chain too, so that lowering can reject `0 < x < 1` with a clear
// message.
struct Binary : Located {
    Expr first;
    List<Operation> rest;
};

struct Call : Located {
    std::string name; // a builtin or an earlier `fn`
    List<Expr> args;
};

struct Range : Located {
    std::string variable;
    Expr low;  // inclusive
    Expr high; // exclusive
};

struct Reduction : Located {
    std::string op; // "sum", "prod", "max" or "min"
    List<Range> ranges;
    Expr body;
};

struct Indexed : Located {
    Expr base; // a name, or a call such as softmax(v)
    List<Expr> indices;
};

struct Conditional : Located {
    Expr condition;
    Expr then_branch;
    Expr else_branch;
};

struct ListLiteral : Located {
    List<Expr> elements; // `[e0, e1, ...]`
};

struct Param : Located {
    std::string name;
    List<Expr> dims; // empty: scalar; one: vector; two: row-major matrix
};

struct Let : Located {
    std::string name;
    List<Range> ranges; // empty: a scalar binding; otherwise a comprehension
    Expr value;
};

struct Return : Located {
    Expr value;
};

struct Statement : x3::variant<Let, Return> {
    using base_type::base_type;
    using base_type::operator=;
};

struct Function : Located {
    std::string name;
    List<Param> params;
    List<Statement> body; // `fn f(x) = e` arrives as a body of one Return
};

struct Const : Located {
    std::string name;
    Expr value;
};

struct Item : x3::variant<Const, Function> {
    using base_type::base_type;
    using base_type::operator=;
};

struct Program {
    List<Item> items;
};

// The offset of whichever node an expression holds.
std::size_t offset_of(const Expr& expr);

} // namespace gradc::ast
