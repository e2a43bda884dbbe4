#pragma once
// Scalar functions applied elementwise to tensors, as C++ text over the placeholders $0, $1, ...
// (the operands) and $r (the result). Named builtins come from the scalar op table shared with the
// `.expr` compiler (compiler/ops.hpp); the arithmetic operators are spelled here.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gradc::net {

struct ScalarFunction {
    std::string value;                 // over $0 .. $(arity-1)
    std::vector<std::string> partials; // one per operand, over $0.. and $r; empty: zero
};

// `+ - * /` (arity 2), unary `-`, `^` with a constant exponent, or a builtin such as `exp`.
std::optional<ScalarFunction> find_scalar_function(std::string_view name, std::size_t arity);
ScalarFunction power_function(double exponent); // x ^ c

// Replaces each $k in `formula` by args[k] and $r by `result`.
std::string substitute(const std::string& formula, const std::vector<std::string>& args,
                       const std::string& result = "");

} // namespace gradc::net
