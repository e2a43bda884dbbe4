// The shape of emitted straight-line code: single-use temporaries written into the statement that
// reads them, with the operations and their roundings unchanged.
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

// Builds DIR/driver.cpp with `compiler` and `flags`, runs it, returns what it prints.
std::string build_and_run(const std::string& dir, const std::string& compiler,
                          const std::string& flags, const std::string& exe) {
    const CommandResult built = run(compiler + " -std=c++17 " + flags + " -I" + dir + " " + dir +
                                    "/driver.cpp -o " + dir + "/" + exe);
    INFO(compiler << " " << flags << ":\n" << built.err.substr(0, 4000));
    REQUIRE(built.status == 0);
    const CommandResult r = run(dir + "/" + exe);
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
