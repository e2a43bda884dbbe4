// The course examples as exact tests: the formulas of the course notes, and the published numbers
// of TD 1 (the 2-2-1 network: W1 = [[0.1, 0.1], [0.1, 0.4]], b1 = [0.8, 0.6], W2 = [[0.3, 0.9]],
// b2 = [0.1], input x = (1, 1), target y = 0.5, as in samples/td1.csv).

#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "random_expr.hpp"
#include "support.hpp"

namespace gradc::test {
namespace {

struct Sample {
    CompiledFile cf;
    explicit Sample(const std::string& name)
        : cf(source_dir() + "/samples/" + name, read_file(source_dir() + "/samples/" + name), 100) {
    }

    std::size_t index(const std::string& fn) const {
        for (std::size_t i = 0; i < cf.functions.size(); ++i)
            if (cf.functions[i].name == fn) return i;
        throw std::runtime_error("no function " + fn);
    }
    double value(const std::string& fn, const std::vector<double>& x) const {
        const std::size_t i = index(fn);
        const Kernel& k = cf.kernel(i, "");
        return run_kernel(k, kernel_inputs(k, split(cf.functions[i], x))).value;
    }
    std::vector<double> reverse(const std::string& fn, const std::vector<double>& x) const {
        const std::size_t i = index(fn);
        const Kernel& k = cf.kernel(i, "_grad");
        return gather(k, run_kernel(k, kernel_inputs(k, split(cf.functions[i], x))), "_bar");
    }
    std::vector<double> forward(const std::string& fn, const std::vector<double>& x) const {
        const std::size_t i = index(fn);
        const Kernel& k = cf.kernel(i, "_jvp");
        std::vector<double> g;
        for (std::size_t j = 0; j < x.size(); ++j) {
            std::vector<double> e(x.size(), 0.0);
            e[j] = 1;
            const auto& f = cf.functions[i];
            g.push_back(
                output(k, run_kernel(k, kernel_inputs(k, split(f, x), split(f, e))), "out_dot")[0]);
        }
        return g;
    }
};

} // namespace

TEST_CASE("course: logistic y = 1 / (1 + exp(-a x)): dy/dx = a y (1 - y), dy/da = x y (1 - y)") {
    const Sample s("logistic.expr");
    for (double x : {-2.0, -0.5, 0.0, 0.3, 1.0, 4.0})
        for (double a : {-1.5, 0.5, 1.0, 2.0}) {
            INFO("x = " << x << ", a = " << a);
            const double y = 1 / (1 + std::exp(-a * x));
            CHECK(s.value("logistic", {x, a}) == doctest::Approx(y).epsilon(1e-15));
            for (const auto& g : {s.reverse("logistic", {x, a}), s.forward("logistic", {x, a})}) {
                CHECK(g[0] == doctest::Approx(a * y * (1 - y)).epsilon(1e-14));
                CHECK(g[1] == doctest::Approx(x * y * (1 - y)).epsilon(1e-14));
            }
        }
}

TEST_CASE("course: e = (a + b)(b + 1) at (3, 5): value 48, gradient (6, 14)") {
    const Sample s("graph_ab.expr");
    CHECK(s.value("e", {3, 5}) == 48);
    CHECK(s.reverse("e", {3, 5}) == std::vector<double>{6, 14});
    CHECK(s.forward("e", {3, 5}) == std::vector<double>{6, 14});
    // in general: de/da = b + 1, de/db = (b + 1) + (a + b)
    for (double a : {-1.0, 0.5, 2.0})
        for (double b : {-3.0, 0.0, 7.0}) {
            CHECK(s.reverse("e", {a, b}) == std::vector<double>{b + 1, a + 2 * b + 1});
            CHECK(s.forward("e", {a, b}) == std::vector<double>{b + 1, a + 2 * b + 1});
        }
}

TEST_CASE("course: f = x1 x2 + sin x1: gradient (x2 + cos x1, x1)") {
    const Sample s("sin_product.expr");
    for (double x1 : {-2.0, 0.0, 0.7, 3.0})
        for (double x2 : {-1.0, 0.25, 5.0}) {
            INFO("x1 = " << x1 << ", x2 = " << x2);
            CHECK(s.value("f", {x1, x2}) == doctest::Approx(x1 * x2 + std::sin(x1)).epsilon(1e-15));
            for (const auto& g : {s.reverse("f", {x1, x2}), s.forward("f", {x1, x2})}) {
                CHECK(g[0] == doctest::Approx(x2 + std::cos(x1)).epsilon(1e-15));
                CHECK(g[1] == x1);
            }
        }
}

TEST_CASE("course: TD1 loss and its gradient, the published numbers") {
    // w = (w1A w11 w12  w2A w21 w22  w3A w31 w32): bias first, then the weights of each unit.
    const std::vector<double> w{0.8, 0.1, 0.1, 0.6, 0.1, 0.4, 0.1, 0.3, 0.9};
    // The sample of the exercise, as samples/td1.csv records it.
    CHECK(read_file(source_dir() + "/samples/td1.csv").find("1,1,0.5") != std::string::npos);
    std::vector<double> at = w;
    at.insert(at.end(), {1.0, 1.0, 0.5}); // x = (1, 1), y = 0.5
    const Sample s("td1_loss.expr");
    CHECK(std::fabs(s.value("loss", at) - 0.0336173) <= 1e-6);
    for (const auto& g : {s.reverse("loss", at), s.forward("loss", at)}) {
        REQUIRE(g.size() == 12);
        CHECK(std::fabs(g[6] - 0.109804) <= 1e-6);   // dL/dw3A = dL/db2 = delta3
        CHECK(std::fabs(g[7] - 0.0802731) <= 1e-6);  // dL/dw31
        CHECK(std::fabs(g[8] - 0.0823815) <= 1e-6);  // dL/dw32
        CHECK(std::fabs(g[0] - 0.00647663) <= 1e-6); // dL/dw1A
        // with x = (1, 1) the weights of a hidden unit get the gradient of its bias
        CHECK(g[1] == doctest::Approx(g[0]).epsilon(1e-15));
        CHECK(g[2] == doctest::Approx(g[0]).epsilon(1e-15));
        CHECK(g[4] == doctest::Approx(g[3]).epsilon(1e-15));
        CHECK(g[5] == doctest::Approx(g[3]).epsilon(1e-15));
        // backpropagation: delta1 = delta3 w31 h1 (1 - h1), with h1 = dL/dw31 / delta3
        const double h1 = g[7] / g[6], h2 = g[8] / g[6];
        CHECK(g[0] == doctest::Approx(g[6] * 0.3 * h1 * (1 - h1)).epsilon(1e-14));
        CHECK(g[3] == doctest::Approx(g[6] * 0.9 * h2 * (1 - h2)).epsilon(1e-14));
        CHECK(h1 == doctest::Approx(1 / (1 + std::exp(-1.0))).epsilon(1e-14));
        CHECK(h2 == doctest::Approx(1 / (1 + std::exp(-1.1))).epsilon(1e-14));
    }
}

TEST_CASE("course: gradc eval --grad --json prints the course numbers") {
    const CommandResult r = run(gradc_binary() + " eval " + source_dir() +
                                "/samples/graph_ab.expr --fn e --at a=3,b=5 --grad --json");
    REQUIRE(r.status == 0);
    std::string json; // without white space
    for (char c : r.out)
        if (c != ' ' && c != '\n') json += c;
    CHECK(json.find("\"value\":48") != std::string::npos);
    CHECK(json.find("\"forward\":[6,14]") != std::string::npos);
    CHECK(json.find("\"reverse\":[6,14]") != std::string::npos);
}

} // namespace gradc::test
