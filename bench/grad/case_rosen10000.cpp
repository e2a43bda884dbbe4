#include "harness.hpp"
#include "rosen10000.hpp"
#define RN 10000
#define RNS rosen10000
#define RCASE case_rosen10000
#define RNAME "Rosenbrock n=10000"
// SymPy: sympy.diff of the 10 000-term sum is quadratic (3.4 s at n = 100): not generated.
#include "rosen_case.inc"
