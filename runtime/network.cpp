#include "runtime/network.hpp"

#include "grammar/network_parse.hpp"
#include "runtime/network_emit.hpp"
#include "runtime/network_lower.hpp"
#include "runtime/network_reverse_ad.hpp"

namespace gradc::net {

std::string compile_network(const SourceFile& source, const CompileOptions& options) {
    if (options.scalar_type != "float" && options.scalar_type != "double")
        throw InputError("the scalar type must be float or double, not " + options.scalar_type);
    Network network = lower_network(parse_network(source));
    int loss_adjoint = reverse_ad(network.graph, network.loss);
    EmitOptions emit;
    emit.scalar_type = options.scalar_type;
    emit.name_space = options.name_space;
    emit.with_main = options.with_main;
    return emit_network(network, loss_adjoint, source, emit);
}

} // namespace gradc::net
