// The shape of emitted straight-line code: single-use temporaries written into the statement that
// reads them, with the operations and their roundings unchanged, and long functions split into
// parts that read what earlier parts wrote through `in` and write through `out`.
#include <doctest/doctest.h>

#include <string>

#include "support.hpp"

using namespace gradc::test;

namespace {

bool contains(const std::string& text, const std::string& piece) {
    return text.find(piece) != std::string::npos;
}

// Writes `source` to DIR/NAME.expr and returns the header `gradc compile ARGUMENTS` makes of it.
std::string compile(const std::string& dir, const std::string& name, const std::string& source,
                    const std::string& arguments) {
    write_file(dir + "/" + name + ".expr", source);
    const CommandResult r =
        run(gradc_binary() + " compile " + dir + "/" + name + ".expr " + arguments);
    REQUIRE(r.status == 0);
    return r.out;
}

} // namespace

TEST_CASE("emitted code: a value read once is written into the statement that reads it") {
    const std::string dir = work_dir("emit_shape_written_in");
    const std::string header = compile(dir, "f",
                                       "fn f(x, y, z) = sin(x * y) / (z + 1)\n"
                                       "fn g(a, b, c) = a * b + c\n"
                                       "fn h(a, b) = max(a * b, a + b) * (a * b)\n",
                                       "--mode primal");
    // One statement where there were four, the same operations in the same order.
    CHECK(contains(header, "    const double t0 = std::sin(x * y) / (z + 1.0);\n"));
    // A product is not written into a sum, which a compiler may contract into a fused multiply-add.
    CHECK(contains(header, "    const double t0 = a * b;\n    const double t1 = t0 + c;\n"));
    // A value read twice keeps its name.
    CHECK(contains(
        header, "    const double t0 = a * b;\n    const double t1 = std::max(t0, a + b) * t0;\n"));
}

TEST_CASE("emitted code: the same results with and without FMA contraction (clang++ -mfma)") {
    // Clang contracts `a * b + c` within one expression into a fused multiply-add where the target
    // has FMA (-ffp-contract=on), never across statements: if the emitter wrote a product into a
    // sum, the gradient would round differently with contraction on than off.
    if (clangxx().empty()) {
        MESSAGE("clang++ is not installed: not tested");
        return;
    }
    const std::string dir = work_dir("emit_shape_fma");
    write_file(dir + "/f.hpp",
               compile(dir, "f",
                       "fn f(x[6]) = (x[0] * x[1] + x[2]) * sin(x[3] * x[4] - x[5]) + x[0] * x[5] "
                       "- (x[1] * x[2] - x[3] * x[4]) / (x[5] * x[5] + 1) + exp(x[2] * x[3] + "
                       "x[4]) * (x[0] - x[1] * x[3])\n",
                       "--mode reverse"));
    write_file(dir + "/driver.cpp", R"(#include <cstdio>
#include "f.hpp"
int main() {
    if (!__builtin_cpu_supports("fma")) return 3;
    unsigned long long r = 12345;
    auto next = [&] { r = r * 6364136223846793005ull + 1442695040888963407ull;
                      return static_cast<double>(r >> 11) / 9007199254740992.0 * 4 - 2; };
    for (int point = 0; point < 2000; ++point) {
        double x[6], g[6];
        for (double& v : x) v = next();
        std::printf("%a", f::f_grad(x, g));
        for (double v : g) std::printf(" %a", v);
        std::printf("\n");
    }
}
)");
    const CommandResult probe = run("grep -qw fma /proc/cpuinfo");
    if (probe.status != 0) {
        MESSAGE("the CPU has no FMA: not tested");
        return;
    }
    const std::string off = build_and_run(dir, clangxx(), "-O2 -mfma -ffp-contract=off", "off");
    const std::string on = build_and_run(dir, clangxx(), "-O2 -mfma", "on");
    CHECK(off.size() > 2000 * 7 * 4);
    CHECK(on == off);
}

TEST_CASE("emitted code: parts pass values through in and out, whatever the parameters are named") {
    // Parameters named like the emitter's own names (s, out; `in` is a keyword of .expr), and
    // parts of three statements:
    // the split gradient compiles without warnings and gives bit for bit what the whole one does.
    const std::string dir = work_dir("emit_shape_parts");
    const std::string source =
        "fn f(s[4], t, out) = sin(s[0] * t) * (s[1] - out) / (1 + s[2] * s[2]) + exp(s[3] - "
        "t * out) * cos(s[0] + s[3])\n";
    const std::string split = compile(dir, "split", source, "--mode reverse --part-size 3");
    const std::string whole = compile(dir, "whole", source, "--mode reverse");
    CHECK(contains(split, "f_grad_part2("));
    CHECK_FALSE(contains(whole, "f_grad_part"));
    // Each part takes what it uses: `in` to read what earlier parts wrote, `out` to write.
    CHECK(contains(split, "double* in, double* out_2) {"));
    CHECK(contains(split, "    double s_2["));
    CHECK(contains(split, ", s_2, s_2);"));
    CHECK(contains(split, "in["));
    CHECK(contains(split, "    out_2["));
    CHECK_FALSE(contains(split, "maybe_unused]] double* in"));
    write_file(dir + "/split.hpp", split);
    write_file(dir + "/whole.hpp", whole);
    write_file(dir + "/driver.cpp", R"(#include <cstdio>
#include "split.hpp"
#include "whole.hpp"
int main() {
    for (int point = 0; point < 50; ++point) {
        const double s[4] = {0.1 * point, 0.7 - 0.03 * point, 1.5, -0.2 * point};
        double a[4], b[4], t_a, t_b, out_a, out_b;
        const double fa = split::f_grad(s, 0.3, -1.1, a, &t_a, &out_a);
        const double fb = whole::f_grad(s, 0.3, -1.1, b, &t_b, &out_b);
        std::printf("%a %a %a %a\n", fa, t_a, out_a, a[0] + a[1] + a[2] + a[3]);
        std::printf("%a %a %a %a\n", fb, t_b, out_b, b[0] + b[1] + b[2] + b[3]);
    }
}
)");
    const std::string flags = "-O1 -Wall -Wextra -Wpedantic -Werror";
    for (const std::string& compiler : {gxx(), clangxx()}) {
        if (compiler.empty()) continue;
        const std::string out = build_and_run(dir, compiler, flags, "driver");
        std::size_t lines = 0;
        for (std::size_t at = 0; at < out.size();) {
            const std::size_t end1 = out.find('\n', at), end2 = out.find('\n', end1 + 1);
            REQUIRE(end2 != std::string::npos);
            CHECK(out.substr(at, end1 - at) == out.substr(end1 + 1, end2 - end1 - 1));
            at = end2 + 1;
            ++lines;
        }
        CHECK(lines == 50);
    }
}

TEST_CASE(
    "emitted code: a scalar function's f_vjp calls f_grad, whatever the parameters are named") {
    // Parameters named like f_vjp's own (seed, the `_grad` locals, the loop index i), an array
    // large enough for thread-local storage, and a parameter --wrt leaves out: f_vjp adds
    // seed * gradient into what the _bar arrays held, bit for bit, and compiles without warnings.
    const std::string dir = work_dir("emit_shape_vjp");
    const std::string source =
        "fn f(seed, x_grad[3], i, big[70000], c) = seed * x_grad[0] + sin(x_grad[1] * i) - "
        "x_grad[2] / i + big[69999] * big[5] + c\n";
    const std::string header = compile(dir, "f", source, "--mode reverse --wrt seed,x_grad,i,big");
    CHECK(contains(header, "inline void f_vjp(double seed, const double* x_grad, double i, const "
                           "double* big, double c, double seed_, double* seed_bar, double* "
                           "x_grad_bar, double* i_bar, double* big_bar) {\n"
                           "    double seed_grad;\n"
                           "    double x_grad_grad[3];\n"
                           "    double i_grad;\n"
                           "    static thread_local double big_grad[70000];\n"
                           "    f_grad(seed, x_grad, i, big, c, &seed_grad, x_grad_grad, &i_grad, "
                           "big_grad);\n"
                           "    *seed_bar += seed_ * seed_grad;\n"
                           "    for (int i_2 = 0; i_2 < 3; ++i_2)\n"
                           "        x_grad_bar[i_2] += seed_ * x_grad_grad[i_2];\n"));
    write_file(dir + "/f.hpp", header);
    write_file(dir + "/driver.cpp", R"(#include <cstdio>
#include <vector>
#include "f.hpp"
int main() {
    std::vector<double> big(70000, 0.5), g_big(70000), v_big(70000, 0.25);
    big[5] = 1.5;
    const double x[3] = {0.3, -0.7, 1.1};
    double g_seed, g_x[3], g_i, v_seed = 0.25, v_x[3] = {0.25, 0.25, 0.25}, v_i = 0.25;
    f::f_grad(0.9, x, 2.5, big.data(), 4.0, &g_seed, g_x, &g_i, g_big.data());
    f::f_vjp(0.9, x, 2.5, big.data(), 4.0, -1.75, &v_seed, v_x, &v_i, v_big.data());
    int wrong = 0;
    wrong += v_seed != 0.25 + -1.75 * g_seed;
    for (int k = 0; k < 3; ++k)
        wrong += v_x[k] != 0.25 + -1.75 * g_x[k];
    wrong += v_i != 0.25 + -1.75 * g_i;
    for (int k = 0; k < 70000; ++k)
        wrong += v_big[k] != 0.25 + -1.75 * g_big[k];
    std::printf("%d wrong, %g\n", wrong, v_big[5]);
}
)");
    const std::string flags = "-O1 -Wall -Wextra -Wpedantic -Werror";
    for (const std::string& compiler : {gxx(), clangxx()}) {
        if (compiler.empty()) continue;
        // big[5] gets seed times big[69999]: 0.25 - 1.75 * 0.5
        CHECK(build_and_run(dir, compiler, flags, "driver") == "0 wrong, -0.625\n");
    }
}

TEST_CASE("emitted code: a parameter named like the function a wrapper calls does not hide it") {
    // f_vjp calls f_grad, a dense Hessian of many inputs is a loop that calls f_hvp, and a long
    // function calls its parts: parameters named f_grad, f_hvp and h_part1 are renamed in the
    // callers, so the calls still reach the functions.
    const std::string dir = work_dir("emit_shape_wrapper_names");
    const std::string parts = compile(dir, "h",
                                      "fn h(h_part1, x) = sin(h_part1 * x) + cos(h_part1 - x) * "
                                      "exp(x) / (1 + h_part1 * h_part1) + tanh(x * x - h_part1)\n",
                                      "--mode primal --part-size 1");
    CHECK(contains(parts, "inline void h_part1(double h_part1_2, double x, double* out) {\n"));
    const std::string header =
        compile(dir, "f",
                "const N = 300\n"
                "fn f(f_grad[N], f_hvp) = f_hvp * log(sum(k in 0..N: exp(f_grad[k] * "
                "f_grad[(k + 1) % N])))\n",
                "--mode reverse --hessian");
    CHECK(contains(header, "    f_grad(f_grad_2, f_hvp, f_grad_grad, &f_hvp_grad);\n"));
    CHECK(contains(header, " = f_hvp(f_grad, f_hvp_2, dir, grad, hv);\n"));
    write_file(dir + "/f.hpp", header);
    write_file(dir + "/h.hpp", parts);
    write_file(dir + "/driver.cpp", R"(#include <cmath>
#include <cstdio>
#include <vector>
#include "f.hpp"
#include "h.hpp"
int main() {
    const double a = 0.3, b = 0.7;
    const double expected = std::sin(a * b) + std::cos(a - b) * std::exp(b) / (1 + a * a) +
                            std::tanh(b * b - a);
    if (std::fabs(h::h(a, b) - expected) > 1e-12) std::printf("h: %g\n", h::h(a, b));
    std::vector<double> x(300, 0.01), g(300), x_bar(300, 0.0), grad(301), hess(301 * 301);
    double h_bar = 0.0, h = 2.0, g_h;
    const double value = f::f_grad(x.data(), h, g.data(), &g_h);
    f::f_vjp(x.data(), h, 0.5, x_bar.data(), &h_bar);
    const double again = f::f_hessian(x.data(), h, grad.data(), hess.data());
    std::printf("%d %d %d\n", value == again, x_bar[7] == 0.5 * g[7], h_bar == 0.5 * g_h);
}
)");
    for (const std::string& compiler : {gxx(), clangxx()}) {
        if (compiler.empty()) continue;
        CHECK(build_and_run(dir, compiler, "-O1 -Wall -Wextra -Wpedantic -Werror", "driver") ==
              "1 1 1\n");
    }
}

TEST_CASE("emitted code: constants that count with a sum's index re-roll into one loop") {
    const std::string dir = work_dir("emit_shape_counted");
    const std::string source = "fn f(x) = sum(i in 0..1000: sin(x * i) * x)\n";
    const std::string header = compile(dir, "f", source, "--mode reverse");
    // x * 2, x * 3, ... come from the counter, so the thousand terms are a loop, and so is the
    // reverse sweep that counts down.
    CHECK(contains(header, "x * (static_cast<double>(i) + 2.0)"));
    CHECK(contains(header, " - static_cast<double>(i))"));
    CHECK(header.size() < 10000);
    const std::string floats = compile(dir, "f", source, "--mode reverse --type float");
    CHECK(contains(floats, "x * static_cast<float>(static_cast<double>(i) + 2.0)"));
}
