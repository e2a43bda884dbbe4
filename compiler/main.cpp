// gradc: the command line (shared/spec/cli.md). Each subcommand is a function below; all share the
// error handling in main: diagnostics on stderr, exit 1 for errors in the input, 2 for bad usage,
// 3 for internal errors. Outputs are written whole or not at all.

#include <malloc.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "compiler/dot.hpp"
#include "compiler/emit_cpp.hpp"
#include "compiler/explain.hpp"
#include "compiler/interpret.hpp"
#include "compiler/kernels.hpp"
#include "compiler/pipeline.hpp"
#include "compiler/print.hpp"
#include "compiler/source.hpp"
#include "runtime/network.hpp"

namespace gradc {
namespace {

struct CompileArgs {
    std::string file, output = "-", mode = "all", name_space, type,
                      wrt; // type: double (.expr) or float (.net)
    std::vector<std::string> functions;
    bool hessian = false, with_main = false, no_loops = false;
    std::size_t part_size = EmitOptions{}.statements_per_part;
};

struct EvalArgs {
    std::string file, function;
    std::vector<std::string> points;
    bool grad = false, hessian = false, check = false, json = false;
};

struct InspectArgs {
    std::string file, function, point;
    bool ssa = false, tangent = false, adjoint = false, dot = false;
};

struct ExplainArgs {
    std::string file, function, point;
};

std::size_t node_limit = 10'000'000;

// Writes through a temporary file renamed into place, so a failure never leaves a partial file.
void write_output(const std::string& path, const std::function<void(std::ostream&)>& write) {
    if (path == "-" || path.empty()) {
        write(std::cout);
        std::cout.flush();
        return;
    }
    const std::string temporary = path + ".gradc-tmp";
    try {
        std::ofstream out(temporary, std::ios::binary);
        if (!out) throw InputError(path + ": error: cannot write file");
        write(out);
        if (!out.flush()) throw InputError(path + ": error: cannot write file");
    } catch (...) {
        std::remove(temporary.c_str());
        throw;
    }
    if (std::rename(temporary.c_str(), path.c_str()) != 0) {
        std::remove(temporary.c_str());
        throw InputError(path + ": error: cannot write file");
    }
}

std::vector<std::string> split_list(const std::string& text) {
    std::vector<std::string> items;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t comma = text.find(',', start);
        if (comma == std::string::npos) comma = text.size();
        if (comma > start) items.push_back(text.substr(start, comma - start));
        start = comma + 1;
    }
    return items;
}

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

int compile_command(CompileArgs args) {
    const bool network = ends_with(args.file, ".net");
    if (args.type.empty()) args.type = network ? "float" : "double";
    if (args.type != "double" && args.type != "float")
        throw UsageError("--type must be double or float");
    const SourceFile source = SourceFile::load(args.file);
    if (network) {
        const std::string header =
            net::compile_network(source, {args.type, args.with_main, args.name_space});
        write_output(args.output, [&](std::ostream& out) { out << header; });
        return 0;
    }
    if (args.with_main) throw UsageError("--main applies to .net files only");
    KernelOptions options;
    options.primal = true;
    options.forward = args.mode == "all" || args.mode == "forward";
    options.reverse = args.mode == "all" || args.mode == "reverse";
    if (args.mode != "all" && args.mode != "primal" && !options.forward && !options.reverse)
        throw UsageError("--mode must be primal, forward, reverse or all");
    options.hessian = args.hessian;
    options.wrt = split_list(args.wrt);
    std::vector<Function> functions = compile_functions(source, {node_limit}, args.functions);
    std::string command_line = "--mode " + args.mode + " --type " + args.type;
    if (args.hessian) command_line += " --hessian";
    if (!args.wrt.empty()) command_line += " --wrt " + args.wrt;
    for (const std::string& f : args.functions)
        command_line += " --fn " + f;
    if (args.no_loops) command_line += " --no-loops";
    write_output(args.output, [&](std::ostream& out) {
        EmitOptions emit;
        emit.name_space = args.name_space;
        emit.scalar_type = args.type;
        emit.command_line = command_line;
        emit.statements_per_part = args.part_size;
        emit.loops = !args.no_loops;
        HeaderWriter header(out, source, emit);
        for (Function& fn : functions)
            for_each_kernel(std::move(fn), options, [&](Kernel&& kernel) { header.add(kernel); });
        header.finish();
    });
    return 0;
}

// `x=1,v=[1,2],A=[[1,2],[3,4]]` -> the elements of each parameter of `fn`, in order.
std::vector<std::vector<double>> parse_point(const Function& fn, const std::string& text) {
    std::vector<std::vector<double>> values(fn.params.size());
    std::vector<bool> given(fn.params.size(), false);
    std::size_t i = 0;
    while (i < text.size()) {
        std::size_t eq = text.find('=', i);
        if (eq == std::string::npos)
            throw UsageError("--at: expected NAME=VALUE in '" + text + "'");
        const std::string name = text.substr(i, eq - i);
        auto p = std::find_if(fn.params.begin(), fn.params.end(),
                              [&](const Parameter& q) { return q.name == name; });
        if (p == fn.params.end())
            throw UsageError("--at: '" + fn.name + "' has no parameter '" + name + "'");
        const std::size_t index = static_cast<std::size_t>(p - fn.params.begin());
        std::size_t end = eq + 1;
        int depth = 0;
        for (; end < text.size() && (depth > 0 || text[end] != ','); ++end)
            depth += text[end] == '[' ? 1 : text[end] == ']' ? -1 : 0;
        std::string value = text.substr(eq + 1, end - eq - 1);
        for (char& c : value)
            if (c == '[' || c == ']' || c == ',') c = ' ';
        const char* s = value.c_str();
        char* next = nullptr;
        for (double v = std::strtod(s, &next); next != s; v = std::strtod(s, &next)) {
            values[index].push_back(v);
            s = next;
        }
        while (*s == ' ')
            ++s;
        if (*s)
            throw UsageError("--at: '" + name + "' has a value that is not a number: '" +
                             std::string(s) + "'");
        if (values[index].size() != p->size())
            throw UsageError(fmt::format("--at: '{}' needs {} value{}, got {}", name, p->size(),
                                         p->size() == 1 ? "" : "s", values[index].size()));
        given[index] = true;
        i = end + 1;
    }
    for (std::size_t p = 0; p < fn.params.size(); ++p)
        if (!given[p]) throw UsageError("--at: no value for parameter '" + fn.params[p].name + "'");
    return values;
}

const Kernel& find_kernel(const std::vector<Kernel>& kernels, const std::string& name) {
    for (const Kernel& k : kernels)
        if (k.name == name) return k;
    throw std::logic_error("no kernel " + name);
}

// JSON has no Inf or NaN: they print as null.
std::string json_number(double x) {
    return std::isfinite(x) ? fmt::format("{}", x) : "null";
}

std::string json_list(const std::vector<double>& v) {
    std::vector<std::string> items;
    for (double x : v)
        items.push_back(json_number(x));
    return "[" + fmt::format("{}", fmt::join(items, ", ")) + "]";
}

std::string human_list(const std::vector<double>& v) {
    return fmt::format("[{}]", fmt::join(v, ", "));
}

// The one function a command works on: the one named by --fn, or the file's only function.
Function one_function(const SourceFile& source, const std::string& name) {
    std::vector<std::string> only;
    if (!name.empty()) only.push_back(name);
    std::vector<Function> functions = compile_functions(source, {node_limit}, only);
    if (functions.empty())
        throw InputError(source.path() + ": error: the file defines no function");
    if (functions.size() > 1)
        throw UsageError(source.path() + " defines several functions: choose one with --fn");
    return std::move(functions[0]);
}

int eval_command(const EvalArgs& args) {
    const SourceFile source = SourceFile::load(args.file);
    const Function fn = one_function(source, args.function);
    if (args.points.empty()) throw UsageError("eval needs a point: --at x=1,v=[1,2]");
    KernelOptions options;
    options.hessian = args.hessian && !fn.vector_valued;
    const std::vector<Kernel> kernels = build_kernels(fn, options);
    const std::size_t n = fn.input_count, m = fn.outputs.size();
    std::vector<std::string> json_points;
    for (const std::string& point : args.points) {
        const std::vector<std::vector<double>> at = parse_point(fn, point);
        std::vector<double> flat;
        for (const auto& p : at)
            flat.insert(flat.end(), p.begin(), p.end());
        auto value_at = [&](const std::vector<double>& x) { // all m outputs at a flat point
            std::vector<std::vector<double>> inputs;
            std::size_t k = 0;
            for (const Parameter& p : fn.params) {
                inputs.emplace_back(x.begin() + static_cast<std::ptrdiff_t>(k),
                                    x.begin() + static_cast<std::ptrdiff_t>(k + p.size()));
                k += p.size();
            }
            KernelResult r = run_kernel(kernels.front(), inputs);
            return fn.vector_valued ? r.outputs.back() : std::vector<double>{r.value};
        };
        const std::vector<double> value = value_at(flat);
        // Derivatives as m x n row-major matrices: by forward sweeps, reverse sweeps, and (for
        // --check only) differences, each computed only when printed.
        const bool show = args.grad || args.check;
        std::vector<double> forward(m * n), reverse(m * n), central(m * n), hessian;
        if (show) {
            const Kernel& jvp = find_kernel(kernels, fn.name + "_jvp");
            const Kernel& vjp = find_kernel(kernels, fn.name + "_vjp");
            for (std::size_t j = 0; j < n; ++j) {
                std::vector<std::vector<double>> inputs = at;
                std::size_t k = 0;
                for (const Parameter& p : fn.params) {
                    std::vector<double> tangent(p.size(), 0.0);
                    if (j >= k && j < k + p.size()) tangent[j - k] = 1.0;
                    inputs.push_back(tangent);
                    k += p.size();
                }
                KernelResult r = run_kernel(jvp, inputs);
                for (std::size_t i = 0; i < m; ++i)
                    forward[i * n + j] = r.outputs.back()[i];
            }
            for (std::size_t i = 0; i < m; ++i) {
                std::vector<std::vector<double>> inputs = at;
                std::vector<double> seed(m, 0.0);
                seed[i] = 1.0;
                inputs.push_back(seed);
                KernelResult r = run_kernel(vjp, inputs);
                std::size_t j = 0;
                for (std::size_t p = vjp.params.size() - fn.params.size(); p < vjp.params.size();
                     ++p)
                    for (double d : r.outputs[p])
                        reverse[i * n + j++] = d;
            }
        }
        if (args.check) {
            for (std::size_t j = 0; j < n; ++j) {
                const double h =
                    6.0554544523933395e-06 * std::max(1.0, std::fabs(flat[j])); // cbrt(eps)
                std::vector<double> up = flat, down = flat;
                up[j] += h;
                down[j] -= h;
                const std::vector<double> f_up = value_at(up), f_down = value_at(down);
                for (std::size_t i = 0; i < m; ++i)
                    central[i * n + j] = (f_up[i] - f_down[i]) / (up[j] - down[j]);
            }
        }
        if (options.hessian) {
            const Kernel& h = find_kernel(kernels, fn.name + "_hessian");
            hessian = run_kernel(h, at).outputs.back();
        }
        double worst = 0.0;
        for (std::size_t i = 0; i < m * n; ++i)
            for (double other : {forward[i], central[i]})
                worst =
                    std::max(worst, std::fabs(other - reverse[i]) /
                                        std::max({1.0, std::fabs(other), std::fabs(reverse[i])}));
        if (args.json) {
            std::vector<std::string> fields{fmt::format("\"function\": \"{}\"", fn.name)};
            std::vector<std::string> at_fields;
            for (std::size_t p = 0; p < fn.params.size(); ++p)
                at_fields.push_back(fmt::format("\"{}\": {}", fn.params[p].name,
                                                fn.params[p].dims.empty() ? json_number(at[p][0])
                                                                          : json_list(at[p])));
            fields.push_back(fmt::format("\"at\": {{{}}}", fmt::join(at_fields, ", ")));
            fields.push_back(fmt::format(
                "\"value\": {}", fn.vector_valued ? json_list(value) : json_number(value[0])));
            const char* what = fn.vector_valued ? "jacobian" : "gradient";
            if (show) {
                fields.push_back(fmt::format(
                    "\"{}\": {{\"forward\": {}, \"reverse\": {}{}}}", what, json_list(forward),
                    json_list(reverse), args.check ? ", \"central\": " + json_list(central) : ""));
            }
            if (args.check) fields.push_back(fmt::format("\"max_relative_difference\": {}", worst));
            if (options.hessian)
                fields.push_back(fmt::format("\"hessian\": {}", json_list(hessian)));
            json_points.push_back(fmt::format("{{{}}}", fmt::join(fields, ", ")));
            continue;
        }
        fmt::print("{} at {}\n", fn.name, point);
        fmt::print("  value: {}\n",
                   fn.vector_valued ? human_list(value) : fmt::format("{}", value[0]));
        auto print_matrix = [&](const char* title, const std::vector<double>& mat) {
            if (!fn.vector_valued) return fmt::print("  {:<22} {}\n", title, human_list(mat));
            fmt::print("  {}\n", title);
            for (std::size_t i = 0; i < m; ++i)
                fmt::print("    {}\n",
                           human_list(std::vector<double>(
                               mat.begin() + static_cast<std::ptrdiff_t>(i * n),
                               mat.begin() + static_cast<std::ptrdiff_t>((i + 1) * n))));
        };
        if (show) {
            const std::string what = fn.vector_valued ? "jacobian" : "gradient";
            print_matrix((what + " (reverse):").c_str(), reverse);
            print_matrix((what + " (forward):").c_str(), forward);
        }
        if (args.check) {
            print_matrix("central differences:", central);
            fmt::print("  max relative difference: {:.3g}\n", worst);
        }
        if (options.hessian) {
            fmt::print("  hessian:\n");
            for (std::size_t i = 0; i < n; ++i)
                fmt::print("    {}\n",
                           human_list(std::vector<double>(
                               hessian.begin() + static_cast<std::ptrdiff_t>(i * n),
                               hessian.begin() + static_cast<std::ptrdiff_t>((i + 1) * n))));
        }
    }
    if (args.json)
        fmt::print("{}\n", json_points.size() == 1
                               ? json_points[0]
                               : fmt::format("[{}]", fmt::join(json_points, ", ")));
    return 0;
}

std::vector<double> flat_point(const Function& fn, const std::string& point) {
    std::vector<double> flat;
    for (const auto& p : parse_point(fn, point))
        flat.insert(flat.end(), p.begin(), p.end());
    return flat;
}

int dot_command(const InspectArgs& args, const SourceFile& source,
                const std::vector<std::string>& only) {
    const std::vector<Function> functions = compile_functions(source, {node_limit}, only);
    if (!args.point.empty() && functions.size() != 1)
        throw UsageError(args.file +
                         " defines several functions: choose one with --fn to use --at");
    std::vector<const Function*> shown;
    for (const Function& fn : functions)
        shown.push_back(&fn);
    std::vector<double> at;
    if (!args.point.empty()) at = flat_point(functions[0], args.point);
    fmt::print("{}", print_dot(source, shown, {args.point.empty() ? nullptr : &at}));
    return 0;
}

int explain_command(const ExplainArgs& args) {
    const SourceFile source = SourceFile::load(args.file);
    const Function fn = one_function(source, args.function);
    fmt::print("{}", explain(source, fn, flat_point(fn, args.point)));
    return 0;
}

int inspect_command(const InspectArgs& args) {
    const SourceFile source = SourceFile::load(args.file);
    std::vector<std::string> only;
    if (!args.function.empty()) only.push_back(args.function);
    if (args.dot) return dot_command(args, source, only);
    if (!args.point.empty()) throw UsageError("inspect: --at goes with --dot");
    const std::string suffix = args.tangent ? "_jvp" : args.adjoint ? "_grad" : "";
    for (const Function& fn : compile_functions(source, {node_limit}, only)) {
        KernelOptions options;
        const Function named = with_course_names(fn); // w3_dot, w3_bar in the printed programs
        for (const Kernel& k : build_kernels(named, options))
            if (k.name == fn.name + suffix ||
                (args.adjoint && fn.vector_valued && k.name == fn.name + "_vjp"))
                fmt::print("{}", print_kernel(source, k));
    }
    return 0;
}

// Sets up the heap for large inputs. A compile allocates and frees arrays of millions of
// elements per kernel; by default each would be a fresh mapping, faulted in and zeroed 4 KB at a
// time. Instead everything comes from the main heap (a thread's own arena would grow a page per
// system call), with no separate mappings, never trimmed, so what one kernel frees the next
// reuses; and a large span of it is reserved up front (address space only) and marked for
// transparent huge pages, so what is touched first faults in 2 MB at a time. Together: 25-30%
// less CPU time for a 1M-node gradient.
void prepare_heap() {
    mallopt(M_ARENA_MAX, 1);
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_TRIM_THRESHOLD, -1);
    mallopt(M_TOP_PAD, 64 << 20);
    constexpr std::size_t reserved = std::size_t{4} << 30, huge_page = std::size_t{2} << 20;
    if (void* span = std::malloc(reserved)) { // fails harmlessly where overcommit is refused
        const std::uintptr_t aligned =
            (reinterpret_cast<std::uintptr_t>(span) + huge_page - 1) & ~(huge_page - 1);
        madvise(reinterpret_cast<void*>(aligned), reserved - huge_page, MADV_HUGEPAGE);
        std::free(span);
    }
}

// Runs `body` on a thread with a large stack: lowering recurses once per inlined call.
int run_with_large_stack(const std::function<int()>& body) {
    prepare_heap();
    struct Task {
        const std::function<int()>* body;
        int status;
        std::exception_ptr error;
    } task{&body, 0, nullptr};
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setstacksize(&attributes, std::size_t(1) << 30);
    pthread_t thread;
    auto run = [](void* p) -> void* {
        auto* t = static_cast<Task*>(p);
        try {
            t->status = (*t->body)();
        } catch (...) {
            t->error = std::current_exception();
        }
        return nullptr;
    };
    if (pthread_create(&thread, &attributes, run, &task) != 0) return body();
    pthread_join(thread, nullptr);
    pthread_attr_destroy(&attributes);
    if (task.error) std::rethrow_exception(task.error);
    return task.status;
}

} // namespace
} // namespace gradc

int main(int argc, char** argv) {
    using namespace gradc;
    CLI::App app{"gradc: symbolic differentiation and C++ code generation.\n"
                 "Compiles pure numeric functions (.expr) into a C++ header with their gradients, "
                 "Jacobians and Hessians.",
                 "gradc"};
    app.footer(
        "Examples:\n"
        "  gradc compile samples/rosenbrock.expr --hessian -o rosenbrock.hpp\n"
        "  gradc eval samples/logistic.expr --at x=1,a=2 --grad --check\n"
        "  gradc inspect samples/logistic.expr --dot --at x=1,a=2 | dot -Tsvg -o logistic.svg\n"
        "  gradc explain samples/logistic.expr --at x=1,a=2\n"
        "Run gradc SUBCOMMAND --help for a subcommand's options.");
    app.set_version_flag("--version", std::string("gradc ") + GRADC_VERSION);
    app.require_subcommand(1);
    app.add_option("--node-limit", node_limit, "maximum SSA nodes one function may unroll to")
        ->capture_default_str();

    CompileArgs compile;
    CLI::App* c = app.add_subcommand("compile", "emit the C++ header for FILE.expr (or FILE.net)");
    c->add_option("file", compile.file, "the .expr or .net file")->required();
    c->add_option("-o,--output", compile.output, "output file, - for standard output")
        ->capture_default_str();
    c->add_option("--mode", compile.mode,
                  "which functions to emit: primal, forward, reverse or all")
        ->capture_default_str();
    c->add_flag("--hessian", compile.hessian, "also emit f_hessian and f_hvp (second order)");
    c->add_option("--fn", compile.functions, "emit only this function (repeatable)");
    c->add_option("--wrt", compile.wrt, "differentiate only with respect to these parameters: a,b");
    c->add_option("--namespace", compile.name_space, "C++ namespace (default: the file stem)");
    c->add_option("--type", compile.type,
                  "scalar type: double or float (default: double for .expr, float for .net)");
    c->add_option("--part-size", compile.part_size,
                  "statements per part when a long function is split into parts (C++ compile time)")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    c->add_flag(
        "--no-loops", compile.no_loops,
        "emit straight-line code only: do not re-roll regular runs of statements into loops");
    c->add_flag("--main", compile.with_main,
                ".net: add a main() that trains from the data statements");

    net::TrainOptions train;
    std::string train_file;
    int train_epochs = 0;
    CLI::App* t = app.add_subcommand("train", "build a .net network's training program and run it");
    t->add_option("file", train_file, "the .net file")->required();
    auto* epochs = t->add_option("--epochs", train_epochs, "override the epochs of the file")
                       ->check(CLI::PositiveNumber);
    t->add_option("--data", train.data, "train on this data file instead of train_data's");
    t->add_flag("--json", train.json, "one JSON object per epoch, then one with the test accuracy");
    t->add_option("--save", train.save, "write the trained weights to this file");
    t->add_option("--type", train.scalar_type, "scalar type: float or double")
        ->capture_default_str();

    EvalArgs eval;
    CLI::App* e = app.add_subcommand("eval", "evaluate a function at points with the interpreter");
    e->add_option("file", eval.file, "the .expr file")->required();
    e->add_option("--fn", eval.function, "the function (needed when the file has several)");
    e->add_option("--at", eval.points, "the point: x=1,v=[1,2] (repeatable)")->required();
    e->add_flag("--grad", eval.grad, "also the gradient (Jacobian), by forward and reverse mode");
    e->add_flag("--hessian", eval.hessian, "also the Hessian");
    e->add_flag("--check", eval.check, "compare with central finite differences");
    e->add_flag("--json", eval.json, "print one JSON object");

    InspectArgs inspect;
    CLI::App* i = app.add_subcommand(
        "inspect",
        "print the optimised SSA graph, a derivative program, or the graph as Graphviz DOT");
    i->add_option("file", inspect.file, "the .expr file")->required();
    i->add_option("--fn", inspect.function, "only this function");
    auto* ssa = i->add_flag("--ssa", inspect.ssa, "the primal SSA graph (default)");
    auto* tangent = i->add_flag("--tangent", inspect.tangent, "the forward-mode tangent program");
    auto* adjoint = i->add_flag("--adjoint", inspect.adjoint, "the reverse-mode adjoint program");
    auto* dot =
        i->add_flag("--dot", inspect.dot,
                    "Graphviz DOT of the computation graph, edges labelled with local partials");
    i->add_option("--at", inspect.point,
                  "with --dot: show values and partials at this point: x=1,a=2");
    ssa->excludes(tangent)->excludes(adjoint)->excludes(dot);
    tangent->excludes(adjoint)->excludes(dot);
    adjoint->excludes(dot);

    ExplainArgs explain_args;
    CLI::App* x = app.add_subcommand(
        "explain", "the course table at a point: every w_i, its value, tangents and adjoint");
    x->add_option("file", explain_args.file, "the .expr file")->required();
    x->add_option("--fn", explain_args.function, "the function (needed when the file has several)");
    x->add_option("--at", explain_args.point, "the point: x=1,a=2 (vectors: v=[1,2])")->required();
    x->footer("Example: gradc explain samples/logistic.expr --at x=1,a=2");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& error) {
        return app.exit(error) == 0 ? 0 : 2;
    }
    const std::string& input_file = c->parsed()   ? compile.file
                                    : e->parsed() ? eval.file
                                    : x->parsed() ? explain_args.file
                                    : t->parsed() ? train_file
                                                  : inspect.file;
    try {
        return run_with_large_stack([&] {
            if (t->parsed()) {
                if (*epochs) train.epochs = train_epochs;
                return net::train_network(train_file, train);
            }
            if (c->parsed()) return compile_command(compile);
            if (e->parsed()) return eval_command(eval);
            if (x->parsed()) return explain_command(explain_args);
            return inspect_command(inspect);
        });
    } catch (const CompileError& error) {
        std::cerr << format_diagnostic(SourceFile::load(input_file), error.offset(), error.what());
        return 1;
    } catch (const InputError& error) {
        std::cerr << error.what() << "\n";
        return 1;
    } catch (const UsageError& error) {
        std::cerr << "gradc: error: " << error.what() << "\n";
        return 2;
    } catch (const std::exception& error) {
        std::cerr << "gradc: internal error: " << error.what()
                  << "\nThis is a bug in gradc; please report it with the input that caused it.\n";
        return 3;
    }
}
