#!/bin/sh
# Training speed of generated networks beside hand-written loops (see README_net.md).
# Usage: bench/net_bench.sh [GRADC_BINARY]   (default: build/compiler/gradc)
set -e
here=$(cd "$(dirname "$0")" && pwd)
gradc=${1:-$here/../build/compiler/gradc}
out=${TMPDIR:-/tmp}/gradc_net_bench
mkdir -p "$out"
for net in td1 xor digits fashion_mlp; do
    "$gradc" compile "$here/../samples/$net.net" --type float -o "$out/$net.hpp"
done
${CXX:-c++} -std=c++17 -O3 -march=native -mprefer-vector-width=512 -fno-math-errno -I "$out" -I "$here" \
    "$here/net_bench.cpp" -o "$out/net_bench"
"$out/net_bench"
