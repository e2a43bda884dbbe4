// Kernels shared by the network code gradc emits (the emitter copies this text into each header):
// register-blocked matrix products and a small reproducible random generator.
// Sizes that shape the loops are template parameters, so every loop bound is a constant.
#ifndef GRADC_NET_KERNELS
#define GRADC_NET_KERNELS
namespace gradc_rt {

// C[i][j] (+)= sum_p A[i * ars + p * acs] * B[p * Cols + j] for i < rows, p < inner, j < Cols
// (inner >= 1). The columns are processed in blocks of four SIMD vectors, four rows at a time, with
// the accumulators in registers: B is read contiguously and each A element is broadcast.
template <int Cols, class T>
inline void gemm(int rows, int inner, const T* __restrict a, int ars, int acs,
                 const T* __restrict b, T* __restrict c, bool accumulate) {
    typedef T vec __attribute__((vector_size(64), aligned(alignof(T)), may_alias));
    constexpr int lanes = static_cast<int>(64 / sizeof(T));
    constexpr int block = 4 * lanes;
    constexpr int blocked = Cols / block * block;
    long i = 0;
    for (; i + 4 <= rows; i += 4) {
        for (int j = 0; j < blocked; j += block) {
            vec acc[4][4];
            for (int r = 0; r < 4; ++r)
                for (int v = 0; v < 4; ++v)
                    acc[r][v] =
                        accumulate
                            ? *reinterpret_cast<const vec*>(c + (i + r) * Cols + j + v * lanes)
                            : vec{};
            for (long p = 0; p < inner; ++p) {
                const T* row = b + p * Cols + j;
                vec bv[4];
                for (int v = 0; v < 4; ++v)
                    bv[v] = *reinterpret_cast<const vec*>(row + v * lanes);
                for (int r = 0; r < 4; ++r) {
                    const T s = a[(i + r) * ars + p * acs];
                    for (int v = 0; v < 4; ++v)
                        acc[r][v] += s * bv[v];
                }
            }
            for (int r = 0; r < 4; ++r)
                for (int v = 0; v < 4; ++v)
                    *reinterpret_cast<vec*>(c + (i + r) * Cols + j + v * lanes) = acc[r][v];
        }
    }
    // What the blocks leave: the last columns of every row, and the last rows.
    for (long r = 0; r < rows; ++r) {
        const int first = r < i ? blocked : 0;
        if (first == Cols) continue;
        T* out = c + r * Cols;
        long p = 0;
        if (!accumulate) { // the first product assigns: no zeroing, no `0 + s * b` to wait for
            const T s = a[r * ars];
            for (int j = first; j < Cols; ++j)
                out[j] = s * b[j];
            p = 1;
        }
        for (; p < inner; ++p) {
            const T s = a[r * ars + p * acs];
            const T* row = b + p * Cols;
            for (int j = first; j < Cols; ++j)
                out[j] += s * row[j];
        }
    }
}

// C[i * Cols + j] (+)= sum_p A[i * Inner + p] * B[j * Inner + p] for i < rows, j < Cols: the
// product with B transposed, as dot products of contiguous rows. Blocks of four rows of A by four
// of B keep sixteen vector partial sums in registers; their lanes are added at the end, to C's
// start (0, or C when accumulating).
template <int Inner, int Cols, class T>
inline void gemm_nt(int rows, const T* __restrict a, const T* __restrict b, T* __restrict c,
                    bool accumulate) {
    typedef T vec __attribute__((vector_size(64), aligned(alignof(T)), may_alias));
    constexpr int lanes = static_cast<int>(64 / sizeof(T));
    constexpr int vectorized = Inner / lanes * lanes;
    // `sum` plus the dot product of two whole rows. Starting from C (a layer's bias, written
    // before the product) rather than adding it last keeps it off the chain of dependent
    // additions: in a tiny network the sum is ready one multiply-add after the last input.
    auto dot = [&](T sum, const T* x, const T* y) {
        if constexpr (vectorized > 0) {
            vec acc = {};
            for (int p = 0; p < vectorized; p += lanes)
                acc += *reinterpret_cast<const vec*>(x + p) * *reinterpret_cast<const vec*>(y + p);
            for (int l = 0; l < lanes; ++l)
                sum += acc[l];
        }
        for (int p = vectorized; p < Inner; ++p)
            sum += x[p] * y[p];
        return sum;
    };
    auto start = [&](long at) { return accumulate ? c[at] : T(0); };
    long i = 0;
    for (; vectorized > 0 && i + 4 <= rows; i += 4) {
        const T* ai = a + i * Inner;
        long j = 0;
        for (; j + 4 <= Cols; j += 4) {
            const T* bj = b + j * Inner;
            vec acc[4][4] = {};
            for (int p = 0; p < vectorized; p += lanes) {
                vec av[4], bv[4];
                for (int r = 0; r < 4; ++r)
                    av[r] = *reinterpret_cast<const vec*>(ai + r * Inner + p);
                for (int q = 0; q < 4; ++q)
                    bv[q] = *reinterpret_cast<const vec*>(bj + q * Inner + p);
                for (int r = 0; r < 4; ++r)
                    for (int q = 0; q < 4; ++q)
                        acc[r][q] += av[r] * bv[q];
            }
            for (int r = 0; r < 4; ++r)
                for (int q = 0; q < 4; ++q) {
                    const long at = (i + r) * Cols + j + q;
                    T sum = start(at);
                    for (int l = 0; l < lanes; ++l)
                        sum += acc[r][q][l];
                    for (int p = vectorized; p < Inner; ++p)
                        sum += ai[r * Inner + p] * bj[q * Inner + p];
                    c[at] = sum;
                }
        }
        for (long r = i; r < i + 4; ++r) // the last columns
            for (long q = j; q < Cols; ++q)
                c[r * Cols + q] = dot(start(r * Cols + q), a + r * Inner, b + q * Inner);
    }
    for (long r = i; r < rows; ++r) // the last rows
        for (long q = 0; q < Cols; ++q)
            c[r * Cols + q] = dot(start(r * Cols + q), a + r * Inner, b + q * Inner);
}

// splitmix64: the same numbers on every platform and compiler.
class Random {
  public:
    explicit Random(unsigned long long seed = 0) : state_(seed) {}
    unsigned long long next() {
        unsigned long long z = (state_ += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    double uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }
    double normal() { // Box-Muller
        const double u = 1.0 - uniform(), v = uniform();
        return std::sqrt(-2.0 * std::log(u)) * std::cos(6.283185307179586 * v);
    }
    unsigned long long below(unsigned long long n) { return next() % n; }

  private:
    unsigned long long state_;
};

} // namespace gradc_rt
#endif
