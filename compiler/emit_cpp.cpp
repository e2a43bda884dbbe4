#include "compiler/emit_cpp.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>
#include <type_traits>

#include <fmt/format.h>

#include "compiler/reroll.hpp"
#include "compiler/schedule.hpp"

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

// A parameter as the signature declares it.
std::string declaration(const KernelParam& param, const std::string& type,
                        const std::string& name) {
    return (param.output ? type + "* " : param.scalar ? type + " " : "const " + type + "* ") + name;
}

// The kernel's parameters named through `names` (after the names the caller claimed first).
std::vector<std::string> claim_parameters(const Kernel& k, Names& names) {
    std::vector<std::string> claimed;
    for (const KernelParam& param : k.params)
        claimed.push_back(names.claim(param.name));
    return claimed;
}

// Their declarations, in order.
std::vector<std::string> declarations(const Kernel& k, const std::string& type,
                                      const std::vector<std::string>& param_names) {
    std::vector<std::string> declared;
    for (std::size_t p = 0; p < k.params.size(); ++p)
        declared.push_back(declaration(k.params[p], type, param_names[p]));
    return declared;
}

// The heading comment of a kernel.
std::string heading(const SourceFile& source, const Kernel& k) {
    return fmt::format("\n// {}: {}\n// line {}: {}\n", k.name, k.summary,
                       source.locate(k.function->offset).line, k.function->signature);
}

// Local arrays live on the stack up to 512 KiB in all, beyond in thread-local storage.
class LocalArrays {
  public:
    // The storage class of the next array, of `bytes`: "" (the stack) or "static thread_local ".
    const char* storage(std::size_t bytes) {
        if (stack_bytes_ + bytes > (1u << 19)) return "static thread_local ";
        stack_bytes_ += bytes;
        return "";
    }

  private:
    std::size_t stack_bytes_ = 0;
};

// A scalar function's f_vjp (Kernel::gradient_kernel set) as a call of its f_grad into local
// arrays, then `x_bar[i] += seed * x_grad[i]`: the product and sum its graph holds, so it computes
// what interpreting it does.
void emit_seeded_gradient(const SourceFile& source, const Kernel& k, const std::string& type,
                          std::ostream& out) {
    Names names;
    const std::string grad = names.claim(k.gradient_kernel); // a parameter may not hide it
    const std::vector<std::string> param_names = claim_parameters(k, names);
    std::vector<std::string> params = declarations(k, type, param_names), arguments, locals, adds;
    const std::size_t seed_param = k.function->params.size(); // right after the function's
    const std::string& seed = param_names[seed_param];
    LocalArrays arrays;
    std::string i; // the loops' index
    for (std::size_t p = 0; p < k.params.size(); ++p) {
        const KernelParam& param = k.params[p];
        const std::string& name = param_names[p];
        if (!param.output) {
            if (p != seed_param) arguments.push_back(name);
            continue;
        }
        const std::string local =
            names.claim(param.name.substr(0, param.name.rfind("_bar")) + "_grad");
        if (param.scalar) {
            locals.push_back(fmt::format("    {} {};\n", type, local));
            arguments.push_back("&" + local);
            adds.push_back(fmt::format("    *{} += {} * {};\n", name, seed, local));
            continue;
        }
        locals.push_back(fmt::format("    {}{} {}[{}];\n",
                                     arrays.storage(param.size * sizeof(double)), type, local,
                                     param.size));
        arguments.push_back(local);
        if (i.empty()) i = names.claim("i");
        adds.push_back(fmt::format("    for (int {0} = 0; {0} < {1}; ++{0})\n"
                                   "        {2}[{0}] += {3} * {4}[{0}];\n",
                                   i, param.size, name, seed, local));
    }
    if (adds.empty()) params[seed_param] = "[[maybe_unused]] " + params[seed_param];
    out << heading(source, k)
        << fmt::format("inline void {}({}) {{\n{}    {}({});\n{}}}\n", cpp_identifier(k.name),
                       fmt::join(params, ", "), fmt::join(locals, ""), grad,
                       fmt::join(arguments, ", "), fmt::join(adds, ""));
}

// A scalar function's f_hessian as a loop of its f_hvp sweeps (Kernel::column_sweep set): sweep i
// along dir = e_i fills row i of the upper triangle from hv, then the lower triangle mirrors it.
// The values run_kernel computes, from the same sweeps. The indexes are `long long`: i * n + j
// overflows an int from n = 46341 on.
void emit_hessian_by_sweeps(const SourceFile& source, const Kernel& k, const std::string& type,
                            std::ostream& out) {
    Names names;
    const std::string hvp = names.claim(k.column_sweep->name); // a parameter may not hide it
    const std::vector<std::string> param_names = claim_parameters(k, names);
    const std::vector<std::string> params = declarations(k, type, param_names);
    const std::size_t first = k.function->params.size(); // grad, then hess
    std::vector<std::string> arguments(param_names.begin(),
                                       param_names.begin() + static_cast<std::ptrdiff_t>(first));
    const std::string dir = names.claim("dir"), hv = names.claim("hv");
    arguments.insert(arguments.end(), {dir, param_names[first], hv});
    const std::size_t n = k.params[first].size;
    LocalArrays arrays;
    const char* dir_storage = arrays.storage(n * sizeof(double));
    const char* hv_storage = arrays.storage(n * sizeof(double));
    const std::string value = names.claim("value"), i = names.claim("i"), j = names.claim("j");
    out << heading(source, k)
        << fmt::format(
               "inline {type} {name}({params}) {{\n"
               "    {dir_storage}{type} {dir}[{n}] = {{}}; // e_i during sweep i, else zero\n"
               "    {hv_storage}{type} {hv}[{n}];\n"
               "    {type} {value} = {zero};\n"
               "    for (long long {i} = 0; {i} < {n}; ++{i}) {{\n"
               "        {dir}[{i}] = {one};\n"
               "        {value} = {hvp}({arguments});\n"
               "        {dir}[{i}] = {zero};\n"
               "        for (long long {j} = {i}; {j} < {n}; ++{j})\n"
               "            {hess}[{i} * {n} + {j}] = {hv}[{j}];\n"
               "    }}\n"
               "    for (long long {i} = 1; {i} < {n}; ++{i})\n"
               "        for (long long {j} = 0; {j} < {i}; ++{j})\n"
               "            {hess}[{i} * {n} + {j}] = {hess}[{j} * {n} + {i}];\n"
               "    return {value};\n"
               "}}\n",
               fmt::arg("type", type), fmt::arg("name", cpp_identifier(k.name)),
               fmt::arg("params", fmt::join(params, ", ")), fmt::arg("dir_storage", dir_storage),
               fmt::arg("dir", dir), fmt::arg("n", n), fmt::arg("hv_storage", hv_storage),
               fmt::arg("hv", hv), fmt::arg("value", value), fmt::arg("i", i), fmt::arg("j", j),
               fmt::arg("zero", cpp_literal(0.0, type)), fmt::arg("one", cpp_literal(1.0, type)),
               fmt::arg("hvp", hvp), fmt::arg("arguments", fmt::join(arguments, ", ")),
               fmt::arg("hess", param_names[first + 1]));
}

// Emits one kernel: its steps in the order of schedule_kernel, with the runs that reroll found as
// `for` loops and every other value as one `const` line. Past five times `statements_per_part`
// statements (a loop counts as its body) the kernel is split into parts, `[[gnu::noinline]]`
// functions run in order; a value used by a later part goes through the array `s`, whose slots are
// reused once no later part reads them, and the arrays of loops live in `s` too. A part gets `s`
// twice: as `in` to read what earlier parts wrote, as `out` to write (and read back) its own. The
// compiler cannot tell the two pointers apart, so it reads a value from `in` where the code does
// rather than keep it in a register across the writes: g++ -O2 spends less time searching for
// earlier reads past the writes, and there are fewer long-lived values to allocate registers for.
// (`in` is not const: g++ warns when an array that may not be set yet is passed as const.)
class KernelEmitter {
  public:
    KernelEmitter(const SourceFile& source, const Kernel& kernel, const EmitOptions& options,
                  std::ostream& out)
        : source_(source), k_(kernel), g_(kernel.graph), type_(options.scalar_type),
          part_size_(std::max<std::size_t>(options.statements_per_part, 1)), out_(out),
          schedule_(schedule_kernel(kernel)) {
        if (options.loops) loops_ = reroll(k_, schedule_, options.reroll);
    }
    ~KernelEmitter() { flush(); }

    void emit() {
        index_steps();
        const std::string name = cpp_identifier(k_.name);
        const std::size_t parts = split_into_parts();
        for (std::size_t p = 1; parts > 1 && p <= parts; ++p) // no parameter may hide a part
            part_names_.push_back(names_.claim(fmt::format("{}_part{}", name, p)));
        param_names_ = claim_parameters(k_, names_);

        write("{}", heading(source_, k_));
        if (parts == 1) {
            plan_inlining();
            const std::string text = written_body(0, units_.size(), true);
            const std::string fills = zero_fills(refs_.params);
            write("inline {} {}({}) {{\n{}{}}}\n", return_type(), name, parameters(refs_.params),
                  fills, text);
            return;
        }
        const std::size_t slots = assign_slots(parts);
        plan_inlining();
        const std::string array = names_.claim("s");
        in_name_ = names_.claim("in");
        out_name_ = names_.claim("out");
        std::vector<std::string> calls;
        std::vector<bool> param_used(k_.params.size(), false); // by some part
        bool passes = false;                                   // some part reads or writes `s`
        for (std::size_t p = 0, u = 0; p < parts; ++p) {
            const std::size_t begin = u;
            while (u < units_.size() && unit_part_[u] == p)
                ++u;
            calls.push_back(part(p, parts, begin, u, array));
            for (std::size_t q = 0; q < k_.params.size(); ++q)
                param_used[q] = param_used[q] || refs_.params[q];
            passes = passes || refs_.in || refs_.out;
        }
        const std::string fills = zero_fills(param_used);
        write("\ninline {} {}({}) {{\n", return_type(), name, parameters(param_used));
        buffer_ += fills;
        if (passes)
            write("    {}{} {}[{}]; // values passed from one part to the next\n",
                  slots * sizeof(double) > (1u << 20) ? "static thread_local " : "", type_, array,
                  slots);
        for (std::size_t p = 0; p < parts; ++p)
            write("    {}{};\n", p + 1 == parts && k_.returns_value ? "return " : "", calls[p]);
        write("}}\n");
    }

  private:
    // The lines that set each zeroed output (KernelParam::zeroed) to zero, written before any
    // store; marks those parameters `used`.
    std::string zero_fills(std::vector<bool>& used) const {
        std::string text;
        for (std::size_t p = 0; p < k_.params.size(); ++p) {
            if (!k_.params[p].zeroed) continue;
            used[p] = true;
            append(text, "    std::fill_n(", param_names_[p], ", ", k_.params[p].size, ", ",
                   cpp_literal(0.0, type_), ");\n");
        }
        return text;
    }

    // Writes part p of `parts` (units [begin, end)) as a function of the parameters it refers to,
    // known once its body is written; returns the call of it, `array` passed for in and out.
    std::string part(std::size_t p, std::size_t parts, std::size_t begin, std::size_t end,
                     const std::string& array) {
        const bool last = p + 1 == parts;
        const std::string text = written_body(begin, end, last);
        std::vector<std::string> params, arguments;
        for (std::size_t q = 0; q < k_.params.size(); ++q)
            if (refs_.params[q]) {
                params.push_back(parameter(q));
                arguments.push_back(param_names_[q]);
            }
        for (const auto& [used, param] : {std::pair(refs_.in, in_name_), {refs_.out, out_name_}})
            if (used) {
                params.push_back(fmt::format("{}* {}", type_, param));
                arguments.push_back(array);
            }
        write("\n// {}, part {} of {}\n[[gnu::noinline]] inline {} {}({}) {{\n{}}}\n", k_.name,
              p + 1, parts, last ? return_type() : "void", part_names_[p], fmt::join(params, ", "),
              text);
        return fmt::format("{}({})", part_names_[p], fmt::join(arguments, ", "));
    }

    // The text of body(begin, end, last), held back from the output so that the function's
    // parameters can follow what it refers to (refs_, reset first).
    std::string written_body(std::size_t begin, std::size_t end, bool last) {
        flush();
        refs_ = {std::vector<bool>(k_.params.size(), false), false, false};
        holding_ = true;
        body(begin, end, last);
        holding_ = false;
        std::string text(buffer_.data(), buffer_.size());
        buffer_.clear();
        return text;
    }

    static constexpr std::uint32_t none = std::numeric_limits<std::uint32_t>::max();
    static constexpr std::uint32_t label_bit = 1u << 31;

    // A loop's counter i runs start, start + step, ... (step is 1 or -1); iteration r is
    // (i - start) / step.
    struct Counter {
        std::int64_t start = 0, step = 1;
    };
    static std::int64_t ssize(std::size_t n) { return static_cast<std::int64_t>(n); }

    // A statement, or a whole loop.
    struct Unit {
        std::uint32_t begin, end; // steps
        std::uint32_t loop;       // none for a statement
    };

    // Text goes through a small buffer, so a large kernel is never held in memory whole.
    template <class... Args> void write(fmt::format_string<Args...> format, Args&&... args) {
        fmt::format_to(std::back_inserter(buffer_), format, std::forward<Args>(args)...);
        flush_if_full();
    }
    void flush_if_full() {
        if (buffer_.size() > (1u << 20) && !holding_) flush();
    }
    void flush() {
        out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
        buffer_.clear();
    }

    std::string return_type() const { return k_.returns_value ? type_ : "void"; }
    const char* type_of(NodeId n) const {
        return info(g_[n].op).kind == Kind::Bool ? "bool" : type_.c_str();
    }

    std::string parameters(const std::vector<bool>& used) const {
        std::vector<std::string> params;
        for (std::size_t p = 0; p < k_.params.size(); ++p)
            params.push_back((used[p] ? "" : "[[maybe_unused]] ") + parameter(p));
        return fmt::format("{}", fmt::join(params, ", "));
    }
    std::string parameter(std::size_t p) const {
        return declaration(k_.params[p], type_, param_names_[p]);
    }

    bool is_store(std::size_t s) const { return steps_[s].kind == Step::Kind::Store; }

    int operand_count(std::size_t s) const { return step_arity(k_, steps_[s]); }
    NodeId operand(std::size_t s, int k) const { return step_operand(k_, steps_[s], k); }

    // The loop of each step, the units (statements and loops in order) and the loops' counters.
    void index_steps() {
        name_of_.assign(g_.size(), none);
        loop_of_step_.assign(steps_.size(), none);
        for (std::size_t l = 0; l < loops_.size(); ++l)
            for (std::size_t s = loops_[l].begin; s < loops_[l].end(); ++s)
                loop_of_step_[s] = static_cast<std::uint32_t>(l);
        for (std::size_t s = 0; s < steps_.size();) {
            const std::uint32_t l = loop_of_step_[s];
            const std::size_t end = l == none ? s + 1 : loops_[l].end();
            units_.push_back({static_cast<std::uint32_t>(s), static_cast<std::uint32_t>(end), l});
            s = end;
        }
        for (const Loop& loop : loops_)
            counters_.push_back(counter_of(loop));
        arrays_.resize(loops_.size());
        previous_.resize(loops_.size());
        array_base_.resize(loops_.size());
    }

    // Assigns units to parts; returns the number of parts (1: no split).
    std::size_t split_into_parts() {
        auto weight = [&](const Unit& u) { return u.loop == none ? 1 : loops_[u.loop].length + 2; };
        std::size_t total = 0;
        for (const Unit& u : units_)
            total += weight(u);
        unit_part_.assign(units_.size(), 0);
        part_start_ = {0};
        if ((total + part_size_ - 1) / part_size_ <= 5) return 1;
        std::size_t filled = 0;
        for (std::size_t u = 0; u < units_.size(); ++u) {
            if (filled >= part_size_) {
                part_start_.push_back(units_[u].begin);
                filled = 0;
            }
            filled += weight(units_[u]);
            unit_part_[u] = static_cast<std::uint32_t>(part_start_.size() - 1);
        }
        split_ = true;
        return part_start_.size();
    }

    // The part step s is written in.
    std::uint32_t part_of(std::size_t s) const {
        const auto after = std::upper_bound(part_start_.begin(), part_start_.end(), s);
        return static_cast<std::uint32_t>(after - part_start_.begin() - 1);
    }

    // Where node n lives in a loop: its loop, body step and iteration.
    struct Home {
        std::uint32_t loop;
        std::size_t step, iteration;
    };
    Home home(NodeId n) const {
        const std::size_t s = position_[n];
        const std::uint32_t l = loop_of_step_[s];
        if (l == none) return {none, s, 0};
        const Loop& loop = loops_[l];
        return {l, (s - loop.begin) % loop.length, (s - loop.begin) / loop.length};
    }
    // True when n is kept in a loop array rather than a variable.
    bool in_array(const Home& h) const {
        const Loop& loop = loops_[h.loop];
        return h.iteration + 1 != loop.count || !(loop.keep[h.step] & Loop::KeepState);
    }
    // The node of body step j in the first iteration: it names the step.
    NodeId first(const Loop& loop, std::size_t j) const { return steps_[loop.begin + j].index; }

    // Gives each value read by a later part than its own a slot in `s`, and each loop array a
    // block after the slots; returns the size of `s`.
    std::size_t assign_slots(std::size_t parts) {
        std::vector<int> last_use(g_.size(), -1);
        auto use = [&](NodeId n, std::size_t part) {
            if (n == no_node || position_[n] == none) return;
            const Home h = home(n);
            if (h.loop != none && in_array(h)) return;
            last_use[n] = std::max(last_use[n], static_cast<int>(part));
        };
        for (std::size_t u = 0; u < units_.size(); ++u) {
            const Unit& unit = units_[u];
            if (unit.loop == none) {
                for (int k = 0; k < operand_count(unit.begin); ++k)
                    use(operand(unit.begin, k), unit_part_[u]);
                continue;
            }
            for (const auto& operands : loops_[unit.loop].operands)
                for (const Pattern& p : operands)
                    if (p.kind == Pattern::Kind::Fixed || p.kind == Pattern::Kind::Previous)
                        use(p.node, unit_part_[u]);
        }
        if (k_.returns_value) use(resolve_detach(g_, k_.returned), parts - 1);

        slot_.assign(g_.size(), -1);
        std::vector<std::vector<int>> freed_after(parts); // slots free once part p is done
        std::vector<int> free_slots;
        int slot_count = 0;
        auto give_slot = [&](NodeId n, std::size_t part) {
            if (last_use[n] <= static_cast<int>(part)) return;
            int slot = slot_count;
            if (free_slots.empty())
                ++slot_count;
            else {
                slot = free_slots.back();
                free_slots.pop_back();
            }
            slot_[n] = slot;
            freed_after[static_cast<std::size_t>(last_use[n])].push_back(slot);
        };
        for (std::size_t u = 0; u < units_.size(); ++u) {
            const std::size_t part = unit_part_[u];
            if (u > 0 && unit_part_[u - 1] != part)
                free_slots.insert(free_slots.end(), freed_after[part - 1].begin(),
                                  freed_after[part - 1].end());
            const Unit& unit = units_[u];
            if (unit.loop == none) {
                if (!is_store(unit.begin)) give_slot(steps_[unit.begin].index, part);
                continue;
            }
            const Loop& loop = loops_[unit.loop];
            for (std::size_t j = 0; j < loop.length; ++j)
                if (loop.keep[j] & Loop::KeepState)
                    give_slot(steps_[loop.begin + (loop.count - 1) * loop.length + j].index, part);
        }
        std::size_t size = static_cast<std::size_t>(slot_count);
        for (std::size_t l = 0; l < loops_.size(); ++l) {
            array_base_[l].assign(loops_[l].length, 0);
            for (std::size_t j = 0; j < loops_[l].length; ++j)
                if (loops_[l].keep[j] & Loop::KeepArray) {
                    array_base_[l][j] = size;
                    size += array_size(l);
                }
        }
        return std::max<std::size_t>(size, 1);
    }

    // A statement holds at most this many operations: its own and those written into it.
    static constexpr std::size_t max_operations = 5;

    // Chooses the temporaries written into the expression of the statement that reads them
    // (`t2 = (a * b) / c`) instead of getting a statement of their own: fewer statements and names
    // for the C++ compiler, the same operations in the same order. Such a value is real,
    // unlabelled, read once, by a statement of its own part outside loops, and every step between
    // the two is written into that statement too, so nothing moves past another statement.
    // Truth-valued operators (&&, ||, !, ?:) take no written-in operands, so every operation still
    // runs exactly when it did. A product is not written into a sum (`a * b + c`): compilers may
    // contract that into a fused multiply-add (clang does by default where FMA is available), which
    // rounds once where the separate statements round twice. An unlabelled real value read only by
    // later parts goes straight into its slot of `s` (`out[7] = a * b;`), without a name.
    void plan_inlining() {
        inlined_.assign(steps_.size(), false);
        to_slot_.assign(steps_.size(), false);
        std::vector<std::uint8_t> reads(g_.size(), 0);       // per node: 0, 1 or 2 (more)
        std::vector<std::uint32_t> reader(g_.size(), none);  // per node read once: the step
        std::vector<bool> read_here(split_ ? g_.size() : 0); // read in the part that makes it
        auto read = [&](NodeId n, std::uint32_t step, std::size_t part, std::uint8_t times) {
            if (n == no_node || position_[n] == none) return;
            reads[n] = static_cast<std::uint8_t>(std::min(reads[n] + times, 2));
            reader[n] = step;
            if (split_ && part_of(position_[n]) == part) read_here[n] = true;
        };
        for (std::size_t u = 0; u < units_.size(); ++u) {
            const Unit& unit = units_[u];
            if (unit.loop == none) {
                for (int k = 0; k < operand_count(unit.begin); ++k)
                    read(operand(unit.begin, k), static_cast<std::uint32_t>(unit.begin),
                         unit_part_[u], 1);
                continue;
            }
            const Loop& loop = loops_[unit.loop];
            for (std::size_t j = 0; j < loop.length; ++j) {
                read(loop.initial[j], none, unit_part_[u], 2);
                for (const Pattern& p : loop.operands[j])
                    if (p.kind == Pattern::Kind::Fixed || p.kind == Pattern::Kind::Previous)
                        read(p.node, none, unit_part_[u], 2);
            }
        }
        if (k_.returns_value)
            read(resolve_detach(g_, k_.returned), none, unit_part_.empty() ? 0 : unit_part_.back(),
                 2);
        // From the last step back: link[s] is, for a step written into a statement, that
        // statement's step, and for a statement, the first step written into it (itself if none).
        std::vector<std::uint32_t> link(steps_.size());
        for (std::size_t s = steps_.size(); s-- > 0;) {
            link[s] = static_cast<std::uint32_t>(s);
            if (loop_of_step_[s] != none || is_store(s)) continue;
            const NodeId n = steps_[s].index;
            if (g_[n].labelled || info(g_[n].op).kind == Kind::Bool) continue;
            if (split_ && slot_[n] >= 0) {
                to_slot_[s] = !read_here[n];
                continue;
            }
            const std::uint32_t user = reader[n];
            if (reads[n] != 1 || user == none || loop_of_step_[user] != none) continue;
            const std::uint32_t r = inlined_[user] ? link[user] : user;
            if (link[r] != s + 1 || r - s + 1 > max_operations || !fits(n, user)) continue;
            inlined_[s] = true;
            link[s] = r;
            link[r] = static_cast<std::uint32_t>(s);
        }
    }

    // True when a product (a * b, or the negation of one) is not what `n` is, or `user` is no sum.
    bool fits(NodeId n, std::uint32_t user) const {
        auto product = [&](NodeId m) {
            while (g_[m].op == Op::Neg)
                m = resolve_detach(g_, g_[m].args[0]);
            return g_[m].op == Op::Mul;
        };
        if (is_store(user)) return !(k_.stores[steps_[user].index].add && product(n));
        const Op op = g_[steps_[user].index].op;
        if (op == Op::And || op == Op::Or || op == Op::Not || op == Op::Select) return false;
        return !((op == Op::Add || op == Op::Sub) && product(n));
    }

    // Units [begin, end), then (in the last part) the return.
    void body(std::size_t begin, std::size_t end, bool last) {
        current_part_ = begin < end ? unit_part_[begin] : none;
        shown_ = {};
        for (std::size_t u = begin; u < end; ++u) {
            if (units_[u].loop == none)
                statement(units_[u].begin);
            else
                loop(units_[u].loop);
        }
        if (last && k_.returns_value) {
            buffer_ += "    return ";
            put_real(buffer_, k_.returned);
            buffer_ += ";\n";
        }
    }

    // A comment quoting the source line of node n, when it is not the line last quoted (found
    // without a search while the statements come from that line).
    void comment(NodeId n, const char* indent) {
        const std::size_t origin = g_[n].origin;
        if (origin >= shown_.first && origin < shown_.second) return;
        const std::size_t line = source_.locate(origin).line;
        shown_ = source_.offsets(line);
        append(buffer_, indent, "// ", line, ": ", trim(source_.line_text(line)), '\n');
    }

    void statement(std::size_t s) {
        if (inlined_[s]) return; // written into a later statement
        std::string& to = buffer_;
        if (is_store(s)) {
            const Kernel::Store& store = k_.stores[steps_[s].index];
            to += "    ";
            put_target(to, store.target.param, store.target.index);
            to += store.add ? " += " : " = ";
            put_real(to, operand(s, 0));
            to += ";\n";
            return flush_if_full();
        }
        const NodeId n = steps_[s].index;
        comment(n, "    ");
        if (to_slot_[s]) {
            to += "    ";
            put_written_slot(to, slot_[n]);
            to += " = ";
            put_written_expression(to, s);
            to += ";\n";
            return flush_if_full();
        }
        claim_name(n);
        append(to, "    const ", type_of(n), ' ');
        put_name(to, n);
        to += " = ";
        put_written_expression(to, s);
        to += ";\n";
        if (split_ && slot_[n] >= 0) {
            to += "    ";
            put_written_slot(to, slot_[n]);
            to += " = ";
            put_name(to, n);
            to += ";\n";
        }
        flush_if_full();
    }

    void loop(std::uint32_t l) {
        const Loop& loop = loops_[l];
        if (index_.empty()) index_ = names_.claim("i");
        counter_ = counters_[l];
        arrays_[l].resize(loop.length);
        previous_[l].resize(loop.length);
        for (std::size_t j = 0; j < loop.length; ++j) {
            if (is_store(loop.begin + j)) continue;
            const NodeId n = first(loop, j);
            claim_loop_name(loop, j);
            const std::uint8_t keep = loop.keep[j];
            if (keep & Loop::KeepArray && !split_) {
                arrays_[l][j] = names_.claim(name(n) + "_all");
                write("    {}{} {}[{}];\n", local_arrays_.storage(array_size(l) * sizeof(double)),
                      type_of(n), arrays_[l][j], array_size(l));
            }
            if (keep & Loop::KeepPrevious) previous_[l][j] = names_.claim(name(n) + "_prev");
            if (keep & Loop::KeepState) {
                const NodeId initial = loop.initial[j];
                append(buffer_, "    ", type_of(n), ' ', name(n), " = ");
                if (initial != no_node)
                    put_value(buffer_, initial);
                else
                    buffer_ +=
                        info(g_[n].op).kind == Kind::Bool ? "false" : cpp_literal(0.0, type_);
                buffer_ += ";\n";
            }
        }
        const std::int64_t last = counter_.start + counter_.step * (ssize(loop.count) - 1);
        if (counter_.step > 0)
            write("    for (int {0} = {1}; {0} <= {2}; ++{0}) {{\n", index_, counter_.start, last);
        else
            write("    for (int {0} = {1}; {0} >= {2}; --{0}) {{\n", index_, counter_.start, last);
        for (std::size_t j = 0; j < loop.length; ++j)
            if (!previous_[l][j].empty())
                write("        const {} {} = {};\n", type_of(first(loop, j)), previous_[l][j],
                      name(first(loop, j)));
        for (std::size_t j = 0; j < loop.length; ++j) {
            const std::size_t s = loop.begin + j;
            auto put_arg = [&](int k) {
                put_pattern(buffer_, l, j, loop.operands[j][static_cast<std::size_t>(k)]);
            };
            if (is_store(s)) {
                const Kernel::Store& store = k_.stores[steps_[s].index];
                buffer_ += "        ";
                put_target(buffer_, store.target.param, affine(loop.targets[j]));
                buffer_ += store.add ? " += " : " = ";
                put_as_real(buffer_, operand(s, 0), [&] { put_arg(0); });
                buffer_ += ";\n";
                continue;
            }
            const NodeId n = first(loop, j);
            comment(n, "        ");
            const std::uint8_t keep = loop.keep[j];
            buffer_ += "        ";
            if (!(keep & Loop::KeepState)) append(buffer_, "const ", type_of(n), ' ');
            append(buffer_, name(n), " = ");
            put_expression(buffer_, s, put_arg);
            buffer_ += ";\n";
            if (keep & Loop::KeepArray) {
                buffer_ += "        ";
                put_array(buffer_, l, j, 0, 1, true);
                append(buffer_, " = ", name(n), ";\n");
            }
        }
        write("    }}\n");
        shown_ = {};
        if (!split_) return;
        for (std::size_t j = 0; j < loop.length; ++j) {
            if (!(loop.keep[j] & Loop::KeepState)) continue;
            const NodeId last = steps_[loop.begin + (loop.count - 1) * loop.length + j].index;
            if (slot_[last] < 0) continue;
            buffer_ += "    ";
            put_written_slot(buffer_, slot_[last]);
            append(buffer_, " = ", name(first(loop, j)), ";\n");
        }
    }

    // Names node n after its label, or as the next temporary when it has none.
    void claim_name(NodeId n) { claim_name(n, g_.label(n)); }
    void claim_name(NodeId n, const std::string* label) {
        if (!label) {
            name_of_[n] = temporaries_++;
            return;
        }
        name_of_[n] = static_cast<std::uint32_t>(labels_.size()) | label_bit;
        labels_.push_back(names_.claim(*label));
    }

    // Two labels that differ only in one number (`a_3`, `a_4`): what comes before and after it,
    // and the two numbers.
    struct Numbered {
        std::string before, after;
        std::int64_t first, second;
    };
    static std::optional<Numbered> numbered(const std::string& a, const std::string& b) {
        auto digit = [](char c) { return c >= '0' && c <= '9'; };
        std::size_t prefix = 0, suffix = 0;
        while (prefix < a.size() && prefix < b.size() && a[prefix] == b[prefix])
            ++prefix;
        while (suffix < a.size() - prefix && suffix < b.size() - prefix &&
               a[a.size() - 1 - suffix] == b[b.size() - 1 - suffix])
            ++suffix;
        while (prefix > 0 && digit(a[prefix - 1]))
            --prefix;
        while (suffix > 0 && digit(a[a.size() - suffix]))
            --suffix;
        const std::string x = a.substr(prefix, a.size() - prefix - suffix),
                          y = b.substr(prefix, b.size() - prefix - suffix);
        auto number = [&](const std::string& t) {
            return !t.empty() && t.size() < 10 && std::all_of(t.begin(), t.end(), digit);
        };
        if (a == b || !number(x) || !number(y)) return std::nullopt;
        return Numbered{a.substr(0, prefix), a.substr(a.size() - suffix), std::stoll(x),
                        std::stoll(y)};
    }
    std::optional<Numbered> numbered(const Loop& loop, std::size_t j) const {
        const std::string *a = g_.label(steps_[loop.begin + j].index),
                          *b = g_.label(steps_[loop.begin + loop.length + j].index);
        if (!a || !b) return std::nullopt;
        return numbered(*a, *b);
    }

    // The loop counter runs over the element numbers of the first body value with numbered labels
    // (`a_1`, `a_2`, ...), so that the body reads `a_i = x[i] * x[i]`; else over the indices of
    // the first parameter element read one by one (`x[i]`), or stored; else from 0 up.
    Counter counter_of(const Loop& loop) const {
        for (std::size_t j = 0; j < loop.length; ++j)
            if (!is_store(loop.begin + j))
                if (auto n = numbered(loop, j); n && std::abs(n->second - n->first) == 1)
                    return {n->first, n->second - n->first};
        auto one_by_one = [](const Pattern& p) {
            return p.kind == Pattern::Kind::Element && (p.stride == 1 || p.stride == -1);
        };
        for (std::size_t j = 0; j < loop.length; ++j)
            for (const Pattern& p : loop.operands[j])
                if (one_by_one(p)) return {p.base, p.stride};
        for (std::size_t j = 0; j < loop.length; ++j)
            if (is_store(loop.begin + j) && one_by_one(loop.targets[j]))
                return {loop.targets[j].base, loop.targets[j].stride};
        return {};
    }

    // A body step is named after its numbered labels with the counter for the number (`a_i`) when
    // the counter is that number; otherwise it is a temporary.
    void claim_loop_name(const Loop& loop, std::size_t j) {
        const auto n = numbered(loop, j);
        const std::string name = n ? n->before + index_ + n->after : std::string();
        const bool fits = n && n->first == counter_.start && n->second - n->first == counter_.step;
        claim_name(steps_[loop.begin + j].index, fits ? &name : nullptr);
    }

    // The text of the code is appended to a string (buffer_, mostly) piece by piece: the put_
    // functions below append what they write to `to`, without format strings or temporary strings.
    // append() appends pieces of text, characters and integers (in decimal).
    template <class... Pieces> static void append(std::string& to, const Pieces&... pieces) {
        (append_piece(to, pieces), ...);
    }
    static void append_piece(std::string& to, std::string_view text) { to += text; }
    static void append_piece(std::string& to, char c) { to += c; }
    template <class Integer, class = std::enable_if_t<std::is_integral_v<Integer>>>
    static void append_piece(std::string& to, Integer number) {
        const fmt::format_int digits(number);
        to.append(digits.data(), digits.size());
    }

    void put_name(std::string& to, NodeId n) const {
        const std::uint32_t id = name_of_[n];
        if (id & label_bit)
            append(to, labels_[id & ~label_bit]);
        else
            append(to, 't', id);
    }
    std::string name(NodeId n) const {
        std::string text;
        put_name(text, n);
        return text;
    }

    template <class Index>
    void put_target(std::string& to, std::size_t param, const Index& index) const {
        refs_.params[param] = true;
        const std::string& name = param_names_[param];
        if (k_.params[param].scalar)
            append(to, '*', name);
        else
            append(to, name, '[', index, ']');
    }

    // `base + stride * r` as C++, for iteration r of the loop being written: r is (i - start) /
    // step for the counter i, so this is (base - stride * step * start) + stride * step * i.
    std::string affine(std::int64_t base, std::int64_t stride) const {
        if (stride == 0) return std::to_string(base);
        const std::int64_t slope = stride * counter_.step;
        const std::int64_t offset = base - slope * counter_.start;
        const std::int64_t size = slope < 0 ? -slope : slope;
        const std::string term = size == 1 ? index_ : fmt::format("{} * {}", size, index_);
        if (slope < 0) return fmt::format("{} - {}", offset, term);
        if (offset == 0) return term;
        return fmt::format("{} {} {}", term, offset < 0 ? '-' : '+', offset < 0 ? -offset : offset);
    }
    std::string affine(const Pattern& p) const { return affine(p.base, p.stride); }

    // The whole number base + stride * r of an Integer pattern, computed in double from the
    // counter (which steps by 1 or -1): exact, as every term is a whole number below 2^53 (the
    // stride is at most 2^20, the counter below 2^32), so the loop computes what the constants of
    // the straight-line code would.
    void put_counted(std::string& to, const Pattern& p) const {
        const std::int64_t slope = p.stride * counter_.step;
        const std::int64_t offset = p.base - slope * counter_.start;
        const bool bare = slope == 1 && offset == 0, cast = type_ != "double";
        if (cast) append(to, "static_cast<", type_, ">(");
        if (!bare && !cast) to += '(';
        if (slope < 0) append(to, offset, ".0 - ");
        if (slope != 1 && slope != -1) append(to, slope < 0 ? -slope : slope, ".0 * ");
        append(to, "static_cast<double>(", index_, ')');
        if (slope > 0 && offset != 0)
            append(to, offset < 0 ? " - " : " + ", offset < 0 ? -offset : offset, ".0");
        if (!bare || cast) to += ')';
    }

    // Slot `index` of `s`, to assign.
    template <class Index> void put_written_slot(std::string& to, const Index& index) const {
        refs_.out = true;
        append(to, out_name_, '[', index, ']');
    }
    // A slot of `s` holding a value of node n's kind, read in the part that wrote it (`here`) or
    // in a later one.
    template <class Index>
    void put_slot(std::string& to, NodeId n, const Index& index, bool here = false) const {
        (here ? refs_.out : refs_.in) = true;
        const bool truth = info(g_[n].op).kind == Kind::Bool;
        append(to, truth ? "(" : "", here ? out_name_ : in_name_, '[', index, ']',
               truth ? " != 0)" : "");
    }

    // Loop arrays are indexed by the loop's counter: a_i_all[i] holds a_i.
    std::size_t array_size(std::uint32_t l) const {
        const Counter& c = counters_[l];
        return static_cast<std::size_t>(c.step > 0 ? c.start + ssize(loops_[l].count)
                                                   : c.start + 1);
    }

    // Body step j of loop l in its iteration base + stride * r, r the iteration being written:
    // its array element, to read or (`write`) to assign.
    void put_array(std::string& to, std::uint32_t l, std::size_t j, std::int64_t base,
                   std::int64_t stride, bool write = false) const {
        const NodeId n = first(loops_[l], j);
        const Counter& c = counters_[l];
        const std::int64_t at = c.start + c.step * base, slope = c.step * stride;
        if (!split_) return append(to, arrays_[l][j], '[', affine(at, slope), ']');
        const std::string index = affine(ssize(array_base_[l][j]) + at, slope);
        if (write) return put_written_slot(to, index);
        put_slot(to, n, index, part_of(loops_[l].begin) == current_part_);
    }

    // A value where straight-line code reads it.
    void put_value(std::string& to, NodeId id) const {
        if (id == no_node) return append(to, cpp_literal(0.0, type_));
        const Node& n = g_[id];
        if (n.op == Op::Const) {
            const bool negative = n.value() < 0;
            return append(to, negative ? "(" : "", cpp_literal(n.value(), type_),
                          negative ? ")" : "");
        }
        if (n.op == Op::Input) {
            const Kernel::Element& e = k_.slots[n.args[0]];
            refs_.params[e.param] = true;
            const std::string& name = param_names_[e.param];
            return k_.params[e.param].scalar ? append(to, name)
                                             : append(to, name, '[', e.index, ']');
        }
        const Home h = home(id);
        const bool elsewhere = split_ && part_of(position_[id]) != current_part_;
        if (h.loop == none) return elsewhere ? put_slot(to, id, slot_[id]) : put_name(to, id);
        if (in_array(h))
            return put_array(to, h.loop, h.step, static_cast<std::int64_t>(h.iteration), 0);
        elsewhere ? put_slot(to, id, slot_[id]) : put_name(to, first(loops_[h.loop], h.step));
    }

    // An operand of body step j of loop l.
    void put_pattern(std::string& to, std::uint32_t l, std::size_t j, const Pattern& p) const {
        const Loop& loop = loops_[l];
        switch (p.kind) {
        case Pattern::Kind::Fixed:
            return put_value(to, p.node);
        case Pattern::Kind::Element:
            refs_.params[p.param] = true;
            return append(to, param_names_[p.param], '[', affine(p), ']');
        case Pattern::Kind::Local:
            return put_name(to, first(loop, p.step));
        case Pattern::Kind::Previous:
            if (j > p.step) return append(to, previous_[l][p.step]);
            return put_name(to, first(loop, p.step));
        case Pattern::Kind::Gather:
            return put_array(to, p.loop, p.step, p.base, p.stride);
        case Pattern::Kind::Integer:
            return put_counted(to, p);
        }
    }

    // An operand of node n's kind used as a number, written by put(): truth values are converted
    // explicitly.
    template <class Put> void put_as_real(std::string& to, NodeId n, Put put) const {
        const bool truth = n != no_node && info(g_[n].op).kind == Kind::Bool;
        if (truth) append(to, "static_cast<", type_, ">(");
        put();
        if (truth) to += ')';
    }
    void put_real(std::string& to, NodeId n) const {
        n = n == no_node ? n : resolve_detach(g_, n);
        put_as_real(to, n, [&] { put_operand(to, n, false); });
    }

    // An operand of a straight-line statement: the expression of a value written into it (see
    // plan_inlining), in parentheses when `nested` in an operator and not a call itself; else
    // put_value.
    void put_operand(std::string& to, NodeId id, bool nested) const {
        if (id == no_node || position_[id] == none || !inlined_[position_[id]])
            return put_value(to, id);
        const bool parenthesised = nested && !is_call(g_[id].op);
        if (parenthesised) to += '(';
        put_written_expression(to, position_[id]);
        if (parenthesised) to += ')';
    }
    // The expression of straight-line step s, with the values written into it.
    void put_written_expression(std::string& to, std::size_t s) const {
        const bool nested = !is_call(g_[steps_[s].index].op);
        put_expression(to, s, [&](int k) { put_operand(to, operand(s, k), nested); });
    }
    // True for the ops written as a call (`std::sin(a)`), whose operands need no parentheses.
    static bool is_call(Op op) { return std::isalpha(static_cast<unsigned char>(info(op).cpp[0])); }

    // The expression of step s: its op's pattern (ops.def) with {0}, {1}, {2} replaced by the
    // operands, which put_arg(k) appends to `to`.
    template <class PutArg>
    void put_expression(std::string& to, std::size_t s, PutArg put_arg) const {
        const Op op = g_[steps_[s].index].op;
        for (const char* c = info(op).cpp; *c; ++c) {
            if (c[0] == '{' && c[1] >= '0' && c[1] <= '2' && c[2] == '}') {
                const int k = c[1] - '0';
                const bool wants_truth =
                    op == Op::And || op == Op::Or || op == Op::Not || (op == Op::Select && k == 0);
                put_as_real(to, wants_truth ? no_node : operand(s, k), [&] { put_arg(k); });
                c += 2;
            } else {
                to += *c;
            }
        }
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

    const SourceFile& source_;
    const Kernel& k_;
    const Graph& g_;
    const std::string& type_;
    std::size_t part_size_;
    std::ostream& out_;
    std::string buffer_;
    Names names_;
    std::vector<std::string> param_names_, part_names_;
    const Schedule schedule_;
    const std::vector<Step>& steps_ = schedule_.steps;
    const std::vector<std::uint32_t>& position_ = schedule_.position; // per node: its step
    std::vector<Loop> loops_;
    std::vector<Unit> units_;
    std::vector<std::uint32_t> loop_of_step_; // per step: its loop, or none
    std::vector<std::uint32_t> name_of_;      // per named node: temporary number or label index
    std::vector<std::string> labels_;         // the claimed names of labelled nodes
    std::uint32_t temporaries_ = 0;
    std::vector<std::vector<std::string>> arrays_, previous_; // per loop and body step: names
    std::vector<std::vector<std::size_t>> array_base_;        // per loop and body step: in `s`
    std::string index_;                                       // the loop counter's name
    std::vector<Counter> counters_;                           // per loop
    Counter counter_;                                         // of the loop being written
    LocalArrays local_arrays_;                                // the loops' arrays
    std::string in_name_, out_name_;                          // `s` in the parts
    // What the body being written refers to, noted by the functions that write the names.
    struct Refs {
        std::vector<bool> params;
        bool in, out;
    };
    mutable Refs refs_;
    bool holding_ = false; // the part being written stays in buffer_
    bool split_ = false;
    std::vector<std::uint32_t> unit_part_;  // per unit: its part
    std::vector<std::uint32_t> part_start_; // per part: its first step
    std::vector<int> slot_;                 // per node: its slot in `s`, or -1
    std::vector<bool> inlined_, to_slot_;   // per step: see plan_inlining
    std::uint32_t current_part_ = none;
    std::pair<std::size_t, std::size_t> shown_; // the offsets of the line last quoted, or none
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
    if (!kernel.gradient_kernel.empty())
        return emit_seeded_gradient(source_, kernel, options_.scalar_type, out_);
    if (kernel.column_sweep)
        return emit_hessian_by_sweeps(source_, kernel, options_.scalar_type, out_);
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
