// Training speed of gradc's generated networks beside hand-written loops (net_handwritten.hpp), in
// one run: samples per CPU second of train_batch on fixed synthetic data, float, one thread. The
// generated headers come from bench/net_bench.sh (gradc compile samples/*.net and bench/*.net).

#include "digits.hpp"
#include "fashion_mlp.hpp"
#include "net_handwritten.hpp"
#include "td1.hpp"
#include "xor.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <vector>

namespace {

struct Data {
    std::vector<float> x, y;
};

Data synthetic(int count, int inputs, int classes) {
    Data d;
    unsigned state = 7;
    auto next = [&] { return (state = state * 1664525u + 1013904223u) >> 8; };
    for (int i = 0; i < count * inputs; ++i)
        d.x.push_back(static_cast<float>(next() % 256) / 255);
    for (int i = 0; i < count; ++i)
        d.y.push_back(classes ? float(next() % classes) : 0.5f);
    return d;
}

// This thread's CPU time: on a shared machine it is what the loop itself costs.
double cpu_seconds() {
    timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

// Samples per CPU second of model.train_batch over batches of `batch` from `data`, ~`seconds`.
template <class Model>
double speed(Model& model, const Data& data, int batch, int inputs, int targets, double seconds) {
    const int batches = static_cast<int>(data.y.size()) / targets / batch;
    long samples = 0;
    float sink = 0;
    // Thread CPU time is a system call (~1 us in this VM): read it every ~4096 samples only.
    const int chunk = std::max(64, 4096 / batch);
    const double start = cpu_seconds();
    double elapsed = 0;
    while (elapsed < seconds) {
        for (int k = 0; k < chunk; ++k) {
            const int b = static_cast<int>(samples / batch) % batches;
            sink +=
                model.train_batch(&data.x[static_cast<std::size_t>(b) * batch * inputs],
                                  &data.y[static_cast<std::size_t>(b) * batch * targets], batch);
            samples += batch;
        }
        elapsed = cpu_seconds() - start;
    }
    if (sink != sink) std::printf("(diverged) ");
    return samples / elapsed;
}

constexpr int rounds = 7;

// The hand-written MLPs start from the generated model's parameters and learning rate (the cost of
// glibc's tanhf and expf depends on the argument); td1's has the course's values already.
template <class Generated> void match(handwritten::Td1&, Generated&, float) {}
template <class Generated, int I, int H, int O, bool R>
void match(handwritten::Mlp<I, H, O, R>& hand, Generated& generated, float lr) {
    hand.copy_from(generated.parameters(), lr);
}

template <class Generated, class Handwritten>
void compare(const char* name, int batch, int inputs, int classes, double flops_per_sample,
             float lr = 1e-3f) {
    const Data data = synthetic(std::max(batch, 4096 / std::max(1, inputs / 64)) / batch * batch,
                                inputs, classes);
    Generated generated;
    Handwritten handwritten;
    match(handwritten, generated, lr);
    // Alternating rounds, so that both see the same machine load; the median round of each.
    std::vector<double> gs, hs;
    for (int round = 0; round < rounds; ++round) {
        gs.push_back(speed(generated, data, batch, inputs, 1, 0.25));
        hs.push_back(speed(handwritten, data, batch, inputs, 1, 0.25));
    }
    std::sort(gs.begin(), gs.end());
    std::sort(hs.begin(), hs.end());
    const double g = gs[rounds / 2], h = hs[rounds / 2];
    std::printf("%-26s batch %3d  gradc %10.4g samples/s  hand-written %10.4g samples/s  "
                "ratio %5.2f  gradc %6.1f GFLOP/s\n",
                name, batch, g, h, g / h, g * flops_per_sample / 1e9);
}

} // namespace

int main() {
    // Multiply-adds of forward + backward (weights and hidden activations) per sample, times 2.
    auto mlp = [](double in, double hidden, double out, bool input_grad) {
        return 2 * (in * hidden + hidden * out) + 2 * (in * hidden + 2 * hidden * out) +
               (input_grad ? 2 * in * hidden : 0);
    };
    compare<td1::Model, handwritten::Td1>("td1 2-2-1 (sgd)", 1, 2, 0, mlp(2, 2, 1, false));
    compare<xor_::Model, handwritten::Mlp<2, 8, 2, false>>("xor 2-8-2 (adam)", 4, 2, 2,
                                                           mlp(2, 8, 2, false), 0.1f);
    compare<digits::Model, handwritten::Mlp<64, 32, 10, true>>("digits 64-32-10 (adam)", 32, 64, 10,
                                                               mlp(64, 32, 10, false));
    compare<fashion_mlp::Model, handwritten::Mlp<784, 128, 10, true>>(
        "fashion 784-128-10 (adam)", 64, 784, 10, mlp(784, 128, 10, false));
}
