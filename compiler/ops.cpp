#include "compiler/ops.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include "gradc/scalar_math.hpp"

namespace gradc {

const std::array<OpInfo, op_count> op_table = {{
#define GRADC_OP(NAME, SOURCE, ARITY, KIND, ...)                                                   \
    {#NAME, SOURCE, ARITY, Kind::KIND, GRADC_CPP(__VA_ARGS__)},
#define GRADC_CPP(VALUE, CPP, ...) CPP
#include "compiler/ops.def"
#undef GRADC_CPP
#undef GRADC_OP
}};

namespace {
// Builtins over a whole vector, handled by lowering rather than by one op.
constexpr std::array<std::string_view, 7> vector_builtins = {"sum", "dot", "norm",   "logsumexp",
                                                             "max", "min", "softmax"};
} // namespace

std::optional<Op> find_function(std::string_view name, std::size_t arity) {
    for (std::size_t i = 0; i < op_table.size(); ++i)
        if (name == op_table[i].source && arity == static_cast<std::size_t>(op_table[i].arity))
            return static_cast<Op>(i);
    return std::nullopt;
}

bool is_builtin_name(std::string_view name) {
    if (name == "log") return true;
    if (std::find(vector_builtins.begin(), vector_builtins.end(), name) != vector_builtins.end())
        return true;
    return std::any_of(op_table.begin(), op_table.end(),
                       [&](const OpInfo& op) { return name == op.source; });
}

double evaluate(Op op, double a, double b, double c) {
    (void)b, (void)c;
    switch (op) {
#define GRADC_OP(NAME, SOURCE, ARITY, KIND, VALUE, ...)                                            \
    case Op::NAME:                                                                                 \
        return static_cast<double>(VALUE);
#include "compiler/ops.def"
#undef GRADC_OP
    }
    return 0.0;
}

} // namespace gradc
