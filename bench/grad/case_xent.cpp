// Softmax cross-entropy of 1000 logits: logsumexp(z) - z[K].
#include <vector>

#include "harness.hpp"
#include "xent1000.hpp"
#ifdef HAVE_SYMPY
#include "sympy_xent1000.hpp"
#endif

using bench::g_sink;

namespace hand_xent {
constexpr int N = 1000, K = 7;

inline double f(const double* z) {
    double m = z[0];
    for (int i = 1; i < N; ++i)
        m = std::max(m, z[i]);
    double s = 0;
    for (int i = 0; i < N; ++i)
        s += std::exp(z[i] - m);
    return m + std::log(s) - z[K];
}

// gradient = softmax(z) - e_K, with the exponentials stored once in g and scaled.
inline double grad(const double* z, double* g) {
    double m = z[0];
    for (int i = 1; i < N; ++i)
        m = std::max(m, z[i]);
    double s = 0;
    for (int i = 0; i < N; ++i) {
        g[i] = std::exp(z[i] - m);
        s += g[i];
    }
    const double inv = 1.0 / s;
    for (int i = 0; i < N; ++i)
        g[i] *= inv;
    g[K] -= 1.0;
    return m + std::log(s) - z[K];
}
} // namespace hand_xent

static double z[1000], zg[1000];

void case_xent() {
    bench::escape(z);
    bench::escape(zg);
    for (int i = 0; i < 1000; ++i)
        z[i] = 3.0 * std::sin(0.71 * i + 0.2);
    std::vector<double> a(1000), b(1000), c(1000);
    xent1000::xent_grad(z, a.data());
    hand_xent::grad(z, b.data());
    bench::Result r = bench::run_case(
        "softmax x-entropy, 1000 logits", {"f", "grad", "hand", "hand_f", "sympy"},
        [] { g_sink = xent1000::xent(z); }, [] { g_sink = xent1000::xent_grad(z, zg); },
        [] { g_sink = hand_xent::grad(z, zg); }, [] { g_sink = hand_xent::f(z); }
#ifdef HAVE_SYMPY
        ,
        [] { g_sink = sympy_xent1000::grad(z, zg); }
#endif
    );
    r.max_rel_err = bench::rel_err(a.data(), b.data(), 1000);
#ifdef HAVE_SYMPY
    sympy_xent1000::grad(z, c.data());
    r.max_rel_err = std::max(r.max_rel_err, bench::rel_err(c.data(), b.data(), 1000));
#endif
    bench::add_result(std::move(r));
}
