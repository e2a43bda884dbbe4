#!/usr/bin/env bash
# Builds gradc and runs the gradc benchmarks, printing Markdown tables (see bench/README.md).
#   bench/run.sh                 gradient cost (issue 3) at -O2, then compiler throughput (issues 2, 4)
#   bench/run.sh grad            gradient cost only
#   bench/run.sh throughput      compiler throughput only
# Environment: BUILD (default build-bench), CXXFLAGS_BENCH (default "-O2"), ROUNDS (41), BATCH_MS (2),
#   ROSEN10K=1 to include Rosenbrock n=10000 (its emitted header takes g++ -O2 many minutes),
#   SIZES ("10k 100k 1M"; 10M is feasible but slow), GXX_SIZES (10k) sizes whose gradient g++ -O2 compiles,
#   GXX_MAX_S (600) g++ timeout per header.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$HERE")"
BUILD="${BUILD:-$ROOT/build-bench}"
WHAT="${1:-all}"

cmake -S "$ROOT" -B "$BUILD" -DBUILD_TESTING=OFF >/dev/null
cmake --build "$BUILD" --target gradc -j2 >/dev/null
GRADC="$BUILD/compiler/gradc"
OUT="$BUILD/bench"
mkdir -p "$OUT"

echo "# gradc benchmarks: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(g++ --version | head -1)"

if [[ "$WHAT" == all || "$WHAT" == grad ]]; then
    python3 "$HERE/gen_expr.py" "$OUT"
    S="$ROOT/samples"
    "$GRADC" compile "$S/logistic.expr" -o "$OUT/logistic.hpp"
    "$GRADC" compile "$S/sin_product.expr" -o "$OUT/sin_product.hpp"
    "$GRADC" compile "$S/td1_loss.expr" --wrt w -o "$OUT/td1_loss.hpp"
    for f in rosen100 rosen10000 xent1000; do "$GRADC" compile "$OUT/$f.expr" -o "$OUT/$f.hpp"; done
    "$GRADC" compile "$OUT/reproj.expr" --wrt cam,pt -o "$OUT/reproj.hpp"
    DEFS=()
    if python3 -c "import sympy" 2>/dev/null; then
        # SymPy takes ~1.5 min (diff of the 1000-term softmax); its output is cached.
        [[ -f "$OUT/sympy_reproj.hpp" ]] || python3 "$HERE/sympy_gen.py" "$OUT" --skip-big
        DEFS+=(-DHAVE_SYMPY)
    else
        echo "(SymPy not installed: pip install sympy, or apt-get install python3-sympy, for the SymPy column)"
    fi
    CASES=(main case_small case_rosen100 case_xent case_reproj)
    if [[ "${ROSEN10K:-0}" == 1 ]]; then
        CASES+=(case_rosen10000)
        DEFS+=(-DHAVE_ROSEN10000)
    fi
    FLAGS="${CXXFLAGS_BENCH:--O2}"
    OBJS=()
    for c in "${CASES[@]}"; do
        # shellcheck disable=SC2086
        g++ -std=c++17 $FLAGS "${DEFS[@]}" -I"$HERE/grad" -I"$OUT" -c "$HERE/grad/$c.cpp" -o "$OUT/$c.o" &
        OBJS+=("$OUT/$c.o")
    done
    wait
    g++ -o "$OUT/bench_grad" "${OBJS[@]}"
    echo
    echo "## Gradient cost, g++ $FLAGS (median over ${ROUNDS:-41} interleaved rounds; ratios are medians of per-round ratios)"
    echo
    "$OUT/bench_grad" "${ROUNDS:-41}" "${BATCH_MS:-2}" 2>/dev/null
fi

if [[ "$WHAT" == all || "$WHAT" == throughput ]]; then
    echo
    GRADC="$GRADC" OUT="$OUT/throughput" "$HERE/throughput.sh"
fi
