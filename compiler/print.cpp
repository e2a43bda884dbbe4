#include "compiler/print.hpp"

#include <cctype>

#include <fmt/format.h>

#include "compiler/dce.hpp"
#include "compiler/emit_cpp.hpp"

namespace gradc {

std::string print_kernel(const SourceFile& source, const Kernel& k) {
    const Graph& g = k.graph;
    const std::vector<bool> live = live_nodes(g, kernel_roots(k));
    std::vector<std::string> name(g.size());
    auto element = [&](const Kernel::Element& e) {
        const KernelParam& p = k.params[e.param];
        return p.scalar ? p.name : fmt::format("{}[{}]", p.name, e.index);
    };
    std::string out = fmt::format("{}  # {}\n", k.name, k.summary);
    std::size_t temporaries = 0;
    for (NodeId i = 0; i < g.size(); ++i) {
        if (!live[i]) continue;
        const Node& n = g[i];
        if (n.op == Op::Const) {
            name[i] = fmt::format("{}", n.value);
            continue;
        }
        if (n.op == Op::Input) {
            name[i] = element(k.slots[n.args[0]]);
            continue;
        }
        const std::string* label = g.label(i);
        name[i] = label ? fmt::format("%{}", *label) : fmt::format("%{}", temporaries++);
        std::string op = info(n.op).name;
        for (char& c : op)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::string operands;
        for (int a = 0; a < info(n.op).arity; ++a)
            operands += (a ? ", " : " ") + name[n.args[static_cast<std::size_t>(a)]];
        const LineColumn at = source.locate(n.origin);
        out +=
            fmt::format("  {:<12} = {}{:<28} # {}:{}\n", name[i], op, operands, at.line, at.column);
    }
    for (const Kernel::Store& s : k.stores)
        out += fmt::format("  {} {} {}\n", element(s.target), s.add ? "+=" : "=",
                           s.value == no_node ? "0" : name[s.value]);
    if (k.returns_value) out += fmt::format("  return {}\n", name[k.returned]);
    return out;
}

} // namespace gradc
