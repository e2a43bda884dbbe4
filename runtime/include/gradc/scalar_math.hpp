// Numerically stable scalar functions shared by gradc's interpreter and every header it emits
// (the emitter copies this text into the header, so generated code needs nothing but <cmath>).
// Each is exact where its naive form is finite and never overflows where the true result is finite.
namespace gradc_math {

// 1 / (1 + e^-x), evaluated on the side where the exponential cannot overflow.
template <class T> inline T sigmoid(T x) {
    if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
    const T e = std::exp(x);
    return e / (T(1) + e);
}

// log(1 + e^x) = max(x, 0) + log1p(e^-|x|).
template <class T> inline T softplus(T x) {
    return (x > T(0) ? x : T(0)) + std::log1p(std::exp(-std::fabs(x)));
}

// log(sigmoid(x)) = -softplus(-x).
template <class T> inline T log_sigmoid(T x) { return -softplus(-x); }

// 1 for x > 0, 0 for x < 0, 1/2 at 0.
template <class T> inline T heaviside(T x) {
    return x > T(0) ? T(1) : (x < T(0) ? T(0) : T(0.5));
}

template <class T> inline T sign(T x) { return x > T(0) ? T(1) : (x < T(0) ? T(-1) : T(0)); }

template <class T> inline T relu(T x) { return x > T(0) ? x : T(0); }

} // namespace gradc_math
