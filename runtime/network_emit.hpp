#pragma once
// The C++ emitter for networks: a lowered Network whose graph has its backward steps (reverse_ad)
// → one header with `namespace NS { constexpr sizes; class Model { init, predict, train_batch,
// gradient, save, load } }`, every loop bound a constant except the sample count of a tile.
// Deterministic text; needs only the standard library (plus zlib for `--main` with idx data).

#include "compiler/source.hpp"
#include "runtime/network_lower.hpp"

#include <string>

namespace gradc::net {

struct EmitOptions {
    std::string scalar_type = "float";
    std::string name_space;
    bool with_main = false;
};

std::string emit_network(const Network& net, int loss_adjoint, const SourceFile& source,
                         const EmitOptions& options);

} // namespace gradc::net
