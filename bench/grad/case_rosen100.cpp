#include "harness.hpp"
#include "rosen100.hpp"
#define RN 100
#define RNS rosen100
#define RCASE case_rosen100
#define RNAME "Rosenbrock n=100"
#ifdef HAVE_SYMPY
#include "sympy_rosen100.hpp"
#define RSYMPY sympy_rosen100
#endif
#include "rosen_case.inc"
