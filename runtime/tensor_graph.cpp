#include "runtime/tensor_graph.hpp"

namespace gradc::net {

int element_count(const Dims& dims) {
    int count = 1;
    for (int d : dims)
        count *= d;
    return count;
}

std::string shape_text(const Dims& dims) {
    if (dims.empty()) return "a scalar";
    std::string text = "[";
    for (std::size_t i = 0; i < dims.size(); ++i)
        text += (i ? ", " : "") + std::to_string(dims[i]);
    return text + "]";
}

int Graph::add(Tensor tensor) {
    tensors.push_back(std::move(tensor));
    return static_cast<int>(tensors.size()) - 1;
}

} // namespace gradc::net
