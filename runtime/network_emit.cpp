#include "runtime/network_emit.hpp"

#include "runtime/elementwise.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <set>

namespace gradc::net {

extern const char* const net_kernels_source; // runtime/include/gradc/net_kernels.hpp
extern const char* const net_train_source;   // runtime/include/gradc/net_train.hpp
extern const char* const scalar_math_source; // runtime/include/gradc/scalar_math.hpp

namespace {

std::string number(double value) {
    char text[64];
    std::snprintf(text, sizeof text, "%.17g", value);
    std::string out = text;
    if (out.find_first_of(".en") == std::string::npos) out += ".0";
    return "Scalar(" + out + ")";
}

std::string base_name(const std::string& path) {
    std::size_t slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

class Emitter {
  public:
    Emitter(const Network& net, int loss_bar, const SourceFile& source, const EmitOptions& options)
        : net_(net), graph_(net.graph), loss_bar_(loss_bar), source_(source), options_(options) {
        // Small networks run one sample at a time: every loop bound is then a constant and the
        // compiler makes straight-line code of them. Larger ones batch up to 256 samples.
        tile_ = net.num_params <= 512 ? 1 : net.batch ? std::min(net.batch, 256) : 64;
        for (int t : net.targets)
            if (tensor(t).classes) label_ = t;
        // Accuracy compares argmaxes: those of softmax(z) are those of z, which training computes.
        scores_ = net.output;
        for (const Step& s : graph_.forward)
            if (s.out == net.output &&
                (s.kind == StepKind::Softmax || s.kind == StepKind::LogSoftmax))
                scores_ = s.args[0];
        for (const std::vector<Step>* steps : {&graph_.forward, &graph_.backward})
            for (const Step& s : *steps) {
                stepped_.insert(s.out);
                stepped_.insert(s.args.begin(), s.args.end());
            }
    }

    std::string header();

  private:
    const Tensor& tensor(int id) const { return graph_.tensors[static_cast<std::size_t>(id)]; }
    bool stored(const Tensor& t) const {
        return t.role != Role::Param && t.role != Role::Constant &&
               !(t.role == Role::Adjoint && t.param_offset >= 0);
    }
    std::string where(std::size_t offset) const;
    std::string sample_count() const { // the loops' `n`: a constant when tiles are single samples
        return tile_ == 1 ? "        constexpr int n = 1;\n        (void)count;\n"
                          : "        const int n = count;\n";
    }
    std::string element(int id, const std::string& sample, const std::string& index) const;
    std::string pointer(int id, const std::string& sample) const;
    std::set<int> needed(const std::vector<int>& roots) const;

    void step(std::string& out, const Step& s, const std::string& indent);
    void map(std::string& out, const Step& s, const std::string& indent);
    void gemm(std::string& out, const Step& s, const std::string& indent);
    void vector_op(std::string& out, const Step& s, const std::string& indent);
    std::string forward_function(const std::string& name, const std::set<int>& wanted,
                                 bool training);
    std::string backward_function();
    std::string sample_function();
    std::string init_function();
    std::string training_functions();
    std::string state();
    std::string main_function();

    const Network& net_;
    const Graph& graph_;
    int loss_bar_;
    const SourceFile& source_;
    const EmitOptions& options_;
    int tile_;
    int label_ = -1;
    int scores_ = -1;       // what count_correct takes the argmax of
    std::set<int> stepped_; // tensors that some step reads or writes (fusion leaves others unused)
    bool local_ = false; // tensors are the fused sample step's locals (v_name), not State members
};

std::string Emitter::where(std::size_t offset) const {
    LineColumn at = source_.locate(offset);
    std::string line(source_.line_text(at.line));
    line.erase(0, line.find_first_not_of(" \t"));
    return fmt::format("{}:{}: {}", base_name(source_.path()), at.line, line);
}

// The element of tensor `id` for sample `sample` ("" when the loop has no samples) at `index`.
std::string Emitter::element(int id, const std::string& sample, const std::string& index) const {
    const Tensor& t = tensor(id);
    if (t.role == Role::Constant) return t.literal;
    std::string at = t.size() == 1 ? "" : index;
    if (t.batched && !sample.empty())
        at = t.size() == 1 ? sample : fmt::format("{} * {} + {}", sample, t.size(), at);
    if (at.empty()) at = "0";
    if (t.role == Role::Param) return fmt::format("s.theta[{} + {}]", t.param_offset, at);
    if (t.role == Role::Adjoint && t.param_offset >= 0)
        return fmt::format("{}[{} + {}]", local_ ? "grad" : "s.grad", t.param_offset, at);
    return fmt::format("{}{}[{}]", local_ ? "v_" : "s.", t.name, at);
}

std::string Emitter::pointer(int id, const std::string& sample) const {
    const Tensor& t = tensor(id);
    std::string base = t.role == Role::Param ? fmt::format("s.theta + {}", t.param_offset)
                       : t.role == Role::Adjoint && t.param_offset >= 0
                           ? fmt::format("{} + {}", local_ ? "grad" : "s.grad", t.param_offset)
                           : (local_ ? "v_" : "s.") + t.name;
    if (t.batched && !sample.empty()) base += fmt::format(" + {} * {}", sample, t.size());
    return base;
}

std::set<int> Emitter::needed(const std::vector<int>& roots) const {
    std::set<int> wanted(roots.begin(), roots.end());
    for (auto s = graph_.forward.rbegin(); s != graph_.forward.rend(); ++s)
        if (wanted.count(s->out)) wanted.insert(s->args.begin(), s->args.end());
    return wanted;
}

void Emitter::map(std::string& out, const Step& s, const std::string& indent) {
    const Tensor& space = tensor(s.space >= 0 ? s.space : s.out);
    std::string sample = space.batched ? "b" : "";
    std::string index = space.size() == 1 ? "" : "i";
    std::vector<std::string> args;
    for (int a : s.args)
        args.push_back(element(a, sample, index));
    std::string body = fmt::format("{} {} {};", element(s.out, sample, index),
                                   s.accumulate ? "+=" : "=", substitute(s.formula, args));
    std::string in = indent;
    if (space.batched) {
        out += in + "for (int b = 0; b < n; ++b)\n";
        in += "    ";
    }
    if (space.size() > 1) {
        out += fmt::format("{}for (int i = 0; i < {}; ++i)\n", in, space.size());
        in += "    ";
    }
    out += in + body + "\n";
}

void Emitter::gemm(std::string& out, const Step& s, const std::string& indent) {
    const GemmShape& g = s.gemm;
    int a = s.args[0], b = s.args[1];
    std::string sample = g.per_sample ? "b" : "";
    std::string rows = g.rows_batched ? (g.rows == 1 ? "n" : fmt::format("n * {}", g.rows))
                                      : std::to_string(g.rows);
    std::string inner = g.inner_batched ? (g.inner == 1 ? "n" : fmt::format("n * {}", g.inner))
                                        : std::to_string(g.inner);
    std::string strides = g.trans_a ? "1, " + rows : inner + ", 1";
    std::string in = indent;
    if (g.per_sample) {
        out += in + "for (int b = 0; b < n; ++b) {\n";
        in += "    ";
    }
    if (g.trans_b) // B stored (cols x inner): dot products of rows, A is never transposed here
        out += fmt::format("{}gradc_rt::gemm_nt<{}, {}>({}, {}, {}, {}, {});\n", in, g.inner,
                           g.cols, rows, pointer(a, sample), pointer(b, sample),
                           pointer(s.out, sample), s.accumulate ? "true" : "false");
    else
        out += fmt::format("{}gradc_rt::gemm<{}>({}, {}, {}, {}, {}, {}, {});\n", in, g.cols, rows,
                           inner, pointer(a, sample), strides, pointer(b, sample),
                           pointer(s.out, sample), s.accumulate ? "true" : "false");
    if (g.per_sample) out += indent + "}\n";
}

// Steps that work on a whole vector per sample.
void Emitter::vector_op(std::string& out, const Step& s, const std::string& indent) {
    const Tensor& x = tensor(s.args[0]);
    const bool batched = tensor(s.out).batched || x.batched;
    std::string in = indent;
    std::string sample = batched ? "b" : "";
    out += in + (batched ? "for (int b = 0; b < n; ++b) {\n" : "{\n");
    in += "    ";
    auto at = [&](int id, const std::string& index) { return element(id, sample, index); };
    const int size = std::max(x.size(), tensor(s.out).size()); // the vector's length
    const std::string op = s.accumulate ? "+=" : "=";
    auto loop = [&](const std::string& body) {
        out += fmt::format("{}for (int i = 0; i < {}; ++i) {}\n", in, size, body);
    };
    auto find_max = [&](int id) {
        out += fmt::format("{}Scalar m = {};\n", in, at(id, "0"));
        loop(fmt::format("m = std::max(m, {});", at(id, "i")));
    };
    auto sum_exp = [&](int id) { // e = sum exp(x - m)
        out += in + "Scalar e = 0;\n";
        loop(fmt::format("e += std::exp({} - m);", at(id, "i")));
    };
    std::string label =
        label_ >= 0 ? fmt::format("static_cast<int>({})", element(label_, sample, "0")) : "";
    switch (s.kind) {
    case StepKind::Sum:
        out += in + "Scalar total = 0;\n";
        loop(fmt::format("total += {};", at(s.args[0], "i")));
        out += fmt::format("{}{} {} total;\n", in, at(s.out, "0"), op);
        break;
    case StepKind::Max:
        find_max(s.args[0]);
        out += fmt::format("{}{} {} m;\n", in, at(s.out, "0"), op);
        break;
    case StepKind::MaxVjp:
        out += in + "int k = 0;\n";
        loop(fmt::format("if ({} > {}) k = i;", at(s.args[0], "i"), at(s.args[0], "k")));
        out += fmt::format("{}{} += {};\n", in, at(s.out, "k"), at(s.args[1], "0"));
        break;
    case StepKind::Softmax:
        find_max(s.args[0]);
        out += in + "Scalar e = 0;\n";
        loop(fmt::format("e += ({} = std::exp({} - m));", at(s.out, "i"), at(s.args[0], "i")));
        loop(fmt::format("{} /= e;", at(s.out, "i")));
        break;
    case StepKind::LogSoftmax:
        find_max(s.args[0]);
        sum_exp(s.args[0]);
        out += in + "const Scalar lse = m + std::log(e);\n";
        loop(fmt::format("{} = {} - lse;", at(s.out, "i"), at(s.args[0], "i")));
        break;
    case StepKind::SoftmaxVjp: // args g, y
        out += in + "Scalar gy = 0;\n";
        loop(fmt::format("gy += {} * {};", at(s.args[0], "i"), at(s.args[1], "i")));
        loop(fmt::format("{} {} {} * ({} - gy);", at(s.out, "i"), op, at(s.args[1], "i"),
                         at(s.args[0], "i")));
        break;
    case StepKind::LogSoftmaxVjp: // args g, y
        out += in + "Scalar sg = 0;\n";
        loop(fmt::format("sg += {};", at(s.args[0], "i")));
        loop(fmt::format("{} {} {} - std::exp({}) * sg;", at(s.out, "i"), op, at(s.args[0], "i"),
                         at(s.args[1], "i")));
        break;
    case StepKind::CrossEntropy: // args z, label or y, p = softmax(z)
        find_max(s.args[0]);
        out += in + "Scalar e = 0;\n";
        loop(fmt::format("e += ({} = std::exp({} - m));", at(s.args[2], "i"), at(s.args[0], "i")));
        out += in + "const Scalar lse = m + std::log(e);\n";
        loop(fmt::format("{} /= e;", at(s.args[2], "i")));
        if (tensor(s.args[1]).classes) {
            out += fmt::format("{}{} = lse - {};\n", in, at(s.out, "0"), at(s.args[0], label));
        } else {
            out += in + "Scalar yz = 0, ys = 0;\n";
            loop(
                fmt::format("yz += {0} * {1}, ys += {0};", at(s.args[1], "i"), at(s.args[0], "i")));
            out += fmt::format("{}{} = lse * ys - yz;\n", in, at(s.out, "0"));
        }
        break;
    case StepKind::CrossEntropyVjp: // args g, p = softmax(z), label or y
        if (tensor(s.args[2]).classes) {
            loop(fmt::format("{} {} {} * {};", at(s.out, "i"), op, at(s.args[0], "0"),
                             at(s.args[1], "i")));
            out += fmt::format("{}{} -= {};\n", in, at(s.out, label), at(s.args[0], "0"));
        } else {
            out += in + "Scalar ys = 0;\n";
            loop(fmt::format("ys += {};", at(s.args[2], "i")));
            loop(fmt::format("{} {} {} * (ys * {} - {});", at(s.out, "i"), op, at(s.args[0], "0"),
                             at(s.args[1], "i"), at(s.args[2], "i")));
        }
        break;
    case StepKind::Nll: // args logp, label
        out += fmt::format("{}{} = -{};\n", in, at(s.out, "0"), at(s.args[0], label));
        break;
    case StepKind::NllVjp: // args g, label
        out += fmt::format("{}{} -= {};\n", in, at(s.out, label), at(s.args[0], "0"));
        break;
    default:
        break;
    }
    out += indent + "}\n";
}

void Emitter::step(std::string& out, const Step& s, const std::string& indent) {
    const Tensor& result = tensor(s.out);
    out += fmt::format("{}// {}{}\n", indent, result.name, s.accumulate ? " +=" : "");
    switch (s.kind) {
    case StepKind::Map:
        map(out, s, indent);
        break;
    case StepKind::Gemm:
        gemm(out, s, indent);
        break;
    case StepKind::Dropout: {
        const Tensor& x = tensor(s.args[0]);
        std::string keep = number(1.0 / (1.0 - static_cast<double>(s.rate)));
        const std::string mask = pointer(s.args[1], ""), in = pointer(s.args[0], "");
        out += fmt::format("{}for (int k = 0; k < n * {}; ++k) {{\n", indent, x.size());
        out += fmt::format("{}    ({})[k] = !training ? Scalar(1) : s.random.uniform() < {} ? "
                           "Scalar(0) : {};\n",
                           indent, mask, static_cast<double>(s.rate), keep);
        out += fmt::format("{}    ({})[k] = ({})[k] * ({})[k];\n", indent, pointer(s.out, ""), in,
                           mask);
        out += indent + "}\n";
        break;
    }
    default:
        vector_op(out, s, indent);
    }
}

std::string Emitter::forward_function(const std::string& name, const std::set<int>& wanted,
                                      bool training) {
    std::string body, last;
    for (const Step& s : graph_.forward) {
        if (!wanted.count(s.out)) continue;
        if (where(s.offset) != last) body += "        // " + where(s.offset) + "\n";
        last = where(s.offset);
        step(body, s, "        ");
    }
    const bool dropout = body.find("training") != std::string::npos;
    std::string out = fmt::format("    void {}(int count{}) {{\n        State& s = *state_;\n{}",
                                  name, training ? ", bool training" : "", sample_count());
    if (dropout && !training) out += "        constexpr bool training = false; // no dropout\n";
    if (!dropout && training) out += "        (void)training;\n";
    return out + body + "    }\n";
}

std::string Emitter::backward_function() {
    std::string out =
        "    // Reverse-mode adjoints (x_bar = dLoss/dx) of the tile's first n samples,\n"
        "    // accumulated into the gradient; each sample's loss has weight `seed`.\n"
        "    void backward(int count, Scalar seed) {\n        State& s = *state_;\n" +
        sample_count();
    out += fmt::format("        std::fill_n(s.{}, n, seed);\n", tensor(loss_bar_).name);
    std::string last;
    for (const Step& s : graph_.backward) {
        if (where(s.offset) != last) out += "        // " + where(s.offset) + "\n";
        last = where(s.offset);
        step(out, s, "        ");
    }
    return out + "    }\n";
}

// Networks that run one sample per tile train through one function per sample: the forward pass,
// the loss, the accuracy count and the backward pass with every intermediate tensor a local array.
// Fixed-size locals that never escape become registers, so no intermediate is stored to memory,
// and the consecutive elementwise steps (bias, activation, their adjoints) fuse into straight-line
// code. The arithmetic, and its order, is that of forward_train and backward.
std::string Emitter::sample_function() {
    local_ = true;
    std::string body, last;
    for (const Step& s : graph_.forward) {
        if (!needed({net_.loss, scores_}).count(s.out)) continue;
        if (where(s.offset) != last) body += "        // " + where(s.offset) + "\n";
        last = where(s.offset);
        step(body, s, "        ");
    }
    const Tensor& output = tensor(net_.output);
    if (label_ >= 0 && output.size() == tensor(label_).classes) {
        body += fmt::format("        {{\n            int best = 0;\n"
                            "            for (int i = 1; i < {}; ++i)\n"
                            "                if ({} > {}) best = i;\n"
                            "            correct_ += best == static_cast<int>({});\n        }}\n",
                            output.size(), element(scores_, "", "i"), element(scores_, "", "best"),
                            element(label_, "", "0"));
    }
    body += fmt::format("        {}[0] = seed;\n", pointer(loss_bar_, ""));
    last.clear();
    for (const Step& s : graph_.backward) {
        if (where(s.offset) != last) body += "        // " + where(s.offset) + "\n";
        last = where(s.offset);
        step(body, s, "        ");
    }
    body += fmt::format("        return {};\n    }}\n", element(net_.loss, "", "0"));

    std::string out =
        "    // One sample (tile 1): forward pass, loss, accuracy count and backward pass, with\n"
        "    // every intermediate a local; adds the gradient of `seed` times the sample's\n"
        "    // loss to grad and returns the loss.\n"
        "    __attribute__((always_inline)) Scalar train_sample(const Scalar* x, const Scalar* "
        "targets,\n"
        "                                                       Scalar seed, Scalar* __restrict "
        "grad) {\n"
        "        State& s = *state_;\n        constexpr int n = 1;\n";
    if (body.find("training") != std::string::npos)
        out += "        constexpr bool training = true;\n";
    auto used = [&](const std::string& name) { // v_name occurs in the body as a whole word
        const std::string word = "v_" + name;
        for (std::size_t at = body.find(word); at != std::string::npos;
             at = body.find(word, at + 1)) {
            const char next = at + word.size() < body.size() ? body[at + word.size()] : ' ';
            const char before = at > 0 ? body[at - 1] : ' ';
            if (!std::isalnum(static_cast<unsigned char>(next)) && next != '_' &&
                !std::isalnum(static_cast<unsigned char>(before)) && before != '_')
                return true;
        }
        return false;
    };
    for (const Tensor& t : graph_.tensors)
        if (stored(t) && (t.role == Role::Input || t.role == Role::Target || used(t.name)))
            out += fmt::format("        Scalar v_{0}[{1}] = {{}};\n        (void)v_{0};\n", t.name,
                               t.classes ? 1 : t.size()); // some adjoints are never read
    int offset = 0;
    for (int id : net_.inputs) {
        out += fmt::format("        std::copy_n(x + {}, {}, v_{});\n", offset, tensor(id).size(),
                           tensor(id).name);
        offset += tensor(id).size();
    }
    offset = 0;
    for (int id : net_.targets) {
        const int size = tensor(id).classes ? 1 : tensor(id).size();
        out += fmt::format("        std::copy_n(targets + {}, {}, v_{});\n", offset, size,
                           tensor(id).name);
        offset += size;
    }
    local_ = false;
    out += body;
    out += R"(
    // The mean loss over `count` samples (plus regularisation) and its gradient, into grad.
    // Inlined (like train_sample) so that a small gradient stays in registers. The gradient
    // starts at -0, the identity of +, so that the compiler drops the first sample's additions
    // (0 + v is +0 where v is -0, so it cannot drop those).
    __attribute__((always_inline)) Scalar batch_gradient(const Scalar* x, const Scalar* targets,
                                                         int count, Scalar* __restrict grad) {
        std::fill_n(grad, num_params, Scalar(-0.0));
        correct_ = 0;
        if (count == 1) // what the loop below computes for one sample, without the double sum
            return train_sample(x, targets, Scalar(1), grad) + regularize(grad);
        double total = 0;
        const Scalar seed = Scalar(1) / Scalar(count);
        for (int start = 0; start < count; ++start)
            total += train_sample(x + static_cast<std::size_t>(start) * input_size,
                                  targets + static_cast<std::size_t>(start) * target_size, seed,
                                  grad);
        return Scalar(total / count) + regularize(grad);
    }
)";
    return out;
}

std::string Emitter::init_function() {
    std::string out = "    // Fresh parameters drawn from `seed`; optimizer state cleared.\n"
                      "    void init(unsigned long long seed) {\n        State& s = *state_;\n"
                      "        gradc_rt::Random random(seed);\n";
    for (std::size_t k = 0; k < net_.params.size(); ++k) {
        const Tensor& t = tensor(net_.params[k]);
        const ParamInit& init = net_.inits[k];
        std::string at = fmt::format("s.theta[{} + i]", t.param_offset);
        std::string loop = fmt::format("        for (int i = 0; i < {}; ++i) ", t.size());
        switch (init.kind) {
        case ParamInit::Kind::Literal: {
            out += fmt::format("        static const Scalar {}_init[{}] = {{", t.name, t.size());
            for (std::size_t i = 0; i < init.values.size(); ++i)
                out += (i ? ", " : "") + number(init.values[i]);
            out += "};\n" + loop + fmt::format("{} = {}_init[i];\n", at, t.name);
            break;
        }
        case ParamInit::Kind::Zeros:
            out += loop + at + " = Scalar(0);\n";
            break;
        case ParamInit::Kind::Uniform:
            out += loop + fmt::format("{} = Scalar({} + {} * random.uniform());\n", at, init.a,
                                      init.b - init.a);
            break;
        case ParamInit::Kind::Normal:
            out +=
                loop + fmt::format("{} = Scalar({} + {} * random.normal());\n", at, init.a, init.b);
            break;
        case ParamInit::Kind::Xavier: {
            double limit = std::sqrt(6.0 / (init.fan_in + init.fan_out));
            out += loop + fmt::format("{} = Scalar({} * (2 * random.uniform() - 1)); // xavier\n",
                                      at, limit);
            break;
        }
        case ParamInit::Kind::He:
            out += loop + fmt::format("{} = Scalar({} * random.normal()); // he\n", at,
                                      std::sqrt(2.0 / init.fan_in));
            break;
        }
    }
    out += "        std::fill_n(s.grad, num_params, Scalar(0));\n"
           "        std::fill_n(s.moment1, num_params, Scalar(0));\n"
           "        std::fill_n(s.moment2, num_params, Scalar(0));\n"
           "        s.steps = 0;\n"
           "        s.random = gradc_rt::Random(seed ^ 0x5eedull);\n    }\n";
    return out;
}

std::string Emitter::training_functions() {
    std::string out;
    // Loading a tile.
    out += "    void load(const Scalar* x, const Scalar* targets, int n) {\n"
           "        State& s = *state_;\n        for (int b = 0; b < n; ++b) {\n";
    int offset = 0;
    for (int id : net_.inputs) {
        out += fmt::format("            std::copy_n(x + b * input_size + {}, {}, s.{} + b * {});\n",
                           offset, tensor(id).size(), tensor(id).name, tensor(id).size());
        offset += tensor(id).size();
    }
    out += "            if (!targets) continue;\n";
    offset = 0;
    for (int id : net_.targets) {
        int size = tensor(id).classes ? 1 : tensor(id).size();
        out += fmt::format(
            "            std::copy_n(targets + b * target_size + {}, {}, s.{} + b * {});\n", offset,
            size, tensor(id).name, size);
        offset += size;
    }
    out += "        }\n    }\n\n";

    // Regularisation.
    out += "    // The regularisation term of the loss; adds its gradient to grad.\n"
           "    Scalar regularize(Scalar* grad) {\n";
    if (net_.l2 == 0) {
        out += "        (void)grad;\n        return Scalar(0);\n    }\n\n";
    } else {
        out += "        State& s = *state_;\n        Scalar sum = 0;\n";
        for (int id : net_.params) {
            const Tensor& t = tensor(id);
            if (!net_.l2_biases && t.dims.size() <= 1) continue;
            out += fmt::format("        for (int i = {0}; i < {1}; ++i) {{\n"
                               "            sum += s.theta[i] * s.theta[i];\n"
                               "            grad[i] += {2} * s.theta[i];\n        }}\n",
                               t.param_offset, t.param_offset + t.size(), number(2 * net_.l2));
        }
        out += fmt::format("        return {} * sum;\n    }}\n\n", number(net_.l2));
    }

    // Counting correct classifications.
    out += "    int count_correct(int n) const {\n";
    const Tensor& output = tensor(net_.output);
    if (label_ >= 0 && output.size() == tensor(label_).classes) {
        out += "        const State& s = *state_;\n        int correct = 0;\n"
               "        for (int b = 0; b < n; ++b) {\n            int best = 0;\n";
        out +=
            fmt::format("            for (int i = 1; i < {}; ++i)\n"
                        "                if ({} > {}) best = i;\n",
                        output.size(), element(scores_, "b", "i"), element(scores_, "b", "best"));
        out += fmt::format("            correct += best == static_cast<int>({});\n        }}\n"
                           "        return correct;\n    }}\n\n",
                           element(label_, "b", "0"));
    } else {
        out += "        (void)n;\n        return 0;\n    }\n\n";
    }

    // The optimizer step.
    const Optimizer& o = net_.optimizer;
    out +=
        "    void update(const Scalar* grad) {\n        State& s = *state_;\n        ++s.steps;\n";
    if (o.kind == "adam") {
        out += fmt::format(
            "        const Scalar c1 = Scalar(1) / (Scalar(1) - std::pow({0}, Scalar(s.steps)));\n"
            "        const Scalar c2 = Scalar(1) / (Scalar(1) - std::pow({1}, Scalar(s.steps)));\n"
            "        for (int i = 0; i < num_params; ++i) {{\n"
            "            const Scalar g = grad[i];\n"
            "            s.moment1[i] = {0} * s.moment1[i] + (1 - {0}) * g;\n"
            "            s.moment2[i] = {1} * s.moment2[i] + (1 - {1}) * g * g;\n"
            "            s.theta[i] -= {2} * (s.moment1[i] * c1) / (std::sqrt(s.moment2[i] * c2) + "
            "{3});\n"
            "        }}\n",
            number(o.beta1), number(o.beta2), number(o.lr), number(o.eps));
    } else if (o.momentum != 0) {
        out += fmt::format("        for (int i = 0; i < num_params; ++i) {{\n"
                           "            s.moment1[i] = {} * s.moment1[i] + grad[i];\n"
                           "            s.theta[i] -= {} * s.moment1[i];\n        }}\n",
                           number(o.momentum), number(o.lr));
    } else {
        out += fmt::format(
            "        for (int i = 0; i < num_params; ++i) s.theta[i] -= {} * grad[i];\n",
            number(o.lr));
    }
    out += "    }\n";
    return out;
}

std::string Emitter::state() {
    std::string out =
        "    struct State {\n"
        "        alignas(64) Scalar theta[num_params]; // the parameters, flat\n"
        "        alignas(64) Scalar grad[num_params];  // dLoss/dtheta of the last batch\n"
        "        alignas(64) Scalar moment1[num_params]; // optimizer state\n"
        "        alignas(64) Scalar moment2[num_params];\n"
        "        long steps = 0;\n"
        "        gradc_rt::Random random;\n";
    for (std::size_t id = 0; id < graph_.tensors.size(); ++id) {
        const Tensor& t = graph_.tensors[id];
        if (!stored(t) || (t.role == Role::Value && !stepped_.count(static_cast<int>(id))))
            continue;
        int rows = t.batched ? tile_ : 1;
        int size = t.classes ? 1 : t.size();
        out += fmt::format("        alignas(64) Scalar {}[{}];{}\n", t.name, rows * size,
                           t.batched ? fmt::format(" // {} x {}", tile_, shape_text(t.dims)) : "");
    }
    return out + "    };\n";
}

std::string Emitter::header() {
    const Tensor& output = tensor(net_.output);
    int input_size = 0, target_size = 0;
    for (int id : net_.inputs)
        input_size += tensor(id).size();
    for (int id : net_.targets)
        target_size += tensor(id).classes ? 1 : tensor(id).size();
    std::vector<int> roots = {net_.loss, scores_};
    std::string predict = forward_function("forward_predict", needed({net_.output}), false);
    std::string train = forward_function("forward_train", needed(roots), true);
    std::string backward = backward_function();
    if (tile_ == 1) backward += "\n" + sample_function();
    std::string ns = options_.name_space.empty() ? net_.name : options_.name_space;

    std::string out = fmt::format(
        "// Generated by gradc from {} (--type {}{}): do not edit.\n"
        "// Network `{}`: forward pass, backward pass (reverse-mode adjoints derived by gradc "
        "from\n"
        "// the forward graph) and optimizer update, with every size fixed at compile time.\n"
        "{}"
        "#include <algorithm>\n#include <cmath>\n#include <cstddef>\n#include <fstream>\n"
        "#include <memory>\n#include <string>\n\n",
        base_name(source_.path()), options_.scalar_type, options_.with_main ? ", --main" : "",
        net_.name, options_.with_main ? "" : "#pragma once\n\n");
    out += "#ifndef GRADC_SCALAR_MATH\n#define GRADC_SCALAR_MATH\n";
    out += scalar_math_source;
    out += "#endif\n\n";
    out += net_kernels_source;
    out += fmt::format("\nnamespace {} {{\n\nusing Scalar = {};\n", ns, options_.scalar_type);
    out += fmt::format(
        "constexpr int input_size = {};  // per sample, inputs in declaration order\n"
        "constexpr int target_size = {}; // per sample (a class label counts 1)\n"
        "constexpr int output_size = {};\n"
        "constexpr int num_classes = {}; // 0: not a classifier\n"
        "constexpr int num_params = {};\n"
        "constexpr int batch_size = {};  // 0: the whole data set\n"
        "constexpr int tile = {};        // samples per pass through the loops\n"
        "constexpr int epochs = {};\n"
        "constexpr unsigned long long seed = {};\n\n",
        input_size, target_size, output.size(), label_ >= 0 ? tensor(label_).classes : 0,
        net_.num_params, net_.batch, tile_, net_.epochs, net_.seed);
    out += "// Parameters in theta (and their gradients in grad):";
    for (std::size_t k = 0; k < net_.params.size(); ++k) {
        const Tensor& t = tensor(net_.params[k]);
        out += fmt::format("\n//   {} {} at [{}, {})", net_.param_names[k], shape_text(t.dims),
                           t.param_offset, t.param_offset + t.size());
    }
    out += "\n\nclass Model {\n  public:\n";
    for (const char* size :
         {"input_size", "target_size", "output_size", "num_classes", "num_params"})
        out += fmt::format("    static constexpr int {0} = {1}::{0};\n", size, ns);
    out += "\n    Model() : state_(new State()) { init(seed); }\n\n";
    out += init_function();
    out += R"(
    Scalar* parameters() { return state_->theta; }
    const Scalar* parameters() const { return state_->theta; }

    // out[output_size] for one sample x[input_size] (dropout inactive).
    void predict(const Scalar* x, Scalar* out) { predict_batch(x, 1, out); }

    void predict_batch(const Scalar* x, int count, Scalar* out) {
        for (int start = 0; start < count; start += tile) {
            const int n = std::min(tile, count - start);
            load(x + static_cast<std::size_t>(start) * input_size, nullptr, n);
            forward_predict(n);
)";
    out += fmt::format("            std::copy_n(state_->{}, n * output_size, out + "
                       "static_cast<std::size_t>(start) * output_size);\n",
                       output.name);
    out += R"(        }
    }

    // The mean loss over `count` samples (plus regularisation) and its gradient, without update;
    // grad[num_params] may be null.
    Scalar gradient(const Scalar* x, const Scalar* targets, int count, Scalar* grad = nullptr) {
        State& s = *state_;
)";
    if (tile_ == 1) {
        out += R"(        const Scalar loss = batch_gradient(x, targets, count, s.grad);
)";
    } else {
        out += R"(        std::fill_n(s.grad, num_params, Scalar(0));
        double total = 0;
        correct_ = 0;
        for (int start = 0; start < count; start += tile) {
            const int n = std::min(tile, count - start);
            load(x + static_cast<std::size_t>(start) * input_size,
                 targets + static_cast<std::size_t>(start) * target_size, n);
            forward_train(n, true);
)";
        out += fmt::format("            for (int b = 0; b < n; ++b) total += s.{}[b];\n",
                           tensor(net_.loss).name);
        out += R"(            correct_ += count_correct(n);
            backward(n, Scalar(1) / Scalar(count));
        }
        const Scalar loss = Scalar(total / count) + regularize(s.grad);
)";
    }
    out += R"(        if (grad) std::copy_n(s.grad, num_params, grad);
        return loss;
    }

    // The mean loss over `count` samples (without regularisation or dropout), no gradient; sets
    // correct().
    Scalar evaluate(const Scalar* x, const Scalar* targets, int count) {
        double total = 0;
        correct_ = 0;
        for (int start = 0; start < count; start += tile) {
            const int n = std::min(tile, count - start);
            load(x + static_cast<std::size_t>(start) * input_size,
                 targets + static_cast<std::size_t>(start) * target_size, n);
            forward_train(n, false);
            for (int b = 0; b < n; ++b) total += state_->LOSS[b];
            correct_ += count_correct(n);
        }
        return Scalar(total / count);
    }

    // Restarts the random numbers of dropout (for reproducible gradient checks).
    void reseed(unsigned long long seed) { state_->random = gradc_rt::Random(seed); }

    // One optimizer step on a batch: forward, backward, update. Returns the batch's mean loss,
    // computed before the update.
)";
    // A network of at most 16 parameters (td1's nine) keeps them scalars: GCC would pack its
    // scalar gradients into one vector for the update (several shuffles) and the next step's
    // forward pass would extract the lanes again, which costs more than the few subtractions it
    // saves. GCC cannot switch that off for inlined code only, so train_batch gets the attribute
    // (and is then not inlined into its caller); larger networks (xor's 42 parameters, even with
    // SGD) are faster with the vectorised update. Clang does not know the attribute.
    if (tile_ == 1 && net_.num_params <= 16)
        out += "#if defined(__GNUC__) && !defined(__clang__)\n"
               "    __attribute__((optimize(\"no-tree-vectorize\")))\n"
               "#endif\n";
    out += "    Scalar train_batch(const Scalar* x, const Scalar* targets, int count) {\n";
    if (tile_ == 1) // the gradient stays in registers up to the update; s.grad gets a copy
        out += R"(        alignas(64) Scalar g[num_params];
        const Scalar loss = batch_gradient(x, targets, count, g);
        update(g);
        std::copy_n(g, num_params, state_->grad);
        return loss;
    }
)";
    else
        out += R"(        const Scalar loss = gradient(x, targets, count);
        update(state_->grad);
        return loss;
    }
)";
    out += R"(
    // Correct classifications in the last gradient/train_batch call (0 if not a classifier).
    int correct() const { return correct_; }

    bool save(const std::string& path) const {
        std::ofstream file(path);
        file.precision(17);
)";
    out += fmt::format("        file << \"gradc-net {} \" << num_params << \"\\n\";\n", net_.name);
    out += R"(        for (int i = 0; i < num_params; ++i) file << state_->theta[i] << "\n";
        return static_cast<bool>(file);
    }

    bool load(const std::string& path) {
        std::ifstream file(path);
        std::string magic, name;
        long count = 0;
)";
    out += fmt::format(
        "        if (!(file >> magic >> name >> count) || magic != \"gradc-net\" || "
        "name != \"{}\" ||\n            count != num_params)\n            return false;\n",
        net_.name);
    out += R"(        for (int i = 0; i < num_params; ++i) {
            double value;
            if (!(file >> value)) return false;
            state_->theta[i] = Scalar(value);
        }
        return true;
    }

  private:
)";
    std::string body = training_functions();
    out += state() + "\n" + predict + "\n" + train + "\n" + backward + "\n" + body;
    out += "\n    std::unique_ptr<State> state_;\n    int correct_ = 0;\n};\n\n";
    const std::string placeholder = "state_->LOSS[";
    out.replace(out.find(placeholder), placeholder.size(),
                "state_->" + tensor(net_.loss).name + "[");
    out += fmt::format("}} // namespace {}\n", ns);
    if (options_.with_main) out += main_function();
    return out;
}

std::string Emitter::main_function() {
    std::string ns = options_.name_space.empty() ? net_.name : options_.name_space;
    std::string out = "\n// The training program (--main).\n#include <cstdio>\n#include <zlib.h>\n";
    out += net_train_source;
    auto source = [&](const std::optional<DataSource>& data) {
        if (!data) return std::string("{}");
        std::string paths;
        for (const std::string& p : data->paths)
            paths += (paths.empty() ? "\"" : ", \"") + p + "\"";
        return fmt::format("{{\"{}\", {{{}}}}}", data->format, paths);
    };
    out += fmt::format("\nint main(int argc, char** argv) {{\n"
                       "    gradc_rt::TrainSettings settings;\n"
                       "    settings.network = \"{}\";\n"
                       "    settings.epochs = {}::epochs;\n"
                       "    settings.batch = {}::batch_size;\n"
                       "    settings.seed = {}::seed;\n"
                       "    settings.stop_below = {};\n"
                       "    settings.train = {};\n"
                       "    settings.test = {};\n"
                       "    return gradc_rt::train_main<{}::Model>(argc, argv, settings);\n}}\n",
                       net_.name, ns, ns, ns,
                       net_.stop_below ? fmt::format("{}", *net_.stop_below) : "-1.0",
                       source(net_.train_data), source(net_.test_data), ns);
    return out;
}

} // namespace

std::string emit_network(const Network& net, int loss_adjoint, const SourceFile& source,
                         const EmitOptions& options) {
    return Emitter(net, loss_adjoint, source, options).header();
}

} // namespace gradc::net
