// Minimizes two functions with code that gradc generated during this project's build:
// Newton's method with the exact Hessian on Rosenbrock (double), gradient descent on Beale (float).
#include <cmath>
#include <cstdio>

#include "beale.hpp"      // from beale.expr: namespace beale, float
#include "rosenbrock.hpp" // from rosenbrock.expr: namespace rosen, with rosenbrock_hessian

constexpr int n = 6;

// Solves (H + mu I) p = -g by Cholesky; false when the matrix is not positive definite.
bool newton_step(const double* hess, const double* grad, double mu, double* p) {
    double l[n][n] = {};
    for (int i = 0; i < n; ++i)
        for (int j = 0; j <= i; ++j) {
            double s = hess[i * n + j] + (i == j ? mu : 0.0);
            for (int k = 0; k < j; ++k)
                s -= l[i][k] * l[j][k];
            if (i == j) {
                if (s <= 0) return false;
                l[i][i] = std::sqrt(s);
            } else {
                l[i][j] = s / l[j][j];
            }
        }
    double y[n];
    for (int i = 0; i < n; ++i) {
        double s = -grad[i];
        for (int k = 0; k < i; ++k)
            s -= l[i][k] * y[k];
        y[i] = s / l[i][i];
    }
    for (int i = n - 1; i >= 0; --i) {
        double s = y[i];
        for (int k = i + 1; k < n; ++k)
            s -= l[k][i] * p[k];
        p[i] = s / l[i][i];
    }
    return true;
}

int main() {
    // (From the classic start (-1.2, 1, -1.2, ...) Newton finds the local minimum near (-1, 1, ...)
    // that the extended Rosenbrock function has from N = 4 on.)
    double x[n] = {-1, -1, -1, -1, -1, -1}, grad[n], hess[n * n], p[n], trial[n];
    int steps = 0;
    double f = rosen::rosenbrock_hessian(x, grad, hess);
    for (; steps < 200; ++steps) {
        double norm = 0;
        for (double g : grad)
            norm += g * g;
        if (std::sqrt(norm) < 1e-9) break;
        double mu = 0;
        while (!newton_step(hess, grad, mu, p))
            mu = mu == 0 ? 1e-3 : 10 * mu;
        for (double t = 1;; t /= 2) { // backtracking: accept the first step that decreases f
            for (int i = 0; i < n; ++i)
                trial[i] = x[i] + t * p[i];
            if (rosen::rosenbrock(trial) < f || t < 1e-12) break;
        }
        for (int i = 0; i < n; ++i)
            x[i] = trial[i];
        f = rosen::rosenbrock_hessian(x, grad, hess);
    }
    std::printf("rosenbrock: Newton with the generated Hessian, %d steps\n  minimum %.3g at (",
                steps, f);
    for (int i = 0; i < n; ++i)
        std::printf("%s%.6f", i ? ", " : "", x[i]);
    std::printf(")\n");

    float bx = 1, by = 1, gx = 0, gy = 0;
    int iterations = 0;
    float fb = beale::beale_grad(bx, by, &gx, &gy);
    for (; iterations < 100000 && std::hypot(gx, gy) > 1e-4f; ++iterations) {
        float t = 1;
        while (t > 1e-8f &&
               beale::beale(bx - t * gx, by - t * gy) > fb - 0.5f * t * (gx * gx + gy * gy))
            t /= 2;
        bx -= t * gx;
        by -= t * gy;
        fb = beale::beale_grad(bx, by, &gx, &gy);
    }
    std::printf("beale: gradient descent in float, %d iterations\n  minimum %.3g at (%.4f, %.4f)\n",
                iterations, static_cast<double>(fb), static_cast<double>(bx),
                static_cast<double>(by));
    return 0;
}
