#!/usr/bin/env bash
# Compiler throughput (issues 2 and 4): gradc front end -> header for generated inputs of ~10k .. 10M
# SSA nodes, primal only (--mode primal) and with the gradient (--mode reverse); then g++ -O2 -c of the
# emitted gradient. Times are CPU time (user + sys) of the process, the best of RUNS runs (gradc) or
# one run (g++): the machine is shared, and wall time measures mostly the waiting. exprs_N is written
# out in full (no loop to unroll), so the parser sees every node. Called by run.sh; standalone:
# GRADC=... OUT=... bench/throughput.sh
set -uo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
GRADC="${GRADC:?path of gradc}"
OUT="${OUT:-/tmp/gradc-throughput}"
SIZES="${SIZES:-10k 100k 1M}"
GXX_SIZES="${GXX_SIZES-10k}"
GXX_MAX_S="${GXX_MAX_S:-600}"
RUNS="${RUNS:-3}"
LIMIT="--node-limit 100000000" # the default limit (10M) stops the 10M inputs
mkdir -p "$OUT"
python3 "$HERE/gen_expr.py" "$OUT" --throughput

declare -A ROSEN=([10k]=1430 [100k]=14300 [1M]=143000 [10M]=1430000)
declare -A SMREG=([10k]=10_500 [100k]=10_5000 [1M]=10_50000 [10M]=10_500000)
declare -A TERMS=([10k]=2000 [100k]=20000 [1M]=200000 [10M]=2000000)
declare -A EXPRS=([10k]=10000 [100k]=100000 [1M]=1000000)

# run_time CMD...: one run under /usr/bin/time; sets T_cpu (s, user + sys), T_rss (MB), T_rc
run_time() {
    local log="$OUT/time.log"
    /usr/bin/time -f "%U %S %M" -o "$log" "$@" >/dev/null 2>"$OUT/stderr.log"
    T_rc=$?
    read -r u s m < <(tail -1 "$log")
    T_cpu=$(awk -v u="$u" -v s="$s" 'BEGIN{printf "%.2f", u+s}')
    T_rss=$(awk -v m="$m" 'BEGIN{printf "%.0f", m/1024}')
}

# run_best CMD...: like run_time, but T_cpu is the smallest of $RUNS runs, from getrusage in
# microseconds (/usr/bin/time prints hundredths, too coarse for the 10k inputs, and its own start-up
# would add ~7 ms); T_rss still comes from the run under /usr/bin/time.
run_best() {
    run_time "$@"
    T_cpu=$(python3 - "$RUNS" "$@" <<'PY'
import resource, subprocess, sys
runs, cmd = int(sys.argv[1]), sys.argv[2:]
best = None
for _ in range(runs):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    best = cpu if best is None else min(best, cpu)
print(f"{best:.3f}")
PY
    )
}

echo "## Compiler throughput (CPU seconds; nodes = optimised primal SSA nodes from gradc inspect)"
echo
echo "| input | nodes | primal: gradc s | nodes/s | peak MB | header MB | gradient: gradc s | nodes/s | peak MB | header MB | g++ -O2 -c gradient s | g++ peak MB |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for size in $SIZES; do
    for fam in rosen softmaxreg sumterms exprs; do
        case $fam in
            rosen) f="rosen_${ROSEN[$size]}" ;;
            softmaxreg) f="softmaxreg_${SMREG[$size]}" ;;
            sumterms) f="sumterms_${TERMS[$size]}" ;;
            exprs) f="exprs_${EXPRS[$size]:-none}" ;;
        esac
        in="$OUT/$f.expr"
        [[ -f "$in" ]] || continue
        nodes=$("$GRADC" $LIMIT inspect "$in" | grep -c '^  w')
        run_best "$GRADC" $LIMIT compile "$in" --mode primal -o "$OUT/$f.primal.hpp"
        p="$T_cpu | $(awk -v n="$nodes" -v t="$T_cpu" 'BEGIN{printf "%.2gM", n/t/1e6}') | $T_rss | $(du -m "$OUT/$f.primal.hpp" | cut -f1)"
        run_best "$GRADC" $LIMIT compile "$in" --mode reverse -o "$OUT/$f.grad.hpp"
        g="$T_cpu | $(awk -v n="$nodes" -v t="$T_cpu" 'BEGIN{printf "%.2gM", n/t/1e6}') | $T_rss | $(du -m "$OUT/$f.grad.hpp" | cut -f1)"
        cxx="not run | "
        if [[ " $GXX_SIZES " == *" $size "* ]]; then
            fn=$(grep -o '^inline [a-z]* [a-z]*_grad(' "$OUT/$f.grad.hpp" | head -1 | awk '{print $3}' | tr -d '(')
            printf '#include "%s.grad.hpp"\nauto* keep = &%s::%s;\n' "$f" "$(grep -m1 '^namespace' "$OUT/$f.grad.hpp" | awk '{print $2}')" "$fn" >"$OUT/$f.cpp"
            run_time timeout "$GXX_MAX_S" g++ -std=c++17 -O2 -c "$OUT/$f.cpp" -I"$OUT" -o "$OUT/$f.o"
            if [[ $T_rc == 0 ]]; then cxx="$T_cpu | $T_rss"; else cxx="> $GXX_MAX_S wall (killed; $T_cpu CPU) | $T_rss"; fi
        fi
        echo "| $f | $nodes | $p | $g | $cxx |"
        rm -f "$OUT/$f.primal.hpp" "$OUT/$f.o"
    done
done

echo
echo "Hessian of a small Rosenbrock (n = 10):"
python3 - "$OUT" <<'PY'
import sys
open(sys.argv[1] + "/rosen10h.expr", "w").write(
    "const N = 10\nfn rosen(x[N]) = sum(i in 0..N-1: 100 * (x[i+1] - x[i]^2)^2 + (1 - x[i])^2)\n")
PY
run_time "$GRADC" compile "$OUT/rosen10h.expr" --hessian -o "$OUT/rosen10h.hpp"
echo "gradc compile --hessian: rc $T_rc, $T_cpu s CPU, $T_rss MB, $(wc -c <"$OUT/rosen10h.hpp") bytes; $(grep -c '^inline' "$OUT/rosen10h.hpp") functions: $(grep -o '^inline [a-z]* [a-z_]*(' "$OUT/rosen10h.hpp" | awk '{print $3}' | tr -d '(' | xargs)"
printf '#include "rosen10h.hpp"\nauto* k1 = &rosen10h::rosen_hessian;\nauto* k2 = &rosen10h::rosen_hvp;\n' >"$OUT/rosen10h.cpp"
run_time g++ -std=c++17 -O2 -c "$OUT/rosen10h.cpp" -I"$OUT" -o "$OUT/rosen10h.o"
echo "g++ -O2 -c of it: rc $T_rc, $T_cpu s CPU"
