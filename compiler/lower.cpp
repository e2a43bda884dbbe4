#include "compiler/lower.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>

#include "compiler/source.hpp"

namespace gradc {

std::size_t Parameter::size() const {
    std::size_t n = 1;
    for (std::size_t d : dims)
        n *= d;
    return n;
}

namespace x3 = boost::spirit::x3;

namespace {

// The nodes of a lowered expression, in a list that holds a single node without allocating:
// lowering passes scalars around all the time.
class Elements {
  public:
    Elements() = default;
    Elements(std::initializer_list<NodeId> ids) {
        for (NodeId id : ids)
            push_back(id);
    }

    std::size_t size() const { return many_.empty() ? (one_ != no_node ? 1 : 0) : many_.size(); }
    const NodeId* begin() const { return many_.empty() ? &one_ : many_.data(); }
    const NodeId* end() const { return begin() + size(); }
    NodeId operator[](std::size_t i) const { return begin()[i]; }

    void push_back(NodeId id) {
        if (many_.empty() && one_ == no_node) {
            one_ = id;
            return;
        }
        if (many_.empty()) many_.push_back(one_);
        many_.push_back(id);
    }

  private:
    NodeId one_ = no_node;     // the only node, while many_ is empty
    std::vector<NodeId> many_; // all nodes, once there are two or more
};

// A lowered expression: a scalar, vector or matrix of nodes (row-major).
struct Value {
    std::vector<std::size_t> dims;
    Elements elements;

    bool scalar() const { return dims.empty(); }
};

std::string describe(const Value& v) {
    if (v.dims.empty()) return "a scalar";
    if (v.dims.size() == 1) return fmt::format("a vector of size {}", v.dims[0]);
    return fmt::format("a {}x{} matrix", v.dims[0], v.dims[1]);
}

std::string describe_dims(const std::vector<std::size_t>& dims) {
    return describe(Value{dims, {}});
}

// The op of a binary operator's spelling; none for `%`, which only index expressions allow.
std::optional<Op> binary_op(const std::string& spelling) {
    switch (spelling[0]) {
    case '+':
        return Op::Add;
    case '-':
        return Op::Sub;
    case '*':
        return Op::Mul;
    case '/':
        return Op::Div;
    case '^':
        return Op::Pow;
    case '<':
        return spelling.size() == 1 ? Op::Lt : Op::Le;
    case '>':
        return spelling.size() == 1 ? Op::Gt : Op::Ge;
    case '=':
        return Op::Eq;
    case '!':
        return Op::Ne;
    case 'a':
        return Op::And;
    case 'o':
        return Op::Or;
    default:
        return std::nullopt;
    }
}

bool is_comparison(Op op) {
    return op == Op::Lt || op == Op::Le || op == Op::Gt || op == Op::Ge || op == Op::Eq ||
           op == Op::Ne;
}

template <class T> const T& unwrap(const T& node) {
    return node;
}
template <class T> const T& unwrap(const x3::forward_ast<T>& node) {
    return node.get();
}

// The values bound by name in one frame, in open addressing over one array of slots: a large
// function binds tens of thousands of names, and a lookup (mostly of a name not bound yet: every
// `let` checks its own) then reads one slot, where a node-based map follows several pointers.
class Bindings {
  public:
    const Value* find(const std::string& name) const {
        if (slots_.empty()) return nullptr;
        const std::uint32_t hash = hash_of(name);
        for (std::size_t i = hash & mask(); slots_[i].entry; i = (i + 1) & mask())
            if (slots_[i].hash == hash && entries_[slots_[i].entry - 1].first == name)
                return &entries_[slots_[i].entry - 1].second;
        return nullptr;
    }

    // Assumes `name` is not bound yet.
    void add(const std::string& name, Value value) {
        if (2 * (entries_.size() + 1) > slots_.size()) grow();
        entries_.emplace_back(name, std::move(value));
        place({hash_of(name), static_cast<std::uint32_t>(entries_.size())});
    }

  private:
    struct Slot {
        std::uint32_t hash;
        std::uint32_t entry; // 1 + position in entries_; 0: empty
    };

    static std::uint32_t hash_of(const std::string& name) {
        return static_cast<std::uint32_t>(std::hash<std::string>{}(name));
    }
    std::size_t mask() const { return slots_.size() - 1; }
    void place(Slot slot) {
        std::size_t i = slot.hash & mask();
        while (slots_[i].entry)
            i = (i + 1) & mask();
        slots_[i] = slot;
    }
    void grow() {
        std::vector<Slot> old = std::move(slots_);
        slots_.assign(std::max<std::size_t>(16, 2 * old.size()), Slot{0, 0});
        for (Slot slot : old)
            if (slot.entry) place(slot);
    }

    std::vector<std::pair<std::string, Value>> entries_;
    std::vector<Slot> slots_; // a power of two of them, at most half in use
};

// The names visible in one inlined function body.
struct Frame {
    std::size_t function_index; // position among the file's functions: calls may only go lower
    Bindings values;
    std::unordered_map<std::string, long long> range_variables;
};

class Lowerer {
  public:
    Lowerer(ast::Program program, const LowerOptions& options)
        : program_(std::move(program)), options_(options) {}

    std::vector<Function> lower_program();

  private:
    // Items
    void declare_const(const ast::Const& item);
    Function lower_function(ast::Function& fn, std::size_t index, bool last);
    Value lower_body(ast::Function& fn, Frame& frame, bool release);
    void check_new_name(const std::string& name, std::size_t offset, const Frame& frame);
    std::size_t size_of(const ast::Expr& dim);

    // Expressions
    Value lower(const ast::Expr& expr);
    Value lower(const ast::Number& node);
    Value lower(const ast::Identifier& node);
    Value lower(const ast::Unary& node);
    Value lower(const ast::Binary& node);
    Value lower(const ast::Call& node);
    Value lower(const ast::Reduction& node);
    Value lower(const ast::Indexed& node);
    Value lower(const ast::Conditional& node);
    Value lower(const ast::ListLiteral& node);
    Value call_function(const ast::Call& node, std::size_t callee);
    Value call_vector_builtin(const ast::Call& node, const std::vector<Value>& args);
    template <class Body> void unroll(const ast::List<ast::Range>& ranges, Body&& body);

    // Compile-time integers (sizes, indices, range bounds)
    long long integer(const ast::Expr& expr, const char* what);
    std::optional<long long> integer_value(const ast::Expr& expr, const char* what);

    NodeId scalar(const Value& v, std::size_t offset, const char* what);
    NodeId condition(const Value& v, std::size_t offset);
    Value scalar_value(NodeId id) { return Value{{}, {id}}; }
    NodeId op(std::size_t offset, Op op, NodeId a, NodeId b = no_node, NodeId c = no_node) {
        graph_->set_origin(offset);
        return graph_->apply(op, a, b, c);
    }
    NodeId constant(std::size_t offset, double v) {
        graph_->set_origin(offset);
        return graph_->constant(v);
    }
    // Unrolled iterations and inlined calls may build no new node (`sum(i in 0..N: 0)`), so they
    // are counted too, against the same limit.
    void count_work(std::size_t offset) {
        if (++work_ > options_.node_limit)
            fail(offset, fmt::format("the expression unrolls past the node limit of {} SSA nodes",
                                     options_.node_limit));
    }
    [[noreturn]] void fail(std::size_t offset, const std::string& message) {
        throw CompileError(offset, message);
    }

    ast::Program program_;
    LowerOptions options_;
    std::unordered_map<std::string, double> consts_;
    std::unordered_map<std::string, std::size_t> function_index_; // name -> position in functions_
    std::vector<ast::Function*> functions_;
    Graph* graph_ = nullptr;
    Frame* frame_ = nullptr;
    std::map<std::vector<NodeId>, Value> inlined_; // (callee, argument nodes) -> result
    std::size_t work_ = 0;
};

std::vector<Function> Lowerer::lower_program() {
    std::vector<Function> result;
    const ast::Item* last = nullptr; // the last function
    for (const ast::Item& item : program_.items)
        if (boost::get<ast::Function>(&item)) last = &item;
    for (ast::Item& item : program_.items) {
        if (const auto* c = boost::get<ast::Const>(&item)) {
            declare_const(*c);
            continue;
        }
        auto& fn = boost::get<ast::Function>(item);
        if (is_builtin_name(fn.name))
            fail(fn.offset,
                 fmt::format("'{}' is a builtin function and cannot be redefined", fn.name));
        if (function_index_.count(fn.name) || consts_.count(fn.name))
            fail(fn.offset, fmt::format("'{}' is already defined", fn.name));
        const std::size_t index = functions_.size();
        functions_.push_back(&fn);
        result.push_back(lower_function(fn, index, &item == last));
        function_index_[fn.name] = index;
    }
    return result;
}

void Lowerer::declare_const(const ast::Const& item) {
    if (is_builtin_name(item.name))
        fail(item.offset,
             fmt::format("'{}' is a builtin function and cannot be used as a name", item.name));
    if (consts_.count(item.name) || function_index_.count(item.name))
        fail(item.offset, fmt::format("'{}' is already defined", item.name));
    Graph scratch(options_.node_limit);
    Frame frame{functions_.size(), {}, {}};
    graph_ = &scratch;
    frame_ = &frame;
    work_ = 0;
    NodeId id = scalar(lower(item.value), ast::offset_of(item.value), "a const");
    if (!scratch.is_constant(id))
        fail(ast::offset_of(item.value), "a const must be computable at compile time");
    consts_[item.name] = scratch[id].value();
}

std::size_t Lowerer::size_of(const ast::Expr& dim) {
    long long n = integer(dim, "a size");
    if (n <= 0)
        fail(ast::offset_of(dim), fmt::format("a size must be a positive integer, got {}", n));
    if (static_cast<unsigned long long>(n) > options_.node_limit)
        fail(ast::offset_of(dim),
             fmt::format("size {} exceeds the node limit of {}", n, options_.node_limit));
    return static_cast<std::size_t>(n);
}

void Lowerer::check_new_name(const std::string& name, std::size_t offset, const Frame& frame) {
    if (is_builtin_name(name))
        fail(offset, fmt::format("'{}' is a builtin function and cannot be used as a name", name));
    if (frame.values.find(name) || frame.range_variables.count(name) || consts_.count(name))
        fail(offset, fmt::format("'{}' is already bound; a name is bound only once", name));
}

// Nothing can call the file's last function (calls go to earlier ones only), so its body is lowered
// exactly once, and freed as it goes.
Function Lowerer::lower_function(ast::Function& fn, std::size_t index, bool last) {
    Function out{fn.name, fn.offset, "", {}, Graph(options_.node_limit), {}, false, 0};
    graph_ = &out.graph;
    inlined_.clear();
    work_ = 0;
    Frame frame{index, {}, {}};
    frame_ = &frame; // parameter sizes may name consts, but not earlier parameters
    std::vector<std::string> shown;
    for (const ast::Param& p : fn.params) {
        check_new_name(p.name, p.offset, frame);
        Parameter param{p.name, {}, out.input_count};
        for (const ast::Expr& dim : p.dims)
            param.dims.push_back(size_of(dim));
        if (param.size() > options_.node_limit)
            fail(p.offset, fmt::format("parameter '{}' exceeds the node limit", p.name));
        Value value{param.dims, {}};
        graph_->set_origin(p.offset);
        for (std::size_t i = 0; i < param.size(); ++i)
            value.elements.push_back(
                graph_->input(static_cast<std::uint32_t>(out.input_count + i)));
        frame.values.add(p.name, std::move(value));
        out.input_count += static_cast<std::uint32_t>(param.size());
        std::string dims;
        for (std::size_t i = 0; i < param.dims.size(); ++i)
            dims += (i ? ", " : "[") + std::to_string(param.dims[i]);
        shown.push_back(param.name + (dims.empty() ? "" : dims + "]"));
        out.params.push_back(std::move(param));
    }
    out.signature = fmt::format("fn {}({})", fn.name, fmt::join(shown, ", "));
    Value result = lower_body(fn, frame, last);
    if (result.dims.size() > 1)
        result.dims = {result.elements.size()}; // a matrix returns row-major
    out.vector_valued = !result.scalar();
    out.outputs.assign(result.elements.begin(), result.elements.end());
    return out;
}

// With `release`, each `let` is freed once lowered, while it is still in cache: a large file's AST
// is many times the size of its text, and freeing it afterwards walks it all again from memory.
Value Lowerer::lower_body(ast::Function& fn, Frame& frame, bool release) {
    Frame* saved = frame_;
    frame_ = &frame;
    std::optional<Value> result;
    for (std::size_t i = 0; i < fn.body.size(); ++i) {
        if (const auto* ret = boost::get<ast::Return>(&fn.body[i])) {
            if (i + 1 != fn.body.size())
                fail(ret->offset, "'return' must be the last statement of the function");
            result = lower(ret->value);
            continue;
        }
        const auto& let = boost::get<ast::Let>(fn.body[i]);
        check_new_name(let.name, let.offset, frame);
        Value value;
        if (let.ranges.empty()) {
            value = lower(let.value);
            for (NodeId id : value.elements)
                graph_->set_label(id, let.name);
        } else {
            unroll(let.ranges, [&](const std::vector<long long>& at) {
                NodeId id =
                    scalar(lower(let.value), ast::offset_of(let.value), "a comprehension element");
                std::string label = let.name;
                for (long long i : at)
                    label += "_" + std::to_string(i);
                graph_->set_label(id, label);
                value.elements.push_back(id);
            });
            for (const ast::Range& r : let.ranges) {
                long long n = integer(r.high, "a range bound") - integer(r.low, "a range bound");
                if (n <= 0) fail(r.offset, "a comprehension range must not be empty");
                value.dims.push_back(static_cast<std::size_t>(n));
            }
        }
        frame.values.add(let.name, std::move(value));
        if (release) fn.body[i] = ast::Statement();
    }
    frame_ = saved;
    if (!result) fail(fn.offset, fmt::format("function '{}' has no 'return'", fn.name));
    return *result;
}

// Calls `body(indices)` for every point of the ranges, innermost range fastest, with each range
// variable bound in the current frame.
template <class Body> void Lowerer::unroll(const ast::List<ast::Range>& ranges, Body&& body) {
    std::vector<long long> at;
    std::function<void(std::size_t)> loop = [&](std::size_t level) {
        if (level == ranges.size()) return body(at);
        const ast::Range& r = ranges[level];
        check_new_name(r.variable, r.offset, *frame_);
        const long long low = integer(r.low, "a range bound");
        const long long high = integer(r.high, "a range bound");
        if (high - low > static_cast<long long>(options_.node_limit))
            fail(r.offset, fmt::format("the range unrolls past the node limit of {} SSA nodes",
                                       options_.node_limit));
        for (long long i = low; i < high; ++i) {
            count_work(r.offset);
            frame_->range_variables[r.variable] = i;
            at.push_back(i);
            loop(level + 1);
            at.pop_back();
        }
        frame_->range_variables.erase(r.variable);
    };
    loop(0);
}

Value Lowerer::lower(const ast::Expr& expr) {
    return boost::apply_visitor([&](const auto& node) { return lower(unwrap(node)); }, expr);
}

Value Lowerer::lower(const ast::Number& node) {
    if (std::isinf(node.value))
        fail(node.offset, fmt::format("the number {} is too large for a double", node.text));
    return scalar_value(constant(node.offset, node.value));
}

Value Lowerer::lower(const ast::Identifier& node) {
    if (auto r = frame_->range_variables.find(node.name); r != frame_->range_variables.end())
        return scalar_value(constant(node.offset, static_cast<double>(r->second)));
    if (const Value* v = frame_->values.find(node.name)) return *v;
    if (auto c = consts_.find(node.name); c != consts_.end())
        return scalar_value(constant(node.offset, c->second));
    if (function_index_.count(node.name) || is_builtin_name(node.name))
        fail(node.offset, fmt::format("'{}' is a function; call it with arguments", node.name));
    fail(node.offset, fmt::format("unknown name '{}'", node.name));
}

Value Lowerer::lower(const ast::Unary& node) {
    Value operand = lower(node.operand);
    const std::size_t at = ast::offset_of(node.operand);
    if (node.op[0] == 'n') // not
        return scalar_value(op(node.offset, Op::Not, condition(operand, at)));
    NodeId x = scalar(operand, at, "an operand of unary minus");
    return scalar_value(node.op[0] == '-' ? op(node.offset, Op::Neg, x) : x);
}

Value Lowerer::lower(const ast::Binary& node) {
    Value left = lower(node.first);
    std::size_t left_at = ast::offset_of(node.first);
    for (std::size_t i = 0; i < node.rest.size(); ++i) {
        const ast::Operation& operation = node.rest[i];
        const std::optional<Op> o = binary_op(operation.op);
        if (!o) fail(operation.offset, "'%' is only allowed in index expressions");
        if (is_comparison(*o) && i > 0)
            fail(operation.offset, "comparisons cannot be chained; write 'a < b and b < c'");
        Value right = lower(operation.operand);
        const std::size_t right_at = ast::offset_of(operation.operand);
        NodeId result;
        if (*o == Op::And || *o == Op::Or) {
            result = op(operation.offset, *o, condition(left, left_at), condition(right, right_at));
        } else {
            NodeId a = scalar(left, left_at, "the left operand");
            NodeId b = scalar(right, right_at, "the right operand");
            result = op(operation.offset, *o, a, b);
        }
        left = scalar_value(result);
    }
    return left;
}

Value Lowerer::lower(const ast::Call& node) {
    if (auto f = function_index_.find(node.name); f != function_index_.end())
        return call_function(node, f->second);
    for (std::size_t i = 0; i < functions_.size(); ++i)
        if (functions_[i]->name == node.name)
            fail(node.offset, i == frame_->function_index
                                  ? fmt::format("recursive call to '{}'", node.name)
                                  : fmt::format("'{}' is defined later", node.name));
    for (const ast::Item& item : program_.items)
        if (const auto* fn = boost::get<ast::Function>(&item); fn && fn->name == node.name)
            fail(node.offset, fmt::format("'{}' is defined later in the file; a function can only "
                                          "call functions defined before it",
                                          node.name));
    std::vector<Value> args;
    for (const ast::Expr& arg : node.args)
        args.push_back(lower(arg));
    const bool vector_argument = !args.empty() && !args[0].scalar();
    if (vector_argument || node.name == "sum" || node.name == "dot" || node.name == "norm" ||
        node.name == "logsumexp" || node.name == "softmax")
        return call_vector_builtin(node, args);
    if (node.name == "log" && args.size() == 2) { // log(base, x)
        NodeId base = scalar(args[0], ast::offset_of(node.args[0]), "the base of log");
        NodeId x = scalar(args[1], ast::offset_of(node.args[1]), "the argument of log");
        return scalar_value(
            op(node.offset, Op::Div, op(node.offset, Op::Log, x), op(node.offset, Op::Log, base)));
    }
    std::optional<Op> builtin = find_function(node.name, args.size());
    if (!builtin) {
        if (!is_builtin_name(node.name))
            fail(node.offset, fmt::format("unknown function '{}'", node.name));
        for (std::size_t arity = 0; arity <= 3; ++arity)
            if (find_function(node.name, arity))
                fail(node.offset, fmt::format("'{}' takes {} argument{}, got {}", node.name, arity,
                                              arity == 1 ? "" : "s", args.size()));
        fail(node.offset, fmt::format("'{}' takes 2 arguments, got {}", node.name, args.size()));
    }
    NodeId operands[3] = {no_node, no_node, no_node};
    for (std::size_t i = 0; i < args.size(); ++i)
        operands[i] = scalar(args[i], ast::offset_of(node.args[i]), "an argument");
    return scalar_value(op(node.offset, *builtin, operands[0], operands[1], operands[2]));
}

Value Lowerer::call_function(const ast::Call& node, std::size_t callee) {
    ast::Function& fn = *functions_[callee];
    if (node.args.size() != fn.params.size())
        fail(node.offset, fmt::format("'{}' takes {} argument{}, got {}", fn.name, fn.params.size(),
                                      fn.params.size() == 1 ? "" : "s", node.args.size()));
    Frame frame{callee, {}, {}};
    std::vector<NodeId> key{static_cast<NodeId>(callee)};
    for (std::size_t i = 0; i < node.args.size(); ++i) {
        Value arg = lower(node.args[i]);
        std::vector<std::size_t> expected;
        for (const ast::Expr& dim : fn.params[i].dims) {
            Frame* caller = frame_;
            frame_ = &frame; // sizes are evaluated in the callee's (empty) scope
            expected.push_back(size_of(dim));
            frame_ = caller;
        }
        if (arg.dims != expected)
            fail(ast::offset_of(node.args[i]),
                 fmt::format("argument {} of '{}' must be {}, got {}", i + 1, fn.name,
                             describe_dims(expected), describe(arg)));
        key.insert(key.end(), arg.elements.begin(), arg.elements.end());
        frame.values.add(fn.params[i].name, std::move(arg));
    }
    count_work(node.offset);
    if (auto done = inlined_.find(key); done != inlined_.end()) return done->second;
    Value result = lower_body(fn, frame, false);
    inlined_.emplace(std::move(key), result);
    return result;
}

Value Lowerer::call_vector_builtin(const ast::Call& node, const std::vector<Value>& args) {
    const std::string& name = node.name;
    const std::size_t at = node.offset;
    const std::size_t expected = name == "dot" ? 2 : 1;
    if (args.size() != expected)
        fail(at, fmt::format("'{}' over a vector takes {} argument{}, got {}", name, expected,
                             expected == 1 ? "" : "s", args.size()));
    for (std::size_t i = 0; i < args.size(); ++i)
        if (args[i].scalar())
            fail(ast::offset_of(node.args[i]),
                 fmt::format("'{}' expects a vector, got a scalar", name));
    const Elements& v = args[0].elements;
    auto fold = [&](Op combine, const auto& items) {
        NodeId acc = items[0];
        for (std::size_t i = 1; i < items.size(); ++i)
            acc = op(at, combine, acc, items[i]);
        return acc;
    };
    if (name == "sum") return scalar_value(fold(Op::Add, v));
    if (name == "max") return scalar_value(fold(Op::Max, v));
    if (name == "min") return scalar_value(fold(Op::Min, v));
    if (name == "dot" || name == "norm") {
        const Elements& u = name == "dot" ? args[1].elements : v;
        if (name == "dot" && args[0].dims != args[1].dims)
            fail(at, fmt::format("'dot' needs two vectors of the same size, got {} and {}",
                                 describe(args[0]), describe(args[1])));
        std::vector<NodeId> products;
        for (std::size_t i = 0; i < v.size(); ++i)
            products.push_back(op(at, Op::Mul, v[i], u[i]));
        NodeId total = fold(Op::Add, products);
        return scalar_value(name == "dot" ? total : op(at, Op::NormRoot, total));
    }
    if (name == "logsumexp" || name == "softmax") {
        // Shift by the (derivative-free) maximum so that no exponential overflows.
        NodeId shift = op(at, Op::Detach, fold(Op::Max, v));
        std::vector<NodeId> exps;
        for (NodeId x : v)
            exps.push_back(op(at, Op::Exp, op(at, Op::Sub, x, shift)));
        NodeId total = fold(Op::Add, exps);
        if (name == "logsumexp")
            return scalar_value(op(at, Op::Add, shift, op(at, Op::Log, total)));
        Value result{args[0].dims, {}};
        for (NodeId e : exps)
            result.elements.push_back(op(at, Op::Div, e, total));
        return result;
    }
    fail(at, fmt::format("'{}' expects scalar arguments, got {}", name, describe(args[0])));
}

Value Lowerer::lower(const ast::Reduction& node) {
    std::vector<NodeId> terms;
    unroll(node.ranges, [&](const std::vector<long long>&) {
        terms.push_back(
            scalar(lower(node.body), ast::offset_of(node.body), "the body of a reduction"));
    });
    if (terms.empty()) {
        if (node.op == "sum") return scalar_value(constant(node.offset, 0.0));
        if (node.op == "prod") return scalar_value(constant(node.offset, 1.0));
        fail(node.offset, fmt::format("'{}' over an empty range", node.op));
    }
    const Op combine = node.op == "sum"    ? Op::Add
                       : node.op == "prod" ? Op::Mul
                       : node.op == "max"  ? Op::Max
                                           : Op::Min;
    NodeId acc = terms[0];
    for (std::size_t i = 1; i < terms.size(); ++i)
        acc = op(node.offset, combine, acc, terms[i]);
    return scalar_value(acc);
}

Value Lowerer::lower(const ast::Indexed& node) {
    // A named vector is indexed in place: copying it for every `x[i]` would make loops quadratic.
    const auto* name = boost::get<ast::Identifier>(&node.base);
    const Value* bound = name ? frame_->values.find(name->name) : nullptr;
    const Value computed = bound ? Value{} : lower(node.base);
    const Value& base = bound ? *bound : computed;
    if (base.scalar()) fail(node.offset, "a scalar cannot be indexed");
    if (node.indices.size() != base.dims.size())
        fail(node.offset, fmt::format("{} needs {} ind{}, got {}", describe(base), base.dims.size(),
                                      base.dims.size() == 1 ? "ex" : "ices", node.indices.size()));
    std::size_t flat = 0;
    for (std::size_t k = 0; k < node.indices.size(); ++k) {
        long long i = integer(node.indices[k], "an index");
        if (i < 0 || static_cast<std::size_t>(i) >= base.dims[k])
            fail(ast::offset_of(node.indices[k]),
                 fmt::format("index {} is out of bounds for {}", i,
                             base.dims.size() == 1
                                 ? describe(base)
                                 : fmt::format("dimension {} of size {} of {}", k + 1, base.dims[k],
                                               describe(base))));
        flat = flat * base.dims[k] + static_cast<std::size_t>(i);
    }
    return scalar_value(base.elements[flat]);
}

Value Lowerer::lower(const ast::Conditional& node) {
    NodeId c = condition(lower(node.condition), ast::offset_of(node.condition));
    if (graph_->is_constant(c)) // decided at compile time: the other branch need not be valid
        return lower(graph_->is_constant(c, 0.0) ? node.else_branch : node.then_branch);
    Value a = lower(node.then_branch);
    Value b = lower(node.else_branch);
    if (a.dims != b.dims)
        fail(node.offset,
             fmt::format("the branches of 'if' differ: {} and {}", describe(a), describe(b)));
    Value result{a.dims, {}};
    for (std::size_t i = 0; i < a.elements.size(); ++i)
        result.elements.push_back(op(node.offset, Op::Select, c, a.elements[i], b.elements[i]));
    return result;
}

Value Lowerer::lower(const ast::ListLiteral& node) {
    Value result{{node.elements.size()}, {}};
    if (node.elements.empty()) fail(node.offset, "a list needs at least one element");
    for (const ast::Expr& e : node.elements)
        result.elements.push_back(scalar(lower(e), ast::offset_of(e), "a list element"));
    return result;
}

NodeId Lowerer::scalar(const Value& v, std::size_t offset, const char* what) {
    if (!v.scalar()) fail(offset, fmt::format("{} must be a scalar, got {}", what, describe(v)));
    return v.elements[0];
}

NodeId Lowerer::condition(const Value& v, std::size_t offset) {
    NodeId id = scalar(v, offset, "a condition");
    if (info((*graph_)[id].op).kind == Kind::Bool) return id;
    return op(offset, Op::Ne, id, constant(offset, 0.0));
}

long long Lowerer::integer(const ast::Expr& expr, const char* what) {
    if (std::optional<long long> v = integer_value(expr, what)) return *v;
    fail(ast::offset_of(expr),
         fmt::format("{} must be a compile-time integer (literals, consts and range variables "
                     "with + - * / %)",
                     what));
}

std::optional<long long> Lowerer::integer_value(const ast::Expr& expr, const char* what) {
    auto whole = [&](double v, std::size_t at) -> std::optional<long long> {
        if (v != std::floor(v) || std::fabs(v) > 9.0e15)
            fail(at, fmt::format("{} must be an integer, got {}", what, v));
        return static_cast<long long>(v);
    };
    if (const auto* n = boost::get<ast::Number>(&expr)) return whole(n->value, n->offset);
    if (const auto* id = boost::get<ast::Identifier>(&expr)) {
        if (auto r = frame_->range_variables.find(id->name); r != frame_->range_variables.end())
            return r->second;
        if (auto c = consts_.find(id->name); c != consts_.end())
            return whole(c->second, id->offset);
        if (frame_->values.find(id->name))
            fail(id->offset,
                 fmt::format("{} must be known at compile time, but '{}' is a runtime value", what,
                             id->name));
        fail(id->offset, fmt::format("unknown name '{}'", id->name));
    }
    if (const auto* u = boost::get<x3::forward_ast<ast::Unary>>(&expr)) {
        if (u->get().op[0] == 'n') return std::nullopt; // not
        long long v = integer(u->get().operand, what);
        return u->get().op[0] == '-' ? -v : v;
    }
    if (const auto* b = boost::get<x3::forward_ast<ast::Binary>>(&expr)) {
        long long acc = integer(b->get().first, what);
        for (const ast::Operation& o : b->get().rest) {
            long long rhs = integer(o.operand, what);
            const char c = o.op[0]; // + - * / % are the only spellings starting so
            if ((c == '/' || c == '%') && rhs == 0)
                fail(o.offset, "division by zero in an integer expression");
            long long result = 0;
            bool overflow = false;
            if (c == '+')
                overflow = __builtin_add_overflow(acc, rhs, &result);
            else if (c == '-')
                overflow = __builtin_sub_overflow(acc, rhs, &result);
            else if (c == '*')
                overflow = __builtin_mul_overflow(acc, rhs, &result);
            else if (c == '/')
                result = acc / rhs;
            else if (c == '%')
                result = acc % rhs;
            else
                return std::nullopt;
            if (overflow) fail(o.offset, "integer overflow in a compile-time expression");
            acc = result;
        }
        return acc;
    }
    return std::nullopt;
}

} // namespace

std::vector<Function> lower(ast::Program program, const LowerOptions& options) {
    return Lowerer(std::move(program), options).lower_program();
}

} // namespace gradc
