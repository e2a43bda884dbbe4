#include "runtime/elementwise.hpp"

#include <cmath>

#include "compiler/ops.hpp"

namespace gradc::net {

namespace {
// The scalar builtins of the .expr language, spelled and differentiated by the shared op table.
std::optional<ScalarFunction> find_builtin(std::string_view name, std::size_t arity) {
    if (name == "log" && arity == 2) // log(b, x): the logarithm of x in base b, not one op
        return ScalarFunction{"std::log($1) / std::log($0)",
                              {"-$r / ($0 * std::log($0))", "1 / ($1 * std::log($0))"}};
    const std::optional<Op> op = find_function(name, arity);
    if (!op) return std::nullopt;
    std::vector<std::string> args;
    for (std::size_t k = 0; k < arity; ++k) args.push_back("$" + std::to_string(k));
    ScalarFunction fn{cpp_value(*op, args), {}};
    for (std::size_t k = 0; k < arity; ++k) fn.partials.push_back(cpp_partial(*op, k, args, "$r", "Scalar"));
    return fn;
}
} // namespace

std::optional<ScalarFunction> find_scalar_function(std::string_view name, std::size_t arity) {
    if (arity == 2) {
        if (name == "+") return ScalarFunction{"$0 + $1", {"1", "1"}};
        if (name == "-") return ScalarFunction{"$0 - $1", {"1", "-1"}};
        if (name == "*") return ScalarFunction{"$0 * $1", {"$1", "$0"}};
        if (name == "/") return ScalarFunction{"$0 / $1", {"1 / $1", "-$r / $1"}};
    }
    if (arity == 1 && name == "-") return ScalarFunction{"-$0", {"-1"}};
    return find_builtin(name, arity);
}

ScalarFunction power_function(double exponent) {
    if (exponent == 2) return {"$0 * $0", {"2 * $0"}};
    if (exponent == 1) return {"$0", {"1"}};
    char text[64];
    std::snprintf(text, sizeof text, "%.17g", exponent);
    char less[64];
    std::snprintf(less, sizeof less, "%.17g", exponent - 1);
    return {std::string("std::pow($0, ") + text + ")",
            {std::string(text) + " * std::pow($0, " + less + ")"}};
}

std::string substitute(const std::string& formula, const std::vector<std::string>& args,
                       const std::string& result) {
    std::string out;
    for (std::size_t i = 0; i < formula.size(); ++i) {
        if (formula[i] != '$' || i + 1 == formula.size()) {
            out += formula[i];
            continue;
        }
        if (formula[i + 1] == 'r') {
            out += result;
            ++i;
            continue;
        }
        std::size_t end = i + 1;
        while (end < formula.size() && std::isdigit(static_cast<unsigned char>(formula[end])))
            ++end;
        out += args.at(std::stoul(formula.substr(i + 1, end - i - 1)));
        i = end - 1;
    }
    return out;
}

} // namespace gradc::net
