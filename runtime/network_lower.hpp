#pragma once
// Network lowering: the `.net` AST → a Network, i.e. the forward tensor program (static shapes,
// every name resolved, layers expanded into their parameters and primitive steps) plus the training
// settings. Guarantees that every shape agrees; any problem is a CompileError at its source offset.
// A product followed by `+` (a dense layer's bias) is lowered as `out = bias; out += product`.

#include "grammar/network_ast.hpp"
#include "runtime/tensor_graph.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gradc::net {

struct ParamInit {
    enum class Kind { Literal, Zeros, Uniform, Normal, Xavier, He } kind = Kind::Xavier;
    std::vector<double> values; // Literal, row-major
    double a = 0, b = 0;        // Uniform(a, b), Normal(mean a, std b)
    int fan_in = 1, fan_out = 1;
};

struct DataSource {
    std::string format;             // "csv" or "idx"
    std::vector<std::string> paths; // as written, relative to the .net file
};

struct Optimizer {
    std::string kind = "sgd"; // "sgd" or "adam"
    double lr = 0.01, momentum = 0, beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
};

struct Network {
    std::string name;
    Graph graph;
    std::vector<int> inputs, targets, params; // tensor ids, in declaration order
    std::vector<ParamInit> inits;             // one per param
    std::vector<std::string> param_names;     // as written: `W1`, `hidden.W`
    int output = -1;                          // `output`, else the last binding
    int loss = -1;                            // a batched scalar: the loss of each sample
    int num_params = 0;
    double l2 = 0;
    bool l2_biases = true;
    Optimizer optimizer;
    int batch = 0; // 0: the whole data set
    int epochs = 1;
    std::uint64_t seed = 0;
    std::optional<double> stop_below;
    std::optional<DataSource> train_data, test_data;
};

Network lower_network(const net_ast::Network& ast);

} // namespace gradc::net
