#pragma once
// The `.net` entry points for the command line: compile a network to a header, or build its
// training program (cached by content hash) and run it. Input problems throw CompileError (with a
// position in the .net file) or InputError (data files); anything else is a bug.

#include "compiler/source.hpp"

#include <optional>
#include <string>

namespace gradc::net {

struct CompileOptions {
    std::string scalar_type = "float";
    bool with_main = false;
    std::string name_space; // empty: the network's name
};

// The header text.
std::string compile_network(const SourceFile& source, const CompileOptions& options);

struct TrainOptions {
    std::optional<int> epochs;
    std::string data; // replaces the train_data path(s) when not empty
    bool json = false;
    std::string save;
    std::string scalar_type = "float";
};

// Builds with $CXX (else c++), caching under $XDG_CACHE_HOME/gradc (else ~/.cache/gradc), runs the
// program and returns its exit status.
int train_network(const std::string& net_path, const TrainOptions& options);

} // namespace gradc::net
