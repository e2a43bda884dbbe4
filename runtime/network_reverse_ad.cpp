#include "runtime/network_reverse_ad.hpp"

#include "runtime/elementwise.hpp"

#include <map>
#include <set>

namespace gradc::net {

namespace {

class ReverseAd {
  public:
    explicit ReverseAd(Graph& graph) : graph_(graph) {}

    int adjoint(int id) {
        auto found = adjoints_.find(id);
        if (found != adjoints_.end()) return found->second;
        Tensor bar = graph_.tensors[static_cast<std::size_t>(id)];
        bar.name += "_bar";
        bar.role = Role::Adjoint;
        if (graph_.tensors[static_cast<std::size_t>(id)].role != Role::Param) bar.param_offset = -1;
        int bar_id = graph_.add(std::move(bar));
        adjoints_[id] = bar_id;
        return bar_id;
    }

    bool has_adjoint(int id) const { return adjoints_.count(id) != 0; }
    bool wanted(int id) const {
        return graph_.tensors[static_cast<std::size_t>(id)].needs_gradient;
    }

    const Tensor& tensor(int id) const { return graph_.tensors[static_cast<std::size_t>(id)]; }

    // The first contribution to an adjoint assigns when it writes every element (so that no
    // zeroing is needed), else the adjoint is zeroed first; later ones accumulate. Parameter
    // adjoints always accumulate: the emitter zeroes the gradient once per batch.
    void add(Step step, bool writes_all) {
        step.accumulate = true;
        if (tensor(step.out).param_offset < 0 && written_.insert(step.out).second) {
            if (writes_all) {
                step.accumulate = false;
            } else {
                Step zero;
                zero.out = step.out;
                zero.formula = "Scalar(0)";
                zero.offset = step.offset;
                graph_.backward.push_back(std::move(zero));
            }
        }
        graph_.backward.push_back(std::move(step));
    }

    void emit(StepKind kind, int out, std::vector<int> args, std::size_t offset) {
        Step step;
        step.kind = kind;
        step.out = out;
        step.args = std::move(args);
        step.offset = offset;
        add(std::move(step), kind != StepKind::MaxVjp && kind != StepKind::NllVjp);
    }

    void emit_map(int out, std::string formula, std::vector<int> args, int space,
                  std::size_t offset) {
        Step step;
        step.kind = StepKind::Map;
        step.out = out;
        step.args = std::move(args);
        step.formula = std::move(formula);
        step.space = space;
        step.offset = offset;
        add(std::move(step), tensor(out).size() == tensor(space).size() &&
                                 tensor(out).batched == tensor(space).batched);
    }

    void emit_gemm(int out, int a, int b, GemmShape shape, std::size_t offset) {
        Step step;
        step.kind = StepKind::Gemm;
        step.out = out;
        step.args = {a, b};
        step.gemm = shape;
        step.offset = offset;
        add(std::move(step), !(shape.per_sample && !tensor(out).batched));
    }

    // The vector-Jacobian product of one forward step, given the adjoint g of its output.
    void vjp(const Step& s, int g) {
        const std::vector<int>& x = s.args;
        switch (s.kind) {
        case StepKind::Map: {
            // x_k bar += g * d f / d x_k, with $0 = g, $1.. = the operands, $(m+1) = the result
            std::vector<std::string> names;
            for (std::size_t k = 0; k < x.size(); ++k)
                names.push_back("$" + std::to_string(k + 1));
            std::vector<int> args = {g};
            args.insert(args.end(), x.begin(), x.end());
            args.push_back(s.out);
            std::string result = "$" + std::to_string(x.size() + 1);
            for (std::size_t k = 0; k < x.size(); ++k) {
                if (!wanted(x[k]) || s.partials[k].empty()) continue;
                std::string partial = substitute(s.partials[k], names, result);
                std::string formula = partial == "1"    ? "$0"
                                      : partial == "-1" ? "-$0"
                                                        : "$0 * (" + partial + ")";
                // x^2 doubles g instead of x (the same value unless 2 x overflows): squares sit
                // next to the loss, where g is the seed times constants (for a batch of one a
                // constant, and g + g folds) while x waits for the forward pass.
                if (s.partials[k] == "2 * $0") formula = "($0 + $0) * $1";
                emit_map(adjoint(x[k]), formula, args, s.out, s.offset);
            }
            break;
        }
        case StepKind::Gemm: {
            // C = op(A) op(B): A bar += G op(B)^T, B bar += op(A)^T G (stored as op says)
            const GemmShape& f = s.gemm;
            int a = x[0], b = x[1];
            if (wanted(a)) {
                GemmShape d = f;
                d.inner = f.cols;
                d.cols = f.inner;
                d.trans_a = false;
                d.trans_b = !f.trans_b;
                emit_gemm(adjoint(a), g, b, d, s.offset);
            }
            if (wanted(b)) {
                GemmShape d = f;
                d.rows_batched = false;
                d.inner_batched = f.rows_batched;
                if (!f.trans_b) { // B bar (inner x cols) += op(A)^T G
                    d.rows = f.inner;
                    d.inner = f.rows;
                    d.cols = f.cols;
                    d.trans_a = !f.trans_a;
                    d.trans_b = false;
                    emit_gemm(adjoint(b), a, g, d, s.offset);
                } else { // B bar (cols x inner) += G^T op(A)
                    d.rows = f.cols;
                    d.inner = f.rows;
                    d.cols = f.inner;
                    d.trans_a = true;
                    d.trans_b = f.trans_a;
                    emit_gemm(adjoint(b), g, a, d, s.offset);
                }
            }
            break;
        }
        case StepKind::Sum:
            if (wanted(x[0])) emit_map(adjoint(x[0]), "$0", {g}, x[0], s.offset);
            break;
        case StepKind::Max:
            if (wanted(x[0])) emit(StepKind::MaxVjp, adjoint(x[0]), {x[0], g}, s.offset);
            break;
        case StepKind::Softmax:
            if (wanted(x[0])) emit(StepKind::SoftmaxVjp, adjoint(x[0]), {g, s.out}, s.offset);
            break;
        case StepKind::LogSoftmax:
            if (wanted(x[0])) emit(StepKind::LogSoftmaxVjp, adjoint(x[0]), {g, s.out}, s.offset);
            break;
        case StepKind::CrossEntropy:
            if (wanted(x[0]))
                emit(StepKind::CrossEntropyVjp, adjoint(x[0]), {g, x[2], x[1]}, s.offset);
            break;
        case StepKind::Nll:
            if (wanted(x[0])) emit(StepKind::NllVjp, adjoint(x[0]), {g, x[1]}, s.offset);
            break;
        case StepKind::Dropout:
            if (wanted(x[0])) emit_map(adjoint(x[0]), "$0 * $1", {g, x[1]}, s.out, s.offset);
            break;
        default:
            break; // backward-only kinds never appear in the forward program
        }
    }

    void seeded(int adjoint) { written_.insert(adjoint); }

  private:
    Graph& graph_;
    std::map<int, int> adjoints_;
    std::set<int> written_; // adjoints that have had their first contribution
};

} // namespace

int reverse_ad(Graph& graph, int loss) {
    ReverseAd ad(graph);
    int seed = ad.adjoint(loss);
    ad.seeded(seed);
    const std::vector<Step> forward = graph.forward;
    for (auto step = forward.rbegin(); step != forward.rend(); ++step)
        if (ad.has_adjoint(step->out)) ad.vjp(*step, ad.adjoint(step->out));
    return seed;
}

} // namespace gradc::net
