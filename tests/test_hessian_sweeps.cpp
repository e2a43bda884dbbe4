// f_hessian as a loop of f_hvp sweeps: where the unrolled sweeps would outgrow their budget (a
// dense Hessian of many inputs), f_hessian calls f_hvp once per column instead. A function in that
// form is compiled by gradc in seconds, its header by g++ and clang++ without warnings (--type
// float under -Wconversion too), and the compiled f_hessian is checked against the interpreter, the
// columns of f_hvp, finite differences of f_grad and exact symmetry; a sparse Hessian (Rosenbrock)
// keeps the unrolled form.

#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "random_expr.hpp"
#include "support.hpp"

namespace gradc::test {
namespace {

bool contains(const std::string& text, const std::string& piece) {
    return text.find(piece) != std::string::npos;
}

// 302 inputs and a dense Hessian: the logarithm of the sum couples every pair of inputs. Unrolled,
// its sweeps would take about 4 N^2 = 360 000 nodes. The parameters are named like the locals of
// the loop form (dir, hv, i), which must not clash with them.
constexpr std::size_t dense_n = 302;
const char* const dense_source =
    "const N = 300\n"
    "fn f(dir[N], hv, i) = hv * log(sum(k in 0..N: exp(dir[k] * dir[(k + 1) % N]))) + i * i * "
    "dir[0]\n";

// The point the tests evaluate at, flat: dir, then hv, then i.
std::vector<double> dense_point() {
    std::vector<double> x;
    for (std::size_t k = 0; k < dense_n - 2; ++k)
        x.push_back(std::sin(1.0 + 0.7 * static_cast<double>(k)));
    x.push_back(0.7);
    x.push_back(-0.4);
    return x;
}

// Writes DIR/f.expr and runs `gradc compile` on it with `options`; returns the header and the
// wall time gradc took.
std::pair<std::string, double> compile_dense(const std::string& dir, const std::string& options) {
    write_file(dir + "/f.expr", dense_source);
    const auto started = std::chrono::steady_clock::now();
    const CommandResult r =
        run("timeout 60 " + gradc_binary() + " compile " + dir + "/f.expr " + options);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    INFO(r.err);
    REQUIRE(r.status == 0);
    return {r.out, seconds};
}

// A driver of f.hpp, the dense function's header for scalar type `type`. It runs f_hessian at
// dense_point() and prints: how many pairs of Hessian entries are not exactly symmetric; how many
// entries of row i differ from hv[j], j >= i, of f_hvp along e_i (the loop form copies those);
// the largest difference to the other hv[j], j < i; and the largest difference to central
// differences of f_grad with step `step` (both relative to 1 + max |H|). It writes the value,
// gradient and Hessian to f.out.
std::string driver(const std::string& type, const std::string& step) {
    std::string code = R"(#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <vector>
#include "f.hpp"
using T = SCALAR;
const std::size_t n = 302;
std::vector<T> gradient(const std::vector<T>& x) {
    std::vector<T> g(n);
    f::f_grad(x.data(), x[n - 2], x[n - 1], g.data(), &g[n - 2], &g[n - 1]);
    return g;
}
int main() {
    std::vector<T> x(n), grad(n), hess(n * n), e(n), sweep_grad(n), hv(n);
    for (std::size_t k = 0; k < n - 2; ++k)
        x[k] = static_cast<T>(std::sin(1.0 + 0.7 * static_cast<double>(k)));
    x[n - 2] = static_cast<T>(0.7);
    x[n - 1] = static_cast<T>(-0.4);
    const T value = f::f_hessian(x.data(), x[n - 2], x[n - 1], grad.data(), hess.data());
    T scale = 1;
    for (T h : hess)
        scale = std::max(scale, 1 + std::fabs(h));
    int asymmetric = 0, copied_wrong = 0;
    T mirrored = 0, differences = 0;
    for (std::size_t r = 0; r < n; ++r)
        for (std::size_t c = 0; c < r; ++c)
            asymmetric += hess[r * n + c] != hess[c * n + r];
    for (std::size_t i = 0; i < n; ++i) {
        e[i] = 1;
        f::f_hvp(x.data(), x[n - 2], x[n - 1], e.data(), sweep_grad.data(), hv.data());
        e[i] = 0;
        for (std::size_t j = 0; j < n; ++j) {
            if (j >= i)
                copied_wrong += hess[i * n + j] != hv[j];
            else
                mirrored = std::max(mirrored, std::fabs(hess[i * n + j] - hv[j]) / scale);
        }
        const T h = static_cast<T>(STEP);
        std::vector<T> up = x, down = x;
        up[i] += h;
        down[i] -= h;
        const std::vector<T> g_up = gradient(up), g_down = gradient(down);
        for (std::size_t j = 0; j < n; ++j) {
            const T central = (g_up[j] - g_down[j]) / (up[i] - down[i]);
            differences = std::max(differences, std::fabs(central - hess[j * n + i]) / scale);
        }
    }
    std::printf("%d %d %.3g %.3g\n", asymmetric, copied_wrong, static_cast<double>(mirrored),
                static_cast<double>(differences));
    FILE* out = std::fopen("f.out", "wb");
    std::fwrite(&value, sizeof(T), 1, out);
    std::fwrite(grad.data(), sizeof(T), grad.size(), out);
    std::fwrite(hess.data(), sizeof(T), hess.size(), out);
    std::fclose(out);
}
)";
    code.replace(code.find("SCALAR"), 6, type);
    code.replace(code.find("STEP"), 4, step);
    return code;
}

struct DriverResult {
    int asymmetric, copied_wrong;
    double mirrored, differences;
    std::vector<double> written; // value, gradient, Hessian
};

// Builds DIR/driver.cpp (which includes DIR/f.hpp) with `compiler` and `flags`, runs it in DIR and
// reads what it printed and wrote.
DriverResult run_driver(const std::string& dir, const std::string& compiler,
                        const std::string& flags, bool single) {
    const std::string printed = build_and_run(dir, compiler, flags);
    DriverResult result{};
    std::istringstream(printed) >> result.asymmetric >> result.copied_wrong >> result.mirrored >>
        result.differences;
    const std::string bytes = read_file(dir + "/f.out");
    const std::size_t size = single ? sizeof(float) : sizeof(double);
    REQUIRE(bytes.size() == (1 + dense_n + dense_n * dense_n) * size);
    for (const char* at = bytes.data(); at < bytes.data() + bytes.size(); at += size) {
        if (single) {
            float v;
            std::memcpy(&v, at, size);
            result.written.push_back(v);
        } else {
            double v;
            std::memcpy(&v, at, size);
            result.written.push_back(v);
        }
    }
    return result;
}

// The interpreter's value, gradient and Hessian of the dense function at dense_point(), from its
// loop-form f_hessian kernel.
std::vector<double> interpreted_dense() {
    const CompiledFile cf("f.expr", dense_source, dense_n);
    const Kernel& hessian = cf.kernel(0, "_hessian");
    REQUIRE(hessian.column_sweep);
    const KernelResult r =
        run_kernel(hessian, kernel_inputs(hessian, split(cf.functions[0], dense_point())));
    std::vector<double> all{r.value};
    for (const char* name : {"grad", "hess"}) {
        const std::vector<double> part = output(hessian, r, name);
        all.insert(all.end(), part.begin(), part.end());
    }
    return all;
}

// The largest difference of `a` and `b`, relative to 1 + max |b|.
double relative_difference(const std::vector<double>& a, const std::vector<double>& b) {
    double scale = 1, worst = 0;
    for (double v : b)
        scale = std::max(scale, 1 + std::fabs(v));
    for (std::size_t k = 0; k < a.size(); ++k)
        worst = std::max(worst, std::fabs(a[k] - b[k]) / scale);
    return worst;
}

// How far the compiled loop form may be from the exact results: its mirror image, central
// differences of f_grad, and the interpreter (relative).
struct Tolerances {
    double mirrored, differences, interpreted;
};

// Builds DIR/driver.cpp with g++ and clang++ (when installed) and `flags`, runs it, and checks the
// written Hessian: exactly symmetric, each column f_hvp's, and within `tol`.
void check_compiled(const std::string& dir, const std::string& flags, bool single,
                    const Tolerances& tol) {
    const std::vector<double> interpreted = interpreted_dense();
    for (const std::string& compiler : {gxx(), clangxx()}) {
        if (compiler.empty()) {
            MESSAGE("clang++ is not installed: only " << gxx() << " is tested");
            continue;
        }
        CAPTURE(compiler);
        const DriverResult r = run_driver(dir, compiler, flags, single);
        CHECK(r.asymmetric == 0);
        CHECK(r.copied_wrong == 0);
        CHECK(r.mirrored < tol.mirrored);
        CHECK(r.differences < tol.differences);
        CHECK(relative_difference(r.written, interpreted) < tol.interpreted);
    }
}

} // namespace

TEST_CASE("hessian sweeps: a dense Hessian of 302 inputs is a loop of f_hvp sweeps, and right") {
    const std::string dir = work_dir("hessian_sweeps_dense");
    const auto [header, seconds] = compile_dense(dir, "--mode reverse --hessian");
    CHECK(seconds < 10);
    // f_hvp comes first, and f_hessian calls it; its locals keep clear of the parameters.
    CHECK(header.find("inline double f_hvp(") < header.find("inline double f_hessian("));
    CHECK(contains(
        header,
        "// f_hessian: the value, gradient and dense Hessian (forward over reverse, a f_hvp sweep "
        "per column)\n"
        "// line 2: fn f(dir[300], hv, i)\n"
        "inline double f_hessian(const double* dir, double hv, double i, double* grad, double* "
        "hess) {\n"
        "    double dir_2[302] = {}; // e_i during sweep i, else zero\n"
        "    double hv_2[302];\n"
        "    double value = 0.0;\n"
        "    for (long long i_2 = 0; i_2 < 302; ++i_2) {\n"
        "        dir_2[i_2] = 1.0;\n"
        "        value = f_hvp(dir, hv, i, dir_2, grad, hv_2);\n"
        "        dir_2[i_2] = 0.0;\n"
        "        for (long long j = i_2; j < 302; ++j)\n"
        "            hess[i_2 * 302 + j] = hv_2[j];\n"
        "    }\n"
        "    for (long long i_2 = 1; i_2 < 302; ++i_2)\n"
        "        for (long long j = 0; j < i_2; ++j)\n"
        "            hess[i_2 * 302 + j] = hess[j * 302 + i_2];\n"
        "    return value;\n"
        "}\n"));
    write_file(dir + "/f.hpp", header);
    write_file(dir + "/driver.cpp", driver("double", "1e-5"));
    check_compiled(dir, "-O1 -Wall -Wextra -Wpedantic -Werror", false, {1e-13, 1e-7, 1e-13});
}

TEST_CASE("hessian sweeps: --type float compiles under -Wconversion and matches the interpreter") {
    const std::string dir = work_dir("hessian_sweeps_float");
    const std::string header = compile_dense(dir, "--mode reverse --hessian --type float").first;
    CHECK(contains(header, "    float dir_2[302] = {}; // e_i during sweep i, else zero\n"
                           "    float hv_2[302];\n"
                           "    float value = 0.0f;\n"));
    CHECK(contains(header, "        dir_2[i_2] = 1.0f;\n"));
    write_file(dir + "/f.hpp", header);
    write_file(dir + "/driver.cpp", driver("float", "1e-2"));
    check_compiled(dir, "-O1 -Wall -Wextra -Wpedantic -Wconversion -Werror", true,
                   {1e-6, 1e-4, 1e-6});
}

TEST_CASE("hessian sweeps: gradc eval --hessian gives the loop form's Hessian") {
    const std::string dir = work_dir("hessian_sweeps_eval");
    write_file(dir + "/f.expr", dense_source);
    const std::vector<double> x = dense_point();
    std::string at = "dir=[";
    for (std::size_t k = 0; k + 2 < x.size(); ++k)
        at += fmt::format("{}{}", k ? "," : "", x[k]);
    at += fmt::format("],hv={},i={}", x[dense_n - 2], x[dense_n - 1]);
    const CommandResult r =
        run(gradc_binary() + " eval " + dir + "/f.expr --at '" + at + "' --hessian --json");
    INFO(r.err);
    REQUIRE(r.status == 0);
    const std::size_t start = r.out.find("\"hessian\": [");
    REQUIRE(start != std::string::npos);
    std::vector<double> hessian;
    const char* s = r.out.c_str() + start + 12;
    for (char* end = nullptr;; s = end + 1) {
        hessian.push_back(std::strtod(s, &end));
        if (*end != ',') break;
    }
    const std::vector<double> interpreted = interpreted_dense();
    CHECK(hessian == std::vector<double>(interpreted.begin() + 1 + dense_n, interpreted.end()));
}

TEST_CASE("hessian sweeps: softmax regression with 5500 inputs compiles in seconds") {
    // The input that ran for more than 5 minutes and 6 GB when the Hessian was unrolled
    // (bench/gen_expr.py --throughput: softmaxreg_10_500).
    const std::string dir = work_dir("hessian_sweeps_softmaxreg");
    write_file(dir + "/loss.expr", "const K = 10\nconst D = 500\nfn loss(W[K, D], x[D]) {\n"
                                   "    let s[c in 0..K] = sum(j in 0..D: W[c, j] * x[j])\n"
                                   "    return logsumexp(s) - s[1]\n}\n");
    const auto started = std::chrono::steady_clock::now();
    const CommandResult r =
        run("timeout 60 " + gradc_binary() + " compile " + dir + "/loss.expr --hessian");
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    REQUIRE(r.status == 0);
    CHECK(seconds < 10);
    CHECK(contains(r.out, "inline double loss_hessian(const double* W, const double* x, double* "
                          "grad, double* hess) {\n"
                          "    double dir[5500] = {};"));
    CHECK(contains(r.out, "        value = loss_hvp(W, x, dir, grad, hv);\n"));
}

TEST_CASE("hessian sweeps: Rosenbrock's sparse Hessian stays unrolled, n = 10 to 1000") {
    // Its stores: the gradient's n, then only the Hessian's nonzeros (tridiagonal: 3n - 2), into
    // a hess set to zero first.
    for (int n : {10, 100, 1000}) {
        CAPTURE(n);
        const CompiledFile cf("rosen.expr",
                              "const N = " + std::to_string(n) +
                                  "\nfn rosen(x[N]) = sum(i in 0..N-1: 100 * (x[i+1] - x[i]^2)^2 + "
                                  "(1 - x[i])^2)\n",
                              static_cast<std::size_t>(n));
        const std::vector<Kernel>& kernels = cf.kernels[0];
        REQUIRE(kernels.size() == 6);
        CHECK(kernels[4].name == "rosen_hessian"); // before f_hvp, as always
        CHECK_FALSE(kernels[4].column_sweep);
        CHECK(kernels[4].stores.size() == static_cast<std::size_t>(4 * n - 2));
        CHECK(kernels[4].params.back().name == "hess");
        CHECK(kernels[4].params.back().zeroed);
        CHECK(kernels[5].name == "rosen_hvp");
    }
}

} // namespace gradc::test
