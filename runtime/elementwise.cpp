#include "runtime/elementwise.hpp"

#include <cmath>
#include <map>

namespace gradc::net {

namespace {
// Stand-in for the shared op table until compiler/ops provides cpp_value/cpp_partial.
std::optional<ScalarFunction> find_builtin(std::string_view name, std::size_t arity) {
    static const std::map<std::string, ScalarFunction, std::less<>> unary = {
        {"exp", {"std::exp($0)", {"$r"}}},
        {"log", {"std::log($0)", {"1 / $0"}}},
        {"sqrt", {"std::sqrt($0)", {"0.5 / $r"}}},
        {"abs", {"std::fabs($0)", {"gradc_math::sign($0)"}}},
        {"sin", {"std::sin($0)", {"std::cos($0)"}}},
        {"cos", {"std::cos($0)", {"-std::sin($0)"}}},
        {"tanh", {"std::tanh($0)", {"1 - $r * $r"}}},
        {"sigmoid", {"gradc_math::sigmoid($0)", {"$r * (1 - $r)"}}},
        {"softplus", {"gradc_math::softplus($0)", {"gradc_math::sigmoid($0)"}}},
        {"relu", {"gradc_math::relu($0)", {"($0 > 0 ? 1 : 0)"}}},
    };
    static const std::map<std::string, ScalarFunction, std::less<>> binary = {
        {"max", {"std::max($0, $1)", {"($0 < $1 ? 0 : 1)", "($0 < $1 ? 1 : 0)"}}},
        {"min", {"std::min($0, $1)", {"($1 < $0 ? 0 : 1)", "($1 < $0 ? 1 : 0)"}}},
        {"pow",
         {"std::pow($0, $1)", {"$1 * std::pow($0, $1 - 1)", "($0 > 0 ? $r * std::log($0) : 0)"}}},
    };
    const auto& table = arity == 1 ? unary : binary;
    auto found = table.find(name);
    if (found == table.end() || arity > 2) return std::nullopt;
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
