#include "compiler/pipeline.hpp"

#include <algorithm>

#include "compiler/kernels.hpp"
#include "grammar/parse.hpp"

namespace gradc {

std::vector<Function> compile_functions(const SourceFile& source, const LowerOptions& options,
                                        const std::vector<std::string>& only) {
    std::vector<Function> all = lower(parse_program(source), options);
    if (only.empty()) return all;
    std::vector<Function> chosen;
    for (const std::string& name : only) {
        auto f = std::find_if(all.begin(), all.end(),
                              [&](const Function& fn) { return fn.name == name; });
        if (f == all.end())
            throw UsageError("--fn: " + source.path() + " defines no function '" + name + "'");
        chosen.push_back(std::move(*f));
    }
    return chosen;
}

} // namespace gradc
