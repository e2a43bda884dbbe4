// Gradient-cost benchmark driver: runs every case compiled in, prints a Markdown table.
// Usage: bench_grad [rounds] [batch_ms]
#include <cstdlib>

#include "harness.hpp"

namespace bench {
double g_sink = 0;
static int g_rounds = 41;
static double g_batch_ns = 2e6;
static std::vector<Result> g_results;

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}
double ratio(const Result& r, std::size_t a, std::size_t b) {
    std::vector<double> q;
    for (std::size_t i = 0; i < r.ns[a].size(); ++i)
        q.push_back(r.ns[a][i] / r.ns[b][i]);
    return median(q);
}
int rounds() {
    return g_rounds;
}
double target_batch_ns() {
    return g_batch_ns;
}
void add_result(Result r) {
    std::fprintf(stderr, "  done: %s\n", r.name.c_str());
    g_results.push_back(std::move(r));
}
} // namespace bench

#define CASE(name) void name();
#include "cases.def"
#undef CASE

int main(int argc, char** argv) {
    if (argc > 1) bench::g_rounds = std::atoi(argv[1]);
    if (argc > 2) bench::g_batch_ns = std::atof(argv[2]) * 1e6;
#define CASE(name) name();
#include "cases.def"
#undef CASE
    // Variant order in every case: 0 gradc f, 1 gradc f_grad (or g_jacobian), 2 hand-written
    // gradient, 3 hand-written primal, 4 SymPy gradient (optional).
    std::printf(
        "| function | t(f) ns | t(f_grad) ns | t(hand grad) ns | t(SymPy grad) ns | f_grad / f | "
        "f_grad / hand | hand / hand primal | SymPy / f | f_grad / SymPy | max rel. diff |\n");
    std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (const auto& r : bench::g_results) {
        using bench::median;
        const bool sym = r.ns.size() > 4;
        char s1[32] = "n/a", s2[32] = "n/a", s3[32] = "n/a";
        if (sym) {
            std::snprintf(s1, sizeof s1, "%.1f", median(r.ns[4]));
            std::snprintf(s2, sizeof s2, "%.2f", bench::ratio(r, 4, 0));
            std::snprintf(s3, sizeof s3, "%.2f", bench::ratio(r, 1, 4));
        }
        std::printf("| %s | %.1f | %.1f | %.1f | %s | %.2f | **%.2f** | %.2f | %s | %s | %.1e |\n",
                    r.name.c_str(), median(r.ns[0]), median(r.ns[1]), median(r.ns[2]), s1,
                    bench::ratio(r, 1, 0), bench::ratio(r, 1, 2), bench::ratio(r, 2, 3), s2, s3,
                    r.max_rel_err);
    }
    return 0;
}
