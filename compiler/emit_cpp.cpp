#include "compiler/emit_cpp.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>
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
    "else", "enum", "explicit", "export", "extern", "false", "float", "for", "friend", "goto", "if",
    "inline", "int", "long", "mutable", "namespace", "new", "noexcept", "not", "not_eq", "nullptr",
    "operator", "or", "or_eq", "private", "protected", "public", "register", "reinterpret_cast",
    "requires", "return", "short", "signed", "sizeof", "static", "static_assert", "static_cast",
    "struct", "switch", "template", "this", "thread_local", "throw", "true", "try", "typedef",
    "typeid", "typename", "union", "unsigned", "using", "virtual", "void", "volatile", "wchar_t",
    "while", "xor", "xor_eq",
    // names the emitted code itself relies on
    "std", "gradc_math"};

// Gives out C++ names, each once. Temporaries are `t0, t1, ...`; a label that looks like one is
// suffixed, so temporaries never need checking.
class Names {
  public:
    std::string claim(const std::string& wanted) {
        std::string base = cpp_identifier(wanted);
        if (base.size() > 1 && base[0] == 't' &&
            base.find_first_not_of("0123456789", 1) == std::string::npos)
            base += "_";
        std::string name = base;
        for (int i = 2; !taken_.insert(name).second; ++i)
            name = base + "_" + std::to_string(i);
        return name;
    }
    std::string temporary() { return "t" + std::to_string(next_++); }

  private:
    std::set<std::string> taken_;
    std::size_t next_ = 0;
};

// Emits one kernel. Every live node is one `const` statement. Past five times
// `statements_per_part` statements the body is split into parts, `[[gnu::noinline]]` functions run
// in order; a value used by a later part goes through the array `s`, whose slots are reused once no
// later part reads them.
class KernelEmitter {
  public:
    KernelEmitter(const SourceFile& source, const Kernel& kernel, const EmitOptions& options,
                  std::ostream& out)
        : source_(source), k_(kernel), g_(kernel.graph), type_(options.scalar_type),
          part_size_(std::max<std::size_t>(options.statements_per_part, 1)), out_(out) {}
    ~KernelEmitter() { flush(); }

    void emit() {
        const std::vector<bool> live = live_nodes(g_, kernel_roots(k_));
        text_.assign(g_.size(), std::string());
        part_of_.assign(g_.size(), -1);
        std::vector<bool> param_used(k_.params.size(), false);
        for (NodeId i = 0; i < g_.size(); ++i) {
            if (!live[i]) continue;
            const Op op = g_[i].op;
            if (op == Op::Input) param_used[k_.slots[g_[i].args[0]].param] = true;
            if (op != Op::Const && op != Op::Input && op != Op::Detach) statements_.push_back(i);
        }
        for (const Kernel::Store& s : k_.stores)
            param_used[s.target.param] = true;
        for (const KernelParam& param : k_.params)
            param_names_.push_back(names_.claim(param.name));

        const Function& fn = *k_.function;
        write("\n// {}: {}\n// line {}: {}\n", k_.name, k_.summary, source_.locate(fn.offset).line,
              fn.signature);
        const std::size_t parts = (statements_.size() + part_size_ - 1) / part_size_;
        if (parts <= 5) {
            write("inline {} {}({}) {{\n", return_type(), cpp_identifier(k_.name),
                  parameters(param_used));
            body(0, statements_.size(), true);
            write("}}\n");
            return;
        }
        const std::size_t slots = assign_slots(parts);
        const std::string name = cpp_identifier(k_.name);
        std::vector<std::string> arguments = param_names_;
        arguments.push_back("s");
        for (std::size_t p = 0; p < parts; ++p) {
            const bool last = p + 1 == parts;
            write("\n// {}, part {} of {}\n[[gnu::noinline]] inline {} {}_part{}({}, {}* s) {{\n",
                  k_.name, p + 1, parts, last ? return_type() : "void", name, p + 1,
                  parameters(std::vector<bool>(k_.params.size(), false)), type_);
            body(p * part_size_, std::min(statements_.size(), (p + 1) * part_size_), last);
            write("}}\n");
        }
        write("\ninline {} {}({}) {{\n", return_type(), name, parameters(param_used));
        write("    {}{} s[{}]; // values passed from one part to the next\n",
              slots * sizeof(double) > (1u << 20) ? "static thread_local " : "", type_, slots);
        for (std::size_t p = 0; p < parts; ++p)
            write("    {}{}_part{}({});\n", p + 1 == parts && k_.returns_value ? "return " : "",
                  name, p + 1, fmt::join(arguments, ", "));
        write("}}\n");
    }

  private:
    // Text goes through a small buffer, so a large kernel is never held in memory whole.
    template <class... Args> void write(fmt::format_string<Args...> format, Args&&... args) {
        fmt::format_to(std::back_inserter(buffer_), format, std::forward<Args>(args)...);
        if (buffer_.size() > (1u << 20)) flush();
    }
    void flush() {
        out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
        buffer_.clear();
    }

    std::string return_type() const { return k_.returns_value ? type_ : "void"; }

    std::string parameters(const std::vector<bool>& used) const {
        std::vector<std::string> params;
        for (std::size_t p = 0; p < k_.params.size(); ++p) {
            const KernelParam& param = k_.params[p];
            std::string type = param.output   ? type_ + "*"
                               : param.scalar ? type_
                                              : "const " + type_ + "*";
            params.push_back(
                fmt::format("{}{} {}", used[p] ? "" : "[[maybe_unused]] ", type, param_names_[p]));
        }
        return fmt::format("{}", fmt::join(params, ", "));
    }

    // The node that holds `id`'s value: Detach passes its operand through.
    NodeId resolve(NodeId id) const {
        while (g_[id].op == Op::Detach)
            id = g_[id].args[0];
        return id;
    }

    // Gives each value read by a later part than its own a slot in `s`; returns the slot count.
    std::size_t assign_slots(std::size_t parts) {
        for (std::size_t k = 0; k < statements_.size(); ++k)
            part_of_[statements_[k]] = static_cast<int>(k / part_size_);
        std::vector<int> last_use(g_.size(), -1);
        auto use = [&](NodeId id, int part) {
            id = resolve(id);
            if (part_of_[id] >= 0) last_use[id] = std::max(last_use[id], part);
        };
        for (NodeId n : statements_)
            for (int k = 0; k < info(g_[n].op).arity; ++k)
                use(g_[n].args[static_cast<std::size_t>(k)], part_of_[n]);
        for (const Kernel::Store& s : k_.stores)
            if (s.value != no_node) use(s.value, static_cast<int>(parts) - 1);
        if (k_.returns_value) use(k_.returned, static_cast<int>(parts) - 1);

        slot_.assign(g_.size(), -1);
        std::vector<std::vector<int>> freed_after(parts); // slots free once part p is done
        std::vector<int> free_slots;
        int slot_count = 0;
        std::size_t k = 0;
        for (std::size_t p = 0; p < parts; ++p) {
            if (p > 0)
                free_slots.insert(free_slots.end(), freed_after[p - 1].begin(),
                                  freed_after[p - 1].end());
            for (;
                 k < statements_.size() && static_cast<std::size_t>(part_of_[statements_[k]]) == p;
                 ++k) {
                const NodeId n = statements_[k];
                if (last_use[n] <= static_cast<int>(p)) continue;
                int slot = slot_count;
                if (free_slots.empty())
                    ++slot_count;
                else {
                    slot = free_slots.back();
                    free_slots.pop_back();
                }
                slot_[n] = slot;
                freed_after[static_cast<std::size_t>(last_use[n])].push_back(slot);
            }
        }
        return static_cast<std::size_t>(std::max(slot_count, 1));
    }

    // Statements [begin, end) of the kernel, then (in the last part) the stores and the return.
    void body(std::size_t begin, std::size_t end, bool last) {
        current_part_ = part_of_.empty() || begin == end ? -1 : part_of_[statements_[begin]];
        std::size_t shown_line = 0;
        for (std::size_t k = begin; k < end; ++k) {
            const NodeId i = statements_[k];
            const Node& n = g_[i];
            if (std::size_t line = source_.locate(n.origin).line; line != shown_line) {
                shown_line = line;
                write("    // {}: {}\n", line, trim(source_.line_text(line)));
            }
            const std::string* label = g_.label(i);
            text_[i] = label ? names_.claim(*label) : names_.temporary();
            write("    const {} {} = {};\n", info(n.op).kind == Kind::Bool ? "bool" : type_,
                  text_[i], expression(i));
            if (!slot_.empty() && slot_[i] >= 0) write("    s[{}] = {};\n", slot_[i], real(i));
        }
        if (!last) return;
        for (const Kernel::Store& s : k_.stores) {
            const KernelParam& param = k_.params[s.target.param];
            const std::string& name = param_names_[s.target.param];
            std::string target =
                param.scalar ? "*" + name : fmt::format("{}[{}]", name, s.target.index);
            write("    {} {} {};\n", target, s.add ? "+=" : "=",
                  s.value == no_node ? cpp_literal(0.0, type_) : real(s.value));
        }
        if (k_.returns_value) write("    return {};\n", real(k_.returned));
    }

    // A source line for a comment: trimmed, and cut short when long.
    static std::string trim(std::string_view s) {
        while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
            s.remove_prefix(1);
        while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
            s.remove_suffix(1);
        constexpr std::size_t longest = 100;
        return s.size() > longest ? std::string(s.substr(0, longest)) + " ..." : std::string(s);
    }

    // The text of a node's value where it is used: a literal, a parameter element, its name, or its
    // slot in `s` when an earlier part computed it.
    std::string operand_text(NodeId id) {
        id = resolve(id);
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
        if (part_of_[id] >= 0 && part_of_[id] != current_part_) {
            const std::string slot = fmt::format("s[{}]", slot_[id]);
            return info(n.op).kind == Kind::Bool ? "(" + slot + " != 0)" : slot;
        }
        return text_[id];
    }

    // An operand used as a number: truth values are converted explicitly.
    std::string real(NodeId id) {
        const std::string text = operand_text(id);
        const bool truth = info(g_[resolve(id)].op).kind == Kind::Bool;
        return truth ? fmt::format("static_cast<{}>({})", type_, text) : text;
    }

    std::string expression(NodeId id) {
        const Node& n = g_[id];
        const OpInfo& op = info(n.op);
        std::string args[3];
        for (int k = 0; k < op.arity; ++k) {
            const NodeId a = n.args[static_cast<std::size_t>(k)];
            const bool wants_truth = n.op == Op::And || n.op == Op::Or || n.op == Op::Not ||
                                     (n.op == Op::Select && k == 0);
            args[k] = wants_truth ? operand_text(a) : real(a);
        }
        return fmt::format(fmt::runtime(op.cpp), args[0], args[1], args[2]);
    }

    const SourceFile& source_;
    const Kernel& k_;
    const Graph& g_;
    const std::string& type_;
    std::size_t part_size_;
    std::ostream& out_;
    fmt::memory_buffer buffer_;
    Names names_;
    std::vector<std::string> param_names_;
    std::vector<NodeId> statements_; // the live nodes that become statements, in order
    std::vector<std::string> text_;  // per node: its name once defined
    std::vector<int> part_of_;       // per statement node: its part (-1: not a statement)
    std::vector<int> slot_;          // per node: its slot in `s`, or -1
    int current_part_ = -1;
};

// `a::b` stays nested (C++17); each part is made an identifier.
std::string cpp_namespace(const std::string& name) {
    std::string result;
    for (std::size_t start = 0;;) {
        const std::size_t end = name.find("::", start);
        result += cpp_identifier(name.substr(start, end - start));
        if (end == std::string::npos) return result;
        result += "::";
        start = end + 2;
    }
}

std::string default_namespace(const std::string& path) {
    std::string stem = path.substr(path.find_last_of('/') + 1);
    stem = stem.substr(0, stem.find('.'));
    return cpp_identifier(stem.empty() ? "gradc_generated" : stem);
}

} // namespace

std::string cpp_identifier(const std::string& name) {
    std::string id;
    for (char c : name)
        id += std::isalnum(static_cast<unsigned char>(c)) || c == '_' ? c : '_';
    if (id.empty() || std::isdigit(static_cast<unsigned char>(id[0])) || id[0] == '_')
        id = "x" + id;
    if (id.find("__") != std::string::npos || cpp_reserved.count(id)) id += "_";
    return id;
}

std::string cpp_literal(double value, const std::string& scalar_type) {
    const bool single = scalar_type == "float";
    if (std::isnan(value)) return fmt::format("std::numeric_limits<{}>::quiet_NaN()", scalar_type);
    if (std::isinf(value))
        return fmt::format("{}std::numeric_limits<{}>::infinity()", value < 0 ? "-" : "",
                           scalar_type);
    std::string text =
        single ? fmt::format("{}", static_cast<float>(value)) : fmt::format("{}", value);
    if (text.find_first_of(".e") == std::string::npos) text += ".0";
    return single ? text + "f" : text;
}

HeaderWriter::HeaderWriter(std::ostream& out, const SourceFile& source, const EmitOptions& options)
    : out_(out), source_(source), options_(options),
      name_space_(options.name_space.empty() ? default_namespace(source.path())
                                             : cpp_namespace(options.name_space)) {
    out_ << fmt::format(
                "// Generated by gradc {} from {}{}{}. Do not edit: edit the .expr file.\n"
                "#pragma once\n\n#include <algorithm>\n#include <cmath>\n#include <limits>\n\n"
                "namespace {} {{\n\n",
                GRADC_VERSION, source.path(), options.command_line.empty() ? "" : " with ",
                options.command_line, name_space_)
         << scalar_math_source;
}

void HeaderWriter::add(const Kernel& kernel) {
    KernelEmitter(source_, kernel, options_, out_).emit();
}

void HeaderWriter::finish() {
    out_ << "\n} // namespace " << name_space_ << "\n";
}

std::string emit_header(const SourceFile& source, const std::vector<Kernel>& kernels,
                        const EmitOptions& options) {
    std::ostringstream out;
    HeaderWriter writer(out, source, options);
    for (const Kernel& kernel : kernels)
        writer.add(kernel);
    writer.finish();
    return out.str();
}

} // namespace gradc
