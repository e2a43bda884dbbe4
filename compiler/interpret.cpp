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

KernelResult run_kernel(const Kernel& kernel, const std::vector<std::vector<double>>& inputs) {
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
