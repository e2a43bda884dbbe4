#include "runtime/network_lower.hpp"

#include "compiler/source.hpp"
#include "runtime/elementwise.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <set>

namespace gradc::net {

namespace {
namespace ast = net_ast;
namespace x3 = boost::spirit::x3;

std::string number_text(double value) {
    char text[64];
    std::snprintf(text, sizeof text, "%.17g", value);
    std::string out = text;
    if (out.find_first_of(".en") == std::string::npos) out += ".0";
    return out;
}

std::string cpp_identifier(const std::string& name) {
    static const std::set<std::string> reserved = {
        "auto",    "bool",     "break",   "case",    "char",     "class",   "const",    "continue",
        "default", "delete",   "do",      "double",  "else",     "enum",    "float",    "for",
        "if",      "int",      "long",    "new",     "operator", "private", "public",   "return",
        "short",   "signed",   "sizeof",  "static",  "struct",   "switch",  "template", "this",
        "union",   "unsigned", "using",   "void",    "while",    "and",     "or",       "not",
        "xor",     "bitand",   "bitor",   "compl",   "and_eq",   "or_eq",   "xor_eq",   "not_eq",
        "theta",   "grad",     "moment1", "moment2", "steps",    "random"};
    std::string out;
    for (char c : name)
        out += c == '.' ? '_' : c;
    return reserved.count(out) ? out + "_" : out;
}

// Call arguments, positional or named, taken one by one; leftovers are errors.
class Arguments {
  public:
    Arguments(const ast::Call& call) : call_(call), used_(call.args.size(), false) {}

    const ast::Expr* take(const std::string& name, std::size_t position) {
        for (std::size_t i = 0; i < call_.args.size(); ++i)
            if (!used_[i] && call_.args[i].name == name) return use(i);
        std::size_t seen = 0;
        for (std::size_t i = 0; i < call_.args.size(); ++i) {
            if (!call_.args[i].name.empty()) continue;
            if (seen++ == position && !used_[i]) return use(i);
        }
        return nullptr;
    }
    const ast::Expr& require(const std::string& name, std::size_t position) {
        if (const ast::Expr* e = take(name, position)) return *e;
        throw CompileError(call_.offset,
                           "`" + call_.function + "` needs its argument `" + name + "`");
    }
    void finish() const {
        for (std::size_t i = 0; i < call_.args.size(); ++i)
            if (!used_[i])
                throw CompileError(call_.args[i].offset,
                                   call_.args[i].name.empty()
                                       ? "too many arguments for `" + call_.function + "`"
                                       : "`" + call_.function + "` has no argument `" +
                                             call_.args[i].name + "`");
    }

  private:
    const ast::Expr* use(std::size_t i) {
        used_[i] = true;
        return &call_.args[i].value;
    }
    const ast::Call& call_;
    std::vector<bool> used_;
};

const ast::Expr& unwrap(const ast::Expr& expr) {
    if (const auto* binary = boost::get<x3::forward_ast<ast::Binary>>(&expr))
        if (binary->get().rest.empty()) return unwrap(binary->get().first);
    return expr;
}
const ast::Name* as_name(const ast::Expr& expr) {
    return boost::get<ast::Name>(&unwrap(expr));
}
const ast::Call* as_call(const ast::Expr& expr) {
    const auto* call = boost::get<x3::forward_ast<ast::Call>>(&unwrap(expr));
    return call ? &call->get() : nullptr;
}

// A compile-time number: a literal, possibly negated, or arithmetic on such.
double constant(const ast::Expr& expr) {
    const ast::Expr& e = unwrap(expr);
    if (const auto* number = boost::get<ast::Number>(&e)) return std::stod(number->text);
    if (const auto* unary = boost::get<x3::forward_ast<ast::Unary>>(&e)) {
        double value = constant(unary->get().operand);
        return unary->get().op == "-" ? -value : value;
    }
    if (const auto* binary = boost::get<x3::forward_ast<ast::Binary>>(&e)) {
        double value = constant(binary->get().first);
        for (const ast::Operation& op : binary->get().rest) {
            double right = constant(op.operand);
            if (op.op == "+")
                value += right;
            else if (op.op == "-")
                value -= right;
            else if (op.op == "*")
                value *= right;
            else if (op.op == "/")
                value /= right;
            else if (op.op == "^")
                value = std::pow(value, right);
            else
                throw CompileError(op.offset, "expected a number");
        }
        return value;
    }
    throw CompileError(ast::offset_of(expr), "expected a number");
}

int positive_integer(const ast::Expr& expr, const std::string& what) {
    double value = constant(expr);
    if (value < 1 || value != std::floor(value) || value > 1e9)
        throw CompileError(ast::offset_of(expr), what + " must be a positive integer");
    return static_cast<int>(value);
}

std::string string_argument(const ast::Expr& expr) {
    if (const auto* text = boost::get<ast::String>(&unwrap(expr))) return text->value;
    throw CompileError(ast::offset_of(expr), "expected a file name in double quotes");
}

class Lowering {
  public:
    explicit Lowering(Network& net) : net_(net), graph_(net.graph) {}

    void lower(const ast::Network& network);

  private:
    Tensor& at(int id) { return graph_.tensors[static_cast<std::size_t>(id)]; }
    std::string fresh(const std::string& wanted);
    int add_tensor(Tensor tensor);
    int value(Dims dims, bool batched, bool needs_gradient);
    int constant_tensor(double value);
    int add_param(const std::string& name, Dims dims, ParamInit init, std::size_t offset);
    void declare(const ast::Declaration& declaration);
    Dims dims_of(const std::vector<ast::Expr>& dims);
    ParamInit initialiser(const ast::Expr& expr, const Dims& dims);
    void setting(const ast::Setting& setting);
    std::optional<DataSource> data_source(const ast::Expr& expr);

    int expression(const ast::Expr& expr);
    int binary(const ast::Binary& binary);
    int operation(const std::string& op, int left, int right, std::size_t offset);
    int call(const ast::Call& call);
    int map(const ScalarFunction& fn, const std::vector<int>& args, std::size_t offset,
            const std::string& what);
    int matmul(int left, int right, std::size_t offset);
    int unary_step(StepKind kind, int arg, Dims dims, std::size_t offset);
    int reshape(int x, Dims dims, std::size_t offset);
    int activation(const std::string& name, int x, std::size_t offset);
    int dense(const ast::Call& call);
    int dropout(const ast::Call& call);
    int loss_function(const ast::Call& call);
    int label_or_target(int z, int target, std::size_t offset, const std::string& what);
    int vector_operand(const ast::Expr& expr, const std::string& what);

    Network& net_;
    Graph& graph_;
    std::map<std::string, int> names_;
    std::set<std::string> used_;
    std::string binding_; // the binding being lowered: layers take their names from it
    int layers_in_binding_ = 0;
    int temporaries_ = 0;
    bool explicit_output_ = false;
};

std::string Lowering::fresh(const std::string& wanted) {
    std::string name = cpp_identifier(wanted);
    for (int k = 2; used_.count(name); ++k)
        name = cpp_identifier(wanted) + "_" + std::to_string(k);
    used_.insert(name);
    return name;
}

int Lowering::add_tensor(Tensor tensor) {
    tensor.name = fresh(tensor.name);
    return graph_.add(std::move(tensor));
}

int Lowering::value(Dims dims, bool batched, bool needs_gradient) {
    Tensor t;
    t.name = "t" + std::to_string(temporaries_++);
    t.dims = std::move(dims);
    t.batched = batched;
    t.needs_gradient = needs_gradient;
    return add_tensor(std::move(t));
}

int Lowering::constant_tensor(double number) {
    Tensor t;
    t.name = "constant";
    t.role = Role::Constant;
    t.literal = "Scalar(" + number_text(number) + ")";
    return graph_.add(std::move(t)); // constants are inlined: their name is never emitted
}

int Lowering::add_param(const std::string& name, Dims dims, ParamInit init, std::size_t offset) {
    if (names_.count(name)) throw CompileError(offset, "`" + name + "` is already defined");
    Tensor t;
    t.name = name;
    t.dims = std::move(dims);
    t.role = Role::Param;
    t.param_offset = net_.num_params;
    t.needs_gradient = true;
    net_.num_params += t.size();
    int id = add_tensor(std::move(t));
    names_[name] = id;
    net_.params.push_back(id);
    net_.inits.push_back(std::move(init));
    net_.param_names.push_back(name);
    return id;
}

Dims Lowering::dims_of(const std::vector<ast::Expr>& exprs) {
    if (exprs.size() > 3)
        throw CompileError(ast::offset_of(exprs[3]), "tensors have at most 3 dimensions");
    Dims dims;
    for (const ast::Expr& e : exprs)
        dims.push_back(positive_integer(e, "a size"));
    return dims;
}

void Lowering::declare(const ast::Declaration& d) {
    const std::string& name = d.name.name;
    if (names_.count(name)) throw CompileError(d.name.offset, "`" + name + "` is already defined");
    Dims dims = dims_of(d.dims);
    if (d.kind == "param") {
        if (d.type) throw CompileError(ast::offset_of(*d.type), "a param has no `:` type");
        ParamInit init;
        init.fan_in = dims.empty() ? 1 : dims.back();
        init.fan_out = dims.size() >= 2 ? dims[dims.size() - 2] : init.fan_in;
        if (d.init) init = initialiser(*d.init, dims);
        add_param(name, dims, init, d.name.offset);
        return;
    }
    if (d.init) throw CompileError(ast::offset_of(*d.init), "only a param has an initial value");
    Tensor t;
    t.name = name;
    t.dims = dims;
    t.batched = true;
    t.role = d.kind == "input" ? Role::Input : Role::Target;
    if (d.type) {
        const ast::Call* type = as_call(*d.type);
        if (d.kind != "target" || !type || type->function != "class" || type->args.size() != 1 ||
            !dims.empty())
            throw CompileError(ast::offset_of(*d.type),
                               "expected `target NAME : class(N)` (an integer label in 0..N-1)");
        t.classes = positive_integer(type->args[0].value, "the class count");
    }
    int id = add_tensor(std::move(t));
    names_[name] = id;
    (d.kind == "input" ? net_.inputs : net_.targets).push_back(id);
}

ParamInit Lowering::initialiser(const ast::Expr& expr, const Dims& dims) {
    ParamInit init;
    init.fan_in = dims.empty() ? 1 : dims.back();
    init.fan_out = dims.size() >= 2 ? dims[dims.size() - 2] : init.fan_in;
    const ast::Expr& e = unwrap(expr);
    if (boost::get<x3::forward_ast<ast::List>>(&e)) {
        // Flatten nested lists, checking that their shape is `dims`.
        std::function<void(const ast::Expr&, std::size_t)> flatten = [&](const ast::Expr& item,
                                                                         std::size_t depth) {
            const auto* inner = boost::get<x3::forward_ast<ast::List>>(&unwrap(item));
            if (depth == dims.size()) {
                if (inner)
                    throw CompileError(ast::offset_of(item),
                                       "too many nested lists for a tensor of shape " +
                                           shape_text(dims));
                init.values.push_back(constant(item));
                return;
            }
            if (!inner || inner->get().elements.size() != static_cast<std::size_t>(dims[depth]))
                throw CompileError(ast::offset_of(item),
                                   "the initial value does not have the shape " + shape_text(dims));
            for (const ast::Expr& element : inner->get().elements)
                flatten(element, depth + 1);
        };
        flatten(expr, 0);
        init.kind = ParamInit::Kind::Literal;
        return init;
    }
    if (boost::get<ast::Number>(&e) || boost::get<x3::forward_ast<ast::Unary>>(&e)) {
        init.kind = ParamInit::Kind::Literal;
        init.values.assign(static_cast<std::size_t>(element_count(dims)), constant(expr));
        return init;
    }
    if (const ast::Name* name = as_name(expr)) {
        if (name->name == "zeros")
            init.kind = ParamInit::Kind::Zeros;
        else if (name->name == "xavier")
            init.kind = ParamInit::Kind::Xavier;
        else if (name->name == "he")
            init.kind = ParamInit::Kind::He;
        else
            throw CompileError(name->offset, "unknown initialisation `" + name->name +
                                                 "` (expected a literal, zeros, uniform(a, b), "
                                                 "normal(mean, std), xavier or he)");
        return init;
    }
    if (const ast::Call* c = as_call(expr)) {
        if (c->function == "uniform" || c->function == "normal") {
            Arguments args(*c);
            init.kind =
                c->function == "uniform" ? ParamInit::Kind::Uniform : ParamInit::Kind::Normal;
            init.a = constant(args.require(c->function == "uniform" ? "a" : "mean", 0));
            init.b = constant(args.require(c->function == "uniform" ? "b" : "std", 1));
            args.finish();
            return init;
        }
        throw CompileError(c->offset, "unknown initialisation `" + c->function + "`");
    }
    throw CompileError(ast::offset_of(expr), "expected an initial value");
}

std::optional<DataSource> Lowering::data_source(const ast::Expr& expr) {
    const ast::Call* c = as_call(expr);
    if (!c || (c->function != "csv" && c->function != "idx"))
        throw CompileError(ast::offset_of(expr),
                           "expected csv(\"FILE\") or idx(\"IMAGES\", \"LABELS\")");
    DataSource source;
    source.format = c->function;
    Arguments args(*c);
    source.paths.push_back(
        string_argument(args.require(c->function == "csv" ? "path" : "images", 0)));
    if (c->function == "idx") source.paths.push_back(string_argument(args.require("labels", 1)));
    args.finish();
    return source;
}

void Lowering::setting(const ast::Setting& s) {
    const std::string& key = s.keyword;
    if (key == "output") {
        net_.output = expression(s.value);
        explicit_output_ = true;
    } else if (key == "loss") {
        if (net_.loss >= 0) throw CompileError(s.offset, "the loss is already defined");
        int loss = expression(s.value);
        if (!at(loss).dims.empty())
            throw CompileError(ast::offset_of(s.value),
                               "the loss must be a scalar per sample, but it is " +
                                   shape_text(at(loss).dims) + " (use sum or mean)");
        if (!at(loss).batched)
            throw CompileError(ast::offset_of(s.value),
                               "the loss does not depend on the input or the target");
        net_.loss = loss;
    } else if (key == "regularize") {
        const ast::Call* c = as_call(s.value);
        if (!c || c->function != "l2")
            throw CompileError(ast::offset_of(s.value), "expected l2(lambda, biases = false)");
        Arguments args(*c);
        net_.l2 = constant(args.require("lambda", 0));
        if (const ast::Expr* biases = args.take("biases", 1)) {
            const ast::Name* flag = as_name(*biases);
            if (!flag || (flag->name != "true" && flag->name != "false"))
                throw CompileError(ast::offset_of(*biases), "expected true or false");
            net_.l2_biases = flag->name == "true";
        }
        args.finish();
    } else if (key == "optimizer") {
        const ast::Call* c = as_call(s.value);
        if (!c || (c->function != "sgd" && c->function != "adam"))
            throw CompileError(ast::offset_of(s.value),
                               "expected sgd(lr, momentum = 0) or adam(lr, beta1, beta2, eps)");
        Optimizer& o = net_.optimizer;
        o.kind = c->function;
        Arguments args(*c);
        o.lr = o.kind == "adam" ? 1e-3 : 0.01;
        if (const ast::Expr* e = args.take("lr", 0)) o.lr = constant(*e);
        if (o.kind == "sgd") {
            if (const ast::Expr* e = args.take("momentum", 1)) o.momentum = constant(*e);
        } else {
            if (const ast::Expr* e = args.take("beta1", 1)) o.beta1 = constant(*e);
            if (const ast::Expr* e = args.take("beta2", 2)) o.beta2 = constant(*e);
            if (const ast::Expr* e = args.take("eps", 3)) o.eps = constant(*e);
        }
        args.finish();
    } else if (key == "batch") {
        net_.batch = positive_integer(s.value, "the batch size");
    } else if (key == "epochs") {
        net_.epochs = positive_integer(s.value, "the number of epochs");
    } else if (key == "seed") {
        double seed = constant(s.value);
        if (seed < 0 || seed != std::floor(seed))
            throw CompileError(ast::offset_of(s.value), "the seed must be an integer >= 0");
        net_.seed = static_cast<std::uint64_t>(seed);
    } else if (key == "train_data") {
        net_.train_data = data_source(s.value);
    } else if (key == "test_data") {
        net_.test_data = data_source(s.value);
    }
}

int Lowering::expression(const ast::Expr& expr) {
    const ast::Expr& e = unwrap(expr);
    if (const auto* number = boost::get<ast::Number>(&e))
        return constant_tensor(std::stod(number->text));
    if (const auto* name = boost::get<ast::Name>(&e)) {
        auto found = names_.find(name->name);
        if (found == names_.end())
            throw CompileError(name->offset, "unknown name `" + name->name + "`");
        return found->second;
    }
    if (const auto* text = boost::get<ast::String>(&e))
        throw CompileError(text->offset, "a string is not a tensor");
    if (const auto* list = boost::get<x3::forward_ast<ast::List>>(&e))
        throw CompileError(list->get().offset, "a list is only allowed as a param's initial value");
    if (const auto* unary = boost::get<x3::forward_ast<ast::Unary>>(&e)) {
        int operand = expression(unary->get().operand);
        if (unary->get().op == "+") return operand;
        return map(*find_scalar_function("-", 1), {operand}, unary->get().offset, "`-`");
    }
    if (const auto* b = boost::get<x3::forward_ast<ast::Binary>>(&e)) return binary(b->get());
    return call(boost::get<x3::forward_ast<ast::Call>>(e).get());
}

int Lowering::binary(const ast::Binary& b) {
    int value = expression(b.first);
    for (const ast::Operation& op : b.rest) {
        if (op.op == "^") {
            const ast::Expr& exponent = unwrap(op.operand);
            if (boost::get<ast::Number>(&exponent) ||
                boost::get<x3::forward_ast<ast::Unary>>(&exponent)) {
                value = map(power_function(constant(exponent)), {value}, op.offset, "`^`");
                continue;
            }
        }
        value = operation(op.op, value, expression(op.operand), op.offset);
    }
    return value;
}

int Lowering::operation(const std::string& op, int left, int right, std::size_t offset) {
    if (op == "@") return matmul(left, right, offset);
    if (op == "^") return map(*find_scalar_function("pow", 2), {left, right}, offset, "`^`");
    return map(*find_scalar_function(op, 2), {left, right}, offset, "`" + op + "`");
}

int Lowering::map(const ScalarFunction& fn, const std::vector<int>& args, std::size_t offset,
                  const std::string& what) {
    Dims dims;
    bool batched = false, needs_gradient = false;
    int shaped = -1;
    for (int arg : args) {
        const Tensor& t = at(arg);
        batched |= t.batched;
        needs_gradient |= t.needs_gradient;
        if (t.classes)
            throw CompileError(offset,
                               "`" + t.name + "` is a class label: use it in cross_entropy or nll");
        if (t.dims.empty()) continue;
        if (shaped >= 0 && t.dims != dims)
            throw CompileError(offset, "shape mismatch in " + what + ": " + shape_text(dims) +
                                           " and " + shape_text(t.dims));
        shaped = arg;
        dims = t.dims;
    }
    int out = value(dims, batched, needs_gradient);
    Step step;
    step.kind = StepKind::Map;
    step.out = out;
    step.args = args;
    step.formula = fn.value;
    step.partials = fn.partials;
    step.offset = offset;
    graph_.forward.push_back(step);
    return out;
}

int Lowering::matmul(int left, int right, std::size_t offset) {
    const Tensor a = at(left), b = at(right); // copies: adding the result may move the tensors
    auto describe = [](const Tensor& t) {
        return (t.role == Role::Value ? std::string("") : "`" + t.name + "` ") + shape_text(t.dims);
    };
    if (a.dims.empty() || b.dims.empty() || a.dims.size() > 2 || b.dims.size() > 2)
        throw CompileError(offset, "`@` needs vectors or matrices, not " + describe(a) + " @ " +
                                       describe(b) + " (use `*` for scalars)");
    int k_left = a.dims.back(), k_right = b.dims.front();
    if (k_left != k_right)
        throw CompileError(offset, "shape mismatch in `@`: " + describe(a) + " @ " + describe(b) +
                                       " (inner sizes " + std::to_string(k_left) + " and " +
                                       std::to_string(k_right) + " differ)");
    Dims dims;
    if (a.dims.size() == 2) dims.push_back(a.dims[0]);
    if (b.dims.size() == 2) dims.push_back(b.dims[1]);
    int out = value(dims, a.batched || b.batched, a.needs_gradient || b.needs_gradient);
    Step step;
    step.kind = StepKind::Gemm;
    step.out = out;
    step.offset = offset;
    GemmShape& g = step.gemm;
    g.inner = k_left;
    if (b.dims.size() == 1 && b.batched && !a.batched) {
        // W @ x over a batch: the rows of X (samples) times W transposed.
        step.args = {right, left};
        g.rows = 1;
        g.rows_batched = true;
        g.cols = a.dims.size() == 2 ? a.dims[0] : 1;
        g.trans_b = true;
    } else {
        step.args = {left, right};
        g.rows = a.dims.size() == 2 ? a.dims[0] : 1;
        g.cols = b.dims.size() == 2 ? b.dims[1] : 1;
        g.per_sample = b.batched;
        g.rows_batched = a.batched && !b.batched;
    }
    graph_.forward.push_back(step);
    return out;
}

int Lowering::unary_step(StepKind kind, int arg, Dims dims, std::size_t offset) {
    int out = value(std::move(dims), at(arg).batched, at(arg).needs_gradient);
    Step step;
    step.kind = kind;
    step.out = out;
    step.args = {arg};
    step.offset = offset;
    graph_.forward.push_back(step);
    return out;
}

int Lowering::reshape(int x, Dims dims, std::size_t offset) {
    if (element_count(dims) != at(x).size())
        throw CompileError(offset, "cannot reshape " + shape_text(at(x).dims) + " to " +
                                       shape_text(dims) + ": the sizes differ");
    int out = map({"$0", {"1"}}, {x}, offset, "reshape");
    at(out).dims = std::move(dims);
    return out;
}

int Lowering::vector_operand(const ast::Expr& expr, const std::string& what) {
    int x = expression(expr);
    if (at(x).dims.size() != 1)
        throw CompileError(ast::offset_of(expr), what + " needs a vector, not " +
                                                     shape_text(at(x).dims) + " (use flatten)");
    return x;
}

int Lowering::activation(const std::string& name, int x, std::size_t offset) {
    if (name == "identity") return x;
    if (name == "softmax" || name == "log_softmax") {
        if (at(x).dims.size() != 1)
            throw CompileError(offset, name + " needs a vector, not " + shape_text(at(x).dims));
        return unary_step(name == "softmax" ? StepKind::Softmax : StepKind::LogSoftmax, x,
                          at(x).dims, offset);
    }
    if (name == "sigmoid" || name == "tanh" || name == "relu" || name == "softplus")
        return map(*find_scalar_function(name, 1), {x}, offset, name);
    throw CompileError(offset,
                       "unknown activation `" + name +
                           "` (expected sigmoid, tanh, relu, softplus, softmax or identity)");
}

int Lowering::dense(const ast::Call& c) {
    Arguments args(c);
    int x = vector_operand(args.require("x", 0), "dense");
    int units = positive_integer(args.require("units", 1), "the number of units");
    std::string act = "identity";
    std::size_t act_offset = c.offset;
    if (const ast::Expr* e = args.take("activation", 2)) {
        const ast::Name* name = as_name(*e);
        if (!name) throw CompileError(ast::offset_of(*e), "expected an activation name");
        act = name->name;
        act_offset = name->offset;
    }
    Dims w_dims = {units, at(x).dims[0]};
    ParamInit w_init;
    w_init.kind = act == "relu" ? ParamInit::Kind::He : ParamInit::Kind::Xavier;
    w_init.fan_in = w_dims[1];
    w_init.fan_out = w_dims[0];
    if (const ast::Expr* e = args.take("init", 3)) w_init = initialiser(*e, w_dims);
    args.finish();
    std::string layer = binding_.empty() ? "dense" : binding_;
    if (++layers_in_binding_ > 1) layer += std::to_string(layers_in_binding_);
    ParamInit b_init;
    b_init.kind = ParamInit::Kind::Zeros;
    int w = add_param(layer + ".W", w_dims, w_init, c.offset);
    int b = add_param(layer + ".b", {units}, b_init, c.offset);
    int z = map(*find_scalar_function("+", 2), {matmul(w, x, c.offset), b}, c.offset, "dense");
    return activation(act, z, act_offset);
}

int Lowering::dropout(const ast::Call& c) {
    Arguments args(c);
    int x = expression(args.require("x", 0));
    const ast::Expr& p = args.require("p", 1);
    double rate = constant(p);
    if (rate < 0 || rate >= 1)
        throw CompileError(ast::offset_of(p), "the dropout probability must be in [0, 1)");
    args.finish();
    Tensor mask;
    mask.name = "mask";
    mask.dims = at(x).dims;
    mask.batched = true;
    mask.role = Role::Scratch;
    int m = add_tensor(std::move(mask));
    int out = value(at(x).dims, true, at(x).needs_gradient);
    Step step;
    step.kind = StepKind::Dropout;
    step.out = out;
    step.args = {x, m};
    step.rate = static_cast<float>(rate);
    step.offset = c.offset;
    graph_.forward.push_back(step);
    return out;
}

// The second operand of cross_entropy/nll: a class label, or a tensor shaped like `z`.
int Lowering::label_or_target(int z, int target, std::size_t offset, const std::string& what) {
    const Tensor& t = at(target);
    if (t.classes) {
        if (t.classes != at(z).size())
            throw CompileError(offset, what + ": " + shape_text(at(z).dims) + " scores for " +
                                           std::to_string(t.classes) + " classes");
        return target;
    }
    if (t.dims != at(z).dims)
        throw CompileError(offset, what + ": shape mismatch, " + shape_text(at(z).dims) + " and " +
                                       shape_text(t.dims));
    return target;
}

int Lowering::loss_function(const ast::Call& c) {
    Arguments args(c);
    const std::string& f = c.function;
    int first = expression(args.require(f == "cross_entropy" ? "logits" : "pred", 0));
    int second = expression(args.require("target", 1));
    args.finish();
    auto add = [&](const std::string& op, int l, int r) {
        return map(*find_scalar_function(op, 2), {l, r}, c.offset, f);
    };
    if (f == "cross_entropy" || f == "nll") {
        if (at(first).dims.size() != 1)
            throw CompileError(c.offset,
                               f + " needs a vector of scores, not " + shape_text(at(first).dims));
        int target = label_or_target(first, second, c.offset, f);
        if (f == "nll" && !at(target).classes) // -<y, log p>
            return map({"-$0", {"-1"}},
                       {unary_step(StepKind::Sum, add("*", target, first), {}, c.offset)}, c.offset,
                       f);
        int out = value({}, true, at(first).needs_gradient);
        Step step;
        step.kind = f == "nll" ? StepKind::Nll : StepKind::CrossEntropy;
        step.out = out;
        step.args = {first, target};
        if (f == "cross_entropy") { // softmax(z), kept for the backward pass
            Tensor probs;
            probs.name = at(first).name + "_softmax";
            probs.dims = at(first).dims;
            probs.batched = true;
            probs.role = Role::Scratch;
            step.args.push_back(add_tensor(std::move(probs)));
        }
        step.offset = c.offset;
        graph_.forward.push_back(step);
        return out;
    }
    if (at(first).dims != at(second).dims && !at(first).dims.empty() && !at(second).dims.empty())
        throw CompileError(c.offset, f + ": shape mismatch, " + shape_text(at(first).dims) +
                                         " and " + shape_text(at(second).dims));
    if (f == "mse") {
        int diff = add("-", first, second);
        int squares = map(power_function(2), {diff}, c.offset, f);
        int total = unary_step(StepKind::Sum, squares, {}, c.offset);
        return add("*", total, constant_tensor(1.0 / at(squares).size()));
    }
    if (f == "kl") { // sum p log(p / q), with 0 log 0 = 0
        ScalarFunction term{"($0 > 0 ? $0 * std::log($0 / $1) : Scalar(0))",
                            {"($0 > 0 ? std::log($0 / $1) + 1 : Scalar(0))", "-$0 / $1"}};
        return unary_step(StepKind::Sum, map(term, {first, second}, c.offset, f), {}, c.offset);
    }
    // hinge: the perceptron criterion max(0, -y * score), summed
    ScalarFunction term{"std::max(Scalar(0), -$1 * $0)",
                        {"(-$1 * $0 > 0 ? -$1 : Scalar(0))", "(-$1 * $0 > 0 ? -$0 : Scalar(0))"}};
    return unary_step(StepKind::Sum, map(term, {first, second}, c.offset, f), {}, c.offset);
}

int Lowering::call(const ast::Call& c) {
    const std::string& f = c.function;
    std::size_t n = c.args.size();
    bool positional = std::all_of(c.args.begin(), c.args.end(),
                                  [](const ast::Argument& a) { return a.name.empty(); });
    if (f == "conv2d" || f == "conv1d" || f == "maxpool2d" || f == "avgpool2d")
        throw CompileError(c.offset, "`" + f + "` is not supported yet");
    if (f == "dense") return dense(c);
    if (f == "dropout") return dropout(c);
    if (f == "mse" || f == "cross_entropy" || f == "nll" || f == "kl" || f == "hinge")
        return loss_function(c);
    auto only = [&](std::size_t count) {
        if (n != count || !positional)
            throw CompileError(c.offset, "`" + f + "` takes " + std::to_string(count) +
                                             (count == 1 ? " argument" : " arguments"));
    };
    if (f == "sum" || f == "mean" || (f == "max" && n == 1)) {
        only(1);
        int x = expression(c.args[0].value);
        if (f == "max") return unary_step(StepKind::Max, x, {}, c.offset);
        int total = unary_step(StepKind::Sum, x, {}, c.offset);
        if (f == "sum") return total;
        return map(*find_scalar_function("*", 2), {total, constant_tensor(1.0 / at(x).size())},
                   c.offset, f);
    }
    if (f == "dot") {
        only(2);
        int u = vector_operand(c.args[0].value, f), v = vector_operand(c.args[1].value, f);
        int product = map(*find_scalar_function("*", 2), {u, v}, c.offset, f);
        return unary_step(StepKind::Sum, product, {}, c.offset);
    }
    if (f == "softmax" || f == "log_softmax" || f == "identity") {
        only(1);
        return activation(f, expression(c.args[0].value), c.offset);
    }
    if (f == "flatten") {
        only(1);
        int x = expression(c.args[0].value);
        return reshape(x, {at(x).size()}, c.offset);
    }
    if (f == "reshape") {
        if (n < 2 || !positional) throw CompileError(c.offset, "expected reshape(x, d0, d1, ...)");
        int x = expression(c.args[0].value);
        std::vector<ast::Expr> dims;
        for (std::size_t i = 1; i < n; ++i)
            dims.push_back(c.args[i].value);
        return reshape(x, dims_of(dims), c.offset);
    }
    if (!positional) throw CompileError(c.offset, "`" + f + "` takes no named arguments");
    auto fn = find_scalar_function(f, n);
    if (!fn)
        throw CompileError(c.offset, "unknown function `" + f + "` with " + std::to_string(n) +
                                         (n == 1 ? " argument" : " arguments"));
    std::vector<int> args;
    for (const ast::Argument& a : c.args)
        args.push_back(expression(a.value));
    return map(*fn, args, c.offset, "`" + f + "`");
}

void Lowering::lower(const ast::Network& network) {
    net_.name = cpp_identifier(network.name.name);
    for (const ast::Statement& statement : network.statements) {
        if (const auto* d = boost::get<ast::Declaration>(&statement)) {
            declare(*d);
        } else if (const auto* b = boost::get<ast::Binding>(&statement)) {
            const std::string& name = b->name.name;
            if (names_.count(name))
                throw CompileError(b->name.offset, "`" + name + "` is already defined");
            binding_ = name;
            layers_in_binding_ = 0;
            const int first_new = static_cast<int>(graph_.tensors.size());
            int id = expression(b->value);
            binding_.clear();
            if (id >= first_new &&
                at(id).role == Role::Value) { // name the result after the binding
                used_.erase(at(id).name);
                at(id).name = fresh(name);
            }
            names_[name] = id;
            if (!explicit_output_) net_.output = id;
        } else if (const auto* s = boost::get<ast::Setting>(&statement)) {
            setting(*s);
        } else {
            const auto& stop = boost::get<ast::StopWhen>(statement);
            if (stop.metric.name != "loss")
                throw CompileError(stop.metric.offset, "expected `stop_when loss < NUMBER`");
            net_.stop_below = constant(stop.threshold);
        }
    }
    if (net_.inputs.empty()) throw CompileError(network.name.offset, "the network has no input");
    if (net_.loss < 0) throw CompileError(network.name.offset, "the network has no loss");
    if (net_.output < 0) throw CompileError(network.name.offset, "the network has no output");
}

// `A @ B + c` (a dense layer, or written out) becomes `out = c; out += A @ B` when the product has
// no other use: the product accumulates onto the bias, so that each of its sums starts from the
// bias (gemm_nt) instead of waiting for the product to add it, no pass of its own adds it, and the
// adjoint of `out` is the product's without a copy. The product's tensor is left unused.
void fuse_bias(Network& net) {
    Graph& g = net.graph;
    std::vector<int> uses(g.tensors.size(), 0);
    for (const Step& s : g.forward)
        for (int a : s.args)
            ++uses[static_cast<std::size_t>(a)];
    for (std::size_t k = 0; k + 1 < g.forward.size(); ++k) {
        Step product = g.forward[k], sum = g.forward[k + 1];
        const int p = product.out;
        if (product.kind != StepKind::Gemm || product.accumulate || sum.kind != StepKind::Map ||
            sum.formula != "$0 + $1" || (sum.args[0] == p) == (sum.args[1] == p) ||
            uses[static_cast<std::size_t>(p)] != 1 || p == net.output || p == net.loss)
            continue;
        const int bias = sum.args[0] == p ? sum.args[1] : sum.args[0];
        const Tensor &out = g.tensors[static_cast<std::size_t>(sum.out)],
                     &t = g.tensors[static_cast<std::size_t>(p)];
        if (out.dims != t.dims || out.batched != t.batched) continue;
        sum.formula = "$0";
        sum.args = {bias};
        sum.partials = {"1"};
        product.out = sum.out;
        product.accumulate = true;
        g.forward[k] = sum;
        g.forward[k + 1] = product;
    }
}

} // namespace

Network lower_network(const net_ast::Network& ast) {
    Network net;
    Lowering(net).lower(ast);
    fuse_bias(net);
    return net;
}

} // namespace gradc::net
