// Side-by-side timing harness for the gradient-cost benchmark (issue 3).
// Every case times its variants (gradc primal, gradc gradient, hand-written gradient, SymPy
// gradient, ...) in interleaved rounds inside one process, so machine noise hits all of them alike;
// ratios are the median over rounds of the per-round ratio.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <time.h>
#include <tuple>
#include <vector>

namespace bench {

extern double g_sink;

// Tells the compiler that all memory may be read and written here: inputs are reloaded and outputs
// stored on every call, so no call can be hoisted out of the timing loop or deleted.
inline void clobber() {
    asm volatile("" : : : "memory");
}
// Makes the object at p escape, so that clobber() covers it even if it has internal linkage.
inline void escape(const void* p) {
    asm volatile("" : : "g"(p) : "memory");
}

// CPU time of this thread: on a shared, oversubscribed machine wall time mostly measures the time
// the process spends descheduled.
inline double cpu_ns() {
    timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) * 1e9 + static_cast<double>(t.tv_nsec);
}

template <class F> __attribute__((noinline)) double batch_ns(F& f, long iters) {
    const double t0 = cpu_ns();
    for (long i = 0; i < iters; ++i) {
        clobber();
        f();
        clobber();
    }
    return (cpu_ns() - t0) / static_cast<double>(iters);
}

struct Result {
    std::string name;
    std::vector<std::string> variants;
    std::vector<std::vector<double>> ns; // [variant][round]
    double max_rel_err = 0;              // largest relative difference between the gradients
};

double median(std::vector<double> v);
// median over rounds of ns[a][r] / ns[b][r]
double ratio(const Result& r, std::size_t a, std::size_t b);
int rounds();
double target_batch_ns();
void add_result(Result r);

// Calibrates the iteration count on variant 0 (~target_batch_ns per batch), then runs rounds()
// interleaved rounds of every variant.
template <class... F>
Result run_case(std::string name, std::vector<std::string> variant_names, F... f) {
    auto& first = std::get<0>(std::forward_as_tuple(f...));
    long iters = 1;
    for (;;) {
        const double total = batch_ns(first, iters) * static_cast<double>(iters);
        if (total > target_batch_ns() / 4 || iters > (1L << 30)) {
            iters = std::max(
                1L, static_cast<long>(static_cast<double>(iters) * target_batch_ns() / total));
            break;
        }
        iters *= 4;
    }
    Result r;
    r.name = std::move(name);
    r.variants = std::move(variant_names);
    r.ns.resize(sizeof...(F));
    for (int round = 0; round < rounds(); ++round) {
        std::size_t k = 0;
        ((r.ns[k++].push_back(batch_ns(f, iters))), ...);
    }
    return r;
}

inline double rel_err(const double* a, const double* b, std::size_t n) {
    double worst = 0;
    for (std::size_t i = 0; i < n; ++i)
        worst = std::max(worst, std::fabs(a[i] - b[i]) / std::max(1.0, std::fabs(b[i])));
    return worst;
}

} // namespace bench
