#pragma once
// The tensor-level program of a network: tensors with static shapes (rank 0 to 3, per sample) and
// steps over them, in execution order. A batched tensor holds one value per sample of a tile of up
// to `tile` samples (stored sample-major); an unbatched one (a parameter, or anything computed from
// parameters and constants only) holds one value. Every step writes one tensor, either assigning
// or accumulating; the backward steps (from reverse_ad) are steps of the same kinds.

#include <cstddef>
#include <string>
#include <vector>

namespace gradc::net {

using Dims = std::vector<int>;
int element_count(const Dims& dims);
std::string shape_text(const Dims& dims); // "[2, 3]", or "a scalar"

enum class Role { Input, Target, Param, Constant, Value, Adjoint, Scratch };

struct Tensor {
    std::string name; // a C++ identifier, unique
    Dims dims;
    bool batched = false;
    Role role = Role::Value;
    std::string literal;  // Constant: the C++ text of its value (always a scalar)
    int param_offset = 0; // Param: index of its first element in the flat parameter vector
    int classes = 0;      // Target: the class count of `class(N)` labels (one number per sample)
    bool needs_gradient = false; // depends on a parameter, so the loss has an adjoint for it
    int size() const { return element_count(dims); }
};

enum class StepKind {
    Map,           // out[k] = formula($0 .. $m over args[k]): elementwise, scalars broadcast
    Gemm,          // out (rows x cols) = op(A) (rows x inner) * op(B) (inner x cols)
    Sum,           // out = sum of all elements of args[0]
    Max,           // out = largest element of args[0]
    MaxVjp,        // out[argmax args[0]] += args[1] (the adjoint of Max)
    Softmax,       // out = softmax(args[0]), a vector
    SoftmaxVjp,    // out += y * (g - <g, y>), args: g, y (the softmax)
    LogSoftmax,    // out = log_softmax(args[0])
    LogSoftmaxVjp, // out += g - exp(y) * sum(g), args: g, y
    CrossEntropy,  // out = logsumexp(z) - z[label] or -<y, log_softmax z>; args z, label or y, and
                   // p, where softmax(z) is left for the backward pass
    CrossEntropyVjp, // out += g * (p - onehot(label)) or g * (p * sum y - y); args g, p, target
    Nll,             // out = -logp[label], args: logp, label
    NllVjp,          // out[label] -= g, args: g, label
    Dropout,         // out = args[0] * mask while training (mask: args[1], drawn here), else copy
};

struct GemmShape {
    int rows = 1, inner = 1, cols = 1;
    bool rows_batched = false;  // rows are `rows * n` (samples stacked)
    bool inner_batched = false; // inner is `inner * n` (a sum over the samples)
    bool per_sample = false;    // one product per sample; batched operands offset per sample
    bool trans_a = false;       // A is stored (inner x rows)
    bool trans_b = false;       // B is stored (cols x inner); then A is not transposed
};

struct Step {
    StepKind kind = StepKind::Map;
    int out = -1;
    bool accumulate = false;
    std::vector<int> args;
    std::string formula;               // Map: C++ text over $0, $1, ... (the args)
    std::vector<std::string> partials; // Map: d formula / d $k, over $0.. and $r (the result)
    int space = -1;         // Map: the tensor whose shape is iterated over (default: out)
    GemmShape gemm;         // Gemm
    float rate = 0;         // Dropout: the probability of dropping
    std::size_t offset = 0; // source position the step comes from
};

struct Graph {
    std::vector<Tensor> tensors;
    std::vector<Step> forward;
    std::vector<Step> backward; // from reverse_ad
    int add(Tensor tensor);
};

} // namespace gradc::net
