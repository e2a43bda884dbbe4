#pragma once
// The abstract syntax tree of `.net` files, exactly as the parser builds it: no names resolved, no
// shapes checked. Every node remembers the byte offset where it starts, so that network lowering
// can point its diagnostics (unknown names, shape mismatches) at the right column.

#include <boost/optional.hpp>
#include <boost/spirit/home/x3/support/ast/variant.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace gradc::net_ast {
namespace x3 = boost::spirit::x3;

struct Located {
    std::size_t offset = 0; // byte offset of the node's first character, set by the parser
};

struct Number : Located {
    std::string text; // as written
};

struct String : Located {
    std::string value; // without the quotes
};

struct Name : Located {
    std::string name; // may be dotted: `hidden.W`
};

struct Call;
struct Binary;
struct Unary;
struct List;

struct Expr : x3::variant<Number, String, Name, x3::forward_ast<Call>, x3::forward_ast<Binary>,
                          x3::forward_ast<Unary>, x3::forward_ast<List>> {
    using base_type::base_type;
    using base_type::operator=;
};

struct Argument : Located {
    std::string name; // empty for a positional argument
    Expr value;
};

struct Call : Located {
    std::string function;
    std::vector<Argument> args;
};

struct Operation : Located {
    std::string op; // "+" "-" "*" "/" "@" "^"
    Expr operand;
};

// One precedence level, `first op1 e1 op2 e2 ...`, folded left to right by lowering; `^` nests to
// the right through its operand.
struct Binary : Located {
    Expr first;
    std::vector<Operation> rest;
};

struct Unary : Located {
    std::string op; // "-" or "+"
    Expr operand;
};

struct List : Located {
    std::vector<Expr> elements; // `[e0, e1, ...]`, nested for matrices
};

// `input x[2]`, `target label : class(10)`, `param W[2, 2] = [[...]]`, `param W[3, 4] init = he`
struct Declaration : Located {
    std::string kind; // "input", "target" or "param"
    Name name;
    std::vector<Expr> dims;
    boost::optional<Expr> type; // after `:`
    boost::optional<Expr> init; // after `=` or `init =`
};

// `h = sigmoid(W1 @ x + b1)`
struct Binding : Located {
    Name name;
    Expr value;
};

// `loss ...`, `optimizer ...`, `batch 64`, `train_data csv("x.csv")`, ...
struct Setting : Located {
    std::string keyword;
    Expr value;
};

// `stop_when loss < 0.01`
struct StopWhen : Located {
    Name metric;
    Expr threshold;
};

struct Statement : x3::variant<Declaration, Setting, StopWhen, Binding> {
    using base_type::base_type;
    using base_type::operator=;
};

struct Network : Located {
    Name name;
    std::vector<Statement> statements;
};

// The offset of whichever node an expression holds.
std::size_t offset_of(const Expr& expr);

} // namespace gradc::net_ast
