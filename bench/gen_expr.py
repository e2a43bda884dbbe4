#!/usr/bin/env python3
"""Writes the .expr inputs of the gradc benchmarks into a directory (default: bench/gen).

Gradient-cost inputs (bench_grad.cpp): rosen100, rosen10000, xent1000, reproj.
Throughput inputs (throughput.sh): rosen_N, softmaxreg_K_D, sumterms_N, exprs_N (see --throughput).
"""
import argparse
import os
import random


def rosen(n):
    return (f"# extended Rosenbrock, n = {n}\nconst N = {n}\n"
            "fn rosen(x[N]) = sum(i in 0..N-1: 100 * (x[i+1] - x[i]^2)^2 + (1 - x[i])^2)\n")


def xent(n, k):
    return (f"# softmax cross-entropy of {n} logits, true class {k}\nconst N = {n}\nconst K = {k}\n"
            "fn xent(z[N]) = logsumexp(z) - z[K]\n")


REPROJ = """# Bundle-adjustment reprojection residual (Snavely/BAL camera model, as in Ceres' simple_bundle_adjuster):
# cam = angle-axis rotation (3), translation (3), focal (1), radial distortion k1 k2 (2), principal point (2);
# pt = 3D point; obs = observed pixel.  2 residuals; differentiate with --wrt cam,pt (14 inputs).
fn reproj(cam[11], pt[3], obs[2]) {
    let theta2 = cam[0]*cam[0] + cam[1]*cam[1] + cam[2]*cam[2]
    let theta = sqrt(theta2)
    let ct = cos(theta)
    let st = sin(theta)
    let a = st / theta
    let b = (1 - ct) / theta2
    let wdotx = cam[0]*pt[0] + cam[1]*pt[1] + cam[2]*pt[2]
    let p0 = ct*pt[0] + a*(cam[1]*pt[2] - cam[2]*pt[1]) + b*wdotx*cam[0] + cam[3]
    let p1 = ct*pt[1] + a*(cam[2]*pt[0] - cam[0]*pt[2]) + b*wdotx*cam[1] + cam[4]
    let p2 = ct*pt[2] + a*(cam[0]*pt[1] - cam[1]*pt[0]) + b*wdotx*cam[2] + cam[5]
    let xp = -p0 / p2
    let yp = -p1 / p2
    let r2 = xp*xp + yp*yp
    let dist = 1 + r2*(cam[7] + cam[8]*r2)
    return [cam[6]*dist*xp + cam[9] - obs[0], cam[6]*dist*yp + cam[10] - obs[1]]
}
"""


def softmaxreg(k, d):
    return (f"# dense softmax regression loss: {k} classes, {d} features\nconst K = {k}\nconst D = {d}\n"
            "fn loss(W[K, D], x[D]) {\n"
            "    let s[c in 0..K] = sum(j in 0..D: W[c, j] * x[j])\n"
            "    return logsumexp(s) - s[1]\n}\n")


def sumterms(n):
    return (f"# a long sum of {n} distinct terms\nconst N = {n}\n"
            "fn terms(x[64]) = sum(i in 0..N: sin((i + 1) * x[i % 64]) * x[(7 * i + 3) % 64])\n")


def exprs(n, seed=1):
    """About n SSA nodes written out, with no loop to unroll, so that the parser sees every node:
    lets of random expressions over x[64] and recent lets, and their sum."""
    rng = random.Random(seed)

    def expr(depth, names):
        r = rng.random()
        if depth == 0 or r < 0.15:
            leaf = rng.random()
            if leaf < 0.5:
                return f"x[{rng.randrange(64)}]"
            if leaf < 0.8 and names:
                return rng.choice(names[-20:])
            return f"{rng.randrange(1, 1000) / 100}"
        if r < 0.25:
            return f"{rng.choice(['sin', 'cos', 'exp', 'tanh', 'sqrt'])}({expr(depth - 1, names)})"
        return f"({expr(depth - 1, names)} {rng.choice('+-*/')} {expr(depth - 1, names)})"

    lines, names, ops = [f"# {n} nodes of written-out expressions", "fn exprs(x[64]) {"], [], 0
    while ops < n:
        e = expr(5, names)
        names.append(f"a{len(names)}")
        lines.append(f"    let {names[-1]} = {e}")
        ops += e.count("(") + 1  # every call and binary operation opens one; +1 for the final sum
    lines += ["    return " + " + ".join(names), "}", ""]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir", nargs="?", default=os.path.join(os.path.dirname(__file__), "gen"))
    ap.add_argument("--throughput", action="store_true", help="also write the large throughput inputs")
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    files = {"rosen100.expr": rosen(100), "rosen10000.expr": rosen(10000), "rosen10.expr": rosen(10),
             "xent1000.expr": xent(1000, 7), "reproj.expr": REPROJ}
    if a.throughput:
        for n in (1430, 14300, 143000, 1430000):
            files[f"rosen_{n}.expr"] = rosen(n)
        for d in (500, 5000, 50000, 500000):
            files[f"softmaxreg_10_{d}.expr"] = softmaxreg(10, d)
        for n in (2000, 20000, 200000, 2000000):
            files[f"sumterms_{n}.expr"] = sumterms(n)
        for n in (10000, 100000, 1000000):
            files[f"exprs_{n}.expr"] = exprs(n)
    for name, text in files.items():
        with open(os.path.join(a.outdir, name), "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
