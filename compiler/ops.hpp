#pragma once
// The op enumeration and per-op facts, all generated from ops.def.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gradc {

enum class Op : std::uint8_t {
#define GRADC_OP(NAME, ...) NAME,
#include "compiler/ops.def"
#undef GRADC_OP
};

enum class Kind : std::uint8_t { Real, Bool };

struct OpInfo {
    const char* name;   // the enumerator, for dumps
    const char* source; // the builtin's .expr name, "" when it is not a builtin
    int arity;
    Kind kind;
    const char* cpp; // fmt pattern over the operand texts {0} {1} {2}
};

inline constexpr std::size_t op_count = 0
#define GRADC_OP(...) +1
#include "compiler/ops.def"
#undef GRADC_OP
    ;

extern const std::array<OpInfo, op_count> op_table; // indexed by Op

inline const OpInfo& info(Op op) {
    return op_table[static_cast<std::size_t>(op)];
}

// The builtin called `name` with `arity` scalar arguments, if there is one.
std::optional<Op> find_function(std::string_view name, std::size_t arity);
bool is_builtin_name(std::string_view name); // scalar builtins and vector ones (sum, dot, ...)

// The op's value on doubles (bools are 0 and 1).
double evaluate(Op op, double a, double b = 0, double c = 0);

// C++ text computing `op` of the operand texts, and of its partial derivative with respect to
// operand `which` (empty when it is structurally zero), given the result's text; non-integral
// constants are written `scalar_type(value)`. The network compiler's elementwise ops use these.
// (Defined in partials.cpp, beside the derivative builder.)
std::string cpp_value(Op op, const std::vector<std::string>& args);
std::string cpp_partial(Op op, std::size_t which, const std::vector<std::string>& args,
                        const std::string& result, const std::string& scalar_type);

// The text of runtime/include/gradc/scalar_math.hpp, copied into every emitted header.
extern const char* const scalar_math_source;

} // namespace gradc
