// logistic, x1 x2 + sin x1, and the TD1 loss.
#include "harness.hpp"
#include "logistic.hpp"
#include "sin_product.hpp"
#include "td1_loss.hpp"
#ifdef HAVE_SYMPY
#include "sympy_logistic.hpp"
#include "sympy_sinprod.hpp"
#include "sympy_td1.hpp"
#endif

using bench::g_sink;

namespace hand {

inline double logistic(double x, double a) {
    return 1.0 / (1.0 + std::exp(-a * x));
}
inline double logistic_grad(double x, double a, double* g) {
    const double y = 1.0 / (1.0 + std::exp(-a * x));
    const double s = y * (1.0 - y);
    g[0] = a * s;
    g[1] = x * s;
    return y;
}

inline double sinprod(double x1, double x2) {
    return x1 * x2 + std::sin(x1);
}
inline double sinprod_grad(double x1, double x2, double* g) {
    g[0] = x2 + std::cos(x1);
    g[1] = x1;
    return x1 * x2 + std::sin(x1);
}

inline double sigmoid(double t) {
    return 1.0 / (1.0 + std::exp(-t));
}
inline double td1(const double* w, const double* x, double y) {
    const double h1 = sigmoid(w[0] + w[1] * x[0] + w[2] * x[1]);
    const double h2 = sigmoid(w[3] + w[4] * x[0] + w[5] * x[1]);
    const double e = std::tanh(w[6] + w[7] * h1 + w[8] * h2) - y;
    return 0.5 * e * e;
}
// Backpropagation as in the course notes: delta3 at the output, delta1/delta2 at the hidden units.
inline double td1_grad(const double* w, const double* x, double y, double* g) {
    const double h1 = sigmoid(w[0] + w[1] * x[0] + w[2] * x[1]);
    const double h2 = sigmoid(w[3] + w[4] * x[0] + w[5] * x[1]);
    const double o = std::tanh(w[6] + w[7] * h1 + w[8] * h2);
    const double e = o - y;
    const double d3 = e * (1.0 - o * o);
    const double d1 = d3 * w[7] * h1 * (1.0 - h1);
    const double d2 = d3 * w[8] * h2 * (1.0 - h2);
    g[0] = d1;
    g[1] = d1 * x[0];
    g[2] = d1 * x[1];
    g[3] = d2;
    g[4] = d2 * x[0];
    g[5] = d2 * x[1];
    g[6] = d3;
    g[7] = d3 * h1;
    g[8] = d3 * h2;
    return 0.5 * e * e;
}

} // namespace hand

static double in[2] = {0.7, 1.3};
static double gr[2];
static double w[9] = {0.1, -0.2, 0.3, -0.1, 0.25, 0.15, 0.05, 0.4, -0.3};
static double xy[3] = {0.5, -0.3, 0.7}; // x[0], x[1], y (the SymPy version has them baked in)
static double gw[9];

void case_logistic() {
    for (const void* p :
         {(const void*)in, (const void*)gr, (const void*)w, (const void*)xy, (const void*)gw})
        bench::escape(p);
    double a[2], b[2], c[2];
    logistic::logistic_grad(in[0], in[1], &a[0], &a[1]);
    hand::logistic_grad(in[0], in[1], b);
    bench::Result r = bench::run_case(
        "logistic", {"f", "grad", "hand", "hand_f", "sympy"},
        [] { g_sink = logistic::logistic(in[0], in[1]); },
        [] { g_sink = logistic::logistic_grad(in[0], in[1], &gr[0], &gr[1]); },
        [] { g_sink = hand::logistic_grad(in[0], in[1], gr); },
        [] { g_sink = hand::logistic(in[0], in[1]); }
#ifdef HAVE_SYMPY
        ,
        [] { g_sink = sympy_logistic::grad(in, gr); }
#endif
    );
    r.max_rel_err = bench::rel_err(a, b, 2);
#ifdef HAVE_SYMPY
    sympy_logistic::grad(in, c);
    r.max_rel_err = std::max(r.max_rel_err, bench::rel_err(c, b, 2));
#endif
    (void)c;
    bench::add_result(std::move(r));
}

void case_sinprod() {
    double a[2], b[2], c[2];
    sin_product::f_grad(in[0], in[1], &a[0], &a[1]);
    hand::sinprod_grad(in[0], in[1], b);
    bench::Result r = bench::run_case(
        "x1 x2 + sin x1", {"f", "grad", "hand", "hand_f", "sympy"},
        [] { g_sink = sin_product::f(in[0], in[1]); },
        [] { g_sink = sin_product::f_grad(in[0], in[1], &gr[0], &gr[1]); },
        [] { g_sink = hand::sinprod_grad(in[0], in[1], gr); },
        [] { g_sink = hand::sinprod(in[0], in[1]); }
#ifdef HAVE_SYMPY
        ,
        [] { g_sink = sympy_sinprod::grad(in, gr); }
#endif
    );
    r.max_rel_err = bench::rel_err(a, b, 2);
#ifdef HAVE_SYMPY
    sympy_sinprod::grad(in, c);
    r.max_rel_err = std::max(r.max_rel_err, bench::rel_err(c, b, 2));
#endif
    (void)c;
    bench::add_result(std::move(r));
}

void case_td1() {
    double a[9], b[9], c[9];
    td1_loss::loss_grad(w, xy, xy[2], a);
    hand::td1_grad(w, xy, xy[2], b);
    bench::Result r = bench::run_case(
        "TD1 loss (9 weights)", {"f", "grad", "hand", "hand_f", "sympy"},
        [] { g_sink = td1_loss::loss(w, xy, xy[2]); },
        [] { g_sink = td1_loss::loss_grad(w, xy, xy[2], gw); },
        [] { g_sink = hand::td1_grad(w, xy, xy[2], gw); }, [] { g_sink = hand::td1(w, xy, xy[2]); }
#ifdef HAVE_SYMPY
        ,
        [] { g_sink = sympy_td1::grad(w, gw); }
#endif
    );
    r.max_rel_err = bench::rel_err(a, b, 9);
#ifdef HAVE_SYMPY
    sympy_td1::grad(w, c);
    r.max_rel_err = std::max(r.max_rel_err, bench::rel_err(c, b, 9));
#endif
    (void)c;
    bench::add_result(std::move(r));
}
