#include "runtime/elementwise.hpp"

#include <cmath>
#include <map>

namespace gradc::net {

namespace {
// The scalar builtins of the .expr language, with the same C++ spellings and derivative conventions
// as compiler/ops.def. This is the one place to switch to the shared table's cpp_value/cpp_partial.
std::optional<ScalarFunction> find_builtin(std::string_view name, std::size_t arity) {
    static const std::map<std::string, ScalarFunction, std::less<>> unary = {
        {"exp", {"std::exp($0)", {"$r"}}},
        {"log", {"std::log($0)", {"1 / $0"}}},
        {"log2", {"std::log2($0)", {"1 / ($0 * 0.69314718055994531)"}}},
        {"log10", {"std::log10($0)", {"1 / ($0 * 2.3025850929940459)"}}},
        {"sqrt", {"std::sqrt($0)", {"0.5 / $r"}}},
        {"cbrt", {"std::cbrt($0)", {"1 / (3 * ($r * $r))"}}},
        {"abs", {"std::fabs($0)", {"gradc_math::sign($0)"}}},
        {"sign", {"gradc_math::sign($0)", {""}}},
        {"heaviside", {"gradc_math::heaviside($0)", {""}}},
        {"sin", {"std::sin($0)", {"std::cos($0)"}}},
        {"cos", {"std::cos($0)", {"-std::sin($0)"}}},
        {"tan", {"std::tan($0)", {"1 + $r * $r"}}},
        {"asin", {"std::asin($0)", {"1 / std::sqrt(1 - $0 * $0)"}}},
        {"acos", {"std::acos($0)", {"-1 / std::sqrt(1 - $0 * $0)"}}},
        {"atan", {"std::atan($0)", {"1 / (1 + $0 * $0)"}}},
        {"sinh", {"std::sinh($0)", {"std::cosh($0)"}}},
        {"cosh", {"std::cosh($0)", {"std::sinh($0)"}}},
        {"tanh", {"std::tanh($0)", {"1 - $r * $r"}}},
        {"asinh", {"std::asinh($0)", {"1 / std::sqrt($0 * $0 + 1)"}}},
        {"acosh", {"std::acosh($0)", {"1 / std::sqrt($0 * $0 - 1)"}}},
        {"atanh", {"std::atanh($0)", {"1 / (1 - $0 * $0)"}}},
        {"erf", {"std::erf($0)", {"1.1283791670955126 * std::exp(-($0 * $0))"}}},
        {"sigmoid", {"gradc_math::sigmoid($0)", {"$r * (1 - $r)"}}},
        {"softplus", {"gradc_math::softplus($0)", {"gradc_math::sigmoid($0)"}}},
        {"relu", {"gradc_math::relu($0)", {"($0 > 0 ? 1 : 0)"}}},
        {"floor", {"std::floor($0)", {""}}},
        {"ceil", {"std::ceil($0)", {""}}},
    };
    static const std::map<std::string, ScalarFunction, std::less<>> binary = {
        {"max", {"std::max($0, $1)", {"($0 < $1 ? 0 : 1)", "($0 < $1 ? 1 : 0)"}}},
        {"min", {"std::min($0, $1)", {"($1 < $0 ? 0 : 1)", "($1 < $0 ? 1 : 0)"}}},
        {"pow",
         {"std::pow($0, $1)", {"$1 * std::pow($0, $1 - 1)", "($0 > 0 ? $r * std::log($0) : 0)"}}},
        {"atan2",
         {"std::atan2($0, $1)", {"$1 / ($0 * $0 + $1 * $1)", "-$0 / ($0 * $0 + $1 * $1)"}}},
        {"hypot", {"std::hypot($0, $1)", {"$0 / $r", "$1 / $r"}}},
        {"log", // log(b, x): the logarithm of x in base b
         {"std::log($1) / std::log($0)", {"-$r / ($0 * std::log($0))", "1 / ($1 * std::log($0))"}}},
    };
    if (arity < 1 || arity > 2) return std::nullopt;
    const auto& table = arity == 1 ? unary : binary;
    auto found = table.find(name);
    if (found == table.end()) return std::nullopt;
    return found->second;
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
