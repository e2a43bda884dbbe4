// The compile options of generated-api.md and cli.md, through the gradc binary, and a large input.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>

#include "support.hpp"

using namespace gradc::test;

namespace {

std::string fmt_short(double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", v);
    return text;
}

bool contains(const std::string& text, const std::string& piece) {
    return text.find(piece) != std::string::npos;
}

CommandResult run_gradc(const std::string& arguments) {
    return run(gradc_binary() + " " + arguments);
}

} // namespace

TEST_CASE("compile options shape the header") {
    const std::string logistic = source_dir() + "/samples/logistic.expr";
    SUBCASE("--wrt gives derivative arguments to the named parameters only") {
        CommandResult r = run_gradc("compile " + logistic + " --wrt a");
        REQUIRE(r.status == 0);
        CHECK(contains(r.out, "inline double logistic_grad(double x, double a, double* a_bar)"));
        CHECK(contains(
            r.out,
            "inline double logistic_jvp(double x, double a, double a_dot, double* out_dot)"));
        CHECK_FALSE(contains(r.out, "x_bar"));
    }
    SUBCASE("--mode primal emits the function alone; forward and reverse their rows") {
        CommandResult primal = run_gradc("compile " + logistic + " --mode primal");
        CHECK(contains(primal.out, "inline double logistic(double x, double a)"));
        CHECK_FALSE(contains(primal.out, "logistic_jvp"));
        CHECK_FALSE(contains(primal.out, "logistic_grad"));
        CommandResult forward = run_gradc("compile " + logistic + " --mode forward");
        CHECK(contains(forward.out, "logistic_jvp"));
        CHECK_FALSE(contains(forward.out, "logistic_vjp"));
        CommandResult reverse = run_gradc("compile " + logistic + " --mode reverse");
        CHECK(contains(reverse.out, "logistic_grad"));
        CHECK(contains(reverse.out, "inline void logistic_vjp(double x, double a, double seed, "
                                    "double* x_bar, double* a_bar)"));
        CHECK_FALSE(contains(reverse.out, "logistic_jvp"));
    }
    SUBCASE("--hessian adds f_hessian and f_hvp with the spec's signatures") {
        CommandResult r = run_gradc("compile " + logistic + " --hessian");
        CHECK(contains(
            r.out,
            "inline double logistic_hessian(double x, double a, double* grad, double* hess)"));
        CHECK(contains(r.out, "inline double logistic_hvp(double x, double a, const double* dir, "
                              "double* grad, double* hv)"));
    }
    SUBCASE("--fn, --namespace and --type") {
        const std::string td1 = source_dir() + "/samples/td1_loss.expr";
        CommandResult r =
            run_gradc("compile " + td1 + " --fn loss --namespace net::math --type float");
        REQUIRE(r.status == 0);
        CHECK(contains(r.out, "namespace net::math {"));
        CHECK(contains(r.out, "inline float loss(const float* w, const float* x, float y)"));
        CHECK_FALSE(contains(r.out, "double"));
    }
    SUBCASE("usage errors exit with 2 and write nothing") {
        const std::string out = work_dir("cli_usage") + "/out.hpp";
        CHECK(run_gradc("compile " + logistic + " --wrt nope -o " + out).status == 2);
        CHECK(run_gradc("compile " + logistic + " --fn nope -o " + out).status == 2);
        CHECK(run_gradc("compile " + logistic + " --type half -o " + out).status == 2);
        CHECK(run_gradc("compile " + logistic + " --mode sideways -o " + out).status == 2);
        CHECK(run_gradc("compile " + logistic + " --no-such-option").status == 2);
        CHECK_FALSE(std::filesystem::exists(out));
    }
    SUBCASE("-o writes the file whole; a missing input is an input error") {
        const std::string out = work_dir("cli_output") + "/logistic.hpp";
        CHECK(run_gradc("compile " + logistic + " -o " + out).status == 0);
        CHECK(contains(read_file(out), "} // namespace logistic"));
        CommandResult missing = run_gradc("compile /no/such/file.expr -o " + out + ".2");
        CHECK(missing.status == 1);
        CHECK(contains(missing.err, "/no/such/file.expr: error: cannot open file"));
        CHECK_FALSE(std::filesystem::exists(out + ".2"));
    }
}

TEST_CASE("a large input: Rosenbrock in 2 000 and 20 000 dimensions, its Hessian and a Jacobian of "
          "20 000 x 20 000, in seconds") {
    // eval at n = 2000 (both modes: forward mode takes one sweep per input), against the closed
    // form.
    const std::string dir = work_dir("cli_large");
    auto gradc_in_dir = [&](const std::string& arguments) { // gradc run in `dir`, at most 120 s
        return run("cd " + dir + " && timeout 120 " + gradc_binary() + " " + arguments);
    };
    const int n = 2000;
    write_file(dir + "/rosen.expr",
               "const N = 2000\n"
               "fn rosen(x[N]) = sum(i in 0..N-1: 100 * (x[i+1] - x[i]^2)^2 + (1 - x[i])^2)\n");
    std::string point = "x=[";
    auto x = [](int i) { return 0.5 + 0.01 * (i % 17); };
    for (int i = 0; i < n; ++i)
        point += (i ? "," : "") + fmt_short(x(i));
    point += "]";
    CommandResult r = gradc_in_dir("eval rosen.expr --at '" + point + "' --grad --json");
    REQUIRE(r.status == 0);
    for (const char* mode : {"\"reverse\": [", "\"forward\": ["}) {
        CAPTURE(mode);
        const std::size_t at = r.out.find(mode);
        REQUIRE(at != std::string::npos);
        const char* p = r.out.c_str() + at + std::string(mode).size();
        for (int i = 0; i < n; ++i) {
            char* end = nullptr;
            const double g = std::strtod(p, &end);
            double expected = 0;
            if (i + 1 < n) expected += -400 * x(i) * (x(i + 1) - x(i) * x(i)) - 2 * (1 - x(i));
            if (i > 0) expected += 200 * (x(i) - x(i - 1) * x(i - 1));
            if (i % 97 == 0) CHECK(g == doctest::Approx(expected).epsilon(1e-9));
            p = end + 1;
        }
    }
    // compile at n = 20 000: about 140 000 SSA nodes, and as many again for the gradient.
    write_file(dir + "/big.expr",
               "const N = 20000\n"
               "fn big(x[N]) = sum(i in 0..N-1: 100 * (x[i+1] - x[i]^2)^2 + (1 - x[i])^2)\n");
    const CommandResult header = gradc_in_dir("compile big.expr --mode reverse -o big.hpp");
    CHECK(header.status == 0);
    // The sum and its gradient come out as loops: small code whatever n is.
    const std::string big = read_file(dir + "/big.hpp");
    CHECK(contains(big, "for (int i = 1; i <= 19997; ++i) {"));
    CHECK(big.size() < 20000);
    // Straight-line code is split into parts.
    const CommandResult straight =
        gradc_in_dir("compile big.expr --mode reverse --no-loops -o big.hpp");
    CHECK(straight.status == 0);
    CHECK(contains(read_file(dir + "/big.hpp"), "big_grad_part2(")); // split into parts
    // Second order and Jacobians at that size: one sweep per input, each visiting only the nodes
    // its input reaches, and the dense outputs zeroed at once, then their nonzeros stored (before,
    // n sweeps over the whole graph and n^2 stores: 100 s and 14 GB here).
    const CommandResult hessian = gradc_in_dir("compile big.expr --hessian -o big.hpp");
    CHECK(hessian.status == 0);
    const std::string second = read_file(dir + "/big.hpp");
    CHECK(contains(second, "std::fill_n(hess, 400000000, 0.0);"));
    CHECK(second.size() < 40000);
    write_file(dir + "/vec.expr",
               "const N = 20000\n"
               "fn vec(x[N]) {\n"
               "    let y[i in 0..N] = sin(x[i]) * x[(i + 1) % N] + x[i] * x[i]\n"
               "    return y\n"
               "}\n");
    const CommandResult jacobian = gradc_in_dir("compile vec.expr -o vec.hpp");
    CHECK(jacobian.status == 0);
    CHECK(contains(read_file(dir + "/vec.hpp"), "std::fill_n(jac, 400000000, 0.0);"));
    // A dense Hessian past what a parameter can hold is an error, found before its sweeps.
    write_file(dir + "/huge.expr", "const N = 70000\n"
                                   "fn huge(x[N]) = sum(i in 0..N: x[i] * x[i])\n");
    const CommandResult huge = gradc_in_dir("compile huge.expr --hessian -o huge.hpp");
    CHECK(huge.status == 2);
    CHECK(contains(huge.err, "huge_hessian: hess would hold 4900000000 elements; a parameter of "
                             "gradc holds fewer than 2^32"));
    CHECK_FALSE(std::filesystem::exists(dir + "/huge.hpp"));
}
