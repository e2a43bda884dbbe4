#include "compiler/emit_cpp.hpp"

#include <cmath>
#include <set>
#include <string_view>

#include <fmt/format.h>

#include "compiler/dce.hpp"

namespace gradc {

namespace {

const std::set<std::string_view> cpp_reserved = {
    "alignas", "alignof", "and", "and_eq", "asm", "auto", "bitand", "bitor", "bool", "break",
    "case", "catch", "char", "char8_t", "char16_t", "char32_t", "class", "compl", "concept",
    "const", "consteval", "constexpr", "constinit", "const_cast", "continue", "co_await",
    "co_return", "co_yield", "decltype", "default", "delete", "do", "double", "dynamic_cast",
    "else", "enum", "explicit", "export", "extern", "false", "float", "for", "friend", "goto",
    "if", "inline", "int", "long", "mutable", "namespace", "new", "noexcept", "not", "not_eq",
    "nullptr", "operator", "or", "or_eq", "private", "protected", "public", "register",
    "reinterpret_cast", "requires", "return", "short", "signed", "sizeof", "static",
    "static_assert", "static_cast", "struct", "switch", "template", "this", "thread_local",
    "throw", "true", "try", "typedef", "typeid", "typename", "union", "unsigned", "using",
    "virtual", "void", "volatile", "wchar_t", "while", "xor", "xor_eq",
    // names the emitted code itself relies on
    "std", "gradc_math"};

// Gives out C++ names, each once.
class Names {
  public:
    std::string claim(const std::string& wanted) {
        std::string base = cpp_identifier(wanted), name = base;
        for (int i = 2; !taken_.insert(name).second; ++i) name = base + "_" + std::to_string(i);
        return name;
    }
    std::string temporary() {
        std::string name;
        do name = "t" + std::to_string(next_++);
        while (!taken_.insert(name).second);
        return name;
    }

  private:
    std::set<std::string> taken_;
    int next_ = 0;
};

class KernelEmitter {
  public:
    KernelEmitter(const SourceFile& source, const Kernel& kernel, const EmitOptions& options,
                  fmt::memory_buffer& out)
        : source_(source), k_(kernel), g_(kernel.graph), type_(options.scalar_type), out_(out) {}

    void emit() {
        std::vector<NodeId> roots;
        for (const Kernel::Store& s : k_.stores) roots.push_back(s.value);
        if (k_.returns_value) roots.push_back(k_.returned);
        const std::vector<bool> live = live_nodes(g_, roots);

        std::vector<bool> param_used(k_.params.size(), false);
        for (NodeId i = 0; i < g_.size(); ++i)
            if (live[i] && g_[i].op == Op::Input) param_used[k_.slots[g_[i].args[0]].param] = true;
        for (const Kernel::Store& s : k_.stores) param_used[s.target.param] = true;

        const Function& fn = *k_.function;
        fmt::format_to(std::back_inserter(out_), "\n// {}: {}\n// line {}: {}\n", k_.name, k_.summary,
                       source_.locate(fn.offset).line, fn.signature);
        std::vector<std::string> params;
        for (std::size_t p = 0; p < k_.params.size(); ++p) {
            const KernelParam& param = k_.params[p];
            param_names_.push_back(names_.claim(param.name));
            std::string type = param.output ? type_ + "*" : param.scalar ? type_ : "const " + type_ + "*";
            params.push_back(fmt::format("{}{} {}", param_used[p] ? "" : "[[maybe_unused]] ", type,
                                         param_names_.back()));
        }
        fmt::format_to(std::back_inserter(out_), "inline {} {}({}) {{\n",
                       k_.returns_value ? type_ : "void", cpp_identifier(k_.name), fmt::join(params, ", "));

        text_.assign(g_.size(), std::string());
        std::size_t shown_line = 0;
        for (NodeId i = 0; i < g_.size(); ++i) {
            if (!live[i]) continue;
            const Node& n = g_[i];
            if (n.op == Op::Const || n.op == Op::Input || n.op == Op::Detach) {
                text_[i] = operand_text(i);
                continue;
            }
            if (std::size_t line = source_.locate(n.origin).line; line != shown_line) {
                shown_line = line;
                fmt::format_to(std::back_inserter(out_), "    // {}: {}\n", line,
                               trim(source_.line_text(line)));
            }
            const std::string* label = g_.label(i);
            text_[i] = label ? names_.claim(*label) : names_.temporary();
            fmt::format_to(std::back_inserter(out_), "    const {} {} = {};\n",
                           info(n.op).kind == Kind::Bool ? "bool" : type_, text_[i], expression(i));
        }
        for (const Kernel::Store& s : k_.stores) {
            const KernelParam& param = k_.params[s.target.param];
            const std::string& name = param_names_[s.target.param];
            std::string target = param.scalar ? "*" + name : fmt::format("{}[{}]", name, s.target.index);
            fmt::format_to(std::back_inserter(out_), "    {} {} {};\n", target, s.add ? "+=" : "=",
                           s.value == no_node ? cpp_literal(0.0, type_) : real(s.value));
        }
        if (k_.returns_value) fmt::format_to(std::back_inserter(out_), "    return {};\n", real(k_.returned));
        fmt::format_to(std::back_inserter(out_), "}}\n");
    }

  private:
    static std::string_view trim(std::string_view s) {
        while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
        while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
        return s;
    }

    std::string operand_text(NodeId id) {
        const Node& n = g_[id];
        if (n.op == Op::Const) {
            std::string literal = cpp_literal(n.value, type_);
            return n.value < 0 ? "(" + literal + ")" : literal;
        }
        if (n.op == Op::Input) {
            const Kernel::Element& e = k_.slots[n.args[0]];
            const std::string& name = param_names_[e.param];
            return k_.params[e.param].scalar ? name : fmt::format("{}[{}]", name, e.index);
        }
        if (n.op == Op::Detach) return text_[n.args[0]];
        return text_[id];
    }

    // An operand used as a number: truth values are converted explicitly.
    std::string real(NodeId id) {
        const std::string& text = text_[id];
        return info(g_[id].op).kind == Kind::Bool ? fmt::format("static_cast<{}>({})", type_, text) : text;
    }

    std::string expression(NodeId id) {
        const Node& n = g_[id];
        const OpInfo& op = info(n.op);
        std::string args[3];
        for (int k = 0; k < op.arity; ++k) {
            const NodeId a = n.args[static_cast<std::size_t>(k)];
            const bool wants_truth = n.op == Op::And || n.op == Op::Or || n.op == Op::Not ||
                                     (n.op == Op::Select && k == 0);
            args[k] = wants_truth ? text_[a] : real(a);
        }
        return fmt::format(fmt::runtime(op.cpp), args[0], args[1], args[2]);
    }

    const SourceFile& source_;
    const Kernel& k_;
    const Graph& g_;
    const std::string& type_;
    fmt::memory_buffer& out_;
    Names names_;
    std::vector<std::string> param_names_;
    std::vector<std::string> text_; // per node: its name, or its literal or parameter text
};

std::string default_namespace(const std::string& path) {
    std::string stem = path.substr(path.find_last_of('/') + 1);
    stem = stem.substr(0, stem.find('.'));
    return cpp_identifier(stem.empty() ? "gradc_generated" : stem);
}

} // namespace

std::string cpp_identifier(const std::string& name) {
    std::string id;
    for (char c : name) id += std::isalnum(static_cast<unsigned char>(c)) || c == '_' ? c : '_';
    if (id.empty() || std::isdigit(static_cast<unsigned char>(id[0])) || id[0] == '_') id = "x" + id;
    if (id.find("__") != std::string::npos || cpp_reserved.count(id)) id += "_";
    return id;
}

std::string cpp_literal(double value, const std::string& scalar_type) {
    const bool single = scalar_type == "float";
    if (std::isnan(value)) return fmt::format("std::numeric_limits<{}>::quiet_NaN()", scalar_type);
    if (std::isinf(value))
        return fmt::format("{}std::numeric_limits<{}>::infinity()", value < 0 ? "-" : "", scalar_type);
    std::string text = single ? fmt::format("{}", static_cast<float>(value)) : fmt::format("{}", value);
    if (text.find_first_of(".e") == std::string::npos) text += ".0";
    return single ? text + "f" : text;
}

std::string emit_header(const SourceFile& source, const std::vector<Kernel>& kernels,
                        const EmitOptions& options) {
    fmt::memory_buffer out;
    const std::string ns = options.name_space.empty() ? default_namespace(source.path())
                                                      : cpp_identifier(options.name_space);
    fmt::format_to(std::back_inserter(out),
                   "// Generated by gradc {} from {}{}{}. Do not edit: edit the .expr file.\n"
                   "#pragma once\n\n#include <algorithm>\n#include <cmath>\n#include <limits>\n\n"
                   "namespace {} {{\n\n",
                   GRADC_VERSION, source.path(), options.command_line.empty() ? "" : " with ",
                   options.command_line, ns);
    fmt::format_to(std::back_inserter(out), "{}", scalar_math_source);
    for (const Kernel& kernel : kernels) KernelEmitter(source, kernel, options, out).emit();
    fmt::format_to(std::back_inserter(out), "\n}} // namespace {}\n", ns);
    return fmt::to_string(out);
}

} // namespace gradc
