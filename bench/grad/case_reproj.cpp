// Bundle-adjustment reprojection residual (BAL camera model): 11 camera + 3 point parameters -> 2
// residuals, full 2 x 14 Jacobian.
#include "harness.hpp"
#include "reproj.hpp"
#ifdef HAVE_SYMPY
#include "sympy_reproj.hpp"
#endif

using bench::g_sink;

namespace hand_reproj {

struct V3 {
    double x, y, z;
};
inline V3 operator+(V3 a, V3 b) {
    return {a.x + b.x, a.y + b.y, a.z + b.z};
}
inline V3 operator*(double s, V3 a) {
    return {s * a.x, s * a.y, s * a.z};
}
inline double dot(V3 a, V3 b) {
    return a.x * b.x + a.y * b.y + a.z * b.z;
}
inline V3 cross(V3 a, V3 b) {
    return {a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x};
}

// Rodrigues: R X = cos(t) X + a (w x X) + b (w . X) w, a = sin(t)/t, b = (1 - cos t)/t^2.
inline void residual(const double* cam, const double* pt, const double* obs, double* out) {
    const V3 w{cam[0], cam[1], cam[2]}, X{pt[0], pt[1], pt[2]};
    const double th2 = dot(w, w), th = std::sqrt(th2), ct = std::cos(th), st = std::sin(th);
    const double a = st / th, b = (1.0 - ct) / th2;
    const V3 p = ct * X + a * cross(w, X) + (b * dot(w, X)) * w + V3{cam[3], cam[4], cam[5]};
    const double xp = -p.x / p.z, yp = -p.y / p.z;
    const double r2 = xp * xp + yp * yp;
    const double fd = cam[6] * (1.0 + r2 * (cam[7] + cam[8] * r2));
    out[0] = fd * xp + cam[9] - obs[0];
    out[1] = fd * yp + cam[10] - obs[1];
}

// The Jacobian by the chain rule, sharing the rotation derivative between both rows:
// with g = d(residual)/dp,  d/dX = R^T g = ct g + a (g x w) + b (g . w) w, and
// d/dw = (g . v) w + a (X x g) + b (g . w) X + b (w . X) g, where v = -a X + ca (w x X) + cb (w .
// X) w, ca = (ct - a)/t^2 = d a/dw_j / w_j, cb = (a - 2b)/t^2 = d b/dw_j / w_j, d ct/dw_j = -a w_j.
inline void jacobian(const double* cam, const double* pt, const double* obs, double* out,
                     double* J) {
    const V3 w{cam[0], cam[1], cam[2]}, X{pt[0], pt[1], pt[2]};
    const double th2 = dot(w, w), th = std::sqrt(th2), ct = std::cos(th), st = std::sin(th);
    const double a = st / th, b = (1.0 - ct) / th2;
    const double ca = (ct - a) / th2, cb = (a - 2.0 * b) / th2;
    const V3 wxX = cross(w, X);
    const double wX = dot(w, X);
    const V3 p = ct * X + a * wxX + (b * wX) * w + V3{cam[3], cam[4], cam[5]};
    const double iz = 1.0 / p.z;
    const double xp = -p.x * iz, yp = -p.y * iz;
    const double r2 = xp * xp + yp * yp;
    const double k1 = cam[7], k2 = cam[8], f = cam[6];
    const double d = 1.0 + r2 * (k1 + k2 * r2), fd = f * d;
    const double two_f_dd = 2.0 * f * (k1 + 2.0 * k2 * r2); // 2 f dD/dr2
    out[0] = fd * xp + cam[9] - obs[0];
    out[1] = fd * yp + cam[10] - obs[1];
    // d(u, v)/d(xp, yp)
    const double uxp = fd + two_f_dd * xp * xp, uyp = two_f_dd * xp * yp;
    const double vxp = uyp, vyp = fd + two_f_dd * yp * yp;
    const V3 v = (-a) * X + ca * wxX + (cb * wX) * w;
    // d/dp for each row: d xp/dp = (-iz, 0, -xp iz), d yp/dp = (0, -iz, -yp iz)
    const V3 g[2] = {{-uxp * iz, -uyp * iz, -(uxp * xp + uyp * yp) * iz},
                     {-vxp * iz, -vyp * iz, -(vxp * xp + vyp * yp) * iz}};
    const double dxy[2] = {xp, yp};
    for (int row = 0; row < 2; ++row) {
        double* Jr = J + 14 * row;
        const V3 gr = g[row];
        const double gw = dot(gr, w);
        const V3 dw = dot(gr, v) * w + a * cross(X, gr) + (b * gw) * X + (b * wX) * gr;
        const V3 dX = ct * gr + a * cross(gr, w) + (b * gw) * w;
        Jr[0] = dw.x, Jr[1] = dw.y, Jr[2] = dw.z;
        Jr[3] = gr.x, Jr[4] = gr.y, Jr[5] = gr.z;
        Jr[6] = d * dxy[row];
        Jr[7] = f * dxy[row] * r2;
        Jr[8] = f * dxy[row] * r2 * r2;
        Jr[9] = row == 0 ? 1.0 : 0.0;
        Jr[10] = row == 0 ? 0.0 : 1.0;
        Jr[11] = dX.x, Jr[12] = dX.y, Jr[13] = dX.z;
    }
}

} // namespace hand_reproj

static double q[14] = {0.1,  -0.2,  0.3, 0.05, -0.1, -5.0, 800.0,
                       1e-7, 1e-13, 2.0, -1.5, 0.5,  -0.4, 1.2};
static double obs[2] = {12.0, -7.0};
static double out[2], jac[28];

void case_reproj() {
    for (const void* p : {(const void*)q, (const void*)obs, (const void*)out, (const void*)jac})
        bench::escape(p);
    double a[28], b[28], c[28], o[2];
    reproj::reproj_jacobian(q, q + 11, obs, o, a);
    hand_reproj::jacobian(q, q + 11, obs, o, b);
    bench::Result r = bench::run_case(
        "bundle adjustment 2x14 Jacobian", {"f", "grad", "hand", "hand_f", "sympy"},
        [] { reproj::reproj(q, q + 11, obs, out); },
        [] { reproj::reproj_jacobian(q, q + 11, obs, out, jac); },
        [] { hand_reproj::jacobian(q, q + 11, obs, out, jac); },
        [] { hand_reproj::residual(q, q + 11, obs, out); }
#ifdef HAVE_SYMPY
        ,
        [] { sympy_reproj::jac(q, obs, out, jac); }
#endif
    );
    r.max_rel_err = bench::rel_err(a, b, 28);
#ifdef HAVE_SYMPY
    sympy_reproj::jac(q, obs, o, c);
    r.max_rel_err = std::max(r.max_rel_err, bench::rel_err(c, b, 28));
#endif
    (void)c;
    bench::add_result(std::move(r));
}
