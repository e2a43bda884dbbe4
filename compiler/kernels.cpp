#include "compiler/kernels.hpp"

#include <algorithm>
#include <limits>
#include <optional>

#include "compiler/fold_signs.hpp"
#include "compiler/forward_ad.hpp"
#include "compiler/reverse_ad.hpp"

namespace gradc {

namespace {

// The unrolled f_hessian is abandoned, for a loop of f_hvp sweeps, once its graph has more nodes
// than the larger of hessian_nodes and hessian_hvp_multiple times f_hvp's graph. Measured:
// - below 200 000 nodes gradc builds it in under 0.2 s, and g++ -O2 compiles it in at most about
//   20 s where it does not re-roll into loops (softmax regression 10 x 20, 135k nodes: 10.5 s;
//   64 inputs, 164k nodes of written-out expressions: 17 s; softmax regression 10 x 50, 815k
//   nodes: 72 s and 1 GB); it runs 2 to 15 times faster than the loop of sweeps;
// - a sparse or banded Hessian unrolls to 0.6 to 2.1 times f_hvp's graph whatever n (Rosenbrock
//   0.84, terms of 7 neighbours 2.1), a dense one to about n / 6 times: allowing 4 times, a large
//   function with a sparse Hessian keeps the unrolled form.
constexpr std::size_t hessian_nodes = 200000, hessian_hvp_multiple = 4;

std::size_t hessian_budget(std::size_t hvp_nodes) {
    return std::max(hessian_nodes, hessian_hvp_multiple * hvp_nodes);
}

// `base`, followed by as many `_` as make it the name of none of `params`.
std::string unused_name(const std::vector<KernelParam>& params, std::string base) {
    auto taken = [&](const std::string& name) {
        return std::any_of(params.begin(), params.end(),
                           [&](const KernelParam& p) { return p.name == name; });
    };
    while (taken(base))
        base += "_";
    return base;
}

// Builds one kernel: starts from the primal parameters and graph, then adds parameters and stores.
class KernelBuilder {
  public:
    // `graph`: the function's graph (shared until the kernel adds nodes).
    KernelBuilder(const Function& fn, Graph graph, std::string suffix, std::string summary) {
        k_.name = fn.name + suffix;
        k_.summary = std::move(summary);
        k_.function = &fn;
        k_.graph = std::move(graph);
        k_.graph.set_node_limit(std::numeric_limits<std::size_t>::max());
        for (const Parameter& p : fn.params) {
            const std::size_t param = k_.params.size();
            k_.params.push_back({p.name, p.size(), p.dims.empty(), false});
            for (std::size_t i = 0; i < p.size(); ++i)
                k_.slots.push_back(element(param, i));
        }
    }

    Graph& graph() { return k_.graph; }

    // A new parameter named after `base` (made distinct from the user's names); for an input,
    // returns the Input node of each of its elements.
    std::pair<std::size_t, std::vector<NodeId>> add_param(const std::string& base, std::size_t size,
                                                          bool scalar, bool output) {
        const std::string name = unused_name(k_.params, base);
        if (size > std::numeric_limits<std::uint32_t>::max())
            throw UsageError(k_.name + ": " + name + " would hold " + std::to_string(size) +
                             " elements; a parameter of gradc holds fewer than 2^32");
        const std::size_t param = k_.params.size();
        k_.params.push_back({name, size, scalar, output});
        std::vector<NodeId> inputs;
        if (!output)
            for (std::size_t i = 0; i < size; ++i) {
                inputs.push_back(k_.graph.input(static_cast<std::uint32_t>(k_.slots.size())));
                k_.slots.push_back(element(param, i));
            }
        return {param, inputs};
    }

    // An output set to zero before the stores: a dense Jacobian or Hessian stores only its
    // nonzero elements.
    void zero_fill(std::size_t param) { k_.params[param].zeroed = true; }

    void store(std::size_t param, std::size_t index, NodeId value, bool add = false) {
        if (k_.stores.size() >= (std::size_t{1} << 31) - 1) // a Step holds a store's index
            throw UsageError("a function of gradc writes fewer than 2^31 elements");
        k_.stores.push_back({element(param, index), value, add});
    }
    void returns(NodeId value) {
        k_.returned = value;
        k_.returns_value = true;
    }
    // The kernel, its table freed and its lists trimmed: the memory serves its emission.
    Kernel finish() {
        fold_signs(k_);
        k_.graph.release_table();
        k_.stores.shrink_to_fit();
        k_.slots.shrink_to_fit();
        return std::move(k_);
    }
    Kernel finish_unfolded() { return std::move(k_); }

  private:
    static Kernel::Element element(std::size_t param, std::size_t index) {
        if (index > std::numeric_limits<std::uint32_t>::max())
            throw UsageError("a parameter of gradc holds fewer than 2^32 elements");
        return {static_cast<std::uint32_t>(param), static_cast<std::uint32_t>(index)};
    }

    Kernel k_;
};

class KernelSet {
  public:
    KernelSet(const Function& fn, Graph graph, const KernelOptions& options,
              const std::function<void(Kernel&&)>& sink)
        : fn_(fn), graph_(std::move(graph)), options_(options), sink_(sink) {
        std::vector<bool> chosen(fn.params.size(), options.wrt.empty());
        for (const std::string& name : options.wrt) {
            auto p = std::find_if(fn.params.begin(), fn.params.end(),
                                  [&](const Parameter& q) { return q.name == name; });
            if (p == fn.params.end())
                throw UsageError("--wrt: '" + fn.name + "' has no parameter '" + name + "'");
            chosen[static_cast<std::size_t>(p - fn.params.begin())] = true;
        }
        active_.assign(fn.input_count, false);
        for (std::size_t p = 0; p < fn.params.size(); ++p) {
            if (!chosen[p]) continue;
            wrt_params_.push_back(p);
            for (std::size_t i = 0; i < fn.params[p].size(); ++i) {
                diff_slots_.push_back(fn.params[p].first_slot + static_cast<std::uint32_t>(i));
                active_[diff_slots_.back()] = true;
            }
        }
    }

    void build() {
        graph_users_ = fn_.vector_valued ? options_.primal + options_.forward + options_.reverse +
                                               (options_.forward || options_.reverse)
                                         : options_.primal + options_.forward + options_.reverse +
                                               2 * options_.hessian;
        if (fn_.vector_valued) {
            if (options_.primal) primal();
            if (options_.forward) jvp();
            if (options_.reverse) vjp();
            if (options_.forward || options_.reverse) jacobian();
        } else {
            if (options_.primal) primal();
            if (options_.forward) jvp();
            if (options_.reverse) grad_and_vjp();
            if (options_.hessian) hessian_and_hvp();
        }
    }

  private:
    // The function's graph for the next kernel (of graph_users_, counted in build()). The last
    // takes it rather than share it: when it is the only copy, the kernel extends it in place.
    Graph next_graph() { return --graph_users_ == 0 ? std::move(graph_) : graph_; }

    std::size_t n() const { return diff_slots_.size(); }
    std::size_t m() const { return fn_.outputs.size(); }

    // The scalar function returns its value; a vector function writes `out`.
    void write_value(KernelBuilder& b) {
        if (!fn_.vector_valued) return b.returns(fn_.outputs[0]);
        const std::size_t out = b.add_param("out", m(), false, true).first;
        for (std::size_t k = 0; k < m(); ++k)
            b.store(out, k, fn_.outputs[k]);
    }

    // One derivative parameter per differentiated parameter (`x_dot`, `x_bar`), in order.
    std::vector<std::size_t> per_wrt_param(KernelBuilder& b, const char* suffix, bool output,
                                           std::vector<NodeId>* slot_nodes = nullptr) {
        std::vector<std::size_t> params;
        for (std::size_t p : wrt_params_) {
            const Parameter& q = fn_.params[p];
            auto [param, inputs] = b.add_param(q.name + suffix, q.size(), q.dims.empty(), output);
            params.push_back(param);
            if (slot_nodes)
                for (std::size_t i = 0; i < inputs.size(); ++i)
                    (*slot_nodes)[q.first_slot + i] = inputs[i];
        }
        return params;
    }

    // Stores the adjoints of the differentiated slots into the `_bar` parameters.
    void store_adjoints(KernelBuilder& b, const std::vector<std::size_t>& bars,
                        const std::vector<NodeId>& adjoints, bool add) {
        for (std::size_t w = 0; w < wrt_params_.size(); ++w) {
            const Parameter& q = fn_.params[wrt_params_[w]];
            for (std::size_t i = 0; i < q.size(); ++i) {
                const NodeId adjoint = adjoints[q.first_slot + i];
                if (!add || adjoint != no_node) b.store(bars[w], i, adjoint, add);
            }
        }
    }

    void primal() {
        KernelBuilder b(fn_, next_graph(), "", "the function");
        write_value(b);
        sink_(b.finish());
    }

    void jvp() {
        KernelBuilder b(fn_, next_graph(), "_jvp",
                        "forward mode: the directional derivative along the tangents");
        std::vector<NodeId> tangents(fn_.input_count, no_node);
        per_wrt_param(b, "_dot", false, &tangents);
        const std::vector<NodeId> out_dot = forward_ad(b.graph(), fn_.outputs, tangents);
        write_value(b);
        const std::size_t param = b.add_param("out_dot", m(), !fn_.vector_valued, true).first;
        for (std::size_t k = 0; k < m(); ++k)
            b.store(param, k, out_dot[k]);
        sink_(b.finish());
    }

    // A scalar function's f_vjp adds seed times f_grad's gradient: it is f_grad's graph and stores,
    // marked (Kernel::gradient_kernel) so that the interpreter multiplies each store by the seed
    // and the emitter writes a call of f_grad. The sweep is built, emitted and compiled once.
    void grad_and_vjp() {
        KernelBuilder b(fn_, next_graph(), "_grad",
                        "reverse mode: the value, and the gradient into the _bar arrays");
        const std::vector<std::size_t> bars = per_wrt_param(b, "_bar", true);
        const NodeId one = b.graph().constant(1.0);
        store_adjoints(b, bars, reverse_ad(b.graph(), fn_.outputs, {one}, active_), false);
        b.returns(fn_.outputs[0]);
        Kernel grad = b.finish();
        Kernel vjp = seeded(grad);
        sink_(std::move(grad));
        sink_(std::move(vjp));
    }

    // f_vjp of the scalar function whose f_grad is `grad`: the seed parameter after the
    // function's, the _bar parameters added into; no new nodes (the seed is no graph input).
    Kernel seeded(const Kernel& grad) {
        Kernel vjp;
        vjp.name = fn_.name + "_vjp";
        vjp.summary = "reverse mode: adds seed times the gradient into the _bar arrays";
        vjp.function = &fn_;
        vjp.graph = grad.graph;
        vjp.slots = grad.slots;
        vjp.gradient_kernel = grad.name;
        const std::string seed = unused_name(grad.params, "seed");
        const auto bars = grad.params.begin() + static_cast<std::ptrdiff_t>(fn_.params.size());
        vjp.params.assign(grad.params.begin(), bars);
        vjp.params.push_back({seed, 1, true, false});
        vjp.params.insert(vjp.params.end(), bars, grad.params.end());
        vjp.stores.reserve(grad.stores.size());
        for (const Kernel::Store& s : grad.stores) // a zero adds nothing
            if (s.value != no_node)
                vjp.stores.push_back({{s.target.param + 1, s.target.index}, s.value, true});
        return vjp;
    }

    // A vector function's g_vjp: one reverse sweep seeded with the seed vector.
    void vjp() {
        KernelBuilder b(fn_, next_graph(), "_vjp",
                        "reverse mode: adds seed times the gradient into the _bar arrays");
        const std::vector<NodeId> seeds = b.add_param("seed", m(), false, false).second;
        write_value(b);
        const std::vector<std::size_t> bars = per_wrt_param(b, "_bar", true);
        store_adjoints(b, bars, reverse_ad(b.graph(), fn_.outputs, seeds, active_), true);
        sink_(b.finish());
    }

    void jacobian() {
        KernelBuilder b(fn_, next_graph(), "_jacobian",
                        n() <= m() ? "the Jacobian, row-major, by forward sweeps"
                                   : "the Jacobian, row-major, by reverse sweeps");
        write_value(b);
        Graph& g = b.graph();
        const std::size_t jac = b.add_param("jac", m() * n(), false, true).first;
        b.zero_fill(jac);
        if (n() <= m()) {
            ForwardSweeps sweeps(g, fn_.outputs);
            for (std::size_t j = 0; j < n(); ++j) {
                const std::vector<NodeId> column = sweeps.sweep(g, diff_slots_[j], g.constant(1.0));
                for (std::size_t k = 0; k < m(); ++k)
                    if (column[k] != no_node) b.store(jac, k * n() + j, column[k]);
            }
        } else {
            ReverseSweeps sweeps(g, fn_.outputs, active_);
            for (std::size_t k = 0; k < m(); ++k) {
                const std::vector<NodeId> row = sweeps.sweep(g, k, g.constant(1.0));
                for (std::size_t j = 0; j < n(); ++j)
                    if (row[diff_slots_[j]] != no_node)
                        b.store(jac, k * n() + j, row[diff_slots_[j]]);
            }
        }
        sink_(b.finish());
    }

    // The gradient as a list over the differentiated slots, for the second-order kernels.
    std::vector<NodeId> gradient(Graph& g) {
        const std::vector<NodeId> adjoints = reverse_ad(g, fn_.outputs, {g.constant(1.0)}, active_);
        std::vector<NodeId> result;
        for (std::uint32_t slot : diff_slots_)
            result.push_back(adjoints[slot]);
        return result;
    }

    // f_hessian and f_hvp. Unrolled, f_hessian is one forward sweep over the gradient per input,
    // all in one graph: the fastest at run time, but each sweep adds the nodes that depend on its
    // input, so where every input reaches much of the graph (a dense Hessian of many inputs) the
    // graph grows to n times the gradient, past what gradc or a C++ compiler can handle. So the
    // sweeps are abandoned once the graph outgrows hessian_budget, and f_hessian becomes a loop of
    // f_hvp sweeps instead (Kernel::column_sweep), with f_hvp first in the header.
    void hessian_and_hvp() {
        Kernel hvp = hvp_kernel();
        if (std::optional<Kernel> hessian = unrolled_hessian(hessian_budget(hvp.graph.size()))) {
            sink_(std::move(*hessian));
            return sink_(std::move(hvp));
        }
        auto sweep = std::make_shared<const Kernel>(hvp); // the graph is shared, not copied
        sink_(std::move(hvp));
        sink_(hessian_by_sweeps(std::move(sweep)));
    }

    // The unrolled f_hessian, or nothing once its graph has more than `budget` nodes.
    std::optional<Kernel> unrolled_hessian(std::size_t budget) {
        KernelBuilder b(fn_, next_graph(), "_hessian",
                        "the value, gradient and dense Hessian (forward over reverse)");
        Graph& g = b.graph();
        const std::vector<NodeId> grad = gradient(g);
        const std::size_t grad_param = b.add_param("grad", n(), false, true).first;
        const std::size_t hess = b.add_param("hess", n() * n(), false, true).first;
        for (std::size_t i = 0; i < n(); ++i)
            b.store(grad_param, i, grad[i]);
        b.zero_fill(hess);
        ForwardSweeps sweeps(g, grad);
        for (std::size_t i = 0; i < n(); ++i) {
            const std::vector<NodeId> column = sweeps.sweep(g, diff_slots_[i], g.constant(1.0));
            if (g.size() > budget) return std::nullopt;
            for (std::size_t j = i; j < n();
                 ++j) { // the upper triangle, mirrored: exactly symmetric
                if (column[j] == no_node) continue;
                b.store(hess, i * n() + j, column[j]);
                if (j != i) b.store(hess, j * n() + i, column[j]);
            }
        }
        b.returns(fn_.outputs[0]);
        return b.finish();
    }

    // f_hessian as a loop of `sweep` (f_hvp) along each unit vector: only its value in the graph.
    Kernel hessian_by_sweeps(std::shared_ptr<const Kernel> sweep) {
        KernelBuilder b(fn_, sweep->graph, "_hessian",
                        "the value, gradient and dense Hessian (forward over reverse, a " +
                            sweep->name + " sweep per column)");
        b.add_param("grad", n(), false, true);
        b.add_param("hess", n() * n(), false, true);
        b.returns(fn_.outputs[0]);
        Kernel hessian = b.finish_unfolded(); // the graph is f_hvp's, never emitted
        hessian.column_sweep = std::move(sweep);
        return hessian;
    }

    Kernel hvp_kernel() {
        KernelBuilder b(fn_, next_graph(), "_hvp",
                        "the value, gradient and Hessian times dir (forward over reverse)");
        Graph& g = b.graph();
        const std::vector<NodeId> dir = b.add_param("dir", n(), false, false).second;
        std::vector<NodeId> tangents(fn_.input_count, no_node);
        for (std::size_t j = 0; j < n(); ++j)
            tangents[diff_slots_[j]] = dir[j];
        const std::vector<NodeId> grad = gradient(g);
        const std::vector<NodeId> hv = forward_ad(g, grad, tangents);
        const std::size_t grad_param = b.add_param("grad", n(), false, true).first;
        const std::size_t hv_param = b.add_param("hv", n(), false, true).first;
        for (std::size_t i = 0; i < n(); ++i) {
            b.store(grad_param, i, grad[i]);
            b.store(hv_param, i, hv[i]);
        }
        b.returns(fn_.outputs[0]);
        return b.finish();
    }

    const Function& fn_;
    Graph graph_;
    std::size_t graph_users_ = 0;
    const KernelOptions& options_;
    std::vector<std::size_t> wrt_params_;
    std::vector<std::uint32_t> diff_slots_;
    std::vector<bool> active_;
    const std::function<void(Kernel&&)>& sink_;
};

} // namespace

std::vector<NodeId> kernel_roots(const Kernel& kernel) {
    std::vector<NodeId> roots;
    for (const Kernel::Store& s : kernel.stores)
        roots.push_back(s.value);
    if (kernel.returns_value) roots.push_back(kernel.returned);
    return roots;
}

std::vector<Kernel> build_kernels(const Function& function, const KernelOptions& options) {
    std::vector<Kernel> kernels;
    for_each_kernel(function, options, [&](Kernel&& k) { kernels.push_back(std::move(k)); });
    return kernels;
}

void for_each_kernel(const Function& function, const KernelOptions& options,
                     const std::function<void(Kernel&&)>& sink) {
    KernelSet(function, function.graph, options, sink).build();
}

void for_each_kernel(Function&& function, const KernelOptions& options,
                     const std::function<void(Kernel&&)>& sink) {
    Graph graph = std::move(function.graph);
    KernelSet(function, std::move(graph), options, sink).build();
}

} // namespace gradc
