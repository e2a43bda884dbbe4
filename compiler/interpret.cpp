#include "compiler/interpret.hpp"

#include <stdexcept>

namespace gradc {

std::vector<double> interpret(const Graph& graph, const std::vector<double>& inputs) {
    std::vector<double> values(graph.size());
    for (NodeId i = 0; i < graph.size(); ++i) {
        const Node& n = graph[i];
        auto arg = [&](int k) {
            return k < info(n.op).arity ? values[n.args[static_cast<std::size_t>(k)]] : 0.0;
        };
        switch (n.op) {
        case Op::Const:
            values[i] = n.value();
            break;
        case Op::Input:
            if (n.args[0] >= inputs.size()) throw std::logic_error("interpret: missing input");
            values[i] = inputs[n.args[0]];
            break;
        default:
            values[i] = evaluate(n.op, arg(0), arg(1), arg(2));
            break;
        }
    }
    return values;
}

} // namespace gradc

namespace gradc {

namespace {

// f_hessian as a loop of f_hvp sweeps (Kernel::column_sweep): the sweeps the emitted loop makes,
// and what it keeps of them: hv[j] of sweep i, j >= i, into row and column i; the value and the
// gradient from the last sweep.
KernelResult run_column_sweeps(const Kernel& hessian,
                               const std::vector<std::vector<double>>& inputs) {
    const Kernel& hvp = *hessian.column_sweep;
    const std::size_t first = hessian.function->params.size(); // grad, hess; dir, grad, hv
    const std::size_t n = hessian.params[first].size;
    std::vector<std::vector<double>> sweep_inputs(
        inputs.begin(), inputs.begin() + static_cast<std::ptrdiff_t>(first));
    sweep_inputs.resize(hvp.params.size());
    std::vector<double>& dir = sweep_inputs[first];
    dir.assign(n, 0.0);
    KernelResult result;
    result.outputs.resize(hessian.params.size());
    std::vector<double>& hess = result.outputs[first + 1];
    hess.assign(n * n, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
        dir[i] = 1.0;
        KernelResult sweep = run_kernel(hvp, sweep_inputs);
        dir[i] = 0.0;
        const std::vector<double>& hv = sweep.outputs[first + 2];
        for (std::size_t j = i; j < n; ++j)
            hess[i * n + j] = hess[j * n + i] = hv[j];
        result.value = sweep.value;
        result.outputs[first] = std::move(sweep.outputs[first + 1]);
    }
    return result;
}

} // namespace

KernelResult run_kernel(const Kernel& kernel, const std::vector<std::vector<double>>& inputs) {
    if (kernel.column_sweep) return run_column_sweeps(kernel, inputs);
    std::vector<double> slots;
    for (const Kernel::Element& e : kernel.slots)
        slots.push_back(inputs.at(e.param).at(e.index));
    const std::vector<double> values = interpret(kernel.graph, slots);
    KernelResult result;
    result.outputs.resize(kernel.params.size());
    for (std::size_t p = 0; p < kernel.params.size(); ++p)
        if (kernel.params[p].output) result.outputs[p].assign(kernel.params[p].size, 0.0);
    const double scale = kernel.gradient_kernel.empty()
                             ? 1.0
                             : inputs.at(kernel.function->params.size()).at(0); // the seed
    for (const Kernel::Store& s : kernel.stores) {
        double& target = result.outputs[s.target.param][s.target.index];
        const double v = s.value == no_node ? 0.0 : scale * values[s.value];
        target = s.add ? target + v : v;
    }
    if (kernel.returns_value) result.value = values[kernel.returned];
    return result;
}

} // namespace gradc
