// Differential tests, the backbone: forward mode vs reverse mode vs central finite differences vs
// the interpreter vs the emitted C++ compiled with g++ and clang++ and run, over the samples and
// over randomly generated expressions (tests/random_expr.hpp, fixed seeds). Nothing here is a
// hard-coded result: every number is checked against an independent way of computing it.

#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "compiler/emit_cpp.hpp"
#include "random_expr.hpp"
#include "support.hpp"

namespace gradc::test {
namespace {

// Collects failures with enough context to reproduce them, and reports the first few in full.
struct Failures {
    std::vector<std::string> messages;
    std::size_t compared = 0, skipped = 0;
    void add(const std::string& context, const std::string& what) {
        if (messages.size() < 12)
            messages.push_back(what + "\n" + context);
        else
            messages.back() = "(further failures omitted)";
    }
    void report(const char* name) {
        MESSAGE(std::string(name) << ": " << compared << " comparisons against finite differences, "
                                  << skipped << " skipped at kinks or ill-conditioned points");
        for (const std::string& m : messages)
            FAIL_CHECK(m);
    }
};

std::string show(const std::vector<double>& v) {
    std::ostringstream s;
    s.precision(17);
    s << "[";
    for (std::size_t i = 0; i < v.size(); ++i)
        s << (i ? ", " : "") << v[i];
    return s.str() + "]";
}

std::string context(const CompiledFile& cf, std::size_t fn, const std::vector<double>& point) {
    return "function " + cf.functions[fn].name + " at " + show(point) + " of\n" + cf.source.text();
}

std::string num(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

double inf_norm(const std::vector<double>& v) {
    double m = 0;
    for (double x : v)
        m = std::max(m, std::fabs(x));
    return m;
}

bool all_finite(const std::vector<double>& v) {
    return std::all_of(v.begin(), v.end(), [](double x) { return std::isfinite(x); });
}

// Portable uniform reals from a seeded engine.
struct Points {
    std::mt19937_64 rng;
    explicit Points(std::uint64_t seed) : rng(seed) {}
    double real(double lo, double hi) {
        return lo + (hi - lo) * static_cast<double>(rng() >> 11) * 0x1.0p-53;
    }
    std::vector<double> vector(std::size_t n, double lo = -1.5, double hi = 1.5) {
        std::vector<double> v(n);
        for (double& x : v)
            x = real(lo, hi);
        return v;
    }
};

std::vector<double> unit(std::size_t n, std::size_t j) {
    std::vector<double> e(n, 0.0);
    e[j] = 1;
    return e;
}

// Compares `actual` with `expected` elementwise, relative to the size of the whole vector.
bool close(const std::vector<double>& actual, const std::vector<double>& expected, double rel) {
    if (actual.size() != expected.size()) return false;
    const double scale = 1 + inf_norm(expected);
    for (std::size_t i = 0; i < actual.size(); ++i)
        if (!(std::fabs(actual[i] - expected[i]) <= rel * scale)) return false;
    return true;
}

// Every check of one scalar-valued function at one point, on the interpreter.
void check_scalar(const CompiledFile& cf, std::size_t i, const std::vector<double>& x,
                  Points& points, Failures& fail) {
    const Function& fn = cf.functions[i];
    const std::size_t n = fn.input_count;
    const auto P = split(fn, x);
    const Kernel& primal = cf.kernel(i, "");
    auto value_at = [&](const std::vector<double>& at) {
        return run_kernel(primal, kernel_inputs(primal, split(fn, at))).value;
    };
    const double value = value_at(x);
    const std::string where = context(cf, i, x);
    if (!std::isfinite(value)) return fail.add(where, "value is not finite: " + num(value));

    // forward mode, one unit tangent at a time
    const Kernel& jvp = cf.kernel(i, "_jvp");
    std::vector<double> forward(n);
    for (std::size_t j = 0; j < n; ++j) {
        const KernelResult r = run_kernel(jvp, kernel_inputs(jvp, P, split(fn, unit(n, j))));
        if (r.value != value) fail.add(where, "f_jvp returns a different value");
        forward[j] = output(jvp, r, "out_dot").at(0);
    }
    // reverse mode
    const Kernel& grad = cf.kernel(i, "_grad");
    const KernelResult rg = run_kernel(grad, kernel_inputs(grad, P));
    const std::vector<double> reverse = gather(grad, rg, "_bar");
    if (rg.value != value) fail.add(where, "f_grad returns a different value");
    if (!all_finite(reverse) || !all_finite(forward))
        return fail.add(where, "non-finite gradient: reverse " + show(reverse) + ", forward " +
                                   show(forward));
    if (!close(forward, reverse, 1e-10))
        fail.add(where, "forward " + show(forward) + " != reverse " + show(reverse));
    // seeded reverse mode
    const Kernel& vjp = cf.kernel(i, "_vjp");
    const double seed = points.real(-2, 2);
    const std::vector<double> seeded =
        gather(vjp, run_kernel(vjp, kernel_inputs(vjp, P, {{seed}})), "_bar");
    std::vector<double> expected_seeded = reverse;
    for (double& g : expected_seeded)
        g *= seed;
    if (!close(seeded, expected_seeded, 1e-10))
        fail.add(where, "f_vjp with seed " + num(seed) + " gives " + show(seeded) + ", expected " +
                            show(expected_seeded));
    // central differences
    const double gscale = 1 + inf_norm(reverse);
    for (std::size_t j = 0; j < n; ++j) {
        std::vector<double> at = x;
        const Difference d = central_difference(
            [&](double t) {
                at[j] = t;
                return value_at(at);
            },
            x[j], gscale);
        if (!d.ok) {
            ++fail.skipped;
            continue;
        }
        ++fail.compared;
        if (!(std::fabs(d.value - reverse[j]) <= 1e-6 * gscale + 1e-10 * std::fabs(value)))
            fail.add(where, "d/dx" + std::to_string(j) + ": AD " + num(reverse[j]) +
                                " but finite differences " + num(d.value));
    }

    // second order, when built
    bool has_hessian = false;
    for (const Kernel& k : cf.kernels[i])
        has_hessian |= k.name == fn.name + "_hessian";
    if (!has_hessian) return;
    const Kernel& hk = cf.kernel(i, "_hessian");
    const KernelResult rh = run_kernel(hk, kernel_inputs(hk, P));
    const std::vector<double> hg = output(hk, rh, "grad"), H = output(hk, rh, "hess");
    if (rh.value != value) fail.add(where, "f_hessian returns a different value");
    if (!close(hg, reverse, 1e-12))
        fail.add(where, "f_hessian's gradient " + show(hg) + " != " + show(reverse));
    if (!all_finite(H)) return fail.add(where, "non-finite Hessian " + show(H));
    for (std::size_t a = 0; a < n; ++a)
        for (std::size_t b = 0; b < a; ++b)
            if (H[a * n + b] != H[b * n + a]) fail.add(where, "Hessian not symmetric: " + show(H));
    const double hscale = 1 + inf_norm(H);
    // Finite differences of the gradient, from f_hessian at nearby points (it returns both the
    // gradient and the Hessian there). A Hessian entry is compared only where two step sizes agree
    // and the Hessian itself varies little over the step: a feature much narrower than the step
    // (hypot near its apex, say) makes the two agree on a wrong answer.
    auto second_order_at = [&](const std::vector<double>& at) {
        const KernelResult r = run_kernel(hk, kernel_inputs(hk, split(fn, at)));
        return std::make_pair(output(hk, r, "grad"), output(hk, r, "hess"));
    };
    for (std::size_t j = 0; j < n; ++j) {
        const double h = 1e-4 * std::max(1.0, std::fabs(x[j]));
        std::vector<double> at = x;
        auto g_at = [&](double t) {
            at[j] = x[j] + t;
            return second_order_at(at);
        };
        const auto p1 = g_at(h), m1 = g_at(-h), p2 = g_at(h / 2), m2 = g_at(-h / 2);
        for (std::size_t r = 0; r < n; ++r) {
            const double d1 = (p1.first[r] - m1.first[r]) / (2 * h);
            const double d2 = (p2.first[r] - m2.first[r]) / h;
            const double here = H[r * n + j];
            if (!std::isfinite(d1) || !std::isfinite(d2) ||
                std::fabs(d1 - d2) > 1e-6 * (hscale + std::fabs(d2)) ||
                !(std::fabs(p2.second[r * n + j] - here) <= 1e-2 * hscale) ||
                !(std::fabs(m2.second[r * n + j] - here) <= 1e-2 * hscale)) {
                ++fail.skipped;
                continue;
            }
            ++fail.compared;
            const double fd = (4 * d2 - d1) / 3;
            if (!(std::fabs(fd - here) <= 1e-5 * hscale + 1e-10 * inf_norm(p1.first)))
                fail.add(where, "Hessian[" + std::to_string(r) + "," + std::to_string(j) +
                                    "] = " + num(here) +
                                    " but finite differences of the gradient give " + num(fd));
        }
    }
    const Kernel& hvp = cf.kernel(i, "_hvp");
    const std::vector<double> dir = points.vector(n, -1, 1);
    const KernelResult rv = run_kernel(hvp, kernel_inputs(hvp, P, {dir}));
    const std::vector<double> hv = output(hvp, rv, "hv");
    std::vector<double> expected_hv(n, 0.0);
    for (std::size_t a = 0; a < n; ++a)
        for (std::size_t b = 0; b < n; ++b)
            expected_hv[a] += H[a * n + b] * dir[b];
    if (!close(hv, expected_hv, 1e-10) || !close(output(hvp, rv, "grad"), reverse, 1e-12) ||
        rv.value != value)
        fail.add(where, "f_hvp along " + show(dir) + " gives " + show(hv) +
                            ", H dir = " + show(expected_hv));
}

// Every check of one vector-valued function at one point, on the interpreter.
void check_vector(const CompiledFile& cf, std::size_t i, const std::vector<double>& x,
                  Points& points, Failures& fail) {
    const Function& fn = cf.functions[i];
    const std::size_t n = fn.input_count, m = fn.outputs.size();
    const auto P = split(fn, x);
    const std::string where = context(cf, i, x);
    const Kernel& primal = cf.kernel(i, "");
    auto value_at = [&](const std::vector<double>& at) {
        return output(primal, run_kernel(primal, kernel_inputs(primal, split(fn, at))), "out");
    };
    const std::vector<double> value = value_at(x);
    if (!all_finite(value)) return fail.add(where, "value is not finite: " + show(value));

    const Kernel& jk = cf.kernel(i, "_jacobian");
    const KernelResult rj = run_kernel(jk, kernel_inputs(jk, P));
    const std::vector<double> J = output(jk, rj, "jac");
    if (output(jk, rj, "out") != value) fail.add(where, "g_jacobian's out differs from g's");
    if (!all_finite(J)) return fail.add(where, "non-finite Jacobian " + show(J));
    const double jscale = 1 + inf_norm(J);
    // forward: the columns
    const Kernel& jvp = cf.kernel(i, "_jvp");
    for (std::size_t j = 0; j < n; ++j) {
        const KernelResult r = run_kernel(jvp, kernel_inputs(jvp, P, split(fn, unit(n, j))));
        const std::vector<double> column = output(jvp, r, "out_dot");
        std::vector<double> expected(m);
        for (std::size_t k = 0; k < m; ++k)
            expected[k] = J[k * n + j];
        if (!close(column, expected, 1e-10))
            fail.add(where, "Jacobian column " + std::to_string(j) + ": forward " + show(column) +
                                ", g_jacobian " + show(expected));
        if (output(jvp, r, "out") != value) fail.add(where, "g_jvp's out differs from g's");
    }
    // reverse: the rows, and a random seed
    const Kernel& vjp = cf.kernel(i, "_vjp");
    for (std::size_t k = 0; k < m; ++k) {
        const KernelResult r = run_kernel(vjp, kernel_inputs(vjp, P, {unit(m, k)}));
        const std::vector<double> row = gather(vjp, r, "_bar");
        const std::vector<double> expected(J.begin() + static_cast<long>(k * n),
                                           J.begin() + static_cast<long>((k + 1) * n));
        if (!close(row, expected, 1e-10))
            fail.add(where, "Jacobian row " + std::to_string(k) + ": reverse " + show(row) +
                                ", g_jacobian " + show(expected));
        if (output(vjp, r, "out") != value) fail.add(where, "g_vjp's out differs from g's");
    }
    const std::vector<double> seed = points.vector(m, -1, 1);
    const std::vector<double> seeded =
        gather(vjp, run_kernel(vjp, kernel_inputs(vjp, P, {seed})), "_bar");
    std::vector<double> expected_seeded(n, 0.0);
    for (std::size_t k = 0; k < m; ++k)
        for (std::size_t j = 0; j < n; ++j)
            expected_seeded[j] += seed[k] * J[k * n + j];
    if (!close(seeded, expected_seeded, 1e-10))
        fail.add(where, "g_vjp with seed " + show(seed) + " gives " + show(seeded) + ", expected " +
                            show(expected_seeded));
    // central differences
    for (std::size_t j = 0; j < n; ++j) {
        const double h = 1e-4 * std::max(1.0, std::fabs(x[j]));
        std::vector<double> at = x;
        auto v_at = [&](double t) {
            at[j] = x[j] + t;
            return value_at(at);
        };
        const auto vp = v_at(h), vm = v_at(-h), vp2 = v_at(h / 2), vm2 = v_at(-h / 2);
        for (std::size_t k = 0; k < m; ++k) {
            const double d1 = (vp[k] - vm[k]) / (2 * h), d2 = (vp2[k] - vm2[k]) / h;
            if (!std::isfinite(d1) || !std::isfinite(d2) ||
                std::fabs(d1 - d2) > 1e-6 * (jscale + std::fabs(d2))) {
                ++fail.skipped;
                continue;
            }
            ++fail.compared;
            const double fd = (4 * d2 - d1) / 3;
            if (!(std::fabs(fd - J[k * n + j]) <= 1e-6 * jscale + 1e-10 * inf_norm(value)))
                fail.add(where, "Jacobian[" + std::to_string(k) + "," + std::to_string(j) + "] = " +
                                    num(J[k * n + j]) + " but finite differences give " + num(fd));
        }
    }
}

void check_file(const CompiledFile& cf, int point_count, Points& points, Failures& fail) {
    for (std::size_t i = 0; i < cf.functions.size(); ++i)
        for (int p = 0; p < point_count; ++p) {
            const std::vector<double> x = points.vector(cf.functions[i].input_count);
            if (cf.functions[i].vector_valued)
                check_vector(cf, i, x, points, fail);
            else
                check_scalar(cf, i, x, points, fail);
        }
}

std::vector<std::string> sample_paths() {
    std::vector<std::string> paths;
    for (const auto& entry : std::filesystem::directory_iterator(source_dir() + "/samples"))
        if (entry.path().extension() == ".expr") paths.push_back(entry.path().string());
    std::sort(paths.begin(), paths.end());
    return paths;
}

// The random files of the suite: `count` files of 4 functions each, from fixed seeds.
std::vector<std::string> random_sources(int count, std::uint64_t first_seed) {
    std::vector<std::string> texts;
    for (int k = 0; k < count; ++k) {
        ExprGenerator gen(first_seed + static_cast<std::uint64_t>(k));
        texts.push_back(gen.file(4));
    }
    return texts;
}

constexpr int random_file_count = 260; // 1040 functions
constexpr std::uint64_t random_seed = 20261122;
constexpr int emitted_file_count = 40; // of the random files, also compiled as C++
constexpr int float_file_count = 12;
constexpr std::size_t emitted_hessian_inputs = 5; // keeps the emitted headers small

// Second-order kernels for functions of at most this many scalar inputs (dense Hessians).
constexpr std::size_t hessian_inputs = 8;

} // namespace

TEST_CASE("differential: the samples, forward vs reverse vs finite differences vs Hessian") {
    Failures fail;
    Points points(7);
    for (const std::string& path : sample_paths()) {
        INFO(path);
        const CompiledFile cf(path, read_file(path), 100);
        check_file(cf, 5, points, fail);
    }
    fail.report("samples");
    CHECK(fail.compared > 100);
}

TEST_CASE("differential: random expressions compile") {
    // Every generated file must be accepted: the generator stays inside the language. A rejection
    // is either a generator bug or a compiler bug; the message says which source.
    int functions = 0;
    const auto texts = random_sources(random_file_count, random_seed);
    for (std::size_t k = 0; k < texts.size(); ++k) {
        try {
            const SourceFile source("random" + std::to_string(k) + ".expr", texts[k]);
            functions += static_cast<int>(compile_functions(source).size());
        } catch (const CompileError& e) {
            const SourceFile source("random" + std::to_string(k) + ".expr", texts[k]);
            FAIL_CHECK(format_diagnostic(source, e.offset(), e.what()) << "\nin\n" << texts[k]);
        }
    }
    CHECK(functions >= 1000);
}

TEST_CASE("differential: 1000+ random expressions, forward vs reverse vs finite differences") {
    Failures fail;
    Points points(random_seed);
    const auto texts = random_sources(random_file_count, random_seed);
    int scalar = 0, vector = 0, hessian = 0;
    for (std::size_t k = 0; k < texts.size(); ++k) {
        std::unique_ptr<CompiledFile> cf;
        try {
            cf = std::make_unique<CompiledFile>("random" + std::to_string(k) + ".expr", texts[k],
                                                hessian_inputs);
        } catch (const std::exception&) {
            continue; // reported by "random expressions compile"
        }
        for (const Function& f : cf->functions)
            (f.vector_valued ? vector : scalar)++;
        for (const auto& ks : cf->kernels)
            hessian += ks.size() == 6;
        check_file(*cf, 3, points, fail);
    }
    MESSAGE(scalar << " scalar and " << vector << " vector-valued functions, " << hessian
                   << " with Hessians");
    fail.report("random");
    CHECK(fail.skipped < fail.compared / 5); // the comparisons mostly happen
    CHECK(scalar + vector >= 1000);
}

} // namespace gradc::test

// ---------------------------------------------------------------------------------------------
// The emitted C++, compiled with the system compilers and run, against the interpreter.

namespace gradc::test {
namespace {

// One number the driver prints, with what the interpreter says it must be.
struct Expected {
    std::string label;
    double value;
    double tolerance; // absolute
};

std::string literal(double v, bool single) {
    char buf[64];
    if (single)
        std::snprintf(buf, sizeof buf, "%af", static_cast<double>(static_cast<float>(v)));
    else
        std::snprintf(buf, sizeof buf, "%a", v);
    return buf;
}

// Writes, for every kernel of `cf` and every point, a block of driver code that calls the emitted
// function in namespace `ns` and prints every result as `ID VALUE`; appends what each must be.
// Output arrays start filled with a sentinel: kernels that overwrite must overwrite every element,
// and `_vjp` kernels must add into it.
void drive(const CompiledFile& cf, const std::string& ns, bool single, int point_count,
           Points& points, std::string& code, std::vector<Expected>& expected) {
    const char* T = single ? "float" : "double";
    for (std::size_t i = 0; i < cf.functions.size(); ++i) {
        const Function& fn = cf.functions[i];
        for (int p = 0; p < point_count; ++p) {
            std::vector<double> x = points.vector(fn.input_count);
            if (single)
                for (double& v : x)
                    v = static_cast<float>(v);
            for (const Kernel& k : cf.kernels[i]) {
                const bool accumulates =
                    k.name.size() > 4 && k.name.compare(k.name.size() - 4, 4, "_vjp") == 0;
                std::vector<std::vector<double>> extra;
                for (std::size_t q = fn.params.size(); q < k.params.size(); ++q)
                    if (!k.params[q].output) {
                        extra.push_back(points.vector(k.params[q].size, -1, 1));
                        if (single)
                            for (double& v : extra.back())
                                v = static_cast<float>(v);
                    }
                const auto inputs = kernel_inputs(k, split(fn, x), extra);
                const KernelResult r = run_kernel(k, inputs);
                // Conditioning, for the float build: how much the results move when every input
                // moves by a relative 1e-6.
                std::vector<double> spread;
                auto flat = [&](const KernelResult& res) {
                    std::vector<double> all;
                    if (k.returns_value) all.push_back(res.value);
                    for (std::size_t q = 0; q < k.params.size(); ++q)
                        if (k.params[q].output)
                            all.insert(all.end(), res.outputs[q].begin(), res.outputs[q].end());
                    return all;
                };
                const std::vector<double> base = flat(r);
                spread.assign(base.size(), 0.0);
                if (single)
                    for (int trial = 0; trial < 2; ++trial) {
                        auto moved = inputs;
                        for (auto& v : moved)
                            for (double& e : v)
                                e *= 1 + points.real(-1e-6, 1e-6);
                        const std::vector<double> other = flat(run_kernel(k, moved));
                        for (std::size_t e = 0; e < base.size(); ++e)
                            spread[e] = std::max(spread[e], std::fabs(other[e] - base[e]));
                    }
                std::string block = "    {\n", call = ns + "::" + k.name + "(", prints;
                std::size_t printed = 0;
                const std::string label = ns + "::" + k.name + " at " + show(x) + " with " + [&] {
                    std::string s;
                    for (const auto& e : extra)
                        s += show(e) + " ";
                    return s;
                }();
                auto expect = [&](const std::string& what, double value, double sentinel_added) {
                    const double v = value + sentinel_added;
                    const double tol = single ? 1e-3 * (1e-3 + std::fabs(v)) + 100 * spread[printed]
                                              : 1e-12 * std::fabs(v) + 1e-300;
                    prints +=
                        "        out(" + std::to_string(expected.size()) + ", " + what + ");\n";
                    expected.push_back({label + " " + what, v, tol});
                    ++printed;
                };
                if (k.returns_value) {
                    call = std::string("        const ") + T + " r = " + call;
                    expect("r", r.value, 0);
                } else {
                    call = "        " + call;
                }
                for (std::size_t q = 0; q < k.params.size(); ++q) {
                    const KernelParam& kp = k.params[q];
                    const std::string var = "p" + std::to_string(q);
                    if (q) call += ", ";
                    if (!kp.output) {
                        if (kp.scalar) {
                            call += literal(inputs[q][0], single);
                        } else {
                            block += std::string("        const ") + T + " " + var + "[] = {";
                            for (std::size_t e = 0; e < kp.size; ++e)
                                block += (e ? ", " : "") + literal(inputs[q][e], single);
                            block += "};\n";
                            call += var;
                        }
                        continue;
                    }
                    const double sentinel = accumulates && kp.name != "out" ? 0.25 : 7.5;
                    block += std::string("        ") + T + " " + var + "[" +
                             std::to_string(kp.size) + "] = {";
                    for (std::size_t e = 0; e < kp.size; ++e)
                        block += (e ? ", " : "") + literal(sentinel, single);
                    block += "};\n";
                    call += var;
                    for (std::size_t e = 0; e < kp.size; ++e)
                        expect(var + "[" + std::to_string(e) + "]", r.outputs[q][e],
                               accumulates && kp.name != "out" ? sentinel : 0.0);
                }
                code += block + call + ");\n" + prints + "    }\n";
            }
        }
    }
}

struct Build {
    std::string compiler, flags, exe;
};

// Compiles the drivers with every compiler, two at a time (CI has 2 cores), and runs each
// executable; checks every printed number against `expected`.
void compile_and_compare(const std::string& dir, const std::vector<std::string>& drivers,
                         const std::vector<std::vector<Expected>>& expected,
                         const std::vector<Build>& builds) {
    std::vector<std::string> jobs, exes;
    std::vector<std::size_t> which;
    for (const Build& b : builds)
        for (std::size_t d = 0; d < drivers.size(); ++d) {
            const std::string exe = dir + "/" + b.exe + std::to_string(d);
            jobs.push_back(b.compiler + " " + b.flags + " -I" + dir + " " + drivers[d] + " -o " +
                           exe + " >" + exe + ".log 2>&1; echo $? >" + exe + ".status");
            exes.push_back(exe);
            which.push_back(d);
        }
    std::string script;
    for (std::size_t j = 0; j < jobs.size(); ++j)
        script += "(" + jobs[j] + ") &\n" + (j % 2 ? "wait\n" : "");
    script += "wait\n";
    write_file(dir + "/build.sh", script);
    const auto started = std::chrono::steady_clock::now();
    run("sh " + dir + "/build.sh");
    MESSAGE("compiled "
            << jobs.size() << " drivers in "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()
            << " s");
    for (std::size_t j = 0; j < exes.size(); ++j) {
        const std::string status = read_file(exes[j] + ".status");
        INFO(jobs[j]);
        if (status != "0\n") {
            FAIL_CHECK("compilation failed:\n" << read_file(exes[j] + ".log").substr(0, 4000));
            continue;
        }
        const CommandResult r = run(exes[j]);
        REQUIRE(r.status == 0);
        std::istringstream in(r.out);
        const std::vector<Expected>& want = expected[which[j]];
        std::size_t id, count = 0, wrong = 0;
        double value;
        while (in >> id >> value) {
            ++count;
            REQUIRE(id < want.size());
            const Expected& e = want[id];
            if (!(std::fabs(value - e.value) <= e.tolerance) &&
                !(std::isnan(value) && std::isnan(e.value))) {
                if (++wrong <= 10)
                    FAIL_CHECK(e.label << ": emitted code gives " << num(value)
                                       << ", the interpreter " << num(e.value));
            }
        }
        CHECK(count == want.size());
        CHECK(wrong == 0);
    }
}

std::string driver_source(const std::vector<std::string>& headers, const std::string& body,
                          bool single) {
    std::string code = "// generated by tests/test_differential.cpp\n#include <cstdio>\n";
    for (const std::string& h : headers)
        code += "#include \"" + h + "\"\n";
    code += "\nstatic void out(int id, ";
    code += single ? "float" : "double";
    code += " v) { std::printf(\"%d %.17g\\n\", id, static_cast<double>(v)); }\n\n";
    return code + body;
}

} // namespace

// A sum whose terms hold whole numbers that count with the index, up and down (x * i, 2 i - 30,
// i + 1; the reverse sweep counts down): re-rolled, its loops compute them from the counter.
const char* const counted_source =
    "fn counted(x, y) = sum(i in 0..40: sin(x * i) * y - (2 * i - 30) * x^2 / (i + 1))\n";

TEST_CASE(
    "differential: emitted C++ (g++ and clang++, -Wall -Wextra -Wpedantic -Werror) matches the "
    "interpreter") {
    // The samples and a slice of the random files, every kernel (Hessians where small), at two
    // points each; the drivers are split into a few translation units, one function per block.
    const std::string dir = work_dir("differential_emitted");
    Points points(99);
    std::vector<std::unique_ptr<CompiledFile>> files;
    for (const std::string& path : sample_paths())
        files.push_back(std::make_unique<CompiledFile>(path, read_file(path), 100));
    // Reductions that re-roll into loops at the default thresholds: values carried from one
    // iteration to the next, arrays read by later loops (log-sum-exp, softmax regression),
    // strided and reversed indices, nested sums, a vector result.
    const std::pair<const char*, const char*> loop_shaped[] = {
        {"xent.expr", "const N = 40\nfn xent(z[N]) = logsumexp(z) - z[3]\n"},
        {"softmaxreg.expr", "const K = 3\nconst D = 24\nfn loss(W[K, D], x[D]) {\n"
                            "    let s[c in 0..K] = sum(j in 0..D: W[c, j] * x[j])\n"
                            "    return logsumexp(s) - s[1]\n}\n"},
        {"strided.expr", "fn f(x[60]) = sum(i in 0..20: x[3*i] * sin(x[3*i+1]) - x[59 - 2*i]^2)\n"},
        {"nested.expr",
         "fn g(x[12], y[12]) = sum(i in 0..12, j in 0..12: (x[i] - y[j])^2 * cos(x[j]))\n"},
        {"vector.expr", "fn h(x[30]) = [sum(i in 0..30: x[i] * x[i]), max(i in 0..30: x[i]),\n"
                        "                 prod(i in 0..30: 1 + x[i] / 100)]\n"},
        // Constants that count with the iterations: computed from the loop counter.
        {"counted.expr", counted_source},
    };
    for (const auto& [name, text] : loop_shaped)
        files.push_back(std::make_unique<CompiledFile>(name, text, emitted_hessian_inputs));
    const auto texts = random_sources(emitted_file_count, random_seed);
    for (std::size_t k = 0; k < texts.size(); ++k)
        files.push_back(std::make_unique<CompiledFile>("random" + std::to_string(k) + ".expr",
                                                       texts[k], emitted_hessian_inputs));
    const std::size_t units = 2;
    std::vector<std::vector<std::string>> headers(units);
    std::vector<std::string> bodies(units);
    std::vector<std::vector<Expected>> expected(units);
    for (std::size_t f = 0; f < files.size(); ++f) {
        const std::size_t u = f % units;
        const std::string ns = "n" + std::to_string(f);
        std::vector<Kernel> all;
        for (const auto& ks : files[f]->kernels)
            all.insert(all.end(), ks.begin(), ks.end());
        const std::string header = ns + ".hpp";
        // Every third file is emitted in parts of a few statements, so that the code that splits
        // long kernels (and passes values between parts) is compiled and checked too.
        EmitOptions options;
        options.name_space = ns;
        options.command_line = "--hessian";
        if (f % 3 == 2) options.statements_per_part = 1 + f % 4;
        // Every other file re-rolls any run that repeats twice, so that loops of every shape
        // (strides, values carried from one iteration to the next, arrays read by later loops,
        // truth values) are compiled and checked, in parts too.
        if (f % 2 == 1) options.reroll = {2, 2};
        write_file(dir + "/" + header, emit_header(files[f]->source, all, options));
        headers[u].push_back(header);
        bodies[u] += "static void run_" + ns + "() {\n";
        drive(*files[f], ns, false, 2, points, bodies[u], expected[u]);
        bodies[u] += "}\n";
    }
    std::vector<std::string> drivers;
    for (std::size_t u = 0; u < units; ++u) {
        std::string main = "\nint main() {\n";
        for (std::size_t f = u; f < files.size(); f += units)
            main += "    run_n" + std::to_string(f) + "();\n";
        drivers.push_back(dir + "/driver" + std::to_string(u) + ".cpp");
        write_file(drivers.back(), driver_source(headers[u], bodies[u], false) + main + "}\n");
    }
    const std::string flags = "-std=c++17 -Wall -Wextra -Wpedantic -Werror -O1";
    std::vector<Build> builds{{gxx(), flags, "gxx"}};
    if (!clangxx().empty())
        builds.push_back({clangxx(), flags, "clang"});
    else
        MESSAGE("clang++ is not installed: only " << gxx() << " is tested");
    compile_and_compare(dir, drivers, expected, builds);
}

TEST_CASE("differential: emitted C++ with --type float compiles under -Wconversion and matches") {
    const std::string dir = work_dir("differential_emitted_float");
    Points points(1234);
    std::vector<std::unique_ptr<CompiledFile>> files;
    for (const std::string& path : sample_paths())
        files.push_back(std::make_unique<CompiledFile>(path, read_file(path), 100));
    files.push_back(
        std::make_unique<CompiledFile>("counted.expr", counted_source, emitted_hessian_inputs));
    const auto texts = random_sources(float_file_count, random_seed + 5000);
    for (std::size_t k = 0; k < texts.size(); ++k)
        files.push_back(std::make_unique<CompiledFile>("random" + std::to_string(k) + ".expr",
                                                       texts[k], emitted_hessian_inputs));
    std::vector<std::string> headers;
    std::string body, main = "\nint main() {\n";
    std::vector<Expected> expected;
    for (std::size_t f = 0; f < files.size(); ++f) {
        const std::string ns = "n" + std::to_string(f);
        std::vector<Kernel> all;
        for (const auto& ks : files[f]->kernels)
            all.insert(all.end(), ks.begin(), ks.end());
        EmitOptions options;
        options.name_space = ns;
        options.scalar_type = "float";
        options.command_line = "--type float";
        if (f % 2 == 1) options.reroll = {2, 2}; // loops wherever a run repeats
        write_file(dir + "/" + ns + ".hpp", emit_header(files[f]->source, all, options));
        headers.push_back(ns + ".hpp");
        body += "static void run_" + ns + "() {\n";
        drive(*files[f], ns, true, 2, points, body, expected);
        body += "}\n";
        main += "    run_" + ns + "();\n";
    }
    const std::string driver = dir + "/driver.cpp";
    write_file(driver, driver_source(headers, body, true) + main + "}\n");
    const std::string flags = "-std=c++17 -Wall -Wextra -Wpedantic -Wconversion -Werror -O1";
    std::vector<Build> builds{{gxx(), flags, "gxx"}};
    if (!clangxx().empty()) builds.push_back({clangxx(), flags, "clang"});
    compile_and_compare(dir, {driver}, {expected}, builds);
}

} // namespace gradc::test

namespace gradc::test {

TEST_CASE("differential: emitting is deterministic (API and CLI, byte for byte)") {
    // The API: the same source compiled twice, from scratch, gives the same header.
    const auto texts = random_sources(20, random_seed + 77);
    for (std::size_t k = 0; k < texts.size(); ++k) {
        auto header = [&] {
            const CompiledFile cf("random.expr", texts[k], hessian_inputs);
            std::vector<Kernel> all;
            for (const auto& ks : cf.kernels)
                all.insert(all.end(), ks.begin(), ks.end());
            EmitOptions options;
            options.name_space = "random";
            options.command_line = "--hessian";
            options.reroll = {2, 2};
            return emit_header(cf.source, all, options);
        };
        INFO(texts[k]);
        CHECK(header() == header());
    }
    // The CLI: two runs on each sample, with every option that shapes the output.
    const std::string dir = work_dir("differential_determinism");
    for (const std::string& path : sample_paths())
        for (const char* options : {"", " --hessian", " --type float --mode reverse"}) {
            INFO(path << options);
            const std::string a = dir + "/a.hpp", b = dir + "/b.hpp";
            const CommandResult ra =
                run(gradc_binary() + " compile " + path + options + " -o " + a);
            const CommandResult rb =
                run(gradc_binary() + " compile " + path + options + " -o " + b);
            REQUIRE(ra.status == 0);
            REQUIRE(rb.status == 0);
            CHECK(!read_file(a).empty());
            CHECK(read_file(a) == read_file(b));
        }
}

} // namespace gradc::test
